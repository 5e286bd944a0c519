package cloudfront_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/apitest"
	"github.com/edgegw/edgegw/providers/cloudfront"
	cfrender "github.com/edgegw/edgegw/render/cloudfront"
)

// headersFile is render/cloudfront's response headers policy artifact.
const headersFile = cfrender.HeadersPolicyFile

// planHeaders plans g on p as MakePlan does.
func planHeaders(t *testing.T, p *cloudfront.Provider, g *ir.Gateway) *providers.Plan {
	t.Helper()
	plan, err := tryPlanHeaders(p, g)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func tryPlanHeaders(p *cloudfront.Provider, g *ir.Gateway) (*providers.Plan, error) {
	reg, _ := providers.Lookup(cloudfront.Name)
	return providers.MakePlan(context.Background(), g, []providers.Target{{Name: cloudfront.Name, Registration: reg, Provider: p}},
		providers.PlanMeta{ManifestPath: "edgegw.yaml", Commit: commit, Now: time.Now()})
}

// withHSTS is src with tls.hsts.
func withHSTS(src, hsts string) string {
	return strings.Replace(src, "name: quickstart\n", "name: quickstart\ntls: {hsts: "+hsts+"}\n", 1)
}

const (
	policyName = "quickstart-headers"
	yearHSTS   = "{max_age: 31536000, include_subdomains: true, preload: true}"
)

// deployHeaders plans and applies src with the policy artifact, failing the test on an error.
func (e *env) deployHeaders(src string) (*cloudfront.Provider, *ir.Gateway) {
	e.t.Helper()
	g := load(e.t, src)
	p := e.provider(g)
	if _, err := e.apply(p, g, planHeaders(e.t, p, g)); err != nil {
		e.t.Fatal(err)
	}
	return p, g
}

// wantAttached checks every cache behavior's response headers policy id.
func wantAttached(t *testing.T, d xDist, id string) {
	t.Helper()
	for _, b := range append([]xBehavior{d.Default}, d.Behaviors...) {
		if b.HeadersID != id {
			t.Errorf("behavior %q uses response headers policy %q, want %q", b.PathPattern, b.HeadersID, id)
		}
	}
}

// wantHSTS checks the Strict-Transport-Security of the policy as the fake last received it.
func wantHSTS(t *testing.T, p *fakePolicy, maxAge int, sub, preload bool) {
	t.Helper()
	c := p.parsed()
	if c.HSTS == nil || c.HSTS.MaxAge == nil || *c.HSTS.MaxAge != maxAge || c.HSTS.IncludeSubdomains != sub || c.HSTS.Preload != preload || c.HSTS.Override == nil || !*c.HSTS.Override {
		t.Errorf("the policy's Strict-Transport-Security: %+v in %s, want max age %d, subdomains %v, preload %v, Override true", c.HSTS, p.config, maxAge, sub, preload)
	}
}

func changesOfKind(tp *providers.TargetPlan, kind string) []providers.Change {
	var out []providers.Change
	for _, c := range tp.Changes {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}

// The policy's whole life: a first apply creates `<function>-headers` with the manifest's HSTS (Override
// true) and attaches it to both cache behaviors in the one UpdateDistribution; a re-apply makes no
// mutating call; a changed max_age updates the policy with its ETag (the attachment unchanged); a
// rollback puts the first config back; a manifest without tls.hsts detaches the policy and keeps it; a
// rollback attaches it again. The policy is found by name on the list's second page.
func TestHeadersPolicyLifecycle(t *testing.T) {
	e := newEnv(t)
	// Two other teams' policies come first, so edgegw's is on the list's second page.
	e.f.addPolicy("team-a", 60)
	e.f.addPolicy("team-b", 60)
	src := withHSTS(quickstart("ok", "ok"), yearHSTS)
	g := load(t, src)
	p := e.provider(g)
	plan := planHeaders(t, p, g)
	if ch := changesOfKind(plan.Targets[0], "response headers policy"); len(ch) != 1 || ch[0].Action != providers.Create || !strings.Contains(ch[0].Name, policyName+": Strict-Transport-Security: max-age=31536000; includeSubDomains; preload") {
		t.Fatalf("first plan's policy changes: %+v", plan.Targets[0].Changes)
	}
	from := len(e.f.Requests())
	if _, err := e.apply(p, g, plan); err != nil {
		t.Fatal(err)
	}
	first := e.callsSince(from)
	pol := e.f.policy(policyName)
	if pol == nil {
		t.Fatalf("no policy %s after the first apply; calls %v", policyName, first.list)
	}
	wantHSTS(t, pol, 31536000, true, true)
	if c := pol.parsed().Comment; !strings.HasPrefix(c, "edgegw apply git:"+commit+" v:") {
		t.Errorf("the policy's comment %q does not carry the commit", c)
	}
	d := e.f.config()
	wantAttached(t, d, pol.id)
	if len(d.Default.Functions) != 2 || len(d.Behaviors[0].Functions) != 2 || len(d.Behaviors[0].Lambdas) != 1 {
		t.Errorf("the associations beside the policy: %+v", d)
	}
	if first.writes != 6 || strings.Count(strings.Join(first.list, " "), "/distribution/") != 1 || !strings.Contains(strings.Join(first.list, " "), "POST /2020-05-31/response-headers-policy") {
		t.Errorf("first apply: %d mutating calls %v, want the functions' 5 and CreateResponseHeadersPolicy", first.writes, first.list)
	}

	// Re-apply: nothing to do.
	plan = planHeaders(t, p, g)
	if plan.HasChanges() {
		t.Fatalf("re-plan has changes: %+v", plan.Targets[0].Changes)
	}
	from = len(e.f.Requests())
	if _, err := e.apply(p, g, plan); err != nil {
		t.Fatal(err)
	}
	if c := e.callsSince(from); c.writes != 0 {
		t.Errorf("re-apply made mutating calls: %v", c.list)
	}

	// A changed max_age: UpdateResponseHeadersPolicy with the policy's ETag; the attachment stays.
	etag := pol.etag
	g2 := load(t, withHSTS(quickstart("ok", "ok"), "{max_age: 600}"))
	p2 := e.provider(g2)
	plan = planHeaders(t, p2, g2)
	if ch := changesOfKind(plan.Targets[0], "response headers policy"); len(ch) != 1 || ch[0].Action != providers.Update || !strings.HasSuffix(ch[0].Name, "max-age=600 (replacing the origin's)") {
		t.Fatalf("changed max_age, policy changes: %+v", plan.Targets[0].Changes)
	}
	if !strings.Contains(plan.Targets[0].BaseToken, " headers:"+etag) {
		t.Errorf("base token %q does not carry the policy's ETag %s", plan.Targets[0].BaseToken, etag)
	}
	from = len(e.f.Requests())
	if _, err := e.apply(p2, g2, plan); err != nil {
		t.Fatal(err)
	}
	var update *apitest.Request
	for _, r := range e.f.Requests()[from:] {
		if r.Method == http.MethodPut && r.Path == "/2020-05-31/response-headers-policy/"+pol.id {
			update = &r
		}
		if r.Method == http.MethodPut && strings.Contains(r.Path, "/distribution/") {
			t.Errorf("a changed policy config updated the distribution")
		}
	}
	if update == nil || update.Header.Get("If-Match") != etag {
		t.Fatalf("no UpdateResponseHeadersPolicy with If-Match %s: %v", etag, e.callsSince(from).list)
	}
	wantHSTS(t, e.f.policy(policyName), 600, false, false)
	wantAttached(t, e.f.config(), pol.id)

	// Rollback: the first config is put back.
	if _, err := providers.Rollback(context.Background(), []providers.Provider{p2}, providers.RollbackOptions{Who: "sre@laptop", Getenv: func(string) string { return "" }}); err != nil {
		t.Fatal(err)
	}
	wantHSTS(t, e.f.policy(policyName), 31536000, true, true)
	wantAttached(t, e.f.config(), pol.id)
	if pl := planHeaders(t, e.provider(g), g); pl.HasChanges() {
		t.Errorf("the first manifest after the rollback has changes: %+v", pl.Targets[0].Changes)
	}

	// No tls.hsts any more: the policy comes off every behavior and stays.
	g3 := load(t, quickstart("ok", "ok"))
	p3 := e.provider(g3)
	plan = planHeaders(t, p3, g3)
	if ch := changesOfKind(plan.Targets[0], "association"); len(ch) != 1 || ch[0].Action != providers.Delete || !strings.Contains(ch[0].Name, policyName+" off 2 cache behavior(s)") {
		t.Fatalf("plan without tls.hsts, associations: %+v", plan.Targets[0].Changes)
	}
	if w := strings.Join(plan.Targets[0].Warnings, "\n"); !strings.Contains(w, "keeps the policy itself") {
		t.Errorf("plan without tls.hsts does not say the policy stays: %q", plan.Targets[0].Warnings)
	}
	if _, err := e.apply(p3, g3, plan); err != nil {
		t.Fatal(err)
	}
	wantAttached(t, e.f.config(), "")
	if e.f.policy(policyName) == nil {
		t.Error("detaching deleted the policy")
	}
	if pl := planHeaders(t, p3, g3); pl.HasChanges() {
		t.Errorf("re-plan without tls.hsts has changes: %+v", pl.Targets[0].Changes)
	}

	// Rollback: the previous attachment (ours) and config come back.
	if _, err := providers.Rollback(context.Background(), []providers.Provider{p3}, providers.RollbackOptions{Who: "sre@laptop", Getenv: func(string) string { return "" }}); err != nil {
		t.Fatal(err)
	}
	wantAttached(t, e.f.config(), pol.id)
	wantHSTS(t, e.f.policy(policyName), 31536000, true, true)
}

// A policy edited between plan and apply makes the plan stale: exit 5, nothing changed.
func TestHeadersPolicyStalePlan(t *testing.T) {
	e := newEnv(t)
	e.deployHeaders(withHSTS(quickstart("ok", "ok"), yearHSTS))
	g := load(t, withHSTS(quickstart("ok", "ok"), "{max_age: 600}"))
	p := e.provider(g)
	plan := planHeaders(t, p, g)
	e.f.touchPolicy(policyName)
	from := len(e.f.Requests())
	_, err := e.apply(p, g, plan)
	var stale *providers.StalePlanError
	if !errors.As(err, &stale) || exitCode(err) != cmdutil.ExitBlocked {
		t.Fatalf("apply after the policy moved: %v (exit %d)", err, exitCode(err))
	}
	if c := e.callsSince(from); c.writes != 0 {
		t.Errorf("a stale plan made mutating calls: %v", c.list)
	}
	wantHSTS(t, e.f.policy(policyName), 31536000, true, true)
}

// foreignDistribution is the seed with another team's response headers policy on /static/*.
func foreignDistribution(id string) string {
	return strings.Replace(seedDistribution, "<PathPattern>/static/*</PathPattern>", "<PathPattern>/static/*</PathPattern><ResponseHeadersPolicyId>"+id+"</ResponseHeadersPolicyId>", 1)
}

// A cache behavior that uses another response headers policy is refused before any change, at plan and
// (should the behavior change without the config's ETag moving) at apply, naming the behavior and the
// policy; the same manifest without tls.hsts leaves it alone.
func TestHeadersPolicyRefusesForeignPolicy(t *testing.T) {
	e := newEnv(t)
	other := e.f.addPolicy("images-cors", 60)
	e.f.mu.Lock()
	e.f.dist = []byte(foreignDistribution(other.id))
	e.f.mu.Unlock()
	g := load(t, withHSTS(quickstart("ok", "ok"), yearHSTS))
	p := e.provider(g)
	_, err := tryPlanHeaders(p, g)
	want := `cache behavior "/static/*" uses the response headers policy ` + other.id
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "merge its headers into the manifest") {
		t.Fatalf("plan over another policy: %v", err)
	}
	if c := e.callsSince(0); c.writes != 0 {
		t.Errorf("plan made mutating calls: %v", c.list)
	}

	// Apply: the behavior is given the other policy after the plan, the config's ETag unchanged.
	e.f.mu.Lock()
	e.f.dist = []byte(seedDistribution)
	e.f.mu.Unlock()
	plan := planHeaders(t, p, g)
	e.f.mu.Lock()
	e.f.dist = []byte(foreignDistribution(other.id))
	e.f.mu.Unlock()
	from := len(e.f.Requests())
	if _, err := e.apply(p, g, plan); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("apply over another policy: %v", err)
	}
	// Apply checks it itself too, when called without the engine's re-plan.
	if _, err := p.Apply(context.Background(), plan.Targets[0], providers.DeployRecord{Kind: providers.KindApply}); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Apply over another policy: %v", err)
	}
	if c := e.callsSince(from); c.writes != 0 {
		t.Errorf("a refused apply made mutating calls: %v", c.list)
	}

	// Without tls.hsts the other policy is none of edgegw's business.
	e.deployHeaders(quickstart("ok", "ok"))
	if d := e.f.config(); d.Behaviors[0].HeadersID != other.id || d.Default.HeadersID != "" {
		t.Errorf("a deploy without tls.hsts touched the response headers policies: %+v", d)
	}
}

