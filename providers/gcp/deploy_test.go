package gcp_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/plan/view"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/apitest"
	"github.com/edgegw/edgegw/providers/endpoint"
	"github.com/edgegw/edgegw/providers/gcp"
	"github.com/edgegw/edgegw/render"
	gcprender "github.com/edgegw/edgegw/render/gcp"
)

const nativeManifest = "../../render/gcp/testdata/native.yaml"

const commit = "0123456789abcdef0123456789abcdef01234567"

// loadManifest loads path with edit applied to its text.
func loadManifest(t testing.TB, path string, edit func(string) string) *ir.Gateway {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	if edit != nil {
		if text = edit(text); text == string(src) {
			t.Fatal("the edit changed nothing")
		}
	}
	p := filepath.Join(t.TempDir(), "edgegw.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	g, diags := manifest.Load(p)
	if g == nil || diags.HasErrors() {
		t.Fatal(diags)
	}
	return g
}

func renderGCP(t testing.TB, g *ir.Gateway) []render.Artifact {
	t.Helper()
	r, err := render.Lookup(gcprender.Name)
	if err != nil {
		t.Fatal(err)
	}
	arts, err := r.Render(g)
	if err == nil {
		err = render.Canonicalize(r, g, arts)
	}
	if err != nil {
		t.Fatal(err)
	}
	return arts
}

func newProvider(t testing.TB, f *fakeCompute, g *ir.Gateway) *gcp.Provider {
	t.Helper()
	p, err := gcp.NewProvider(context.Background(), providers.Config{Gateway: g, Getenv: f.s.Getenv(nil, endpoint.GCP)},
		gcp.ClientOptions{WithoutAuth: true, Poll: time.Millisecond, RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func planOf(t testing.TB, p providers.Provider, g *ir.Gateway) *providers.Plan {
	t.Helper()
	tp, err := p.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: renderGCP(t, g)})
	if err != nil {
		t.Fatal(err)
	}
	return &providers.Plan{FormatVersion: providers.PlanFormatVersion, Commit: commit, ManifestPath: "edgegw.yaml", Targets: []*providers.TargetPlan{tp}}
}

func applyPlan(p providers.Provider, g *ir.Gateway, plan *providers.Plan) (*providers.Report, error) {
	return providers.Apply(context.Background(), plan, map[string]providers.Provider{gcp.Name: p}, providers.ApplyOptions{
		Gateway: g, Force: true, Getenv: func(string) string { return "" }, Who: "ci@runner"})
}

func mustApply(t testing.TB, p providers.Provider, g *ir.Gateway) {
	t.Helper()
	if _, err := applyPlan(p, g, planOf(t, p, g)); err != nil {
		t.Fatal(err)
	}
}

func exitCode(err error) int { return cmdutil.ExitCode(view.ExitError(err)) }

// changedRoute is the native manifest with the v2 route's rewrite changed.
func changedRoute(s string) string {
	return strings.Replace(s, "rewrite: {prefix: /internal/v2}", "rewrite: {prefix: /internal/v3}", 1)
}

// changedBreaker changes the api pool's breaker: a backend service change, not a map change.
func changedBreaker(s string) string {
	return strings.Replace(s, "breaker: {consecutive: 3,", "breaker: {consecutive: 5,", 1)
}

func mapJSON(t testing.TB, m map[string]any) string {
	t.Helper()
	c := map[string]any{}
	for _, k := range []string{"hostRules", "pathMatchers", "tests", "defaultService"} {
		c[k] = m[k]
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// TestDeployLifecycle: a first apply creates the health check, the backend services (EXTERNAL_MANAGED,
// with the rendered health checks and outlier detection) and the map carrying the deploy record; a
// re-apply makes no mutating call; a changed route updates the map only, keeping the previous one in the
// standby map; a rollback is one mutating call that puts the previous map back.
func TestDeployLifecycle(t *testing.T) {
	f := newFake(t)
	g := loadManifest(t, nativeManifest, nil)
	p := newProvider(t, f, g)
	arts := renderGCP(t, g)
	b, err := gcprender.Parse(arts)
	if err != nil {
		t.Fatal(err)
	}
	mapBytes := 0
	for _, a := range arts {
		if a.Path == gcprender.URLMapPath {
			mapBytes = len(a.Data)
		}
	}
	t.Logf("native.yaml: url-map.json %d bytes, %d tests[], %d backend services, %d health checks, %d NEGs, %d backend buckets, %d security policies",
		mapBytes, len(b.URLMap.Tests), len(b.BackendServices), len(b.HealthChecks), len(b.EndpointGroups), len(b.BackendBuckets), len(b.SecurityPolicies))

	// First apply.
	from := f.mark()
	mustApply(t, p, g)
	total, mut, log := f.calls(from)
	t.Logf("first apply (plan included): %d calls, %d mutating: %v", total, mut, log)
	if want := 2*len(b.EndpointGroups) + len(b.SecurityPolicies) + len(b.HealthChecks) + len(b.BackendServices) + len(b.BackendBuckets) + 1; mut != want {
		t.Errorf("first apply: %d mutating calls, want %d (NEGs and their endpoints, policies, health checks, backend services and buckets, the map): %v", mut, want, log)
	}
	if eps := f.endpoints["native-api-origin-canary"]; len(eps) != 1 {
		t.Errorf("the canary NEG's endpoints: %v", eps)
	}
	if len(b.SecurityPolicies) == 0 || f.get("securityPolicies", b.SecurityPolicies[0].Name) == nil {
		t.Errorf("security policy %s not created", b.SecurityPolicies[0].Name)
	}
	live := f.get("urlMaps", "native-api")
	if live == nil {
		t.Fatal("no URL map after the first apply")
	}
	desc, _ := live["description"].(string)
	if !strings.HasPrefix(desc, "edgegw apply ver:") || !strings.Contains(desc, "git:"+commit) || !strings.Contains(desc, "ir:"+providers.Summarize(g).Digest) {
		t.Errorf("the map's description %q does not carry the deploy record (git sha, IR digest)", desc)
	}
	api := f.get("backendServices", "native-api-pool-api")
	if api == nil || api["loadBalancingScheme"] != "EXTERNAL_MANAGED" || api["outlierDetection"] == nil || api["healthChecks"] == nil {
		t.Fatalf("backend service native-api-pool-api: %v", api)
	}
	// A field rendered at its zero value is sent: outlierDetection.enforcingConsecutiveErrors: 0.
	for _, r := range f.s.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/global/backendServices") && strings.Contains(string(r.Body), `"native-api-pool-api"`) &&
			!strings.Contains(string(r.Body), `"enforcingConsecutiveErrors":0`) {
			t.Errorf("backend service sent without enforcingConsecutiveErrors: 0: %s", r.Body)
		}
	}
	if f.get("healthChecks", "native-api-health-primary") == nil {
		t.Fatal("no health check")
	}
	if f.get("urlMaps", "native-api"+gcp.StandbySuffix) != nil {
		t.Error("a first deploy has no previous map to keep")
	}

	// Re-apply: no mutating call.
	from = f.mark()
	plan := planOf(t, p, g)
	if plan.HasChanges() {
		t.Fatalf("re-plan of the applied manifest has changes: %+v", plan.Targets[0].Changes)
	}
	if _, err := applyPlan(p, g, plan); err != nil {
		t.Fatal(err)
	}
	total, mut, log = f.calls(from)
	t.Logf("re-apply: %d calls, %d mutating: %v", total, mut, log)
	if mut != 0 {
		t.Errorf("re-apply made %d mutating calls: %v", mut, log)
	}

	// A changed route: the map only, the previous map kept in the standby.
	first := mapJSON(t, live)
	firstVersion := strings.Fields(desc)[2]
	g2 := loadManifest(t, nativeManifest, changedRoute)
	from = f.mark()
	plan = planOf(t, p, g2)
	if cs := plan.Targets[0].Changes; len(cs) != 1 || cs[0].Name != gcprender.URLMapPath {
		t.Errorf("changed route plans %+v, want the URL map only", cs)
	}
	if _, err := applyPlan(p, g2, plan); err != nil {
		t.Fatal(err)
	}
	total, mut, log = f.calls(from)
	t.Logf("changed route (plan included): %d calls, %d mutating: %v", total, mut, log)
	if mut != 2 {
		t.Errorf("changed route: %d mutating calls, want 2 (the standby map, the map): %v", mut, log)
	}
	if mapJSON(t, f.get("urlMaps", "native-api")) == first {
		t.Fatal("the changed route did not reach the live map")
	}
	if sb := f.get("urlMaps", "native-api"+gcp.StandbySuffix); sb == nil || mapJSON(t, sb) != first {
		t.Fatal("the standby map does not hold the previous map")
	}

	// History and rollback: one mutating call, the previous map live again.
	recs, err := p.History(context.Background())
	if err != nil || len(recs) != 2 || recs[1].Previous.Version != recs[0].Version || recs[1].Commit != commit {
		t.Fatalf("history %+v, %v", recs, err)
	}
	from = f.mark()
	rep, err := providers.Rollback(context.Background(), []providers.Provider{p}, providers.RollbackOptions{Who: "ci@runner"})
	if err != nil {
		t.Fatal(err)
	}
	total, mut, log = f.calls(from)
	t.Logf("rollback: %d calls, %d mutating: %v", total, mut, log)
	if mut != 1 {
		t.Errorf("rollback: %d mutating calls, want 1: %v", mut, log)
	}
	now := f.get("urlMaps", "native-api")
	if mapJSON(t, now) != first || rep.Targets[0].Version != strings.TrimPrefix(firstVersion, "ver:") {
		t.Errorf("after rollback the live map is not the first one (report %+v)", rep.Targets)
	}
	if d, _ := now["description"].(string); !strings.HasPrefix(d, "edgegw rollback "+firstVersion) {
		t.Errorf("after rollback the description is %q", d)
	}
	// Only one deploy back is kept: a second rollback is refused, and says how to go further.
	if _, err := providers.Rollback(context.Background(), []providers.Provider{p}, providers.RollbackOptions{Who: "ci"}); !errors.Is(err, providers.ErrNothingToRollBack) {
		t.Errorf("second rollback: %v", err)
	}
}

// TestStalePlanIsRefused: a map changed since the plan refuses the saved plan before any change (exit
// 5); a 412 from the update itself (a change between the check and the update) puts back what the apply
// changed and is a stale plan too.
func TestStalePlanIsRefused(t *testing.T) {
	f := newFake(t)
	g := loadManifest(t, nativeManifest, nil)
	p := newProvider(t, f, g)
	mustApply(t, p, g)
	g2 := loadManifest(t, nativeManifest, changedRoute)
	// A saved plan (`plan -out plan.json`), read back as `apply plan.json` does.
	data, err := planOf(t, p, g2).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := providers.ReadPlan("plan.json", data)
	if err != nil {
		t.Fatal(err)
	}

	f.mu.Lock()
	f.objects["urlMaps"]["native-api"]["fingerprint"] = "moved-by-hand"
	f.mu.Unlock()
	from := f.mark()
	_, err = applyPlan(p, g2, plan)
	var stale *providers.StalePlanError
	if !errors.As(err, &stale) || exitCode(err) != cmdutil.ExitBlocked {
		t.Fatalf("moved fingerprint: %v (exit %d), want a stale plan, exit 5", err, exitCode(err))
	}
	// The provider refuses it on its own too, without the engine's check.
	if _, err := p.Apply(context.Background(), plan.Targets[0], providers.DeployRecord{Kind: providers.KindApply}); !errors.As(err, &stale) {
		t.Fatalf("Apply of a stale plan: %v, want a stale plan", err)
	}
	if _, mut, log := f.calls(from); mut != 0 {
		t.Errorf("a stale plan made %d mutating calls: %v", mut, log)
	}

	// The 412 from the update: the standby map write is put back.
	plan = planOf(t, p, g2)
	sbBefore := f.get("urlMaps", "native-api"+gcp.StandbySuffix)
	f.fault("PUT urlMaps/native-api", func(w http.ResponseWriter, r *apitest.Request) {
		// Someone else's update got in first: theirs stays, the apply never writes over it.
		f.mu.Lock()
		f.objects["urlMaps"]["native-api"]["description"] = "changed by hand"
		f.objects["urlMaps"]["native-api"]["fingerprint"] = "moved-again"
		f.mu.Unlock()
		apiError(w, 412, "conditionNotMet", "Precondition Failed")
	})
	_, err = applyPlan(p, g2, plan)
	if !errors.As(err, &stale) || exitCode(err) != cmdutil.ExitBlocked {
		t.Fatalf("412 from the update: %v (exit %d), want a stale plan, exit 5", err, exitCode(err))
	}
	if d := f.get("urlMaps", "native-api")["description"]; d != "changed by hand" {
		t.Errorf("the restore wrote over the change that caused the 412: description %q", d)
	}
	if sbBefore != nil || f.get("urlMaps", "native-api"+gcp.StandbySuffix) != nil {
		t.Errorf("the standby map created by the refused apply was not removed")
	}
}

// TestFailedOperationRestores: the map's update operation fails after a backend service changed: the
// backend service and the standby map are put back, the map stays as it was, and the apply exits 3.
func TestFailedOperationRestores(t *testing.T) {
	f := newFake(t)
	g := loadManifest(t, nativeManifest, nil)
	p := newProvider(t, f, g)
	mustApply(t, p, g)
	liveBefore := mapJSON(t, f.get("urlMaps", "native-api"))
	bsBefore, _ := json.Marshal(f.get("backendServices", "native-api-pool-api")["outlierDetection"])

	g2 := loadManifest(t, nativeManifest, func(s string) string { return changedBreaker(changedRoute(s)) })
	plan := planOf(t, p, g2)
	f.failOperation("PUT urlMaps/native-api", "The resource 'backendServices/x' is not ready")
	_, err := applyPlan(p, g2, plan)
	var partial *providers.PartialError
	if !errors.As(err, &partial) || exitCode(err) != cmdutil.ExitPartial || !strings.Contains(err.Error(), "RESOURCE_NOT_READY") {
		t.Fatalf("failed operation: %v (exit %d), want a partial apply naming the operation's error, exit 3", err, exitCode(err))
	}
	if got := mapJSON(t, f.get("urlMaps", "native-api")); got != liveBefore {
		t.Error("the map changed after a failed operation")
	}
	bsAfter, _ := json.Marshal(f.get("backendServices", "native-api-pool-api")["outlierDetection"])
	if string(bsAfter) != string(bsBefore) {
		t.Errorf("backend service not restored: outlierDetection %s, was %s", bsAfter, bsBefore)
	}
	if f.get("urlMaps", "native-api"+gcp.StandbySuffix) != nil {
		t.Error("the standby map the failed apply created is still there")
	}
	// The manifest of the live map still plans no change.
	if planOf(t, p, g).HasChanges() {
		t.Error("after the restore the live state is not the first deploy")
	}

	// A first deploy whose map cannot be created leaves nothing behind.
	f2 := newFake(t)
	p2 := newProvider(t, f2, g)
	f2.failOperation("POST urlMaps", "quota exceeded")
	if _, err := applyPlan(p2, g, planOf(t, p2, g)); exitCode(err) != cmdutil.ExitPartial {
		t.Fatalf("failed first deploy: %v (exit %d), want exit 3", err, exitCode(err))
	}
	for _, kind := range []string{"urlMaps", "backendServices", "healthChecks", "networkEndpointGroups", "backendBuckets", "securityPolicies"} {
		if n := len(f2.objects[kind]); n != 0 {
			t.Errorf("%d %s left by a failed first deploy", n, kind)
		}
	}
}

// TestRetries: reads are retried on 503 and 429 (Retry-After honoured), at most 3 times; a mutation whose
// answer was lost is retried with the same requestId, so it runs once.
func TestRetries(t *testing.T) {
	f := newFake(t)
	g := loadManifest(t, nativeManifest, nil)
	p := newProvider(t, f, g)
	f.fault("GET urlMaps/native-api", apitest.ServerError(503), apitest.RateLimited(0))
	// The first insert of the health check reaches the fake, and its answer is lost.
	f.fault("POST healthChecks", func(w http.ResponseWriter, r *apitest.Request) {
		f.serve(httptest.NewRecorder(), r)
		apitest.ServerError(502)(w, r)
	})
	mustApply(t, p, g)
	var ids []string
	for _, r := range f.s.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/global/healthChecks") {
			ids = append(ids, r.Query.Get("requestId"))
		}
	}
	if len(ids) != 2 || ids[0] == "" || ids[0] != ids[1] {
		t.Errorf("health check inserts with requestIds %q: want one retry with the same requestId", ids)
	}
	if n := len(f.objects["healthChecks"]); n != 1 {
		t.Errorf("%d health checks", n)
	}
	gets := 0
	for _, r := range f.s.Requests() {
		if r.Method == "GET" && strings.HasSuffix(r.Path, "/urlMaps/native-api") {
			gets++
		}
	}
	if gets < 3 {
		t.Errorf("%d reads of the map: the 503 and the 429 were not retried", gets)
	}

	// Bounded: four 503s in a row are the error, after 1 + 3 attempts.
	f.fault("GET urlMaps/native-api", apitest.ServerError(503), apitest.ServerError(503), apitest.ServerError(503), apitest.ServerError(503))
	from := f.mark()
	_, err := p.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: renderGCP(t, g)})
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("four 503s: %v", err)
	}
	if total, _, log := f.calls(from); total != 4 {
		t.Errorf("%d calls for four 503s, want 4: %v", total, log)
	}
}

