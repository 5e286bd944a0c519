package fastly_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/plan/view"
	"github.com/edgegw/edgegw/internal/falco"
	"github.com/edgegw/edgegw/internal/testenv"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	_ "github.com/edgegw/edgegw/providers/all"
	"github.com/edgegw/edgegw/providers/apitest"
	"github.com/edgegw/edgegw/providers/fastly"
	"github.com/edgegw/edgegw/render"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

// fullService is service.json for testdata/examples/full.yaml: three origins, the primary with a probe,
// and its three domains.
func fullService() fastly.Service {
	return fastly.Service{
		Backends: []fastly.Backend{
			{Name: "primary", Address: "api-origin.internal", Port: 443, UseSSL: true, OverrideHost: "api-origin.internal",
				SSLCertHostname: "api-origin.internal", SSLSNIHostname: "api-origin.internal", FirstByteTimeout: 10000,
				Probe: &fastly.Probe{Path: "/health", Method: "GET", Host: "api-origin.internal", Interval: 10000, Timeout: 2000, Threshold: 3, Window: 3, Initial: 3}},
			{Name: "secondary", Address: "api-origin-dr.internal", Port: 443, UseSSL: true, SSLCertHostname: "api-origin-dr.internal"},
			{Name: "canary", Address: "api-canary.internal", Port: 443, UseSSL: true, SSLCertHostname: "api-canary.internal"},
		},
		Domains: []fastly.Domain{{Name: "api.example.com"}, {Name: "example.com"}, {Name: "*.api.example.com"}},
	}
}

// mainVCL is a main VCL with one block per route, as large as the renderer's output for that many routes
// would be; mark changes the first route's body.
func mainVCL(routes []string, mark string) string {
	var b strings.Builder
	b.WriteString("# edgegw: edge-api-gateway\nsub vcl_recv {\n#FASTLY recv\n")
	for i, r := range routes {
		body := "set req.backend = F_primary;"
		if i == 0 && mark != "" {
			body += " set req.http.X-Mark = \"" + mark + "\";"
		}
		fmt.Fprintf(&b, "  # route %s (edgegw.yaml:%d)\n  if (req.url.path ~ \"^/%s(/|$)\") {\n    %s\n  }\n", r, 60+i, r, body)
	}
	b.WriteString("  return(lookup);\n}\nsub vcl_deliver {\n#FASTLY deliver\n  return(deliver);\n}\n")
	return b.String()
}

