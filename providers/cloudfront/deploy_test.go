package cloudfront_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/plan/view"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/apitest"
	"github.com/edgegw/edgegw/providers/cloudfront"
	"github.com/edgegw/edgegw/providers/endpoint"
	"github.com/edgegw/edgegw/render"
	cfrender "github.com/edgegw/edgegw/render/cloudfront"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

// quickstart is testdata/examples/quickstart.yaml deployed to cloudfront; body is the health route's
// answer (and its test's expectation), so a test can change a route.
func quickstart(body, expect string) string {
	return `version: 1
name: quickstart
domains:
  - {host: api.example.com, zone: example.com}
origins:
  app: {url: "http://127.0.0.1:9000"}
pools:
  app: {origins: [app]}
routes:
  - name: health
    match: {path: {exact: /health}}
    respond: {status: 200, body: ` + body + `}
  - name: api
    match: {path: {prefix: /api}}
    pool: app
  - name: default
    match: {fallback: true}
    respond: {status: 404, body: not found}
targets:
  cloudfront: {distribution_id: E2EXAMPLE, function: quickstart}
tests:
  - name: health answered at the edge
    request: {url: https://api.example.com/health}
    expect: {status: 200, body: ` + expect + `}
  - name: api proxied
    request: {url: https://api.example.com/api/orders}
    expect: {route: api, upstream_path: /api/orders}
`
}

const (
	requestFn  = "quickstart-viewer-request"
	responseFn = "quickstart-viewer-response"
)

func load(t testing.TB, src string) *ir.Gateway {
	t.Helper()
	g, diags := manifest.LoadBytes("edgegw.yaml", []byte(src), manifest.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return g
}

// awsCredentials gives the default chain static credentials from the environment and nothing else.
func awsCredentials(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	noAWSConfig(t)
}

func noAWSConfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
}

type env struct {
	t        *testing.T
	f        *fakeCloudFront
	dir      string
	progress []providers.Progress
}

func newEnv(t *testing.T) *env {
	awsCredentials(t)
	e := &env{t: t, dir: t.TempDir()}
	e.f = newFake(t, load(t, quickstart("ok", "ok")))
	return e
}

