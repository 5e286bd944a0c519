package falco

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest/ir"
)

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

var caseNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// trustTestKeys returns a copy of g whose auth policies without a usable HS secret trust, as a static key
// file, the key testrun generates for their first algorithm: the reference and the VCL then verify the
// same tokens with the same key, which is what testrun's "trusted for this case only" means on a target
// that cannot take keys in process.
func trustTestKeys(t *testing.T, g *ir.Gateway, env testrun.Env, keys *testrun.KeyCache) *ir.Gateway {
	t.Helper()
	cp := *g
	cp.AuthPolicies = nil
	for _, p := range g.AuthPolicies {
		if p.JWT != nil && !(p.JWT.Secret != nil && strings.HasPrefix(p.JWT.Algorithms[0], "HS")) {
			alg := p.JWT.Algorithms[0]
			data, kid, err := keys.PublicPEM(alg)
			if err != nil {
				t.Fatal(err)
			}
			j := *p.JWT
			j.JWKS = nil
			j.Keys = []ir.KeyFile{{Path: "test-key.pem", KID: kid, Data: string(data)}}
			p.JWT = &j
		}
		cp.AuthPolicies = append(cp.AuthPolicies, p)
	}
	return &cp
}

// clientRequest turns a case into the request both runtimes receive, signing its token.
func clientRequest(t *testing.T, g *ir.Gateway, tc ir.TestCase, env testrun.Env, keys *testrun.KeyCache) *testrun.ClientRequest {
	t.Helper()
	cr, err := testrun.NewClientRequest(tc.Request, env.Now())
	if err != nil {
		t.Fatal(err)
	}
	hr, err := cr.HTTPRequest()
	if err != nil {
		t.Fatal(err)
	}
	if tc.Request.JWT != nil && hr.Header.Get("Authorization") == "" {
		probe, err := gateway.New(g, gateway.Options{Now: env.Now})
		if err != nil {
			t.Fatal(err)
		}
		var policy *ir.AuthPolicy
		if r := probe.RouteFor(hr); r != nil && r.Auth != "" {
			policy = g.AuthPolicy(r.Auth)
		} else if len(g.AuthPolicies) == 1 {
			policy = &g.AuthPolicies[0]
		}
		if policy != nil {
			tok, err := testrun.SignTestToken(policy, tc.Request.JWT, env.Now(), secretOf(policy, env), keys)
			if err != nil {
				t.Fatal(err)
			}
			hr.Header.Set("Authorization", "Bearer "+tok.Bearer)
		}
	}
	h := hr.Header.Clone()
	h.Del("Content-Length")
	cr.Header, cr.ClientIP = h, "192.0.2.1"
	return cr
}

// secretOf is how testrun finds a policy's HS secret: written literally, or read from the environment.
func secretOf(p *ir.AuthPolicy, env testrun.Env) func(alg string) (string, error) {
	return func(alg string) (string, error) {
		if s := p.JWT.Secret; s != nil {
			if s.Literal != "" {
				return s.Literal, nil
			}
			if env.Getenv != nil {
				if v := env.Getenv(s.Env); v != "" {
					return v, nil
				}
			}
		}
		return "", fmt.Errorf("auth policy %q has no secret for %s", p.Name, alg)
	}
}

func observed(o outcome) *testrun.Observed {
	obs := &testrun.Observed{Status: o.status, Header: http.Header{}, Body: o.body, Decided: true,
		Route: o.route, Pool: o.pool}
	for k, v := range o.header {
		obs.Header[k] = append(obs.Header[k], v...)
	}
	if n := len(o.received); n > 0 {
		last := o.received[n-1]
		obs.Origin = last.origin
		obs.UpstreamPath, _, _ = strings.Cut(last.uri, "?")
		obs.UpstreamHeader = http.Header{}
		for k, v := range last.header {
			obs.UpstreamHeader[k] = append(obs.UpstreamHeader[k], v...)
		}
	}
	return obs
}