func artifacts(t testing.TB, svc fastly.Service, vcl string) []render.Artifact {
	t.Helper()
	js, err := json.MarshalIndent(svc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return []render.Artifact{
		{Target: "fastly", Path: fastly.MainVCL, MediaType: fastly.VCLMediaType, Data: []byte(vcl)},
		{Target: "fastly", Path: fastly.ServiceFile, MediaType: "application/json", Data: append(js, '\n')},
	}
}

// fullExample loads testdata/examples/full.yaml without its JWKS and HS secret, for the deploy tests that
// ship hand-made artifacts without dictionaries (dictionary_test.go deploys the rendered ones).
func fullExample(t testing.TB) *ir.Gateway {
	t.Helper()
	g := fullExampleAsWritten(t)
	for i := range g.AuthPolicies {
		if j := g.AuthPolicies[i].JWT; j != nil {
			cp := *j
			cp.JWKS, cp.Secret = nil, nil
			g.AuthPolicies[i].JWT = &cp
		}
	}
	return g
}

func fullExampleAsWritten(t testing.TB) *ir.Gateway {
	t.Helper()
	g, diags := manifest.Load("../../testdata/examples/full.yaml")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return g
}

// A VCL that verifies tokens against dictionaries nobody fills would refuse every token: artifacts that do
// not list the dictionaries the gateway's VCL reads are refused before any call, naming them.
func TestPlanRefusesArtifactsWithoutTheDictionaries(t *testing.T) {
	g := fullExampleAsWritten(t)
	p, err := fastly.New(providers.Config{Gateway: g, Getenv: func(k string) string {
		return map[string]string{fastly.TokenVar: "token", "FASTLY_API_URL": "http://127.0.0.1:1"}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: artifacts(t, fullService(), mainVCL(routeNames(g), ""))})
	if err == nil || !strings.Contains(err.Error(), "edgegw_jwks_bearer") || !strings.Contains(err.Error(), "dictionaries.json") {
		t.Fatalf("plan of artifacts without the dictionaries the VCL reads: %v", err)
	}
}

func routeNames(g *ir.Gateway) []string {
	var out []string
	for _, r := range g.Routes {
		out = append(out, r.Name)
	}
	return out
}

// gateway is an IR of n prefix routes r0…r(n-1) for the fastly service of the fake.
func gateway(n int) *ir.Gateway {
	g := &ir.Gateway{SchemaVersion: 1, Name: "edge-api-gateway",
		Domains: []ir.Domain{{Host: "api.example.com", Zone: "example.com"}},
		Origins: []ir.Origin{{Name: "primary", URL: "https://api-origin.internal"}},
		Pools:   []ir.Pool{{Name: "api", Origins: []string{"primary"}}},
		Targets: ir.Targets{{Name: fastly.Name, Config: &fastly.Settings{ServiceID: ir.Value{Literal: "SU1Z0isxPaozGVKXdv0eY"}}}},
	}
	for i := range n {
		g.Routes = append(g.Routes, ir.Route{Name: "r" + strconv.Itoa(i), Index: i, Match: ir.Match{Kind: ir.PathPrefix, Path: "/r" + strconv.Itoa(i)}, Pool: "api"})
	}
	return g
}

// seedHandMade gives the fake service what `fastly service create` and the UI leave: an active version 1
// with one backend and one domain, no custom VCL.
func seedHandMade(f *fakeFastly) {
	f.seed(map[string]map[string]map[string]any{
		"backend": {"legacy": {"address": "legacy.internal", "port": 443, "use_ssl": true}},
		"domain":  {"old.example.com": {}},
	})
}

func newProvider(t testing.TB, f *fakeFastly, g *ir.Gateway) providers.Provider {
	t.Helper()
	env := f.Env()
	p, err := fastly.New(providers.Config{Gateway: g, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	fastly.SetRetrySleep(p, func(time.Duration) {})
	return p
}

// calls counts the requests the fake received from index from on.
type calls struct {
	reads, writes int
	list          []string // mutating calls, "METHOD path"
}

func (c calls) total() int { return c.reads + c.writes }

func callsSince(f *fakeFastly, from int) calls {
	var c calls
	for _, r := range f.Requests()[from:] {
		if r.Method == http.MethodGet {
			c.reads++
			continue
		}
		c.writes++
		c.list = append(c.list, r.Method+" "+r.Path)
	}
	return c
}

func planOf(t testing.TB, p providers.Provider, g *ir.Gateway, arts []render.Artifact) *providers.Plan {
	t.Helper()
	tp, err := p.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: arts})
	if err != nil {
		t.Fatal(err)
	}
	return &providers.Plan{FormatVersion: providers.PlanFormatVersion, Commit: commit, ManifestPath: "edgegw.yaml", Targets: []*providers.TargetPlan{tp}}
}

func applyPlan(p providers.Provider, g *ir.Gateway, plan *providers.Plan, opts providers.ApplyOptions) (*providers.Report, error) {
	opts.Gateway, opts.Force = g, true
	opts.Getenv = func(string) string { return "" }
	opts.Who = "ci@runner"
	return providers.Apply(context.Background(), plan, map[string]providers.Provider{fastly.Name: p}, opts)
}

// apply plans and applies arts, failing the test on an error.
func apply(t testing.TB, p providers.Provider, g *ir.Gateway, arts []render.Artifact) *providers.Report {
	t.Helper()
	rep, err := applyPlan(p, g, planOf(t, p, g, arts), providers.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

const svcPath = "/service/SU1Z0isxPaozGVKXdv0eY"

func TestApplyFullExampleReplacesHandMadeObjectsByDiff(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := fullExample(t)
	p := newProvider(t, f, g)
	arts := artifacts(t, fullService(), mainVCL(routeNames(g), ""))

	before := len(f.Requests())
	plan := planOf(t, p, g, arts)
	planCalls := callsSince(f, before)
	if tp := plan.Targets[0]; tp.BaseToken != "1" || tp.LiveVersion != "1" || !tp.HasChanges() {
		t.Fatalf("plan: base %q live %q changes %v, want base and live version 1 with changes", tp.BaseToken, tp.LiveVersion, tp.Changes)
	}
	mid := len(f.Requests())
	rep, err := applyPlan(p, g, plan, providers.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	applyCalls := callsSince(f, mid)
	if rep.Targets[0].Status != providers.StatusApplied || rep.Targets[0].Version != "2" || f.Active() != 2 {
		t.Fatalf("report %+v, active %d: want version 2 applied and live", rep.Targets[0], f.Active())
	}
	want := []string{
		"PUT " + svcPath + "/version/1/clone",
		"POST " + svcPath + "/version/2/healthcheck",
		"POST " + svcPath + "/version/2/backend", // canary
		"POST " + svcPath + "/version/2/backend", // primary
		"POST " + svcPath + "/version/2/backend", // secondary
		"DELETE " + svcPath + "/version/2/backend/legacy",
		"POST " + svcPath + "/version/2/domain",
		"POST " + svcPath + "/version/2/domain",
		"POST " + svcPath + "/version/2/domain",
		"DELETE " + svcPath + "/version/2/domain/old.example.com",
		"POST " + svcPath + "/version/2/vcl", // main
		"PUT " + svcPath + "/version/2",      // comment
		"POST " + svcPath + "/version/2/vcl", // edgegw_record
		"PUT " + svcPath + "/version/2/activate",
	}
	if strings.Join(applyCalls.list, "\n") != strings.Join(want, "\n") {
		t.Errorf("mutating calls:\n%s\nwant:\n%s", strings.Join(applyCalls.list, "\n"), strings.Join(want, "\n"))
	}
	if got := f.Names(2, "backend"); strings.Join(got, ",") != "canary,primary,secondary" {
		t.Errorf("backends of version 2: %v", got)
	}
	if got := f.Names(2, "domain"); strings.Join(got, ",") != "*.api.example.com,api.example.com,example.com" {
		t.Errorf("domains of version 2: %v", got)
	}
	if hc := f.Object(2, "backend", "primary")["healthcheck"]; hc != "primary" {
		t.Errorf("backend primary has health check %v, want primary", hc)
	}
	if c := f.Object(2, "vcl", "main"); c["main"] != true || c["content"] != string(arts[0].Data) {
		t.Errorf("main VCL of version 2: main=%v, content equal=%v", c["main"], c["content"] == string(arts[0].Data))
	}
	if got := f.Names(1, "backend"); strings.Join(got, ",") != "legacy" {
		t.Errorf("the active version 1 was changed: backends %v", got)
	}
	svc := providers.Summarize(g)
	cm := f.versions[1].comment
	for _, part := range []string{"edgegw apply", "git:" + commit, "ir:" + svc.Digest, "prev:1", "by:ci@runner"} {
		if !strings.Contains(cm, part) {
			t.Errorf("version 2's comment %q lacks %q", cm, part)
		}
	}
	t.Logf("full.yaml, first apply over a hand-made service: plan %d reads; apply %d calls (%d reads, %d mutating: %d objects, clone, comment, record, activate)",
		planCalls.total(), applyCalls.total(), applyCalls.reads, applyCalls.writes, applyCalls.writes-4)
	if planCalls.writes != 0 {
		t.Errorf("plan made %d mutating calls: %v", planCalls.writes, planCalls.list)
	}

	// A second apply of the same manifest changes nothing.
	mid = len(f.Requests())
	plan = planOf(t, p, g, arts)
	if tp := plan.Targets[0]; tp.HasChanges() || tp.BaseToken != "2" {
		t.Fatalf("re-plan: base %q, changes %+v, want none against version 2", tp.BaseToken, tp.Changes)
	}
	if _, err := applyPlan(p, g, plan, providers.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	c := callsSince(f, mid)
	if c.writes != 0 || f.Versions() != 2 {
		t.Errorf("re-apply made %d mutating calls (%v) and left %d versions, want none and 2", c.writes, c.list, f.Versions())
	}
	t.Logf("re-apply of the same manifest, plan included: %d calls (%d reads, %d mutating)", c.total(), c.reads, c.writes)
}

func TestOneChangedRouteTakesTheSameCallsAtAnySize(t *testing.T) {
	var got []calls
	for _, n := range []int{10, 1000, 10000} {
		f := newFakeFastly(t)
		seedHandMade(f)
		g := gateway(n)
		p := newProvider(t, f, g)
		apply(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "")))

		g2 := gateway(n)
		g2.Routes[0].Match.Path = "/changed"
		arts := artifacts(t, fullService(), mainVCL(routeNames(g2), "changed"))
		mid := len(f.Requests())
		plan := planOf(t, p, g2, arts)
		if _, err := applyPlan(p, g2, plan, providers.ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
		c := callsSince(f, mid)
		record := len(f.Object(3, "vcl", "edgegw_record")["content"].(string))
		route := 0
		for _, ch := range plan.Targets[0].Changes {
			if ch.Kind == "route" {
				route++
			}
		}
		if route != 1 {
			t.Errorf("%d routes: the plan lists %d route changes, want 1 (from the deploy record): %+v", n, route, plan.Targets[0].Changes)
		}
		t.Logf("%5d routes (main.vcl %7d bytes, deploy record %6d bytes): plan+apply of one changed route: %d calls, %d reads, %d mutating: %v",
			n, len(arts[0].Data), record, c.total(), c.reads, c.writes, c.list)
		got = append(got, c)
	}
	wantWrites := []string{"PUT " + svcPath + "/version/2/clone", "PUT " + svcPath + "/version/3/vcl/main",
		"PUT " + svcPath + "/version/3", "PUT " + svcPath + "/version/3/vcl/edgegw_record", "PUT " + svcPath + "/version/3/activate"}
	for _, c := range got {
		if c.total() != got[0].total() || strings.Join(c.list, "\n") != strings.Join(wantWrites, "\n") {
			t.Errorf("calls per apply vary with the routes or are not the diff's: %+v, want %d calls with mutating %v", c, got[0].total(), wantWrites)
		}
	}
}

func TestStalePlanIsRefused(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(3)
	p := newProvider(t, f, g)
	apply(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "")))

	plan := planOf(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "next")))
	f.Activate(1) // someone re-activates version 1 in the UI after the plan
	versions := f.Versions()
	_, err := applyPlan(p, g, plan, providers.ApplyOptions{})
	var stale *providers.StalePlanError
	if !errors.As(err, &stale) {
		t.Fatalf("apply of a plan made against version 2 while 1 is live: %v, want a StalePlanError", err)
	}
	if code := cmdutil.ExitCode(view.ExitError(err)); code != cmdutil.ExitBlocked {
		t.Errorf("a stale plan exits %d, want %d", code, cmdutil.ExitBlocked)
	}
	if f.Versions() != versions || f.Active() != 1 {
		t.Errorf("the stale apply made versions (%d, was %d) or activated %d", f.Versions(), versions, f.Active())
	}

	// The live version moving between stage and activation is refused too, and the draft stays inactive.
	plan = planOf(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "again")))
	st := p.(providers.Stager)
	staged, err := st.Stage(context.Background(), plan.Targets[0])
	if err != nil {
		t.Fatal(err)
	}
	f.Activate(2)
	_, err = st.Activate(context.Background(), staged, providers.DeployRecord{Kind: providers.KindApply})
	if !errors.As(err, &stale) {
		t.Fatalf("activate after the live version moved: %v, want a StalePlanError", err)
	}
	if f.Active() != 2 || staged.Version == "2" {
		t.Errorf("active %d after the refused activation of %s, want 2", f.Active(), staged.Version)
	}
}

