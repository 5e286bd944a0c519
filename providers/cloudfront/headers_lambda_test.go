package cloudfront_test

import (
	"context"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/providers"
)

// With the lambda-edge-auth companion the policy is attached too, in the UpdateDistribution that sets the
// handler's version: a deploy that adds tls.hsts creates `<function>-headers` and attaches it to every
// behavior; a re-apply changes nothing; a rollback to the deploy without HSTS runs the previous version
// and takes the policy off again (the policy stays).
func TestHeadersPolicyLambdaEdge(t *testing.T) {
	e := newLambdaEnv(t)
	e.f.dist = []byte(lambdaSeed)
	e.deploy(authManifest("ok"))
	v1 := "arn:aws:lambda:us-east-1:" + account + ":function:gw-auth:1"
	wantAttached(t, e.f.config(), "")

	src := strings.Replace(authManifest("ok"), "name: authgw\n", "name: authgw\ntls: {hsts: "+yearHSTS+"}\n", 1)
	g := load(t, src)
	p := e.provider(g)
	plan := planHeaders(t, p, g)
	if ch := changesOfKind(plan.Targets[0], "response headers policy"); len(ch) != 1 || !strings.HasPrefix(ch[0].Name, "gw-headers: ") {
		t.Fatalf("plan with tls.hsts: %+v", plan.Targets[0].Changes)
	}
	fromCF, fromL := len(e.f.Requests()), len(e.l.Requests())
	if _, err := e.apply(p, g, plan); err != nil {
		t.Fatal(err)
	}
	writes := e.lambdaWrites(fromCF, fromL)
	pol := e.f.policy("gw-headers")
	if pol == nil {
		t.Fatalf("no policy gw-headers; mutating calls %v", writes)
	}
	wantHSTS(t, pol, 31536000, true, true)
	if c := pol.parsed().Comment; !strings.Contains(c, "git:"+commit) {
		t.Errorf("the policy's comment %q does not carry the commit", c)
	}
	wantAttached(t, e.f.config(), pol.id)
	all := strings.Join(writes, " ")
	if strings.Count(all, "/distribution/") != 1 || strings.Index(all, "response-headers-policy") > strings.Index(all, "/distribution/") {
		t.Errorf("mutating calls %v: want the policy created before the one UpdateDistribution", writes)
	}
	wantLambda(t, e.f.config(), v1[:len(v1)-1]+"2")

	if pl := planHeaders(t, p, g); pl.HasChanges() {
		t.Fatalf("re-plan has changes: %+v", pl.Targets[0].Changes)
	}

	if _, err := providers.Rollback(context.Background(), []providers.Provider{p}, providers.RollbackOptions{Who: "sre@laptop", Getenv: func(string) string { return "" }}); err != nil {
		t.Fatal(err)
	}
	wantLambda(t, e.f.config(), v1)
	wantAttached(t, e.f.config(), "")
	if e.f.policy("gw-headers") == nil {
		t.Error("the rollback deleted the policy")
	}
}

// A behavior with another response headers policy is refused on the companion's path too.
func TestHeadersPolicyLambdaEdgeRefusesForeignPolicy(t *testing.T) {
	e := newLambdaEnv(t)
	other := e.f.addPolicy("images-cors", 60)
	foreign := []byte(strings.Replace(lambdaSeed, "<PathPattern>/static/*</PathPattern>", "<PathPattern>/static/*</PathPattern><ResponseHeadersPolicyId>"+other.id+"</ResponseHeadersPolicyId>", 1))
	e.f.dist = foreign
	g := load(t, strings.Replace(authManifest("ok"), "name: authgw\n", "name: authgw\ntls: {hsts: {max_age: 600}}\n", 1))
	p := e.provider(g)
	_, err := tryPlanHeaders(p, g)
	want := `cache behavior "/static/*" uses the response headers policy ` + other.id
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("plan over another policy: %v", err)
	}
	// Apply checks it itself, before it publishes a version, should the behavior change after the plan
	// without the config's ETag moving.
	e.f.mu.Lock()
	e.f.dist = []byte(lambdaSeed)
	e.f.mu.Unlock()
	plan := planHeaders(t, p, g)
	e.f.mu.Lock()
	e.f.dist = foreign
	e.f.mu.Unlock()
	if _, err := p.Apply(context.Background(), plan.Targets[0], providers.DeployRecord{Kind: providers.KindApply}); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Apply over another policy: %v", err)
	}
	if w := e.lambdaWrites(0, 0); len(w) != 0 {
		t.Errorf("mutating calls: %v", w)
	}
}
