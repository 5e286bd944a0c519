package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgegw/edgegw/internal/testenv"

	"github.com/edgegw/edgegw/manifest/ir"
)

// testOrigin is a real loopback origin that records what it received.
type testOrigin struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []received
	// respond writes the answer; default 200 "origin <name>".
	respond func(w http.ResponseWriter, r *http.Request)
}

type received struct {
	RequestURI string
	Host       string
	Header     http.Header
	Body       string
}

func newTestOrigin(t *testing.T, name string) *testOrigin {
	t.Helper()
	o := &testOrigin{}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		o.mu.Lock()
		o.got = append(o.got, received{RequestURI: r.RequestURI, Host: r.Host, Header: r.Header.Clone(), Body: string(body)})
		respond := o.respond
		o.mu.Unlock()
		if respond != nil {
			respond(w, r)
			return
		}
		w.Header().Set("Server", "test-origin")
		_, _ = io.WriteString(w, "origin "+name)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *testOrigin) setRespond(f func(w http.ResponseWriter, r *http.Request)) {
	o.mu.Lock()
	o.respond = f
	o.mu.Unlock()
}

func (o *testOrigin) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.got)
}

func (o *testOrigin) last(t *testing.T) received {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.got) == 0 {
		t.Fatal("origin received nothing")
	}
	return o.got[len(o.got)-1]
}

// fakeClock is the injectable clock: tests move time instead of sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// baseIR is the DESIGN.md example gateway, built directly in Go, origins pointing at nothing yet.
func baseIR() *ir.Gateway {
	return &ir.Gateway{
		SchemaVersion: ir.SchemaVersion,
		Name:          "edge-api-gateway",
		Domains: []ir.Domain{
			{Host: "api.example.com", Zone: "example.com"},
			{Host: "example.com", Zone: "example.com", Apex: true},
			{Host: "*.api.example.com", Zone: "example.com", Wildcard: true, TenantHeader: "X-Tenant-Id"},
		},
		HSTS: &ir.HSTS{MaxAge: 63072000, IncludeSubdomains: true, Preload: true},
		Origins: []ir.Origin{
			{Name: "primary", URL: "https://api-origin.internal"},
			{Name: "secondary", URL: "https://api-origin-dr.internal"},
			{Name: "canary", URL: "https://api-canary.internal"},
		},
		Pools: []ir.Pool{
			{Name: "api", Origins: []string{"primary", "secondary"}, Failover: &ir.Failover{OnStatus: []int{502, 503, 504},
				Breaker: &ir.Breaker{Consecutive: 3, Status: []int{503, 504}, Cooldown: ir.Duration(30 * time.Second)}}},
			{Name: "canary", Origins: []string{"canary", "primary"}},
		},
		AuthPolicies: []ir.AuthPolicy{{Name: "bearer", JWT: &ir.JWT{
			Algorithms: []string{"HS256"}, Secret: &ir.Value{Env: "JWT_SECRET_KEY"},
			Issuer: "https://auth.example.com/", Audience: []string{"api"}, ClockSkew: ir.Duration(30 * time.Second),
			ForwardClaims: []ir.ClaimForwarding{{Claim: "sub", Header: "X-User-Sub"}},
		}}},
		RateLimits: []ir.RateLimit{{Name: "per_subject", Key: "jwt.sub", Limit: 100, Window: ir.Duration(time.Minute)}},
		CORS: &ir.CORS{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "POST"},
			AllowHeaders: []string{"Authorization"}, MaxAge: ir.Duration(600 * time.Second)},
		Transform: ir.Transform{
			Request:         ir.HeaderTransform{RemoveHeaders: []string{"X-Internal-Debug"}, SetHeaders: []ir.HeaderSet{{Name: "X-Forwarded-By", Value: "edge-gateway"}}},
			Response:        ir.HeaderTransform{RemoveHeaders: []string{"Server"}},
			RequestIDHeader: "X-Request-Id",
		},
		Routes: []ir.Route{
			{Name: "health", Match: ir.Match{Kind: ir.PathExact, Path: "/health"}, Respond: &ir.Respond{Status: 200, Body: "ok"}},
			{Name: "old-docs", Match: ir.Match{Kind: ir.PathExact, Path: "/docs"}, Redirect: &ir.Redirect{Status: 301, Location: "https://docs.example.com/", KeepQuery: true}},
			{Name: "v2-canary", Match: ir.Match{Kind: ir.PathPrefix, Path: "/v2", Headers: []ir.HeaderMatch{{Name: "X-Canary-Release", Value: "true"}}}, Pool: "canary", Auth: "bearer", RateLimit: "per_subject"},
			{Name: "v2", Match: ir.Match{Kind: ir.PathPrefix, Path: "/v2"}, Pool: "api", Auth: "bearer", RateLimit: "per_subject", Rewrite: &ir.Rewrite{Prefix: "/internal/v2"}},
			{Name: "v1-admin", Match: ir.Match{Kind: ir.PathPrefix, Path: "/v1/admin"}, Respond: &ir.Respond{Status: 403, Body: "admin is internal"}},
			{Name: "v1", Match: ir.Match{Kind: ir.PathPrefix, Path: "/v1"}, Pool: "api"},
			{Name: "v1-user", Match: ir.Match{Kind: ir.PathTemplate, Path: "/users/{id}", Segments: []string{"users", "{id}"}, Methods: []string{"GET"}}, Pool: "api", Rewrite: &ir.Rewrite{Path: "/v1/accounts/{id}/profile"}},
			{Name: "legacy", Match: ir.Match{Kind: ir.PathRegex, Path: "^/v0/[a-z]+$"}, Pool: "api"},
			{Name: "default", Match: ir.Match{Kind: ir.PathFallback}, Pool: "api"},
		},
	}
}