func TestRollbackIsOneActivation(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(3)
	p := newProvider(t, f, g)
	apply(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "")))      // version 2
	apply(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "three"))) // version 3

	rollback := func() (*providers.Report, calls, error) {
		mid := len(f.Requests())
		rep, err := providers.Rollback(context.Background(), []providers.Provider{p}, providers.RollbackOptions{Who: "ci@runner"})
		return rep, callsSince(f, mid), err
	}
	rep, c, err := rollback()
	if err != nil {
		t.Fatal(err)
	}
	if f.Active() != 2 || rep.Targets[0].Version != "2" || rep.Targets[0].Previous != "3" {
		t.Fatalf("rollback: active %d, report %+v, want version 2 live again, from 3", f.Active(), rep.Targets[0])
	}
	if c.writes != 1 || c.list[0] != "PUT "+svcPath+"/version/2/activate" {
		t.Errorf("rollback made %d mutating calls %v, want the one activation of version 2", c.writes, c.list)
	}
	t.Logf("rollback without dictionaries: %d calls (%d reads: the history, the live version and its deploy record; %d mutating: %v)", c.total(), c.reads, c.writes, c.list)
	notes := strings.Join(rep.NotReverted, "\n")
	if !strings.Contains(notes, "edge dictionaries edgegw does not own") || !strings.Contains(notes, "edgegw_secrets") {
		t.Errorf("what a rollback does not revert does not name other dictionaries' items and secret values:\n%s", notes)
	}

	// A second rollback goes one deploy further back: to the hand-made version 1.
	if _, _, err := rollback(); err != nil || f.Active() != 1 {
		t.Fatalf("second rollback: %v, active %d, want version 1", err, f.Active())
	}
	// Version 1 was not deployed by edgegw: there is nothing before it.
	if _, _, err := rollback(); !errors.Is(err, providers.ErrNothingToRollBack) || f.Active() != 1 {
		t.Fatalf("third rollback: %v, active %d, want nothing to roll back to and version 1 live", err, f.Active())
	}
	// The next apply is the third deploy record (versions 2 and 3 were the first two).
	if rep := apply(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "four"))); rep.Targets[0].Record != 3 || rep.Targets[0].Version != "4" {
		t.Errorf("apply after the rollbacks: %+v, want record 3, version 4", rep.Targets[0])
	}
}