// TestPlanValidatesOnGCP: a changed map whose tests[] GCP reports failing fails the plan, with the
// failure, and nothing is changed.
func TestPlanValidatesOnGCP(t *testing.T) {
	f := newFake(t)
	g := loadManifest(t, nativeManifest, nil)
	p := newProvider(t, f, g)
	mustApply(t, p, g)
	f.validate = "native-api-pool-canary"
	from := f.mark()
	_, err := p.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: renderGCP(t, loadManifest(t, nativeManifest, changedRoute))})
	if err == nil || !strings.Contains(err.Error(), "expected native-api-pool-canary") {
		t.Fatalf("plan with a failing map test: %v", err)
	}
	total, mut, log := f.calls(from)
	if mut != 0 || !strings.Contains(strings.Join(log, " "), "validate") {
		t.Errorf("plan: %d calls, %d mutating, %v: want a validate and no mutation", total, mut, log)
	}
}

// TestCredentials: Google ADC from a GOOGLE_APPLICATION_CREDENTIALS file (a service account key) whose
// token endpoint is the fake: the key's signed assertion is exchanged there, and every call carries the
// token it issued. No credentials, or no project: a
// credentials error naming the variable, exit 4.
func TestCredentials(t *testing.T) {
	f := newFake(t)
	f.s.Register(apitest.Route("POST", "/token"), apitest.JSON(200, map[string]any{
		"access_token": "ya29.fake-token", "token_type": "Bearer", "expires_in": 3600}))
	g := loadManifest(t, nativeManifest, nil)
	file := filepath.Join(t.TempDir(), "adc.json")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	creds, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": fakeProject, "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "deployer@my-project.iam.gserviceaccount.com", "client_id": "1", "token_uri": f.s.URL + "/token"})
	if err := os.WriteFile(file, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", file)
	prov, err := gcp.New(providers.Config{Gateway: g, Getenv: f.s.Getenv(nil, endpoint.GCP)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prov.History(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.s.Requests() {
		if r.Path == "/token" && !strings.Contains(string(r.Body), "assertion=") {
			t.Errorf("token request without the signed assertion: %s", r.Body)
		}
		if strings.HasPrefix(r.Path, "/compute/") && r.Header.Get("Authorization") != "Bearer ya29.fake-token" {
			t.Errorf("%s %s sent Authorization %q", r.Method, r.Path, r.Header.Get("Authorization"))
		}
	}

	// Credentials the API refuses: exit 4 too.
	f.fault("GET urlMaps/native-api", apitest.JSON(403, map[string]any{"error": map[string]any{"code": 403, "message": "Required 'compute.urlMaps.get' permission"}}))
	_, err = prov.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: renderGCP(t, g)})
	if exitCode(err) != cmdutil.ExitCredentials || !strings.Contains(err.Error(), "compute.urlMaps.get") {
		t.Errorf("refused credentials: %v (exit %d), want exit 4 with the API's reason", err, exitCode(err))
	}

	// A key the token endpoint refuses: exit 4, asked once (a 400 is not retried).
	f.s.Register(apitest.Route("POST", "/token"), apitest.JSON(400, map[string]any{"error": "invalid_grant", "error_description": "Invalid JWT Signature."}))
	prov, err = gcp.New(providers.Config{Gateway: g, Getenv: f.s.Getenv(nil, endpoint.GCP)})
	if err != nil {
		t.Fatal(err)
	}
	from := f.mark()
	_, err = prov.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: renderGCP(t, g)})
	if exitCode(err) != cmdutil.ExitCredentials || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("refused key: %v (exit %d), want exit 4 with the token endpoint's reason", err, exitCode(err))
	}
	if n := len(f.s.Requests()) - from; n != 1 {
		t.Errorf("%d requests for a refused key, want 1 token request", n)
	}

	// No credentials anywhere ADC looks.
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("CLOUDSDK_CONFIG", t.TempDir())
	_, err = gcp.New(providers.Config{Gateway: g, Getenv: f.s.Getenv(nil, endpoint.GCP)})
	var ce *providers.CredentialsError
	if !errors.As(err, &ce) || ce.Var != "GOOGLE_APPLICATION_CREDENTIALS" || exitCode(err) != cmdutil.ExitCredentials {
		t.Fatalf("no credentials: %v (exit %d), want a credentials error naming GOOGLE_APPLICATION_CREDENTIALS, exit 4", err, exitCode(err))
	}

	// No project in the manifest and none in the environment.
	g2 := loadManifest(t, nativeManifest, func(s string) string { return strings.Replace(s, "project: my-project, ", "", 1) })
	_, err = gcp.New(providers.Config{Gateway: g2, Getenv: f.s.Getenv(nil, endpoint.GCP)})
	if !errors.As(err, &ce) || ce.Var != "GOOGLE_CLOUD_PROJECT" || exitCode(err) != cmdutil.ExitCredentials {
		t.Fatalf("no project: %v (exit %d), want a credentials error naming GOOGLE_CLOUD_PROJECT, exit 4", err, exitCode(err))
	}
}