// TestManifestCasesDifferential runs every example manifest's own tests through the rendered VCL in falco
// and through the reference gateway: the manifest's expectations must hold on falco, and falco must decide
// each request exactly as the reference does (status, body, headers, route, pool, what each origin got).
func TestManifestCasesDifferential(t *testing.T) {
	requireFalco(t)
	env := testrun.Env{Getenv: func(string) string { return "" }, Now: func() time.Time { return caseNow }}
	total, passed := 0, 0
	for name, g0 := range exampleManifests(t) {
		if len(g0.Tests) == 0 {
			continue
		}
		keys := &testrun.KeyCache{}
		g := trustTestKeys(t, g0, env, keys)
		o := newOrigins(t, g)
		in, err := NewEngine().Open(context.Background(), g, o.urls(), env)
		if err != nil {
			t.Fatalf("%s: open: %v", name, err)
		}
		for _, tc := range g.Tests {
			total++
			req := clientRequest(t, g, tc, env, keys)
			ref := refDo(t, g, o, caseNow, req)
			got, err := falcoDo(t, in, o, req)
			if err != nil {
				t.Errorf("%s: %q: %v", name, tc.Name, err)
				continue
			}
			d := diff(ref, got, g.Transform.RequestIDHeader)
			exp, _ := testrun.Compare(tc.Expect, observed(got))
			for _, e := range exp {
				d = append(d, "expectation "+e.String())
			}
			if len(d) > 0 {
				t.Errorf("%s: %q:\n  %s", name, tc.Name, strings.Join(d, "\n  "))
				continue
			}
			passed++
		}
		_ = in.Close()
	}
	t.Logf("manifest cases: %d/%d agree with the reference and meet their expectations on falco", passed, total)
	if total == 0 {
		t.Fatal("no manifest cases found")
	}
}

// requestTo is a plain GET for the differential tests.
func requestTo(host, target string, header http.Header) *testrun.ClientRequest {
	if header == nil {
		header = http.Header{}
	}
	return &testrun.ClientRequest{Method: http.MethodGet, Target: target, Host: host, Header: header,
		ClientIP: "192.0.2.1", Now: caseNow}
}

// TestProductionVCLCases runs the full example's cases through the VCL as deployed (no test mode: falco's
// clock, the connection's address, the test headers a client sends dropped), the origins moved to loopback,
// against the reference at the same wall-clock time. The route and pool are not reported there, so they are
// not compared; everything a client and the origins see is.
func TestProductionVCLCases(t *testing.T) {
	requireFalco(t)
	g0, diags := manifestLoad(t, "full.yaml")
	if g0 == nil {
		t.Fatal(diags)
	}
	env := testrun.Env{Getenv: func(string) string { return "" }, Now: time.Now}
	keys := &testrun.KeyCache{}
	g := trustTestKeys(t, g0, env, keys)
	o := newOrigins(t, g)
	in, err := Engine{Production: true}.Open(context.Background(), g, o.urls(), env)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	passed := 0
	for _, tc := range g.Tests {
		req := clientRequest(t, g, tc, env, keys)
		req.ClientIP = "127.0.0.1" // what falco's client.ip is: the test connects over loopback
		req.Scheme = "http"        // what req.is_ssl says there: the simulator serves plain http
		req.Now = time.Unix(1, 0)  // a test clock the production VCL must ignore
		ref := refDoEnv(t, g, o, withNow(req, time.Now()), env)
		got, err := falcoDo(t, in, o, req)
		if err != nil {
			t.Errorf("%q: %v", tc.Name, err)
			continue
		}
		ref.route, ref.pool = got.route, got.pool
		d := diff(ref, got, g.Transform.RequestIDHeader)
		obs := observed(got)
		obs.Decided = false
		exp, _ := testrun.Compare(tc.Expect, obs)
		for _, e := range exp {
			d = append(d, "expectation "+e.String())
		}
		if len(d) > 0 {
			t.Errorf("%q:\n  %s", tc.Name, strings.Join(d, "\n  "))
			continue
		}
		passed++
	}
	t.Logf("production VCL: %d/%d cases of full.yaml agree with the reference", passed, len(g.Tests))
}

func withNow(r *testrun.ClientRequest, now time.Time) *testrun.ClientRequest {
	cp := *r
	cp.Now = now
	return &cp
}