func TestHistoryComesFromVersionComments(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(2)
	p := newProvider(t, f, g)
	apply(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "")))
	// A version staged and never activated (a failed apply) is no deploy.
	f.invalid = "BROKEN"
	plan := planOf(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "BROKEN")))
	if _, err := applyPlan(p, g, plan, providers.ApplyOptions{}); err == nil {
		t.Fatal("an apply of a VCL that does not validate succeeded")
	}
	// A fresh provider, as on another CI runner, reads the same history.
	recs, err := newProvider(t, f, g).History(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("history: %+v, want the one apply", recs)
	}
	r := recs[0]
	if r.Kind != providers.KindApply || r.Version != "2" || r.Previous.Version != "1" || r.Commit != commit || r.Who != "ci@runner" ||
		r.Gateway == nil || r.Gateway.Digest != providers.Summarize(g).Digest {
		t.Errorf("history record %+v, want apply of version 2 over 1 from %s by ci@runner with the IR digest", r, commit)
	}
}

func TestValidationFailureActivatesNothing(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(2)
	p := newProvider(t, f, g)
	f.invalid = "BROKEN"
	plan := planOf(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "BROKEN")))
	_, err := applyPlan(p, g, plan, providers.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "version 2 does not validate") || !strings.Contains(err.Error(), "Syntax error") {
		t.Fatalf("apply of a VCL Fastly refuses: %v, want the validation message", err)
	}
	if f.Active() != 1 || f.Count(apitest.Route("PUT", svcPath+"/version/{v}/activate")) != 0 {
		t.Errorf("a version that does not validate was activated: active %d", f.Active())
	}
}