// TestProjectFromTheEnvironment: without targets.gcp.project, GOOGLE_CLOUD_PROJECT is the project the
// calls and the map's references name.
func TestProjectFromTheEnvironment(t *testing.T) {
	f := newFake(t)
	g := loadManifest(t, nativeManifest, func(s string) string { return strings.Replace(s, "project: my-project, ", "", 1) })
	p, err := gcp.NewProvider(context.Background(), providers.Config{Gateway: g, Getenv: f.s.Getenv(func(k string) string {
		if k == gcp.ProjectVar {
			return fakeProject
		}
		return ""
	}, endpoint.GCP)}, gcp.ClientOptions{WithoutAuth: true, Poll: time.Millisecond, RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, p, g)
	b, _ := json.Marshal(f.get("urlMaps", "native-api"))
	if strings.Contains(string(b), gcprender.DefaultProject) || !strings.Contains(string(b), "projects/"+fakeProject+"/global/backendServices/") {
		t.Errorf("the map's references do not name the project: %s", b)
	}
}

// TestOriginChangeReplacesTheEndpoints: a changed origin URL detaches the NEG's old endpoint and attaches
// the new one; a Cloud Armor policy changed since (its rules are not updated by this deploy) refuses the
// apply before any change.
func TestOriginChangeReplacesTheEndpoints(t *testing.T) {
	f := newFake(t)
	g := loadManifest(t, nativeManifest, nil)
	p := newProvider(t, f, g)
	mustApply(t, p, g)
	g2 := loadManifest(t, nativeManifest, func(s string) string {
		return strings.Replace(s, "http://203.0.113.7:8080", "http://203.0.113.9:8080", 1)
	})
	from := f.mark()
	if cs := planOf(t, p, g2).Targets[0].Changes; len(cs) != 1 || cs[0].Name != gcprender.EndpointGroupsPath {
		t.Errorf("changed origin (the manifest moved to another file, too) plans %+v, want the NEGs only", cs)
	}
	mustApply(t, p, g2)
	_, mut, log := f.calls(from)
	// Detach, attach, and the deploy record: the standby map and the map's description.
	if mut != 4 || !strings.Contains(strings.Join(log, " "), "detachNetworkEndpoints") {
		t.Errorf("changed origin: %d mutating calls %v, want detach, attach, the standby map and the map", mut, log)
	}
	if eps := f.endpoints["native-api-origin-canary"]; len(eps) != 1 || eps[0].(map[string]any)["ipAddress"] != "203.0.113.9" {
		t.Errorf("the canary NEG's endpoints after the change: %v", eps)
	}

	g3 := loadManifest(t, nativeManifest, func(s string) string { return strings.Replace(s, "limit: 100,", "limit: 200,", 1) })
	plan := planOf(t, p, g3)
	if !strings.Contains(strings.Join(plan.Targets[0].Warnings, " "), "addRule") {
		t.Errorf("plan warnings %q do not say the policy's rules are not updated", plan.Targets[0].Warnings)
	}
	from = f.mark()
	if _, err := applyPlan(p, g3, plan); err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("changed policy: %v", err)
	}
	if _, mut, log := f.calls(from); mut != 0 {
		t.Errorf("a refused apply made %d mutating calls: %v", mut, log)
	}
}

