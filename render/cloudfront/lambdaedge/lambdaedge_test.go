package lambdaedge_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

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