func TestRateLimitedApplyNamesTheReset(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(2)
	p := newProvider(t, f, g)
	reset := time.Date(2026, 1, 2, 5, 0, 0, 0, time.UTC)
	f.inject(apitest.Route("POST", svcPath+"/version/{v}/vcl"),
		apitest.WithHeader(apitest.WithHeader(apitest.RateLimited(3600), "Fastly-RateLimit-Remaining", "0"),
			"Fastly-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10)))
	plan := planOf(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "")))
	_, err := applyPlan(p, g, plan, providers.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "rate limited") || !strings.Contains(err.Error(), "resets at 05:00:00 UTC") ||
		!strings.Contains(err.Error(), "(0 calls left)") {
		t.Fatalf("rate-limited apply: %v, want the limit and its reset time", err)
	}
	if f.Active() != 1 {
		t.Errorf("active %d after a rate-limited apply, want 1", f.Active())
	}
}

func TestServerErrorStopsBeforeActivation(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(2)
	p := newProvider(t, f, g)
	f.inject(apitest.Route("PUT", svcPath+"/version/1/clone"), apitest.ServerError(503))
	plan := planOf(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "")))
	_, err := applyPlan(p, g, plan, providers.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "clone version 1") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("apply with a 503 on clone: %v, want the failed call named", err)
	}
	if f.Active() != 1 || f.Versions() != 1 {
		t.Errorf("after the failed clone: active %d, %d versions, want 1 and 1", f.Active(), f.Versions())
	}
}

func TestActivationThatWentLiveDespiteAnErrorIsRestored(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(2)
	p := newProvider(t, f, g)
	for range fastly.MaxAttempts { // every attempt goes live and loses its answer
		f.inject(apitest.Route("PUT", svcPath+"/version/2/activate"), func(w http.ResponseWriter, r *apitest.Request) {
			f.Activate(2) // the activation happened; the answer is lost
			apitest.ServerError(502)(w, r)
		})
	}
	plan := planOf(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "")))
	_, err := applyPlan(p, g, plan, providers.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "version 2 went live anyway, so version 1 was activated again") {
		t.Fatalf("apply whose activation answered 502 after going live: %v", err)
	}
	if f.Active() != 1 {
		t.Errorf("active %d, want version 1 restored", f.Active())
	}
}

