package falco

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render/fastly"
)

const featuresManifest = `version: 1
name: features
domains:
  - {host: api.example.com, zone: example.com}
  - {host: "*.t.example.com", zone: example.com, tenant: {header: X-Tenant}}
tls: {hsts: {max_age: 31536000}}
origins:
  one: {url: "http://127.0.0.1:1"}
  two: {url: "http://127.0.0.1:2"}
  solo: {url: "http://127.0.0.1:3"}
pools:
  ha: {origins: [one, two], failover: {on_status: [502, 503]}}
  single: {origins: [solo, one]}
cors:
  allow_origins: [https://app.example.com]
  allow_methods: [GET, POST]
  allow_headers: [Authorization, X-Thing]
  expose_headers: [X-Request-ID]
  allow_credentials: true
  max_age: 600s
transform:
  request: {set_headers: {X-Edge: "yes"}, remove_headers: [X-Debug], request_id: X-Request-ID, keep_client_request_id: true}
  response: {set_headers: {X-Frame-Options: DENY}}
routes:
  - name: teapot
    match: {path: {exact: /teapot}}
    respond: {status: 418, body: "{\"short\": \"and stout\"}", headers: {Content-Type: application/json}}
  - name: moved
    match: {path: {prefix: /old}}
    redirect: {to: "https://new.example.com/?from=old", status: 301, keep_query: true}
  - name: posts-only
    match: {path: {prefix: /submit}, methods: [POST]}
    pool: ha
    transform: {request: {set_headers: {X-Route: submit}}, response: {remove_headers: [X-Frame-Options]}}
  - name: beta
    match: {path: {prefix: /app}, headers: {X-Beta: "1"}}
    pool: single
  - name: app
    match: {path: {prefix: /app}}
    pool: ha
    rewrite: {prefix: /v1}
  - name: item
    match: {path: {template: "/items/{id}/parts/{part}"}}
    pool: ha
    rewrite: {path: "/parts/{part}/of/{id}"}
  - name: flaky
    match: {path: {prefix: /flaky}}
    pool: ha
  - name: no-failover
    match: {path: {prefix: /solo}}
    pool: single
  - name: rest
    match: {fallback: true}
    pool: ha
`