// A 412 on UpdateResponseHeadersPolicy (the policy moved after the apply read it) is a stale plan with
// nothing published; 5xx answers are retried by the SDK, and past the retries the apply fails with
// nothing live changed.
func TestHeadersPolicyFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault apitest.Responder
		times int
		stale bool
	}{
		{"412", awsError(http.StatusPreconditionFailed, "PreconditionFailed", "moved"), 1, true},
		{"5xx", apitest.ServerError(http.StatusServiceUnavailable), 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.deployHeaders(withHSTS(quickstart("ok", "ok"), yearHSTS))
			pol := e.f.policy(policyName)
			before := e.f.liveCode(responseFn)
			for range tc.times {
				e.f.inject(apitest.Route("PUT", "/2020-05-31/response-headers-policy/"+pol.id), tc.fault)
			}
			g := load(t, withHSTS(quickstart("ok", "ok"), "{max_age: 600}"))
			p := e.provider(g)
			from := len(e.f.Requests())
			_, err := e.apply(p, g, planHeaders(t, p, g))
			var stale *providers.StalePlanError
			if err == nil || errors.As(err, &stale) != tc.stale {
				t.Fatalf("apply through %s: %v (stale %v, want %v)", tc.name, err, errors.As(err, &stale), tc.stale)
			}
			if tc.stale && exitCode(err) != cmdutil.ExitBlocked {
				t.Errorf("exit %d, want %d", exitCode(err), cmdutil.ExitBlocked)
			}
			for _, c := range e.callsSince(from).list {
				if strings.HasSuffix(c, "/publish") || strings.Contains(c, "/distribution/") {
					t.Errorf("a failed policy update went on to %s", c)
				}
			}
			if string(e.f.liveCode(responseFn)) != string(before) {
				t.Error("the viewer-response function changed")
			}
			wantHSTS(t, e.f.policy(policyName), 31536000, true, true)
			if h, _ := p.History(context.Background()); len(h) != 1 {
				t.Errorf("a failed apply wrote a record: %d records", len(h))
			}
		})
	}
}