func TestFailedVerificationRestoresThePreviousVersion(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(2)
	p := newProvider(t, f, g)
	plan := planOf(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "")))
	mid := 0
	rep, err := applyPlan(p, g, plan, providers.ApplyOptions{VerifyHTTP: func(context.Context, string) error {
		mid = len(f.Requests())
		return errors.New("https://api.example.com/health answered 503")
	}})
	var partial *providers.PartialError
	if !errors.As(err, &partial) || rep.Targets[0].Status != providers.StatusRestored || rep.Targets[0].Version != "1" {
		t.Fatalf("apply whose verification failed: %v, report %+v, want version 1 restored", err, rep.Targets)
	}
	c := callsSince(f, mid)
	if f.Active() != 1 || c.writes != 1 || c.list[0] != "PUT "+svcPath+"/version/1/activate" {
		t.Errorf("restore: active %d, mutating calls %v, want the one activation of version 1", f.Active(), c.list)
	}
	t.Logf("restore after a failed verification: %d calls (%d reads, %d mutating: %v)", c.total(), c.reads, c.writes, c.list)
}

func TestDriftIsPlannedAndRepairedByOneCall(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(2)
	p := newProvider(t, f, g)
	arts := artifacts(t, fullService(), mainVCL(routeNames(g), ""))
	apply(t, p, g, arts)
	// Someone points the secondary backend elsewhere in a new version and activates it.
	f.mu.Lock()
	v := f.newVersion()
	for k, objs := range f.versions[1].objects {
		for n, o := range objs {
			cp := map[string]any{}
			for fk, fv := range o {
				cp[fk] = fv
			}
			v.objects[k][n] = cp
		}
	}
	v.objects["backend"]["secondary"]["address"] = "elsewhere.internal"
	v.locked, f.active = true, v.number
	f.mu.Unlock()

	plan := planOf(t, p, g, arts)
	tp := plan.Targets[0]
	if len(tp.Changes) == 0 || tp.Changes[0].Name != fastly.ServiceFile {
		t.Fatalf("plan after a hand edit of a backend: %+v, want a change of %s", tp.Changes, fastly.ServiceFile)
	}
	mid := len(f.Requests())
	if _, err := applyPlan(p, g, plan, providers.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	c := callsSince(f, mid)
	if len(c.list) < 2 || c.list[1] != "PUT "+svcPath+"/version/4/backend/secondary" || len(c.list) != 5 {
		t.Errorf("repair calls %v, want clone, the one backend update, comment, record, activate", c.list)
	}
	if a := f.Object(4, "backend", "secondary")["address"]; a != "api-origin-dr.internal" {
		t.Errorf("secondary's address after the repair: %v", a)
	}
}

func TestCredentials(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(1)
	base := f.Env()
	newWith := func(env map[string]string) (providers.Provider, error) {
		return fastly.New(providers.Config{Gateway: g, Getenv: func(k string) string { return env[k] }})
	}

	_, err := newWith(map[string]string{"FASTLY_API_URL": base["FASTLY_API_URL"]})
	var ce *providers.CredentialsError
	if !errors.As(err, &ce) || ce.Var != "FASTLY_API_TOKEN" || !strings.Contains(err.Error(), "FASTLY_API_KEY") {
		t.Fatalf("no token: %v, want a CredentialsError naming FASTLY_API_TOKEN and FASTLY_API_KEY", err)
	}
	if code := cmdutil.ExitCode(view.ExitError(err)); code != cmdutil.ExitCredentials {
		t.Errorf("missing credentials exit %d, want %d", code, cmdutil.ExitCredentials)
	}

	// FASTLY_API_KEY is the fallback, sent as Fastly-Key.
	p, err := newWith(map[string]string{"FASTLY_API_URL": base["FASTLY_API_URL"], "FASTLY_API_KEY": f.token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.History(context.Background()); err != nil {
		t.Fatalf("history with FASTLY_API_KEY: %v", err)
	}

	// A token Fastly refuses is a credentials error too (exit 4).
	p, err = newWith(map[string]string{"FASTLY_API_URL": base["FASTLY_API_URL"], "FASTLY_API_TOKEN": "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: artifacts(t, fullService(), mainVCL(routeNames(g), ""))})
	if !errors.As(err, &ce) {
		t.Fatalf("refused token: %v, want a CredentialsError", err)
	}

	// A malformed endpoint override is an error naming it, never the real API.
	_, err = newWith(map[string]string{"FASTLY_API_URL": "api.fastly.com", "FASTLY_API_TOKEN": f.token})
	if err == nil || !strings.Contains(err.Error(), "FASTLY_API_URL") {
		t.Fatalf("malformed FASTLY_API_URL: %v", err)
	}
}

func TestPlanRefusesArtifactsOutsideTheContract(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(1)
	p := newProvider(t, f, g)
	// Plan needs a read to be reached at all: a valid plan first.
	if _, err := p.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: artifacts(t, fullService(), mainVCL(routeNames(g), ""))}); err != nil {
		t.Fatal(err)
	}
	bad := artifacts(t, fullService(), mainVCL(routeNames(g), ""))
	bad[1].Data = []byte(`{"backends": [{"name": "primary", "adress": "x", "port": 443}], "domains": []}`)
	if _, err := p.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: bad}); err == nil || !strings.Contains(err.Error(), "adress") {
		t.Errorf("service.json with a misspelt field: %v, want an error naming it", err)
	}
	if _, err := p.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: bad[:1]}); err == nil || !strings.Contains(err.Error(), fastly.ServiceFile) {
		t.Errorf("no service.json: %v, want an error naming it", err)
	}
}

