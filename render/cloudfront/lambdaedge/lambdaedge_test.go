package lambdaedge_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/internal/testenv"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
	"github.com/edgegw/edgegw/render/cloudfront/lambdaedge"
)

func gateway(alg string) *ir.Gateway {
	return &ir.Gateway{
		Name:         "gw",
		Domains:      []ir.Domain{{Host: "api.example.com", Zone: "example.com"}},
		Origins:      []ir.Origin{{Name: "app", URL: "https://app.example.com"}},
		Pools:        []ir.Pool{{Name: "app", Origins: []string{"app"}}},
		AuthPolicies: []ir.AuthPolicy{{Name: "bearer", JWT: &ir.JWT{Algorithms: []string{alg}, JWKS: &ir.JWKS{URL: "https://auth.example.com/jwks.json"}}}},
		Routes:       []ir.Route{{Name: "api", Match: ir.Match{Kind: ir.PathPrefix, Path: "/api"}, Pool: "app", Auth: "bearer"}},
		Targets:      ir.Targets{{Name: "cloudfront", Companions: []string{lambdaedge.Companion}}},
	}
}

// The handler is one CommonJS module for Node.js 20 that names its routes, and the same IR gives the same
// bytes.
func TestRender(t *testing.T) {
	g := gateway("RS256")
	if !lambdaedge.Needed(g) {
		t.Fatal("an RS256 policy with the companion does not need the handler")
	}
	arts, err := lambdaedge.Render(g, lambdaedge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	js := arts[0].Data
	if len(arts) != 1 || arts[0].Path != lambdaedge.File {
		t.Fatalf("artifacts %v", arts)
	}
	for _, want := range []string{"module.exports = __toCommonJS(", "handler: () => handler", `//! route "api"`, "crypto.subtle.verify", "origin-request"} {
		if !bytes.Contains(js, []byte(want)) {
			t.Errorf("the handler holds no %q", want)
		}
	}
	if bytes.Contains(js, []byte("TEST_DECISION")) && bytes.Contains(js, []byte("const TEST_MODE = true")) {
		t.Error("the production build is in test mode")
	}
	again, _ := lambdaedge.Render(g, lambdaedge.Options{})
	if !bytes.Equal(js, again[0].Data) {
		t.Error("two renders of one IR differ")
	}
	t.Logf("%s: %d bytes (plain, not minified)", lambdaedge.File, len(js))
}

// An HS256-only gateway stays in CloudFront Functions; no companion, no handler.
func TestNeeded(t *testing.T) {
	if lambdaedge.Needed(gateway("HS256")) {
		t.Error("HS256 only needs the handler")
	}
	g := gateway("ES256")
	g.Targets = nil
	if lambdaedge.Needed(g) {
		t.Error("no companion listed, and the handler is needed")
	}
}

// What the handler cannot do is a render error at the route.
func TestRefusals(t *testing.T) {
	g := gateway("RS256")
	g.AuthPolicies[0].JWT.Secret = &ir.Value{Env: "JWT_SECRET"}
	var re *render.RouteError
	if _, err := lambdaedge.Render(g, lambdaedge.Options{}); !errors.As(err, &re) || re.Route != "api" || !strings.Contains(err.Error(), "HMAC secret") {
		t.Errorf("an HMAC secret: %v", err)
	}
	g = gateway("RS256")
	g.Origins = append(g.Origins, ir.Origin{Name: "dr", URL: "https://dr.example.com"})
	g.Pools[0].Origins = []string{"app", "dr"}
	if _, err := lambdaedge.Render(g, lambdaedge.Options{}); !errors.As(err, &re) || !strings.Contains(err.Error(), "2 origins") {
		t.Errorf("a pool of two origins: %v", err)
	}
}

// A rate-limited route is refused (RATE_LIMIT) unless a WAF rule enforces the limit in front
// (LimitsAtWAF); the handler runs in Node on the documented viewer-request event.
func TestRateLimitedRoute(t *testing.T) {
	_, err := exec.LookPath("node")
	testenv.Require(t, "node (scripts/install-test-deps.sh)", err)
	g := gateway("RS256")
	g.RateLimits = []ir.RateLimit{{Name: "per-ip", Key: "ip", Limit: 100, Window: ir.Duration(time.Minute)}}
	g.Routes = append(g.Routes, ir.Route{Name: "open", Match: ir.Match{Kind: ir.PathPrefix, Path: "/open"}, Pool: "app", RateLimit: "per-ip"})
	event := `{"Records":[{"cf":{"config":{"eventType":"viewer-request","requestId":"r1"},"request":{"clientIp":"192.0.2.1","method":"GET","uri":"/open/x","querystring":"","headers":{"host":[{"key":"Host","value":"api.example.com"}]}}}}]}`
	for _, atWAF := range []bool{false, true} {
		arts, err := lambdaedge.Render(g, lambdaedge.Options{LimitsAtWAF: atWAF})
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "index.js")
		if err := os.WriteFile(file, arts[0].Data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("node", "-e", `require(process.argv[1]).handler(JSON.parse(process.argv[2])).then((r) => console.log(JSON.stringify(r)))`, file, event).CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v: %s", err, out)
		}
		var r struct {
			Status  string                         `json:"status"`
			URI     string                         `json:"uri"`
			Headers map[string][]map[string]string `json:"headers"`
		}
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("handler output %s: %v", out, err)
		}
		switch {
		case !atWAF && r.Status != "429":
			t.Errorf("without the WAF: %s, want a 429 answer", out)
		case atWAF && (r.Status != "" || r.URI != "/open/x" || r.Headers["x-edgegw-origin"][0]["value"] != "app"):
			t.Errorf("with the WAF in front: %s, want the request forwarded to app", out)
		}
	}
}