const testSecret = "0123456789abcdef0123456789abcdef-test-only"

type harness struct {
	gw        *Gateway
	srv       *httptest.Server
	clock     *fakeClock
	primary   *testOrigin
	secondary *testOrigin
	canary    *testOrigin
	decisions chan Decision
}

func newHarness(t *testing.T, g *ir.Gateway, mod ...func(*Options)) *harness {
	t.Helper()
	h := &harness{clock: newFakeClock(), primary: newTestOrigin(t, "primary"), secondary: newTestOrigin(t, "secondary"),
		canary: newTestOrigin(t, "canary"), decisions: make(chan Decision, 1000)}
	opts := Options{
		Now:        h.clock.Now,
		OriginURLs: map[string]string{"primary": h.primary.srv.URL, "secondary": h.secondary.srv.URL, "canary": h.canary.srv.URL},
		Getenv: func(k string) string {
			if k == "JWT_SECRET_KEY" {
				return testSecret
			}
			return ""
		},
		Log: func(d Decision) { h.decisions <- d },
	}
	for _, m := range mod {
		m(&opts)
	}
	gw, err := New(g, opts)
	if err != nil {
		t.Fatal(err)
	}
	h.gw = gw
	h.srv = httptest.NewServer(gw)
	t.Cleanup(h.srv.Close)
	return h
}

// do sends a request through the running gateway with the given Host.
func (h *harness) do(t *testing.T, method, host, target string, hdr map[string]string, body string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := h.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// lastDecision returns the most recent logged decision.
func (h *harness) lastDecision(t *testing.T) Decision {
	t.Helper()
	var d Decision
	select {
	case d = <-h.decisions:
	case <-time.After(5 * time.Second):
		t.Fatal("no decision logged")
	}
	for {
		select {
		case d = <-h.decisions:
		default:
			return d
		}
	}
}

// sharedFile finds rel under ../shared beside the repository root.
func sharedFile(t *testing.T, rel string) string { return testenv.SharedFile(t, rel) }