// TestFeaturesDifferential drives the features a manifest can combine, each request through the VCL in
// falco and the reference: respond, redirect with query, method/header conditions, prefix and template
// rewrites, route transforms, client request ids, tenants, unknown hosts, CORS simple and preflight
// requests, Location mapping, and failover on a listed status (the first origin scripted to answer 503).
// A header sent on several lines is not driven here: the VCL joins them with std.collect, which falco
// v1.21.1 implements as a no-op, so falco would judge only the first line (checked by lint and golden).
func TestFeaturesDifferential(t *testing.T) {
	requireFalco(t)
	g, diags := manifest.LoadBytes("features.yaml", []byte(featuresManifest), manifest.LoadOptions{})
	if g == nil {
		t.Fatal(diags)
	}
	o := newOrigins(t, g)
	in, err := NewEngine().Open(context.Background(), g, o.urls(), testrun.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	type step struct {
		name, method, host, target string
		header                     map[string]string
		script                     map[string]int // origin -> status for this request
	}
	cors := map[string]string{"Origin": "https://app.example.com"}
	steps := []step{
		{name: "respond", target: "/teapot"},
		{name: "redirect keeps the query", target: "/old/page?a=1&b=2"},
		{name: "redirect without a query", target: "/old"},
		{name: "method condition holds", method: "POST", target: "/submit/x", header: map[string]string{"X-Debug": "1"}},
		{name: "method condition fails", method: "GET", target: "/submit/x"},
		{name: "header condition", target: "/app/home", header: map[string]string{"X-Beta": "1"}},
		{name: "prefix rewrite with a query", target: "/app/home?q=%20x"},
		{name: "prefix rewrite of the bare prefix", target: "/app"},
		{name: "template rewrite", target: "/items/7/parts/wheel"},
		{name: "template needs every segment", target: "/items/7/parts/"},
		{name: "client request id kept", target: "/x", header: map[string]string{"X-Request-ID": "client-id-1"}},
		{name: "tenant", host: "acme.t.example.com", target: "/x", header: map[string]string{"X-Tenant": "spoof"}},
		{name: "wildcard covers one label only", host: "a.b.t.example.com", target: "/x"},
		{name: "unknown host", host: "evil.example.com", target: "/x"},
		{name: "host with port and case", host: "API.Example.com:443", target: "/x"},
		{name: "cors simple allowed", target: "/x", header: cors},
		{name: "cors simple refused", target: "/x", header: map[string]string{"Origin": "https://evil.example.com"}},
		{name: "cors preflight allowed", method: "OPTIONS", target: "/x", header: map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}},
		{name: "cors preflight refused", method: "OPTIONS", target: "/x", header: map[string]string{"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"}},
		{name: "failover on 503", target: "/flaky", script: map[string]int{"one": 503}},
		{name: "failover exhausted", target: "/flaky", script: map[string]int{"one": 502, "two": 503}},
		{name: "unlisted status does not fail over", target: "/flaky", script: map[string]int{"one": 500}},
		{name: "pool without failover", target: "/solo", script: map[string]int{"solo": 503}},
		{name: "bad path", target: "/a/%2e%2e/%2e%2e/x"},
		{name: "location under the rewritten prefix", target: "/app/home", header: map[string]string{"X-Want-Location": "/v1/login?next=1"}},
		{name: "location at the origin's host", target: "/app/home", header: map[string]string{"X-Want-Location": "http://{self}/v1/x#frag"}},
		{name: "location elsewhere", target: "/app/home", header: map[string]string{"X-Want-Location": "https://elsewhere.example/v1/x"}},
		{name: "location outside the prefix", target: "/app/home", header: map[string]string{"X-Want-Location": "/v10/x"}},
		{name: "location of a path rewrite", target: "/items/7/parts/wheel", header: map[string]string{"X-Want-Location": "/parts/wheel/of/7"}},
		{name: "relative location", target: "/items/7/parts/wheel", header: map[string]string{"X-Want-Location": "other"}},
	}
	passed := 0
	for _, s := range steps {
		if s.method == "" {
			s.method = http.MethodGet
		}
		if s.host == "" {
			s.host = "api.example.com"
		}
		h := http.Header{}
		for k, v := range s.header {
			h.Set(k, v)
		}

		req := requestTo(s.host, s.target, h)
		req.Method = s.method
		o.mu.Lock()
		o.status = s.script
		if o.status == nil {
			o.status = map[string]int{}
		}
		o.mu.Unlock()
		ref := refDo(t, g, o, caseNow, req)
		got, err := falcoDo(t, in, o, req)
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		if d := diff(ref, got, g.Transform.RequestIDHeader); len(d) > 0 {
			t.Errorf("%s:\n  %s", s.name, strings.Join(d, "\n  "))
			continue
		}
		passed++
	}
	t.Logf("features: %d/%d requests decided as the reference decides", passed, len(steps))
}