// A 5xx on CreateResponseHeadersPolicy is retried by the SDK and the first apply goes through.
func TestHeadersPolicyCreateRetried(t *testing.T) {
	e := newEnv(t)
	e.f.inject(apitest.Route("POST", "/2020-05-31/response-headers-policy"), apitest.ServerError(http.StatusInternalServerError))
	e.deployHeaders(withHSTS(quickstart("ok", "ok"), yearHSTS))
	pol := e.f.policy(policyName)
	if pol == nil {
		t.Fatal("no policy after a retried create")
	}
	wantAttached(t, e.f.config(), pol.id)
}

// A distribution update refused after the policy was updated puts the policy's previous config (and
// comment) back: exit 3.
func TestHeadersPolicyRestoredAfterFailedAssociation(t *testing.T) {
	e := newEnv(t)
	e.deployHeaders(withHSTS(quickstart("ok", "ok"), yearHSTS))
	before := e.f.policy(policyName)
	// The manifest's route changes too, and the behaviors lose edgegw's functions by hand (the
	// distribution's ETag moves, so the plan is made after), so the apply must update the distribution.
	e.f.mu.Lock()
	e.f.dist = []byte(seedDistribution)
	e.f.distETag = "EDIST-BY-HAND"
	e.f.mu.Unlock()
	g := load(t, withHSTS(quickstart("ok", "ok"), "{max_age: 600}"))
	p := e.provider(g)
	plan := planHeaders(t, p, g)
	for range 3 {
		e.f.inject(apitest.Route("PUT", "/2020-05-31/distribution/E2EXAMPLE/config"), apitest.ServerError(http.StatusInternalServerError))
	}
	_, err := e.apply(p, g, plan)
	if exitCode(err) != cmdutil.ExitPartial || !strings.Contains(err.Error(), "put back") {
		t.Fatalf("apply with a failing distribution update: %v (exit %d)", err, exitCode(err))
	}
	after := e.f.policy(policyName)
	wantHSTS(t, after, 31536000, true, true)
	if after.parsed().Comment != before.parsed().Comment {
		t.Errorf("the policy's comment %q, want %q back", after.parsed().Comment, before.parsed().Comment)
	}
}