// TestHandMadeMapIsKeptAndRestoredByRollback: a live map edgegw did not write plans as all changes with
// a warning, is kept in the standby map by the first apply, and a rollback puts it back.
func TestHandMadeMapIsKeptAndRestoredByRollback(t *testing.T) {
	f := newFake(t)
	f.objects["urlMaps"]["native-api"] = map[string]any{"name": "native-api", "fingerprint": "hand-1", "description": "made in the console",
		"defaultService": "https://www.googleapis.com/compute/v1/projects/my-project/global/backendServices/legacy"}
	g := loadManifest(t, nativeManifest, nil)
	p := newProvider(t, f, g)
	plan := planOf(t, p, g)
	if tp := plan.Targets[0]; tp.BaseToken != "hand-1" || tp.RestorePoint.Version != "fp-hand-1" || !strings.Contains(strings.Join(tp.Warnings, " "), "no edgegw deploy record") {
		t.Fatalf("plan over a hand-made map: token %q, restore point %q, warnings %q", tp.BaseToken, tp.RestorePoint.Version, tp.Warnings)
	}
	if _, err := applyPlan(p, g, plan); err != nil {
		t.Fatal(err)
	}
	if sb := f.get("urlMaps", "native-api"+gcp.StandbySuffix); sb == nil || !strings.HasSuffix(sb["defaultService"].(string), "/legacy") {
		t.Fatalf("the hand-made map is not in the standby map: %v", sb)
	}
	if _, err := providers.Rollback(context.Background(), []providers.Provider{p}, providers.RollbackOptions{Who: "ci"}); err != nil {
		t.Fatal(err)
	}
	if m := f.get("urlMaps", "native-api"); !strings.HasSuffix(m["defaultService"].(string), "/legacy") || m["pathMatchers"] != nil {
		t.Errorf("after rollback the live map is not the hand-made one: %v", m)
	}
}