// TestManyRoutesDifferential renders 1,000 routes, so plain exact and prefix routes are looked up in VCL
// tables while conditioned ones stay in the if-chain, and checks the interleaving keeps IR order: a
// conditioned route wins over a table route only where it comes first in IR order.
func TestManyRoutesDifferential(t *testing.T) {
	requireFalco(t)
	g := manyRoutes(t, 1000)
	o := newOrigins(t, g)
	in, err := NewEngine().Open(context.Background(), g, o.urls(), testrun.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	targets := []string{"/svc0", "/svc0/x", "/svc1/a/b", "/svc10/x", "/svc100", "/svc499/deep/er", "/exact7", "/exact7/x",
		"/svc3/v2/x", "/svc3/v2", "/svc3/v20", "/nothing", "/", "/svc42/", "/exact42/", "/svc7/head", "/deep/a/b/c/d/e/f/g/h/i/j"}
	passed := 0
	for _, target := range targets {
		for _, beta := range []bool{false, true} {
			h := http.Header{}
			if beta {
				h.Set("X-Beta", "1")
			}
			req := requestTo("api.example.com", target, h)
			ref := refDo(t, g, o, caseNow, req)
			got, err := falcoDo(t, in, o, req)
			if err != nil {
				t.Errorf("%s: %v", target, err)
				continue
			}
			if d := diff(ref, got, ""); len(d) > 0 {
				t.Errorf("%s beta=%v:\n  %s", target, beta, strings.Join(d, "\n  "))
				continue
			}
			passed++
		}
	}
	t.Logf("1,000 routes: %d/%d requests decided as the reference decides", passed, 2*len(targets))
}

// manyRoutes builds a gateway of n routes: plain prefixes and exacts (tabled), header-conditioned prefixes
// (if-chain) and a deep prefix, a regex and a fallback.
func manyRoutes(t testing.TB, n int) *ir.Gateway {
	t.Helper()
	var b strings.Builder
	b.WriteString("version: 1\nname: many\ndomains: [{host: api.example.com, zone: example.com}]\n")
	b.WriteString("origins: {a: {url: \"http://127.0.0.1:1\"}, b: {url: \"http://127.0.0.1:2\"}}\n")
	b.WriteString("pools: {a: {origins: [a]}, b: {origins: [b]}}\nroutes:\n")
	count := 0
	add := func(s string) {
		b.WriteString(s)
		count++
	}
	add("  - {name: deep, match: {path: {prefix: /deep/a/b/c/d/e/f/g/h}}, pool: b}\n")
	add("  - {name: svc3-v2, match: {path: {prefix: /svc3/v2}}, pool: b, rewrite: {prefix: /three}}\n")
	add("  - {name: regex, match: {path: {regex: \"^/svc7/h[a-z]+$\"}}, pool: b}\n")
	for i := 0; count < n-1; i++ {
		if i%10 == 0 {
			add(fmt.Sprintf("  - {name: beta%d, match: {path: {prefix: /svc%d}, headers: {X-Beta: \"1\"}}, pool: b}\n", i, i))
		}
		if count < n-1 {
			add(fmt.Sprintf("  - {name: svc%d, match: {path: {prefix: /svc%d}}, pool: a}\n", i, i))
		}
		if count < n-1 && i%2 == 0 {
			add(fmt.Sprintf("  - {name: exact%d, match: {path: {exact: /exact%d}}, pool: b}\n", i, i))
		}
	}
	b.WriteString("  - {name: rest, match: {fallback: true}, respond: {status: 404, body: none}}\n")
	g, diags := manifest.LoadBytes("many.yaml", []byte(b.String()), manifest.LoadOptions{})
	if g == nil {
		t.Fatal(diags)
	}
	if len(g.Routes) != n {
		t.Fatalf("built %d routes, want %d", len(g.Routes), n)
	}
	return g
}

// TestVCLSize reports the rendered size of the example manifests and of 1,000 and 10,000 routes, and checks
// the render-time limit.
func TestVCLSize(t *testing.T) {
	for name, g := range exampleManifests(t) {
		b, err := fastly.RenderVCL(g, fastly.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: %d bytes", name, len(b))
	}
	for _, n := range []int{1000, 10000} {
		g := manyRoutes(t, n)
		b, err := fastly.RenderVCL(g, fastly.Options{})
		if err != nil {
			t.Logf("%d routes: %v", n, err)
			if n == 1000 {
				t.Fatal("1,000 routes must fit")
			}
			if !strings.Contains(err.Error(), "over Fastly's limit of 1048576 bytes") {
				t.Fatalf("the size error must name the limit: %v", err)
			}
			continue
		}
		t.Logf("%d routes: %d bytes", n, len(b))
	}
}