// A first deploy that never propagates is restored to nothing: the functions and the policy come off the
// behaviors (the policy stays, attached to nothing).
func TestHeadersPolicyFirstDeployRestoredToNothing(t *testing.T) {
	e := newEnv(t)
	g := load(t, withHSTS(strings.Replace(quickstart("ok", "ok"), "function: quickstart}", "function: quickstart, poll_interval: 1ms, propagation_timeout: 20ms}", 1), yearHSTS))
	p := e.provider(g)
	plan := planHeaders(t, p, g)
	e.f.mu.Lock()
	e.f.stuck = true
	e.f.mu.Unlock()
	rep, err := e.apply(p, g, plan)
	if exitCode(err) != cmdutil.ExitPartial || rep.Targets[0].Status != providers.StatusRestored {
		t.Fatalf("first deploy that never propagates: %v (exit %d), %+v", err, exitCode(err), rep.Targets)
	}
	wantAttached(t, e.f.config(), "")
	if e.f.policy(policyName) == nil {
		t.Error("the policy the failed deploy created is gone")
	}
}

// A changed policy whose distribution never finishes deploying is restored by the engine from the plan's
// restore point: the previous config is put back, still attached.
func TestHeadersPolicyPropagationTimeoutRestores(t *testing.T) {
	e := newEnv(t)
	e.deployHeaders(withHSTS(quickstart("ok", "ok"), yearHSTS))
	pol := e.f.policy(policyName)
	g := load(t, withHSTS(strings.Replace(quickstart("ok", "ok"), "function: quickstart}", "function: quickstart, poll_interval: 1ms, propagation_timeout: 20ms}", 1), "{max_age: 600}"))
	p := e.provider(g)
	saved, err := planHeaders(t, p, g).Marshal() // the restore point travels in the plan file
	if err != nil {
		t.Fatal(err)
	}
	plan, err := providers.ReadPlan("plan.json", saved)
	if err != nil {
		t.Fatal(err)
	}
	e.f.mu.Lock()
	e.f.stuck = true
	e.f.mu.Unlock()
	rep, err := e.apply(p, g, plan)
	if exitCode(err) != cmdutil.ExitPartial || rep.Targets[0].Status != providers.StatusRestored {
		t.Fatalf("apply whose distribution never deploys: %v (exit %d), %+v", err, exitCode(err), rep.Targets)
	}
	wantHSTS(t, e.f.policy(policyName), 31536000, true, true)
	wantAttached(t, e.f.config(), pol.id)
}
