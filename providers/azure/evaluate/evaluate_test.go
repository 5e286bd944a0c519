package evaluate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest"
	_ "github.com/edgegw/edgegw/providers/all" // the targets.azure block, as the azure target registered it
	"github.com/edgegw/edgegw/providers/azure/evaluate"
	azrender "github.com/edgegw/edgegw/render/azure"
)

func bundle(t *testing.T, path string, o azrender.Options) *azrender.Bundle {
	t.Helper()
	g, diags := manifest.Load(path)
	if g == nil || diags.HasErrors() {
		t.Fatalf("%s: %v", path, diags)
	}
	arts, err := azrender.Render(g, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := azrender.Parse(arts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecideFollowsFrontDoorRules checks route and rule semantics on the native fixture: rules in order
// with Stop (the canary's header rule before the plain prefix), segment boundaries, the template and the
// regex, methods as values (OR), a host that is not a custom domain (400) and the exact pattern beside
// the wildcard one.
func TestDecideFollowsFrontDoorRules(t *testing.T) {
	e := evaluate.New(bundle(t, "../../../render/azure/testdata/native.yaml", azrender.Options{}), nil)
	for _, c := range []struct {
		method, host, path string
		h                  http.Header
		rule, group        string
		status             int
	}{
		{"GET", "api.example.com", "/v2/x", http.Header{"X-Canary-Release": {"true"}}, "rv2canary01", "pool-canary", 0},
		{"GET", "api.example.com", "/v2/x", nil, "rv201", "pool-api", 0},
		{"GET", "api.example.com", "/v2", nil, "rv201", "pool-api", 0},
		{"GET", "api.example.com", "/v20", nil, "rdefault01", "pool-api", 0},
		{"GET", "API.example.com:443", "/status", nil, "rstatus01", "pool-api", 0},
		{"GET", "api.example.com", "/Status", nil, "rdefault01", "pool-api", 0},
		{"HEAD", "api.example.com", "/v1/users/7", nil, "rv1user01", "pool-api", 0},
		{"POST", "api.example.com", "/v1/users/7", nil, "rdefault01", "pool-api", 0},
		{"GET", "api.example.com", "/v1/users/", nil, "rdefault01", "pool-api", 0},
		{"GET", "api.example.com", "/v0/abc", nil, "rlegacy01", "pool-api", 0},
		{"GET", "api.example.com", "/v0/ab1", nil, "rdefault01", "pool-api", 0},
		{"GET", "other.example.org", "/status", nil, "", "", 400},
	} {
		out := e.Decide(c.method, c.host, c.path, c.h)
		got := ""
		if len(out.Rules) > 0 {
			got = out.Rules[0]
		}
		if out.Status != c.status || got != c.rule || (c.status == 0 && out.OriginGroup != c.group) {
			t.Errorf("%s %s%s: status %d, rules %v, group %s; want %d %s %s", c.method, c.host, c.path, out.Status, out.Rules, out.OriginGroup, c.status, c.rule, c.group)
		}
	}
	// v2 spreads its actions over two rules with the same conditions: both match, the second stops.
	if out := e.Decide("GET", "api.example.com", "/v2/users", nil); len(out.Rules) != 2 || out.Rules[1] != "rv202" || out.Path != "/internal/v2/users" {
		t.Errorf("v2: rules %v, path %s", out.Rules, out.Path)
	}
}

type seen struct {
	mu    sync.Mutex
	paths []string
	hdr   http.Header
}

func origin(t *testing.T, s *seen) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.RequestURI())
		s.hdr = r.Header.Clone()
		s.mu.Unlock()
		w.Header().Set("Server", "origin/1")
		w.WriteHeader(200)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestDoProxiesAsFrontDoorWould sends requests through the evaluator to loopback origins: the header
// transforms and HSTS from the rules, the rewritten path, priorities with the probe verdict, the redirect
// keeping the client's query, Front Door's own 400, and a marked route that is an error, never an answer.
func TestDoProxiesAsFrontDoorWould(t *testing.T) {
	var primary, secondary, canary seen
	e := evaluate.New(bundle(t, "../../../render/azure/testdata/native.yaml", azrender.Options{}), map[string]string{
		azrender.OriginName("primary"): origin(t, &primary), azrender.OriginName("secondary"): origin(t, &secondary), azrender.OriginName("canary"): origin(t, &canary),
	})
	defer e.Close()
	do := func(host, target string, h http.Header) *testrun.ClientResponse {
		t.Helper()
		if h == nil {
			h = http.Header{}
		}
		r, err := e.Do(context.Background(), &testrun.ClientRequest{Method: "GET", Target: target, Host: host, Header: h, ClientIP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := do("api.example.com", "/v2/a?x=1", http.Header{"X-Canary-Release": {"true"}, "X-Internal-Debug": {"1"}})
	if r.Status != 200 || len(canary.paths) != 1 || canary.paths[0] != "/v2/a?x=1" {
		t.Fatalf("canary: %d %v", r.Status, canary.paths)
	}
	if canary.hdr.Get("X-Internal-Debug") != "" || canary.hdr.Get("X-Forwarded-By") != "edge-gateway" {
		t.Errorf("request transform: %v", canary.hdr)
	}
	if r.Header.Get("Strict-Transport-Security") != "max-age=31536000; includeSubDomains" || r.Header.Get("Server") != "" {
		t.Errorf("response actions: %v", r.Header)
	}
	if do("api.example.com", "/v2/users", nil); len(primary.paths) != 1 || primary.paths[0] != "/internal/v2/users" {
		t.Errorf("v2 rewrite: %v", primary.paths)
	}
	e.SetHealthy("pool-api", azrender.OriginName("primary"), false)
	if do("api.example.com", "/status", nil); len(secondary.paths) != 1 || len(primary.paths) != 1 {
		t.Errorf("primary unhealthy: primary %v secondary %v", primary.paths, secondary.paths)
	}
	e.SetHealthy("pool-api", azrender.OriginName("primary"), true)
	if do("api.example.com", "/status", nil); len(primary.paths) != 2 {
		t.Errorf("primary healthy again: %v", primary.paths)
	}
	r = do("api.example.com", "/docs/a?q=1", nil)
	if r.Status != 308 || r.Header.Get("Location") != "https://docs.example.com/?q=1" || r.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("redirect: %d %v", r.Status, r.Header)
	}
	if r := do("unknown.example.org", "/status", nil); r.Status != 400 || r.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("unknown host: %d %v", r.Status, r.Header)
	}
	q := evaluate.New(bundle(t, "../../../testdata/examples/quickstart.yaml", azrender.Options{Test: true}), nil)
	if _, err := q.Do(context.Background(), &testrun.ClientRequest{Method: "GET", Target: "/health", Host: "api.example.com", Header: http.Header{}}); err == nil {
		t.Error("a request that reached the marked respond route got an answer")
	}
}