func TestPlanDecidesOnTheObjectsAndTheCanonicalVCL(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(3)
	p := newProvider(t, f, g)
	// A renderer that cites manifest lines gives the digest of its output without positions as Canonical.
	arts := artifacts(t, fullService(), mainVCL(routeNames(g), ""))
	arts[0].Canonical = "c0ffee"
	apply(t, p, g, arts)

	// The manifest's lines moved: other bytes, the same canonical digest; and service.json is written
	// in another form with the same objects.
	moved := artifacts(t, fullService(), strings.ReplaceAll(mainVCL(routeNames(g), ""), "edgegw.yaml:6", "edgegw.yaml:9"))
	moved[0].Canonical = "c0ffee"
	compact, err := json.Marshal(fullService())
	if err != nil {
		t.Fatal(err)
	}
	moved[1].Data = compact
	tp := planOf(t, p, g, moved).Targets[0]
	if tp.HasChanges() || !tp.PositionsOnly {
		t.Errorf("plan after a positions-only edit and a reformatted service.json: changes %+v, positions only %v; want no change", tp.Changes, tp.PositionsOnly)
	}
}

func TestValidatePlanCompilesAThrowAwayCloneThatApplyReuses(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(3)
	g.Targets[0].Config.(*fastly.Settings).ValidatePlan = true
	p := newProvider(t, f, g)
	apply(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), ""))) // version 2 (plan's clone, reused)
	if f.Versions() != 2 || f.Active() != 2 {
		t.Fatalf("first apply with validate_plan: %d versions, active %d, want the plan's clone 2 activated", f.Versions(), f.Active())
	}

	// A VCL Fastly refuses fails the plan; the clone is never activated.
	f.invalid = "BROKEN"
	_, err := p.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: artifacts(t, fullService(), mainVCL(routeNames(g), "BROKEN"))})
	if err == nil || !strings.Contains(err.Error(), "the planned version 3 (a clone of version 2 that is never activated) does not validate") {
		t.Fatalf("plan of a VCL that does not compile: %v", err)
	}
	if f.Active() != 2 || f.versions[2].locked {
		t.Errorf("after the failed plan: active %d, clone locked %v; want 2 live and the clone an inactive draft", f.Active(), f.versions[2].locked)
	}
	f.invalid = ""

	// Plan and apply of one changed route in one run cost what they cost without validate_plan.
	mid := len(f.Requests())
	apply(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "changed")))
	c := callsSince(f, mid)
	want := []string{"PUT " + svcPath + "/version/2/clone", "PUT " + svcPath + "/version/4/vcl/main",
		"PUT " + svcPath + "/version/4", "PUT " + svcPath + "/version/4/vcl/edgegw_record", "PUT " + svcPath + "/version/4/activate"}
	if strings.Join(c.list, "\n") != strings.Join(want, "\n") || f.Active() != 4 {
		t.Errorf("plan+apply with validate_plan: mutating %v, active %d; want %v and version 4 live", c.list, f.Active(), want)
	}
	t.Logf("plan+apply of one changed route with validate_plan: %d calls (%d reads, %d mutating)", c.total(), c.reads, c.writes)
}

