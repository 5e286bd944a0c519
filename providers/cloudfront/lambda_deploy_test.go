package cloudfront_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/apitest"
	"github.com/edgegw/edgegw/providers/cloudfront"
	"github.com/edgegw/edgegw/providers/endpoint"
	"github.com/edgegw/edgegw/render/cloudfront/lambdaedge"
)

// authManifest verifies RS256 tokens against a JWKS: CloudFront Functions cannot, so with the companion
// the gateway renders as the Lambda@Edge handler.
func authManifest(body string) string {
	return `version: 1
name: authgw
domains:
  - {host: api.example.com, zone: example.com}
origins:
  app: {url: "http://127.0.0.1:9000"}
pools:
  app: {origins: [app]}
auth:
  bearer:
    jwt: {algorithms: [RS256], jwks: {url: "https://auth.example.com/.well-known/jwks.json"}, issuer: "https://auth.example.com/", audience: [api]}
routes:
  - name: health
    match: {path: {exact: /health}}
    respond: {status: 200, body: ` + body + `}
  - name: api
    match: {path: {prefix: /api}}
    pool: app
    auth: bearer
targets:
  cloudfront: {distribution_id: E2EXAMPLE, function: gw, companions: [lambda-edge-auth], lambda_function: gw-auth}
`
}

// lambdaSeed is seedDistribution without the other team's origin-request function, which the handler's
// origin-request association cannot sit beside.
var lambdaSeed = strings.Replace(seedDistribution,
	`<LambdaFunctionAssociations><Quantity>1</Quantity><Items><LambdaFunctionAssociation><LambdaFunctionARN>arn:aws:lambda:us-east-1:123456789012:function:images:3</LambdaFunctionARN><EventType>origin-request</EventType></LambdaFunctionAssociation></Items></LambdaFunctionAssociations>`, "", 1)

type lambdaEnv struct {
	*env
	l *fakeLambda
}

func newLambdaEnv(t *testing.T) *lambdaEnv {
	e := &lambdaEnv{env: newEnv(t), l: newFakeLambda(t, "gw-auth")}
	return e
}