func (e *env) provider(g *ir.Gateway) *cloudfront.Provider {
	e.t.Helper()
	p, err := cloudfront.Open(g, cloudfront.Options{Getenv: e.f.Getenv(nil, endpoint.CloudFront), BaseDir: e.dir,
		PollInterval: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) plan(p *cloudfront.Provider, g *ir.Gateway) *providers.Plan {
	e.t.Helper()
	reg, _ := providers.Lookup(cloudfront.Name)
	plan, err := providers.MakePlan(context.Background(), g, []providers.Target{{Name: cloudfront.Name, Registration: reg, Provider: p}},
		providers.PlanMeta{ManifestPath: "edgegw.yaml", Commit: commit, Now: time.Now()})
	if err != nil {
		e.t.Fatal(err)
	}
	return plan
}

func (e *env) apply(p *cloudfront.Provider, g *ir.Gateway, plan *providers.Plan) (*providers.Report, error) {
	return providers.Apply(context.Background(), plan, map[string]providers.Provider{cloudfront.Name: p},
		providers.ApplyOptions{Gateway: g, Who: "ci@runner", Getenv: func(string) string { return "" },
			Progress: func(pr providers.Progress) { e.progress = append(e.progress, pr) }})
}

// deploy plans and applies src, failing the test on an error.
func (e *env) deploy(src string) (*cloudfront.Provider, *ir.Gateway, *providers.Report) {
	e.t.Helper()
	g := load(e.t, src)
	p := e.provider(g)
	rep, err := e.apply(p, g, e.plan(p, g))
	if err != nil {
		e.t.Fatal(err)
	}
	return p, g, rep
}

// calls counts the requests the fake received from index from on: reads, TestFunction runs (which change
// nothing) and mutating calls.
type calls struct {
	reads, tests, writes int
	list                 []string
}

func (c calls) total() int { return c.reads + c.tests + c.writes }

func (e *env) callsSince(from int) calls {
	var c calls
	for _, r := range e.f.Requests()[from:] {
		switch {
		case r.Method == http.MethodGet:
			c.reads++
		case strings.HasSuffix(r.Path, "/test"):
			c.tests++
		default:
			c.writes++
			c.list = append(c.list, r.Method+" "+r.Path)
		}
	}
	return c
}

func rendered(t testing.TB, g *ir.Gateway) map[string][]byte {
	t.Helper()
	arts, err := cfrender.Renderer{}.Render(g)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, a := range arts {
		out[a.Path] = a.Data
	}
	return out
}

func exitCode(err error) int { return cmdutil.ExitCode(view.ExitError(err)) }

// The quickstart's whole life on a distribution: a first apply (functions created, tested, published and
// associated with every cache behavior, the distribution's own settings and its Lambda@Edge origin-request
// function left alone, propagation waited for), a re-apply that makes no mutating call, a changed route
// (both functions updated, the association unchanged so the distribution is not updated), and a rollback
// that publishes the first code again. The call counts are the README's.
func TestApplyReapplyChangeRollback(t *testing.T) {
	e := newEnv(t)
	src := quickstart("ok", "ok")
	from := len(e.f.Requests())
	p, g, rep := e.deploy(src)
	first := e.callsSince(from)
	if rep.Targets[0].Status != providers.StatusApplied {
		t.Fatalf("report: %+v", rep)
	}
	want := rendered(t, g)
	if !bytes.Equal(e.f.liveCode(requestFn), want[cfrender.RequestFile]) || !bytes.Equal(e.f.liveCode(responseFn), want[cfrender.ResponseFile]) {
		t.Fatal("the LIVE code is not the rendered functions")
	}
	if c := e.f.liveComment(requestFn); !strings.Contains(c, "git:"+commit) {
		t.Errorf("function comment %q does not carry the commit", c)
	}
	d := e.f.config()
	for _, b := range append([]xBehavior{d.Default}, d.Behaviors...) {
		got := map[string]string{}
		for _, a := range b.Functions {
			got[a.EventType] = a.FunctionARN
		}
		if got["viewer-request"] != "arn:aws:cloudfront::123456789012:function/"+requestFn || got["viewer-response"] != "arn:aws:cloudfront::123456789012:function/"+responseFn || len(got) != 2 {
			t.Errorf("behavior %q associations: %v", b.PathPattern, got)
		}
	}
	if d.Comment != "the team's distribution" || len(d.Behaviors) != 1 || len(d.Behaviors[0].Lambdas) != 1 || d.Behaviors[0].Lambdas[0].EventType != "origin-request" {
		t.Errorf("the update touched more than the function associations: %+v", d)
	}
	propagating := 0
	for _, pr := range e.progress {
		if pr.Status == "start" && strings.HasPrefix(pr.Step, "distribution deploying") {
			propagating++
		}
	}
	if propagating != 2 { // the fake answers InProgress twice after an update
		t.Errorf("propagation progress: %+v", e.progress)
	}
	if first.writes != 5 { // create ×2, publish ×2, the distribution once
		t.Errorf("first apply: %d mutating calls %v", first.writes, first.list)
	}
	t.Logf("first apply: %d calls, %d mutating (%v), %d TestFunction", first.total(), first.writes, first.list, first.tests)

	// Re-apply: nothing to do, no mutating call.
	from = len(e.f.Requests())
	plan := e.plan(p, g)
	if plan.HasChanges() {
		t.Fatalf("re-plan of the same manifest has changes: %+v", plan.Targets[0].Changes)
	}
	if _, err := e.apply(p, g, plan); err != nil {
		t.Fatal(err)
	}
	again := e.callsSince(from)
	if again.writes != 0 || again.tests != 0 {
		t.Errorf("re-apply: %d mutating calls %v, %d tests", again.writes, again.list, again.tests)
	}
	t.Logf("re-apply: %d calls, %d mutating", again.total(), again.writes)

	// A changed route: only the viewer-request function reads the changed route (a respond route), so only it is
	// updated; the association stays.
	from = len(e.f.Requests())
	e.progress = nil
	p2, g2, _ := e.deploy(quickstart("healthy", "healthy"))
	changed := e.callsSince(from)
	if !bytes.Equal(e.f.liveCode(requestFn), rendered(t, g2)[cfrender.RequestFile]) {
		t.Fatal("the changed route is not live")
	}
	for _, c := range changed.list {
		if strings.Contains(c, "/distribution/") {
			t.Errorf("a code-only change updated the distribution: %v", changed.list)
		}
	}
	t.Logf("changed route: %d calls, %d mutating (%v), %d TestFunction", changed.total(), changed.writes, changed.list, changed.tests)

	// Rollback: the first code is published again, from the deploy record.
	from = len(e.f.Requests())
	rb, err := providers.Rollback(context.Background(), []providers.Provider{p2}, providers.RollbackOptions{Who: "sre@laptop", Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	back := e.callsSince(from)
	if rb.Targets[0].Status != providers.StatusRolledBack || !bytes.Equal(e.f.liveCode(requestFn), want[cfrender.RequestFile]) || !bytes.Equal(e.f.liveCode(responseFn), want[cfrender.ResponseFile]) {
		t.Fatalf("rollback: %+v; the first code is not live again", rb)
	}
	t.Logf("rollback: %d calls, %d mutating (%v)", back.total(), back.writes, back.list)
	h, err := p2.History(context.Background())
	if err != nil || len(h) != 3 || h[2].Kind != providers.KindRollback || h[2].Version != h[0].Version || h[0].Commit != commit {
		t.Fatalf("history: %+v, %v", h, err)
	}
	// After the rollback, the first manifest plans no change again.
	if pl := e.plan(e.provider(g), g); pl.HasChanges() {
		t.Errorf("the first manifest after the rollback has changes: %+v", pl.Targets[0].Changes)
	}

	// rollback --version: the code of the second deploy comes from its own record.
	if _, err := providers.Rollback(context.Background(), []providers.Provider{p2}, providers.RollbackOptions{Version: h[1].Version, Who: "sre@laptop", Getenv: func(string) string { return "" }}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.f.liveCode(requestFn), rendered(t, g2)[cfrender.RequestFile]) {
		t.Error("rollback --version did not publish the second deploy's code")
	}
}

// A plan whose distribution or function ETag moved is refused before any mutating call: exit 5.
func TestStalePlan(t *testing.T) {
	e := newEnv(t)
	g := load(t, quickstart("ok", "ok"))
	p := e.provider(g)
	saved, err := e.plan(p, g).Marshal() // plan -out plan.json
	if err != nil {
		t.Fatal(err)
	}
	plan, err := providers.ReadPlan("plan.json", saved)
	if err != nil {
		t.Fatal(err)
	}
	e.f.mu.Lock()
	e.f.distETag = "EDIST-SOMEONE-ELSE"
	e.f.mu.Unlock()
	from := len(e.f.Requests())
	_, err = e.apply(p, g, plan)
	var stale *providers.StalePlanError
	if !errors.As(err, &stale) || exitCode(err) != cmdutil.ExitBlocked {
		t.Fatalf("apply of a stale plan: %v (exit %d)", err, exitCode(err))
	}
	if c := e.callsSince(from); c.writes != 0 {
		t.Errorf("a stale plan made mutating calls: %v", c.list)
	}
	// Apply checks the token itself too, when called without the engine's re-plan.
	e.f.mu.Lock()
	e.f.distETag = "EDIST-AGAIN"
	e.f.mu.Unlock()
	if _, err := p.Apply(context.Background(), plan.Targets[0], providers.DeployRecord{Kind: providers.KindApply}); !errors.As(err, &stale) {
		t.Fatalf("Apply of a stale plan: %v", err)
	}
}

// A failure after one function was published (the second publish keeps failing past the SDK's retries)
// puts the previous code back: exit 3, the first deploy live again.
func TestPartialFailureRestores(t *testing.T) {
	e := newEnv(t)
	e.deploy(quickstart("ok", "ok"))
	before := map[string][]byte{requestFn: e.f.liveCode(requestFn), responseFn: e.f.liveCode(responseFn)}
	publishResponse := apitest.Route("POST", "/2020-05-31/function/"+responseFn+"/publish")
	for range 3 { // the SDK tries a 5xx three times
		e.f.inject(publishResponse, apitest.ServerError(http.StatusServiceUnavailable))
	}
	// HSTS changes both functions (a new synthetic body changes only the viewer-request one).
	g := load(t, strings.Replace(quickstart("healthy", "healthy"), "name: quickstart\n", "name: quickstart\ntls: {hsts: {max_age: 600}}\n", 1))
	p := e.provider(g)
	_, err := e.apply(p, g, e.plan(p, g))
	if exitCode(err) != cmdutil.ExitPartial || !strings.Contains(err.Error(), "put back") {
		t.Fatalf("apply with a failing second publish: %v (exit %d)", err, exitCode(err))
	}
	for name, code := range before {
		if !bytes.Equal(e.f.liveCode(name), code) {
			t.Errorf("%s: the previous code is not live again", name)
		}
	}
	if h, _ := p.History(context.Background()); len(h) != 1 {
		t.Errorf("a failed apply wrote a record: %+v", h)
	}
}

// A first deploy whose association is refused (412 on UpdateDistribution) leaves the distribution as it
// was: exit 3, and the functions published but associated nowhere.
func TestFailedAssociationRestores(t *testing.T) {
	e := newEnv(t)
	e.f.inject(apitest.Route("PUT", "/2020-05-31/distribution/E2EXAMPLE/config"), awsError(http.StatusPreconditionFailed, "PreconditionFailed", "someone else"))
	g := load(t, quickstart("ok", "ok"))
	p := e.provider(g)
	_, err := e.apply(p, g, e.plan(p, g))
	if exitCode(err) != cmdutil.ExitPartial {
		t.Fatalf("apply with a refused association: %v (exit %d)", err, exitCode(err))
	}
	d := e.f.config()
	if len(d.Default.Functions) != 0 || len(d.Behaviors[0].Functions) != 0 {
		t.Errorf("associations after a failed first deploy: %+v", d)
	}
}

// TestFunction runs before anything is published: a function that answers differently from a manifest
// test, or that uses too much of its compute budget, publishes nothing.
func TestTestFunctionFailurePublishesNothing(t *testing.T) {
	for _, tc := range []struct {
		name, src, util, want string
	}{
		{"expectation", quickstart("ok", "fine"), "12", `body "ok", the test expects "fine"`},
		{"compute", quickstart("ok", "ok"), "85", "used 85% of its compute budget"},
		{"upstream", strings.Replace(quickstart("ok", "ok"), "upstream_path: /api/orders", "upstream_path: /internal/api/orders", 1), "12",
			`upstream path "/api/orders", the test expects "/internal/api/orders"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.f.utilization = tc.util
			g := load(t, tc.src)
			p := e.provider(g)
			_, err := e.apply(p, g, e.plan(p, g))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was published") {
				t.Fatalf("apply: %v", err)
			}
			for _, r := range e.f.Requests() {
				if strings.HasSuffix(r.Path, "/publish") || strings.Contains(r.Path, "/distribution/") && r.Method == http.MethodPut {
					t.Errorf("published despite the failed test: %s %s", r.Method, r.Path)
				}
			}
		})
	}
}

// Throttling and 5xx answers are retried by the SDK; the apply goes through.
func TestRetriesThrottlingAnd5xx(t *testing.T) {
	e := newEnv(t)
	e.f.inject(apitest.Route("GET", "/2020-05-31/distribution/E2EXAMPLE/config"), throttled())
	e.f.inject(apitest.Route("POST", "/2020-05-31/function/"+requestFn+"/publish"), apitest.ServerError(http.StatusInternalServerError))
	e.deploy(quickstart("ok", "ok"))
	if e.f.liveCode(requestFn) == nil {
		t.Fatal("not published after retries")
	}
}

// Without credentials in the default chain the provider is not built: a *CredentialsError naming where
// the chain looks, exit 4.
func TestMissingCredentials(t *testing.T) {
	noAWSConfig(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	_, err := cloudfront.Open(load(t, quickstart("ok", "ok")), cloudfront.Options{})
	var ce *providers.CredentialsError
	if !errors.As(err, &ce) || exitCode(err) != cmdutil.ExitCredentials || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Fatalf("open without credentials: %v (exit %d)", err, exitCode(err))
	}
}

// The functions select origins by the manifest's names: a pool naming an origin the distribution lacks
// is refused at plan, at the pool's line.
func TestPlanRefusesUnknownOrigin(t *testing.T) {
	e := newEnv(t)
	g := load(t, strings.ReplaceAll(quickstart("ok", "ok"), "app", "backend"))
	_, err := e.provider(g).Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: mustRender(t, g)})
	if err == nil || !strings.Contains(err.Error(), `origin "backend"`) || !strings.Contains(err.Error(), "edgegw.yaml:8:3") {
		t.Fatalf("plan with an origin the distribution lacks: %v", err)
	}
}

func mustRender(t testing.TB, g *ir.Gateway) []render.Artifact {
	t.Helper()
	arts, err := cfrender.Renderer{}.Render(g)
	if err != nil {
		t.Fatal(err)
	}
	return arts
}

// A distribution that does not finish deploying within the wait fails verification, and the engine
// restores the restore point: the previous code is published again, exit 3.
func TestPropagationTimeoutRestores(t *testing.T) {
	e := newEnv(t)
	e.deploy(quickstart("ok", "ok"))
	before := e.f.liveCode(requestFn)
	g := load(t, strings.Replace(quickstart("healthy", "healthy"), "function: quickstart}", "function: quickstart, poll_interval: 1ms, propagation_timeout: 20ms}", 1))
	p, err := cloudfront.Open(g, cloudfront.Options{Getenv: e.f.Getenv(nil, endpoint.CloudFront), BaseDir: e.dir, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	saved, err := e.plan(p, g).Marshal() // the restore point travels in the plan file
	if err != nil {
		t.Fatal(err)
	}
	plan, err := providers.ReadPlan("plan.json", saved)
	if err != nil {
		t.Fatal(err)
	}
	e.f.mu.Lock()
	e.f.deploying = 1 << 20
	e.f.mu.Unlock()
	rep, err := e.apply(p, g, plan)
	if exitCode(err) != cmdutil.ExitPartial || !strings.Contains(err.Error(), "still InProgress") {
		t.Fatalf("apply whose distribution never deploys: %v (exit %d)", err, exitCode(err))
	}
	if rep.Targets[0].Status != providers.StatusRestored || !bytes.Equal(e.f.liveCode(requestFn), before) {
		t.Fatalf("not restored: %+v", rep.Targets)
	}
}

// Built through the registry, as the commands build it, the provider reads the endpoint override from
// the process environment, where the SDK itself would read it.
func TestRegistryReadsEndpointFromEnvironment(t *testing.T) {
	e := newEnv(t)
	e.f.Setenv(endpoint.CloudFront)
	g := load(t, quickstart("ok", "ok"))
	targets, _, err := providers.ConfiguredTargets(g, providers.Config{BaseDir: e.dir}, nil)
	if err != nil || len(targets) != 1 || targets[0].Provider == nil {
		t.Fatalf("configured targets: %+v, %v", targets, err)
	}
	tp, err := targets[0].Provider.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: mustRender(t, g)})
	if err != nil || !tp.HasChanges() || tp.BaseToken != "dist:EDIST1 viewer-request:none viewer-response:none" {
		t.Fatalf("plan through the registry: %+v, %v", tp, err)
	}
}

// Associations removed by hand are drift: the same code plans an association change, and apply puts it
// back with one UpdateDistribution and nothing published.
func TestAssociationDrift(t *testing.T) {
	e := newEnv(t)
	_, g, _ := e.deploy(quickstart("ok", "ok"))
	e.f.mu.Lock()
	e.f.dist = []byte(seedDistribution)
	e.f.distETag = "EDIST-BY-HAND"
	e.f.mu.Unlock()
	p := e.provider(g)
	plan := e.plan(p, g)
	if ch := plan.Targets[0].Changes; len(ch) != 1 || ch[0].Kind != "association" || !strings.Contains(ch[0].Name, "2 cache behavior(s)") {
		t.Fatalf("changes after associations were removed: %+v", ch)
	}
	from := len(e.f.Requests())
	if _, err := e.apply(p, g, plan); err != nil {
		t.Fatal(err)
	}
	if c := e.callsSince(from); c.writes != 1 || !strings.Contains(c.list[0], "/distribution/E2EXAMPLE/config") || c.tests != 0 {
		t.Errorf("repairing the associations: %v, %d tests", c.list, c.tests)
	}
	if d := e.f.config(); len(d.Default.Functions) != 2 || len(d.Behaviors[0].Functions) != 2 {
		t.Errorf("associations not put back: %+v", d)
	}
}

// A runner without the records folder is told so at plan: the live functions name an edgegw deploy that
// no local record holds.
func TestPlanWarnsWithoutRecords(t *testing.T) {
	e := newEnv(t)
	_, g, _ := e.deploy(quickstart("ok", "ok"))
	e.dir = t.TempDir() // another checkout, without .edgegw/cloudfront
	tp := e.plan(e.provider(g), g).Targets[0]
	if len(tp.Warnings) != 1 || !strings.Contains(tp.Warnings[0], "no deploy record of version") || !strings.Contains(tp.Warnings[0], "git:"+commit) {
		t.Fatalf("warnings: %q", tp.Warnings)
	}
}

// A cache behavior that already runs someone else's code on a viewer event is never taken over: plan
// refuses, naming the behavior and the function.
func TestPlanRefusesForeignViewerCode(t *testing.T) {
	for _, tc := range []struct{ name, assoc, want string }{
		{"function", `<FunctionAssociations><Quantity>1</Quantity><Items><FunctionAssociation><FunctionARN>arn:aws:cloudfront::123456789012:function/redirects</FunctionARN><EventType>viewer-request</EventType></FunctionAssociation></Items></FunctionAssociations>`,
			"the default cache behavior runs the function arn:aws:cloudfront::123456789012:function/redirects on viewer-request"},
		{"lambda", `<FunctionAssociations><Quantity>0</Quantity></FunctionAssociations><LambdaFunctionAssociations><Quantity>1</Quantity><Items><LambdaFunctionAssociation><LambdaFunctionARN>arn:aws:lambda:us-east-1:123456789012:function:auth:7</LambdaFunctionARN><EventType>viewer-response</EventType></LambdaFunctionAssociation></Items></LambdaFunctionAssociations>`,
			"runs the Lambda@Edge function arn:aws:lambda:us-east-1:123456789012:function:auth:7 on viewer-response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.f.mu.Lock()
			e.f.dist = []byte(strings.Replace(seedDistribution, `<FunctionAssociations><Quantity>0</Quantity></FunctionAssociations>`, tc.assoc, 1))
			e.f.mu.Unlock()
			g := load(t, quickstart("ok", "ok"))
			_, err := e.provider(g).Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: mustRender(t, g)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("plan over foreign viewer code: %v", err)
			}
		})
	}
}

// A first deploy that fails verification goes back to nothing: the associations are removed again (the
// functions stay, published, associated nowhere).
func TestFirstDeployRestoredToNothing(t *testing.T) {
	e := newEnv(t)
	g := load(t, strings.Replace(quickstart("ok", "ok"), "function: quickstart}", "function: quickstart, poll_interval: 1ms, propagation_timeout: 20ms}", 1))
	p := e.provider(g)
	plan := e.plan(p, g)
	e.f.mu.Lock()
	e.f.stuck = true
	e.f.mu.Unlock()
	rep, err := e.apply(p, g, plan)
	if exitCode(err) != cmdutil.ExitPartial || rep.Targets[0].Status != providers.StatusRestored {
		t.Fatalf("first deploy that never propagates: %v (exit %d), %+v", err, exitCode(err), rep.Targets)
	}
	if d := e.f.config(); len(d.Default.Functions) != 0 || len(d.Behaviors[0].Functions) != 0 {
		t.Errorf("associations left after restoring to nothing: %+v", d)
	}
}
