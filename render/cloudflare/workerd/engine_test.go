package workerd

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render/cloudflare"
)

func clockIR() *ir.Gateway {
	g := pathsIR()
	g.Name = "clock"
	g.Errors = ir.EdgeErrors(g.Name)
	g.AuthPolicies = []ir.AuthPolicy{{Name: "hs", JWT: &ir.JWT{Algorithms: []string{"HS256"}, Secret: &ir.Value{Env: "CLOCK_SECRET"}}}}
	g.Routes = []ir.Route{{Name: "in", Match: ir.Match{Kind: ir.PathPrefix, Path: "/in"}, Auth: "hs", Respond: &ir.Respond{Status: 200, Body: "in"}}}
	return g
}

// TestClockReachesTheWorkerInTestModeOnly: a token valid at the case clock (2025) and long expired at the
// real time passes the test build, whose clock is the request's Now, and is refused by the production
// build, which honours no test header and reports no decision.
func TestClockReachesTheWorkerInTestModeOnly(t *testing.T) {
	requireEngine(t)
	ctx := context.Background()
	g := clockIR()
	secret := "clock-secret-0123456789abcdef-0123456789"
	env := testrun.Env{Getenv: func(k string) string {
		if k == "CLOCK_SECRET" {
			return secret
		}
		return ""
	}}
	tok := signHS(secret, fmt.Sprintf(`{"exp":%d}`, caseClock.Add(time.Hour).Unix()))
	req := &testrun.ClientRequest{Method: "GET", Target: "/in", Host: "api.example.com",
		Header: http.Header{"Authorization": {"Bearer " + tok}}, Now: caseClock}

	test, err := engine.Open(ctx, g, nil, env)
	if err != nil {
		t.Fatal(err)
	}
	defer test.Close()
	resp, err := test.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || resp.Decision["route"] != "in" {
		t.Errorf("test build at the case clock: %d %s, decision %v; want 200 on route in", resp.Status, resp.Body, resp.Decision)
	}
	if resp.Header.Get(headerDecision) != "" {
		t.Error("the decision header reached the client's view")
	}

	arts, err := cloudflare.RenderWith(g, cloudflare.Options{})
	if err != nil {
		t.Fatal(err)
	}
	prod, err := engine.openScript(ctx, string(arts[0].Data), cloudflare.DefaultCompatibilityDate, map[string]string{"CLOCK_SECRET": secret})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	resp, err = prod.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 403 || !strings.Contains(string(resp.Body), "JWT_EXPIRED") {
		t.Errorf("production build with a test clock header: %d %s; want 403 JWT_EXPIRED (the real clock)", resp.Status, resp.Body)
	}
	if resp.Decision != nil {
		t.Errorf("production build reported a decision %v", resp.Decision)
	}
	resp, err = prod.Do(ctx, &testrun.ClientRequest{Method: "POST", Target: "/__edgegw-test/verify", Host: "api.example.com", Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 404 || !strings.Contains(string(resp.Body), "NO_ROUTE") {
		t.Errorf("production build answered the test verify endpoint: %d %s", resp.Status, resp.Body)
	}
}

// TestSecretsAreBindings: without the secret binding the HS policy has no key (403 JWT_KEY), as the
// reference answers with the variable unset.
func TestSecretsAreBindings(t *testing.T) {
	requireEngine(t)
	ctx := context.Background()
	in, err := engine.Open(ctx, clockIR(), nil, testrun.Env{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	tok := signHS("clock-secret-0123456789abcdef-0123456789", fmt.Sprintf(`{"exp":%d}`, caseClock.Add(time.Hour).Unix()))
	resp, err := in.Do(ctx, &testrun.ClientRequest{Method: "GET", Target: "/in", Host: "api.example.com",
		Header: http.Header{"Authorization": {"Bearer " + tok}}, Now: caseClock})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 403 || resp.Decision["reason"] != "JWT_KEY" {
		t.Errorf("no secret binding: %d %v, want 403 JWT_KEY", resp.Status, resp.Decision)
	}
}

// TestMissingRuntime: an engine without miniflare says what to install instead of failing obscurely.
func TestMissingRuntime(t *testing.T) {
	e := &Engine{Dir: t.TempDir()}
	_, err := e.Open(context.Background(), clockIR(), nil, testrun.Env{})
	if err == nil || !strings.Contains(err.Error(), "npm ci") {
		t.Fatalf("got %v, want an error that says to run npm ci", err)
	}
	e = &Engine{Node: "/nonexistent/node"}
	if err := e.Available(); err == nil || !strings.Contains(err.Error(), "node not found") {
		t.Fatalf("got %v, want node not found", err)
	}
}

// TestOutsideACheckout: `edgegw test --target cloudflare` run outside an edgegw checkout (the engine is in
// the binary) says where it looked and the two ways to point it at the workerd install.
func TestOutsideACheckout(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("EDGEGW_WORKERD_DIR", "")
	err := (&Engine{}).Available()
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "EDGEGW_WORKERD_DIR") || !strings.Contains(err.Error(), "npm ci") {
		t.Fatalf("got %v, want an error naming %s, npm ci and EDGEGW_WORKERD_DIR", err, dir)
	}
}
