package waf_test

import (
	"bytes"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	_ "github.com/edgegw/edgegw/providers/cloudfront" // the targets.cloudfront block
	"github.com/edgegw/edgegw/render"
	"github.com/edgegw/edgegw/render/cloudfront"
	"github.com/edgegw/edgegw/render/cloudfront/waf"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const gw = `version: 1
name: rl
domains:
  - {host: api.example.com, zone: example.com}
  - {host: "*.t.example.com", zone: example.com}
tls: {hsts: {max_age: 31536000}}
origins:
  app: {url: "http://127.0.0.1:9000"}
pools:
  app: {origins: [app]}
rate_limits:
  per_ip: {key: ip, limit: %LIMIT%, window: %WINDOW%}
  per_key: {key: "header:X-API-Key", limit: 10, window: 120s}
routes:
  - {name: health, match: {path: {exact: /api/health}}, pool: app}
  - {name: api, match: {path: {prefix: /api}}, pool: app, rate_limit: per_ip}
  - {name: tenant-writes, match: {path: {template: "/t/{id}/items"}, hosts: ["*.t.example.com"], methods: [POST, PUT]}, pool: app, rate_limit: per_key}
  - {name: other, match: {path: {prefix: /other}}, pool: app}
targets:
  cloudfront: {distribution_id: E2EXAMPLE, function: gw%COMPANIONS%}
`

func load(t *testing.T, limit, window, companions string) *ir.Gateway {
	t.Helper()
	src := strings.NewReplacer("%LIMIT%", limit, "%WINDOW%", window, "%COMPANIONS%", companions).Replace(gw)
	g, diags := manifest.LoadBytes("rl.yaml", []byte(src), manifest.LoadOptions{})
	if g == nil {
		t.Fatalf("manifest does not load: %v", diags)
	}
	return g
}

const with = ", companions: [waf-rate-limit], web_acl_name: edge, web_acl_id: example-acl-id"

// TestGolden: the rendered rules, as the deploy ships them.
func TestGolden(t *testing.T) {
	a, err := waf.Artifact(load(t, "10", "60s", with), cloudfront.Name, waf.Options{})
	if err != nil || a == nil {
		t.Fatalf("artifact %v, %v", a, err)
	}
	file := filepath.Join("testdata", "waf.json")
	if *update {
		if err := os.WriteFile(file, a.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Data, want) {
		t.Errorf("waf.json differs from %s (go test -update to accept):\n%s", file, a.Data)
	}
	d, err := waf.Parse(a.Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Rules) != 3 || *d.Rules[0].Name != "edgegw-rl-per_ip" || *d.Rules[1].Name != "edgegw-rl-per_key" || *d.Rules[2].Name != "edgegw-rl-per_key-nokey" {
		t.Fatalf("rules %+v", d.Rules)
	}
	ip, key := d.Rules[0].Statement.RateBasedStatement, d.Rules[1].Statement.RateBasedStatement
	if ip.AggregateKeyType != "IP" || ip.EvaluationWindowSec != 60 || *ip.Limit != 10 || key.AggregateKeyType != "CUSTOM_KEYS" ||
		!strings.EqualFold(*key.CustomKeys[0].Header.Name, "X-API-Key") || key.EvaluationWindowSec != 120 {
		t.Errorf("rate-based statements %+v %+v", ip, key)
	}
	cr := d.Rules[0].Action.Block.CustomResponse
	body := d.CustomResponseBodies[*cr.CustomResponseBodyKey]
	g := load(t, "10", "60s", with)
	if *cr.ResponseCode != 429 || *body.Content != g.Error(ir.CodeRateLimit).Body || body.ContentType != "APPLICATION_JSON" {
		t.Errorf("custom response %+v body %+v", cr, body)
	}
}

// TestRulesDecide: the rendered rules, run by the evaluator of WAF's documented semantics, count the
// requests the gateway routes to the limited routes only, per key, and block over the limit with the IR's
// 429.
func TestRulesDecide(t *testing.T) {
	g := load(t, "10", "60s", with)
	d, err := waf.Render(g, waf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := waf.NewEvaluator(d, t0)
	ev.CheckEvery = 0
	req := func(method, host, path, ip string, h http.Header) *waf.Response {
		if h == nil {
			h = http.Header{}
		}
		return ev.Evaluate(waf.Request{Method: method, Host: host, Path: path, ClientIP: ip, Header: h, Now: t0.Add(time.Second)})
	}
	for i := 0; i < 10; i++ {
		if r := req("GET", "api.example.com", "/api/x", "192.0.2.1", nil); r != nil {
			t.Fatalf("request %d blocked: %+v", i+1, r)
		}
	}
	// Not the route's: the earlier exact route, a path past the segment boundary, another route.
	for _, p := range []string{"/api/health", "/apix", "/other", "/"} {
		if r := req("GET", "api.example.com", p, "192.0.2.1", nil); r != nil {
			t.Errorf("%s was counted with /api: %+v", p, r)
		}
	}
	r := req("GET", "api.example.com", "/api", "192.0.2.1", nil)
	if r == nil || r.Status != 429 || string(r.Body) != g.Error(ir.CodeRateLimit).Body || r.Header.Get("Retry-After") != "60" ||
		r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
		t.Fatalf("the 11th request: %+v, want the IR's 429 with Retry-After and HSTS", r)
	}
	// The path as the WAF sees it after URL_DECODE and NORMALIZE_PATH: still the route's.
	for _, p := range []string{"//api/./x", "/%61pi/x", "/x/../api"} {
		if r := req("GET", "api.example.com", p, "192.0.2.1", nil); r == nil {
			t.Errorf("%s escaped the limit", p)
		}
	}
	if r := req("GET", "api.example.com", "/api/x", "192.0.2.2", nil); r != nil {
		t.Errorf("another address was blocked: %+v", r)
	}
	// The header-keyed limit: hosts, methods and the template scope it; keys count apart; no key counts by IP.
	hk := func(v string) http.Header {
		h := http.Header{}
		if v != "" {
			h.Set("X-API-Key", v)
		}
		return h
	}
	for i := 0; i < 10; i++ {
		if r := req("POST", "a.t.example.com", "/t/7/items", "192.0.2.9", hk("k1")); r != nil {
			t.Fatalf("k1 request %d blocked", i+1)
		}
		if r := req("PUT", "b.t.example.com", "/t/8/items", "192.0.2.9", nil); r != nil {
			t.Fatalf("keyless request %d blocked", i+1)
		}
	}
	if r := req("GET", "a.t.example.com", "/t/7/items", "192.0.2.9", hk("k1")); r != nil {
		t.Errorf("a GET (not the route's method) was blocked: %+v", r)
	}
	if r := req("POST", "api.example.com", "/t/7/items", "192.0.2.9", hk("k1")); r != nil {
		t.Errorf("another host was blocked: %+v", r)
	}
	if r := req("POST", "a.t.example.com", "/t/7/items", "192.0.2.9", hk("k2")); r != nil {
		t.Errorf("key k2 was blocked with k1: %+v", r)
	}
	if r := req("POST", "a.t.example.com", "/t/7/items", "192.0.2.9", hk("k1")); r == nil || r.Rule != "edgegw-rl-per_key" {
		t.Errorf("k1 over the limit: %+v", r)
	}
	if r := req("POST", "a.t.example.com", "/t/7/items", "192.0.2.9", nil); r == nil || r.Rule != "edgegw-rl-per_key-nokey" || r.Header.Get("Retry-After") != "120" {
		t.Errorf("keyless over the limit: %+v", r)
	}
}

// TestChecksEvery10s: WAF decides at its periodic checks, not per request: a burst passes until the next
// check, and the block holds until a check finds the count under the limit.
func TestChecksEvery10s(t *testing.T) {
	d, err := waf.Render(load(t, "10", "60s", with), waf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := waf.NewEvaluator(d, t0)
	at := func(d time.Duration) *waf.Response {
		return ev.Evaluate(waf.Request{Method: "GET", Host: "api.example.com", Path: "/api", ClientIP: "192.0.2.1", Header: http.Header{}, Now: t0.Add(d)})
	}
	for i := 0; i < 15; i++ {
		if r := at(time.Second); r != nil {
			t.Fatalf("burst request %d blocked before the first check", i+1)
		}
	}
	if r := at(10 * time.Second); r == nil {
		t.Error("the check at 10s did not block 15 requests over a limit of 10")
	}
	if r := at(65 * time.Second); r == nil {
		t.Error("unblocked at 65s: the check at 60s still counts the blocked requests of 10s")
	}
	if r := at(80 * time.Second); r != nil {
		t.Errorf("still blocked at 80s: the check at 80s counts 1 request: %+v", r)
	}
}

// TestRefusesWhatWAFCannot: a jwt.sub key, another window or a limit under 10 is a route error naming the
// constraint.
func TestRefusesWhatWAFCannot(t *testing.T) {
	for _, c := range []struct{ limit, window, want string }{
		{"10", "30s", "takes 1m, 2m, 5m or 10m"},
		{"9", "60s", "takes 10 or more"},
	} {
		_, err := waf.Render(load(t, c.limit, c.window, with), waf.Options{})
		var re *render.RouteError
		if !errors.As(err, &re) || re.Route != "api" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("limit %s window %s: %v, want a route error at api saying %q", c.limit, c.window, err, c.want)
		}
	}
	g := load(t, "10", "60s", with)
	g.RateLimits[0].Key = "jwt.sub"
	if _, err := waf.Render(g, waf.Options{}); err == nil || !strings.Contains(err.Error(), "cannot key on") {
		t.Errorf("jwt.sub: %v", err)
	}
}

// TestCloudFrontArtifacts: the cloudfront renderer adds waf.json with the companion, and the function then
// leaves the rate-limited routes to the WAF; without it, no waf.json and the function refuses them.
func TestCloudFrontArtifacts(t *testing.T) {
	has := func(arts []render.Artifact) bool {
		for _, a := range arts {
			if a.Path == waf.File {
				return true
			}
		}
		return false
	}
	arts, err := cloudfront.RenderWith(load(t, "10", "60s", with), cloudfront.Options{IgnoreSizeLimit: true})
	if err != nil || !has(arts) {
		t.Errorf("with the companion: %v, waf.json %t", err, has(arts))
	}
	arts, err = cloudfront.RenderWith(load(t, "10", "60s", ""), cloudfront.Options{IgnoreSizeLimit: true})
	if err != nil || has(arts) {
		t.Errorf("without the companion: %v, waf.json %t", err, has(arts))
	}
}