func (e *lambdaEnv) provider(g *ir.Gateway) *cloudfront.Provider {
	e.t.Helper()
	cfEnv := e.f.Getenv(nil, endpoint.CloudFront)
	getenv := func(k string) string {
		if k == endpoint.AWSLambda {
			return e.l.URL
		}
		return cfEnv(k)
	}
	p, err := cloudfront.Open(g, cloudfront.Options{Getenv: getenv, BaseDir: e.dir, PollInterval: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *lambdaEnv) deploy(src string) (*cloudfront.Provider, *ir.Gateway, *providers.Report) {
	e.t.Helper()
	g := load(e.t, src)
	p := e.provider(g)
	rep, err := e.apply(p, g, e.plan(p, g))
	if err != nil {
		e.t.Fatal(err)
	}
	return p, g, rep
}

// lambdaWrites lists the mutating calls both fakes received from the given indexes on.
func (e *lambdaEnv) lambdaWrites(fromCF, fromL int) []string {
	var out []string
	for _, r := range e.f.Requests()[fromCF:] {
		if r.Method != http.MethodGet {
			out = append(out, "cloudfront "+r.Method+" "+r.Path)
		}
	}
	for _, r := range e.l.Requests()[fromL:] {
		if r.Method != http.MethodGet {
			out = append(out, "lambda "+r.Method+" "+r.Path)
		}
	}
	return out
}

// associations returns, per behavior, the Lambda@Edge ARN by event and the CloudFront Functions by event.
func associations(d xDist) []map[string]string {
	var out []map[string]string
	for _, b := range append([]xBehavior{d.Default}, d.Behaviors...) {
		m := map[string]string{}
		for _, a := range b.Lambdas {
			m["lambda "+a.EventType] = a.LambdaFunctionARN
		}
		for _, a := range b.Functions {
			m["function "+a.EventType] = a.FunctionARN
		}
		out = append(out, m)
	}
	return out
}

func wantLambda(t *testing.T, d xDist, arn string) {
	t.Helper()
	for i, m := range associations(d) {
		if m["lambda viewer-request"] != arn || m["lambda origin-request"] != arn || m["lambda viewer-response"] != arn || len(m) != 3 {
			t.Errorf("behavior %d associations %v, want %s on the three events and nothing else", i, m, arn)
		}
	}
}

// The companion's whole life: a first apply (code uploaded as a zip, the update waited for, version 1
// published and associated with every behavior on three events in one UpdateDistribution, through a
// throttled and a failing call), a re-apply that changes nothing, a changed route (version 2), and a
// rollback that is one UpdateDistribution back to version 1. The call counts are the README's.
func TestLambdaEdgeApplyReapplyRollback(t *testing.T) {
	e := newLambdaEnv(t)
	e.f.dist = []byte(lambdaSeed)
	e.l.inject(apitest.Route("PUT", "/2015-03-31/functions/gw-auth/code"), lambdaError(http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded"))
	e.l.inject(apitest.Route("POST", "/2015-03-31/functions/gw-auth/versions"), lambdaError(http.StatusInternalServerError, "ServiceException", "internal"))
	fromCF, fromL := len(e.f.Requests()), len(e.l.Requests())
	p, g, rep := e.deploy(authManifest("ok"))
	if rep.Targets[0].Status != providers.StatusApplied {
		t.Fatalf("report: %+v", rep)
	}
	arts, err := lambdaedge.Render(g, lambdaedge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.l.versionCode(1), arts[0].Data) {
		t.Fatal("version 1 does not hold the rendered handler as index.js")
	}
	v1 := "arn:aws:lambda:us-east-1:" + account + ":function:gw-auth:1"
	wantLambda(t, e.f.config(), v1)
	writes := e.lambdaWrites(fromCF, fromL)
	t.Logf("first apply: %d cloudfront calls, %d lambda calls, mutating %v", len(e.f.Requests())-fromCF, len(e.l.Requests())-fromL, writes)
	// UpdateFunctionCode and PublishVersion each retried once, one UpdateDistribution.
	if len(writes) != 5 || strings.Count(strings.Join(writes, " "), "/distribution/") != 1 {
		t.Errorf("first apply mutating calls: %v", writes)
	}

	fromCF, fromL = len(e.f.Requests()), len(e.l.Requests())
	plan := e.plan(p, g)
	if plan.HasChanges() {
		t.Fatalf("re-plan has changes: %+v", plan.Targets[0].Changes)
	}
	if _, err := e.apply(p, g, plan); err != nil {
		t.Fatal(err)
	}
	if w := e.lambdaWrites(fromCF, fromL); len(w) != 0 {
		t.Errorf("re-apply made mutating calls: %v", w)
	}
	t.Logf("re-apply: %d cloudfront calls, %d lambda calls", len(e.f.Requests())-fromCF, len(e.l.Requests())-fromL)

	fromCF, fromL = len(e.f.Requests()), len(e.l.Requests())
	p2, _, _ := e.deploy(authManifest("healthy"))
	wantLambda(t, e.f.config(), v1[:len(v1)-1]+"2")
	t.Logf("changed route: %d cloudfront calls, %d lambda calls, mutating %v", len(e.f.Requests())-fromCF, len(e.l.Requests())-fromL, e.lambdaWrites(fromCF, fromL))

	fromCF, fromL = len(e.f.Requests()), len(e.l.Requests())
	rb, err := providers.Rollback(context.Background(), []providers.Provider{p2}, providers.RollbackOptions{Who: "sre@laptop", Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	back := e.lambdaWrites(fromCF, fromL)
	if rb.Targets[0].Status != providers.StatusRolledBack || len(back) != 1 || !strings.Contains(back[0], "/distribution/") {
		t.Fatalf("rollback: %+v, mutating %v: want one UpdateDistribution", rb, back)
	}
	t.Logf("rollback: %d cloudfront calls, %d lambda calls, mutating %v", len(e.f.Requests())-fromCF, len(e.l.Requests())-fromL, back)
	wantLambda(t, e.f.config(), v1)
	if pl := e.plan(e.provider(g), g); pl.HasChanges() {
		t.Errorf("the first manifest after the rollback has changes: %+v", pl.Targets[0].Changes)
	}

	// rollback --version: the second deploy's qualified ARN comes from the restore point of the deploy
	// that replaced it.
	h, err := p2.History(context.Background())
	if err != nil || len(h) != 3 || h[2].Kind != providers.KindRollback || h[2].Version != h[0].Version {
		t.Fatalf("history: %+v, %v", h, err)
	}
	if _, err := providers.Rollback(context.Background(), []providers.Provider{p2}, providers.RollbackOptions{Version: h[1].Version, Who: "sre@laptop", Getenv: func(string) string { return "" }}); err != nil {
		t.Fatal(err)
	}
	wantLambda(t, e.f.config(), v1[:len(v1)-1]+"2")
}

// The other team's origin-request function on /static/* cannot stay beside the handler: plan refuses and
// names it, before any call that changes something.
func TestLambdaEdgeRefusesForeignAssociation(t *testing.T) {
	e := newLambdaEnv(t)
	g := load(t, authManifest("ok"))
	p := e.provider(g)
	reg, _ := providers.Lookup(cloudfront.Name)
	_, err := providers.MakePlan(context.Background(), g, []providers.Target{{Name: cloudfront.Name, Registration: reg, Provider: p}},
		providers.PlanMeta{ManifestPath: "edgegw.yaml", Commit: commit, Now: time.Now()})
	if err == nil || !strings.Contains(err.Error(), "function:images:3") || !strings.Contains(err.Error(), "origin-request") {
		t.Fatalf("plan: %v, want a refusal naming images:3 on origin-request", err)
	}
	if w := e.lambdaWrites(0, 0); len(w) != 0 {
		t.Errorf("mutating calls: %v", w)
	}
}

// A refused UpdateDistribution (412: the config moved) leaves the previous version associated: the version
// published for it is never run.
func TestLambdaEdgeFailedAssociationKeepsPrevious(t *testing.T) {
	e := newLambdaEnv(t)
	e.f.dist = []byte(lambdaSeed)
	e.deploy(authManifest("ok"))
	v1 := "arn:aws:lambda:us-east-1:" + account + ":function:gw-auth:1"
	e.f.inject(apitest.Route("PUT", "/2020-05-31/distribution/E2EXAMPLE/config"), awsError(http.StatusPreconditionFailed, "PreconditionFailed", "moved"))
	g := load(t, authManifest("changed"))
	p := e.provider(g)
	if _, err := e.apply(p, g, e.plan(p, g)); err == nil {
		t.Fatal("apply succeeded through a refused UpdateDistribution")
	} else if exitCode(err) == 0 {
		t.Fatalf("exit code 0 for %v", err)
	}
	wantLambda(t, e.f.config(), v1)
}
