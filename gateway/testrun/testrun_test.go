package testrun

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	_ "github.com/edgegw/edgegw/providers/all" // the manifest reads each target's block as its target registered it
)

func env(vars map[string]string) Env {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	return Env{Getenv: func(k string) string { return vars[k] }, Now: func() time.Time { return now }}
}

func runRefCases(t *testing.T, g *ir.Gateway, e Env) []Result {
	t.Helper()
	res := Run(context.Background(), g, g.Tests, Options{Target: RefTarget, Engine: RefEngine{}, Env: e})
	if len(res) != len(g.Tests) {
		t.Fatalf("%d results for %d cases", len(res), len(g.Tests))
	}
	return res
}

// TestExamples loads the example manifests and runs their own tests: every one must pass on the reference
// gateway, since they are the documentation of its behaviour.
func TestExamples(t *testing.T) {
	for _, f := range []string{"full.yaml", "quickstart.yaml"} {
		t.Run(f, func(t *testing.T) {
			g, diags := manifest.Load("../../testdata/examples/" + f)
			if g == nil {
				for _, d := range diags {
					t.Log(d.String())
				}
				t.Fatalf("%s does not load", f)
			}
			if len(g.Tests) == 0 {
				t.Fatalf("%s has no tests", f)
			}
			for _, r := range runRefCases(t, g, env(nil)) {
				if !r.Pass {
					t.Errorf("%s %q: %s %v notes %v", r.Pos, r.Name, r.Error, r.Diffs, r.Notes)
				}
			}
		})
	}
}

func hsGateway() *ir.Gateway {
	body := "ok"
	return &ir.Gateway{
		Name:    "t",
		Domains: []ir.Domain{{Host: "api.example.com", Zone: "example.com"}},
		Origins: []ir.Origin{{Name: "app", URL: "https://app.internal"}},
		Pools:   []ir.Pool{{Name: "app", Origins: []string{"app"}}},
		AuthPolicies: []ir.AuthPolicy{{Name: "hs", JWT: &ir.JWT{Algorithms: []string{"HS256"}, Secret: &ir.Value{Env: "JWT_SECRET_KEY"},
			Issuer: "https://auth.example.com/", Audience: []string{"api"}, ForwardClaims: []ir.ClaimForwarding{{Claim: "sub", Header: "X-User"}}}}},
		Routes: []ir.Route{
			{Name: "health", Match: ir.Match{Kind: ir.PathExact, Path: "/health"}, Respond: &ir.Respond{Status: 200, Body: "ok"}},
			{Name: "api", Match: ir.Match{Kind: ir.PathPrefix, Path: "/api"}, Pool: "app", Auth: "hs"},
		},
		Tests: []ir.TestCase{
			{Name: "signed", Request: ir.TestRequest{Method: "GET", URL: "https://api.example.com/api/x", JWT: &ir.TestJWT{Sub: "alice"}},
				Expect: ir.TestExpect{Status: 200, Route: "api", Upstream: &ir.HeaderExpect{Equal: []ir.HeaderSet{{Name: "X-User", Value: "alice"}}}}},
			{Name: "expired", Request: ir.TestRequest{URL: "https://api.example.com/api/x", JWT: &ir.TestJWT{Sub: "alice", Exp: "-5m"}},
				Expect: ir.TestExpect{Status: 403}},
			{Name: "attack token", Request: ir.TestRequest{URL: "https://api.example.com/api/x",
				Headers: []ir.HeaderSet{{Name: "Authorization", Value: "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9."}}, JWT: &ir.TestJWT{Sub: "x"}},
				Expect: ir.TestExpect{Status: 403}},
			{Name: "wrong on purpose", Request: ir.TestRequest{URL: "https://api.example.com/health"},
				Expect: ir.TestExpect{Status: 201, Route: "api", Body: &body, Response: &ir.HeaderExpect{Present: []string{"X-Nope"}}}},
		},
	}
}

func TestSigningWithTheManifestSecret(t *testing.T) {
	res := runRefCases(t, hsGateway(), env(map[string]string{"JWT_SECRET_KEY": "s3cret-s3cret-s3cret-s3cret-s3cret"}))
	if !res[0].Pass || !strings.Contains(strings.Join(res[0].Notes, " "), "with the policy's secret") {
		t.Errorf("signed case: %+v", res[0])
	}
	if !res[1].Pass {
		t.Errorf("expired token case: %+v", res[1])
	}
	if !res[2].Pass || !strings.Contains(strings.Join(res[2].Notes, " "), "own Authorization") {
		t.Errorf("attack token case: %+v", res[2])
	}
}

func TestSigningWithAGeneratedSecretPassedAsTheTargetsSecret(t *testing.T) {
	res := runRefCases(t, hsGateway(), env(nil))
	if !res[0].Pass || !strings.Contains(strings.Join(res[0].Notes, " "), "with the policy's secret") {
		t.Errorf("generated key case: %+v", res[0])
	}
	// The attack case is verified against the real configuration, which has no key without the secret:
	// refused either way, and never with the generated key.
	if !res[2].Pass {
		t.Errorf("attack token case: %+v", res[2])
	}
}

func TestFailingCaseReportsEveryDifference(t *testing.T) {
	r := runRefCases(t, hsGateway(), env(nil))[3]
	if r.Pass {
		t.Fatal("a wrong expectation passed")
	}
	var fields []string
	for _, d := range r.Diffs {
		fields = append(fields, d.Field)
	}
	want := []string{"status", "route", "header X-Nope"}
	for _, w := range want {
		if !strings.Contains(strings.Join(fields, ","), w) {
			t.Errorf("diffs %v miss %q", r.Diffs, w)
		}
	}
	for _, d := range r.Diffs {
		if d.Field == "status" && (d.Want != "201" || d.Got != "200") {
			t.Errorf("status diff %+v", d)
		}
	}
}

func TestResolveTargets(t *testing.T) {
	// A target with no runner in this build: the error names the ones that have one.
	if _, _, err := Resolve("no-such-target"); err == nil || !strings.Contains(err.Error(), "no test engine") || !strings.Contains(err.Error(), RefTarget) {
		t.Errorf("unregistered target error %v", err)
	}
	names, rs, err := Resolve("all")
	if err != nil || len(rs) != len(names) || !slices.Contains(names, RefTarget) {
		t.Errorf("all: %v %v", names, err)
	}
}
