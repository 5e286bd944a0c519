package gateway

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/manifest/ir"
)

// benchIR has n routes in IR order: exact and prefix routes per service, templates, two regexes and a
// fallback. The benchmarked request matches a prefix route near the end, so an unindexed scan would
// touch almost every route.
func benchIR(n int, originURL string) *ir.Gateway {
	g := &ir.Gateway{
		Name:    "bench",
		Domains: []ir.Domain{{Host: "api.example.com", Zone: "example.com"}},
		Origins: []ir.Origin{{Name: "o", URL: originURL}},
		Pools:   []ir.Pool{{Name: "p", Origins: []string{"o"}}},
		HSTS:    &ir.HSTS{MaxAge: 1},
	}
	var exact, prefix, tmpl []ir.Route
	for i := 0; len(exact)+len(prefix)+len(tmpl) < n-3; i++ {
		svc := fmt.Sprintf("/svc%04d", i)
		exact = append(exact, ir.Route{Name: "e" + svc, Match: ir.Match{Kind: ir.PathExact, Path: svc + "/health"}, Pool: "p"})
		prefix = append(prefix, ir.Route{Name: "p" + svc, Match: ir.Match{Kind: ir.PathPrefix, Path: svc}, Pool: "p"})
		segs := []string{fmt.Sprintf("t%04d", i), "{id}"}
		tmpl = append(tmpl, ir.Route{Name: "t" + svc, Match: ir.Match{Kind: ir.PathTemplate, Path: "/" + segs[0] + "/{id}", Segments: segs}, Pool: "p"})
	}
	all := append(append(exact, prefix...), tmpl...)
	if len(all) > n-3 {
		all = all[:max(n-3, 0)]
	}
	all = append(all,
		ir.Route{Name: "re1", Match: ir.Match{Kind: ir.PathRegex, Path: "^/legacy/[a-z]+$"}, Pool: "p"},
		ir.Route{Name: "re2", Match: ir.Match{Kind: ir.PathRegex, Path: "^/old/[0-9]+$"}, Pool: "p"},
		ir.Route{Name: "default", Match: ir.Match{Kind: ir.PathFallback}, Pool: "p"})
	g.Routes = all[len(all)-n:]
	return g
}

func benchTarget(g *ir.Gateway) string {
	for i := len(g.Routes) - 1; i >= 0; i-- {
		if g.Routes[i].Match.Kind == ir.PathPrefix {
			return g.Routes[i].Match.Path + "/orders/42"
		}
	}
	return "/anything/at/all"
}

func benchOrigin(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t}
}

func benchGet(b *testing.B, c *http.Client, url string, hdr http.Header) {
	b.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Host = "api.example.com"
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkProxy compares a request sent straight to a loopback origin with the same request through the
// gateway, at 1, 100 and 1,000 routes, and through an auth route with a warm HS256 or RS256 verification.
func BenchmarkProxy(b *testing.B) {
	origin := benchOrigin(b)
	var direct float64
	b.Run("direct", func(b *testing.B) {
		c := benchClient()
		for b.Loop() {
			benchGet(b, c, origin.URL+"/svc0001/orders/42", nil)
		}
		direct = nsPerOp(b)
	})
	// vsDirect reports the ratio and the added latency against the direct request measured in this run.
	vsDirect := func(b *testing.B) {
		if direct > 0 {
			b.ReportMetric(nsPerOp(b)/direct, "x-direct")
			b.ReportMetric((nsPerOp(b)-direct)/1000, "µs-added")
		}
	}
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			g := benchIR(n, origin.URL)
			gw, err := New(g, Options{})
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(gw)
			defer srv.Close()
			c := benchClient()
			url := srv.URL + benchTarget(g)
			for b.Loop() {
				benchGet(b, c, url, nil)
			}
			vsDirect(b)
		})
	}
	for _, alg := range []string{"HS256", "RS256"} {
		b.Run("jwt="+alg, func(b *testing.B) {
			g := benchIR(100, origin.URL)
			g.AuthPolicies, g.Routes = benchAuth(b, alg, g.Routes)
			gw, err := New(g, Options{Getenv: func(string) string { return testSecret }})
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(gw)
			defer srv.Close()
			c := benchClient()
			hdr := http.Header{"Authorization": {"Bearer " + benchToken(b, alg)}}
			url := srv.URL + benchTarget(g)
			for b.Loop() {
				benchGet(b, c, url, hdr)
			}
			vsDirect(b)
		})
	}
}

var benchRSA *rsa.PrivateKey

func benchAuth(b *testing.B, alg string, routes []ir.Route) ([]ir.AuthPolicy, []ir.Route) {
	j := &ir.JWT{Algorithms: []string{alg}, Issuer: "https://auth.example.com/", Audience: []string{"api"}}
	if alg == "HS256" {
		j.Secret = &ir.Value{Env: "JWT_SECRET_KEY"}
	} else {
		if benchRSA == nil {
			benchRSA, _ = rsa.GenerateKey(rand.Reader, 2048)
		}
		der, _ := x509.MarshalPKIXPublicKey(&benchRSA.PublicKey)
		j.Keys = []ir.KeyFile{{Path: "k.pem", Data: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}}
	}
	for i := range routes {
		routes[i].Auth = "bearer"
	}
	return []ir.AuthPolicy{{Name: "bearer", JWT: j}}, routes
}

func benchToken(b *testing.B, alg string) string {
	claims := map[string]any{"sub": "alice", "iss": "https://auth.example.com/", "aud": "api", "exp": time.Now().Add(time.Hour).Unix()}
	if alg == "HS256" {
		return sign(b, alg, []byte(testSecret), claims, nil)
	}
	return sign(b, alg, benchRSA, claims, nil)
}

func nsPerOp(b *testing.B) float64 { return float64(b.Elapsed().Nanoseconds()) / float64(b.N) }

// BenchmarkRouteDecision measures the route lookup alone, at 10, 100 and 1,000 routes.
func BenchmarkRouteDecision(b *testing.B) {
	var at10 float64
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			g := benchIR(n, "http://127.0.0.1:1")
			gw, err := New(g, Options{})
			if err != nil {
				b.Fatal(err)
			}
			path := benchTarget(g)
			h := http.Header{}
			for b.Loop() {
				if r, _ := gw.routes.match("api.example.com", "GET", path, h); r == nil {
					b.Fatal("no match")
				}
			}
			if n == 10 {
				at10 = nsPerOp(b)
			} else if at10 > 0 {
				b.ReportMetric(nsPerOp(b)/at10, "x-10-routes") // goal: ≤ 2 at 1,000 routes
			}
		})
	}
}

// BenchmarkVerify measures a warm verification: keys parsed once at construction, never per token.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"HS256", "RS256"} {
		b.Run(alg, func(b *testing.B) {
			policies, _ := benchAuth(b, alg, nil)
			j := policies[0].JWT
			cfg := jwtverify.Config{Algorithms: j.Algorithms, Issuer: j.Issuer, Audience: j.Audience}
			if alg == "HS256" {
				cfg.Keys = []jwtverify.Key{jwtverify.HMACKey([]byte(testSecret), "")}
			} else {
				cfg.Keys, _ = jwtverify.ParseKeys([]byte(j.Keys[0].Data), "")
			}
			v, err := jwtverify.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			tok := benchToken(b, alg)
			for b.Loop() {
				if _, err := v.Verify(context.Background(), tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