func TestFirstDeployOntoANewService(t *testing.T) {
	f := newFakeFastly(t)
	f.mu.Lock()
	f.newVersion() // `fastly service create` leaves version 1, an inactive draft
	f.mu.Unlock()
	g := gateway(2)
	p := newProvider(t, f, g)
	plan := planOf(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "")))
	tp := plan.Targets[0]
	if tp.BaseToken != "none" || tp.LiveVersion != "" {
		t.Fatalf("plan of a service with nothing live: base %q live %q", tp.BaseToken, tp.LiveVersion)
	}
	if create, _, _ := tp.Count("route"); create != 2 {
		t.Errorf("plan of a first deploy lists %d routes to add, want 2: %+v", create, tp.Changes)
	}
	if _, err := applyPlan(p, g, plan, providers.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if f.Active() != 2 || f.Count(apitest.Route("POST", svcPath+"/version")) != 1 {
		t.Errorf("first deploy: active %d; want a new version 2 made and activated", f.Active())
	}
	recs, err := p.History(context.Background())
	if err != nil || len(recs) != 1 || recs[0].Previous.Version != "" {
		t.Fatalf("history after the first deploy: %+v, %v", recs, err)
	}
	if _, err := providers.Rollback(context.Background(), []providers.Provider{p}, providers.RollbackOptions{Who: "ci"}); !errors.Is(err, providers.ErrNothingToRollBack) {
		t.Errorf("rollback of the first deploy: %v, want nothing to roll back to", err)
	}
}

func TestUnknownServiceNamesTheSetting(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(1)
	g.Targets[0].Config.(*fastly.Settings).ServiceID = ir.Value{Env: "FASTLY_SERVICE_ID"}
	env := f.Env()
	if _, err := fastly.New(providers.Config{Gateway: g, Getenv: func(k string) string { return env[k] }}); err == nil || !strings.Contains(err.Error(), "FASTLY_SERVICE_ID") {
		t.Errorf("service_id from an unset variable: %v, want an error naming it", err)
	}
	env["FASTLY_SERVICE_ID"] = "nosuchservice"
	p, err := fastly.New(providers.Config{Gateway: g, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.History(context.Background()); err == nil || !strings.Contains(err.Error(), "check targets.fastly.service_id") {
		t.Errorf("unknown service: %v, want the setting named", err)
	}
}

func TestDamagedDeployRecordIsAWarning(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(2)
	p := newProvider(t, f, g)
	arts := artifacts(t, fullService(), mainVCL(routeNames(g), ""))
	apply(t, p, g, arts)
	f.mu.Lock()
	f.versions[1].objects["vcl"]["edgegw_record"]["content"] = "# edited by hand\n"
	f.mu.Unlock()
	tp := planOf(t, p, g, arts).Targets[0]
	if len(tp.Warnings) != 1 || !strings.Contains(tp.Warnings[0], "deploy record of live version 2") || tp.HasChanges() {
		t.Errorf("plan over a damaged record: warnings %q, changes %+v; want one warning and no change (the objects match)", tp.Warnings, tp.Changes)
	}
}

// The fake compiles like Fastly: falco lints the main VCL after the declarations of the version's backends
// and dictionaries, so a VCL naming a backend the version lacks fails validation, and nothing goes live.
func TestVCLThatDoesNotCompileFailsValidationAndActivatesNothing(t *testing.T) {
	_, err := falco.Binary()
	testenv.Require(t, "falco (tools/falco, built by scripts/install-test-deps.sh)", err)
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(2)
	p := newProvider(t, f, g)
	vcl := strings.Replace(mainVCL(routeNames(g), ""), "set req.backend = F_primary;", "set req.backend = F_missing;", 1)
	plan := planOf(t, p, g, artifacts(t, fullService(), vcl))
	_, err = applyPlan(p, g, plan, providers.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "version 2 does not validate") || !strings.Contains(err.Error(), `Undefined variable "F_missing"`) {
		t.Fatalf("apply of a VCL that names a missing backend: %v, want falco's error", err)
	}
	if f.Active() != 1 || f.Count(apitest.Route("PUT", svcPath+"/version/{v}/activate")) != 0 {
		t.Errorf("a version that does not compile was activated: active %d", f.Active())
	}
	// The same VCL over the backend it names compiles.
	svc := fullService()
	svc.Backends = append(svc.Backends, fastly.Backend{Name: "missing", Address: "missing.internal", Port: 443, UseSSL: true})
	apply(t, p, g, artifacts(t, svc, vcl))
	if f.Active() != 3 {
		t.Errorf("active %d, want version 3 (version 2 stays an inactive draft)", f.Active())
	}
}
