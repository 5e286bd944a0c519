package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/apitest"
	"github.com/edgegw/edgegw/providers/endpoint"
	"github.com/edgegw/edgegw/providers/fake"
	"github.com/edgegw/edgegw/render"
)

const (
	testToken  = "cf-test-token-3f9a1c"
	testSecret = "hs256-secret-value-7f3e9b2c4d5a6e1f8a9b0c1d2e3f4a5b"
	testCommit = "0123456789abcdef0123456789abcdef01234567"
)

// testGateway is a small gateway deployed to the cloudflare target; withSecret adds an HS256 policy whose
// key is JWT_SECRET.
func testGateway(withSecret bool, routes ...string) *ir.Gateway {
	g := &ir.Gateway{SchemaVersion: 1, Name: "test",
		Domains: []ir.Domain{{Host: "api.example.com", Zone: "example.com"}},
		Origins: []ir.Origin{{Name: "app", URL: "https://app.example.net"}},
		Pools:   []ir.Pool{{Name: "app", Origins: []string{"app"}}},
		Targets: ir.Targets{{Name: Name, Config: &Settings{AccountID: ir.Value{Env: AccountVar}, Zone: "example.com", Script: testScript}}},
	}
	if withSecret {
		g.AuthPolicies = []ir.AuthPolicy{{Name: "hs", JWT: &ir.JWT{Algorithms: []string{"HS256"}, Secret: &ir.Value{Env: "JWT_SECRET"}}}}
	}
	for i, r := range routes {
		g.Routes = append(g.Routes, ir.Route{Name: r, Index: i, Match: ir.Match{Kind: ir.PathPrefix, Path: "/" + r}, Pool: "app"})
	}
	return g
}

// testArtifacts is what a renderer hands the provider: a module Worker, its upload metadata and a
// wrangler.toml that is not uploaded.
func testArtifacts(body string) []render.Artifact {
	js := fmt.Sprintf("export default { fetch() { return new Response(%q) } }\n", body)
	md := `{"main_module":"worker.js","compatibility_date":"2024-09-23","bindings":[` +
		`{"type":"durable_object_namespace","name":"EDGEGW_STATE","class_name":"EdgegwState"},{"type":"secret_text","name":"JWT_SECRET"}]}`
	return []render.Artifact{
		{Target: Name, Path: "worker.js", MediaType: "application/javascript+module", Data: []byte(js)},
		{Target: Name, Path: "metadata.json", MediaType: "application/json", Data: []byte(md)},
		{Target: Name, Path: "wrangler.toml", MediaType: "application/toml", Data: []byte("name = \"edge-api-gateway\"\n")},
	}
}

type harness struct {
	srv    *apitest.Server
	cf     *fakeCF
	env    map[string]string
	getenv func(string) string
}

func newHarness(t *testing.T) *harness {
	h := &harness{srv: apitest.New(t)}
	h.cf = newFakeCF(t, h.srv)
	h.env = map[string]string{TokenVar: testToken, AccountVar: testAccount, "JWT_SECRET": testSecret}
	h.getenv = h.srv.Getenv(func(k string) string { return h.env[k] }, endpoint.Cloudflare)
	return h
}

func (h *harness) provider(t *testing.T, g *ir.Gateway) *Provider {
	t.Helper()
	p, err := Open(g, Options{Getenv: h.getenv, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// plan makes the saved plan an apply ships: every given provider planned against the same artifacts.
func (h *harness) plan(t *testing.T, g *ir.Gateway, arts []render.Artifact, provs ...providers.Provider) *providers.Plan {
	t.Helper()
	pl := &providers.Plan{FormatVersion: providers.PlanFormatVersion, Commit: testCommit, ManifestPath: "edgegw.yaml", ManifestDigest: "sha256:m"}
	for _, p := range provs {
		tp, err := p.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: arts})
		if err != nil {
			t.Fatal(err)
		}
		pl.Targets = append(pl.Targets, tp)
	}
	return pl
}

func (h *harness) apply(t *testing.T, g *ir.Gateway, pl *providers.Plan, provs ...providers.Provider) (*providers.Report, error) {
	t.Helper()
	m := map[string]providers.Provider{}
	for _, p := range provs {
		m[p.Name()] = p
	}
	return providers.Apply(context.Background(), pl, m, providers.ApplyOptions{Gateway: g, Getenv: h.getenv, Who: "tester"})
}

// deploy plans and applies g with arts on the cloudflare target alone and returns the version made live.
func (h *harness) deploy(t *testing.T, p *Provider, g *ir.Gateway, arts []render.Artifact) string {
	t.Helper()
	rep, err := h.apply(t, g, h.plan(t, g, arts, p), p)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if len(rep.Targets) != 1 || rep.Targets[0].Status != providers.StatusApplied {
		t.Fatalf("apply report %+v, want cloudflare applied", rep.Targets)
	}
	return rep.Targets[0].Version
}

// calls lists the logged requests from index from on as "METHOD path-after-the-script".
func (h *harness) calls(from int) []string {
	var out []string
	for _, r := range h.srv.Requests()[from:] {
		path := strings.TrimPrefix(r.Path, "/client/v4")
		if i := strings.Index(path, "/scripts/"+testScript); i >= 0 {
			path = path[i+len("/scripts/"+testScript):]
		}
		s := r.Method + " " + path
		if len(r.Query) > 0 {
			s += "?" + r.Query.Encode()
		}
		out = append(out, s)
	}
	return out
}

func (h *harness) writes(from int) []string {
	var out []string
	for _, c := range h.calls(from) {
		if !strings.HasPrefix(c, "GET ") {
			out = append(out, c)
		}
	}
	return out
}

func TestApplyUploadsAVersionAndDeploysItAtFullTraffic(t *testing.T) {
	h := newHarness(t)
	g1 := testGateway(false, "users")
	p := h.provider(t, g1)
	find := func(from int, method, suffix string) apitest.Request {
		t.Helper()
		for _, r := range h.srv.Requests()[from:] {
			if r.Method == method && strings.HasSuffix(r.Path, suffix) {
				return r
			}
		}
		t.Fatalf("no %s …%s request", method, suffix)
		return apitest.Request{}
	}
	const zr = "/zones/023e105f4ecef8ad9ca31a8372d0c353/workers/routes"
	diff := func(got, want []string) {
		t.Helper()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("API calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	// The first deploy creates the script with the Durable Object migration: versions take none.
	v1 := h.deploy(t, p, g1, testArtifacts("v1"))
	diff(h.calls(0), []string{
		"GET /deployments", "GET /zones?account.id=" + testAccount + "&name=example.com", "GET " + zr, // plan: no script yet
		"GET /deployments", "GET " + zr, // the engine's stale check
		"PUT ", "GET /deployments", // stage: the script upload, which deploys
		"GET /deployments", "GET " + zr, "POST " + zr, "POST /deployments", // activate: routes, then the record
	})
	var created struct {
		Migrations struct {
			NewTag  string   `json:"new_tag"`
			Classes []string `json:"new_sqlite_classes"`
		} `json:"migrations"`
	}
	if err := json.Unmarshal(metadataPart(t, find(0, "PUT", "/"+testScript)), &created); err != nil {
		t.Fatal(err)
	}
	if created.Migrations.NewTag != MigrationTag || strings.Join(created.Migrations.Classes, ",") != "EdgegwState" {
		t.Errorf("first upload's migrations %+v, want %s creating EdgegwState", created.Migrations, MigrationTag)
	}

	// Every later deploy uploads a version, then moves all traffic to it.
	mark := len(h.srv.Requests())
	g := testGateway(false, "users", "orders")
	live := h.deploy(t, p, g, testArtifacts("v2"))
	diff(h.calls(mark), []string{
		"GET /deployments", "GET /versions/" + v1, "GET " + zr, // plan: the live version's summary
		"GET /deployments", "GET /versions/" + v1, "GET " + zr,
		"POST /versions",
		"GET /deployments", "GET " + zr, "POST /deployments",
	})
	if v, _ := h.cf.active(); v != live || live == "" || live == v1 {
		t.Fatalf("live version %q, the apply reported %q", v, live)
	}
	if got := h.cf.patterns("example.com"); strings.Join(got, ",") != "api.example.com/* -> "+testScript {
		t.Errorf("zone routes %v, want api.example.com/* to the script", got)
	}
	up := find(mark, "POST", "/versions")
	mt, params, err := mime.ParseMediaType(up.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("upload content type %q", up.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(strings.NewReader(string(up.Body)), params["boundary"])
	files := map[string]string{}
	var md struct {
		MainModule  string              `json:"main_module"`
		Annotations map[string]string   `json:"annotations"`
		Bindings    []map[string]string `json:"bindings"`
		Keep        []string            `json:"keep_bindings"`
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		if part.FormName() == "metadata" {
			if err := json.NewDecoder(part).Decode(&md); err != nil {
				t.Fatal(err)
			}
			continue
		}
		files[part.FileName()] = part.Header.Get("Content-Type")
	}
	if len(files) != 1 || files["worker.js"] != "application/javascript+module" {
		t.Errorf("uploaded files %v, want only worker.js as application/javascript+module", files)
	}
	if md.MainModule != "worker.js" {
		t.Errorf("main_module %q", md.MainModule)
	}
	ird := providers.Summarize(g).Digest
	if md.Annotations["workers/tag"] != "ir:"+ird || !strings.Contains(md.Annotations["workers/message"], "ir:"+ird) ||
		!strings.Contains(md.Annotations["workers/message"], "git:") {
		t.Errorf("version annotations %v, want the IR digest %s and a git: field", md.Annotations, ird)
	}
	for _, b := range md.Bindings {
		if b["type"] == "secret_text" {
			t.Errorf("secret binding %v in the metadata: secrets go through the secrets API", b)
		}
	}
	if !strings.Contains(strings.Join(md.Keep, ","), "secret_text") {
		t.Errorf("keep_bindings %v: a new version would drop the script's secrets", md.Keep)
	}
	var dep struct {
		Versions []struct {
			Percentage float64 `json:"percentage"`
			VersionID  string  `json:"version_id"`
		} `json:"versions"`
		Annotations map[string]string `json:"annotations"`
	}
	depReq := find(mark, "POST", "/deployments")
	if err := json.Unmarshal(depReq.Body, &dep); err != nil {
		t.Fatal(err)
	}
	if len(dep.Versions) != 1 || dep.Versions[0].Percentage != 100 || dep.Versions[0].VersionID != live {
		t.Errorf("deployment %s, want %s at 100 %%", depReq.Body, live)
	}
	if !strings.Contains(dep.Annotations["workers/message"], `"commit":"`+testCommit+`"`) {
		t.Errorf("deployment message %q does not carry the commit", dep.Annotations["workers/message"])
	}

	// History is read back from Cloudflare alone, as on a fresh CI runner.
	recs, err := h.provider(t, g).History(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1].Commit != testCommit || recs[1].Version != live || recs[1].Kind != providers.KindApply || recs[1].Who != "tester" ||
		recs[1].Previous.Version != v1 || recs[0].Version != v1 || recs[0].Seq != 1 || recs[1].Seq != 2 {
		t.Errorf("history %+v, want the apply of %s, then of %s by tester at %s", recs, v1, live, testCommit)
	}
}

func TestReapplyIsANoOpAndChangesAreReadFromTheLiveVersion(t *testing.T) {
	h := newHarness(t)
	g := testGateway(false, "users")
	p := h.provider(t, g)
	h.deploy(t, p, g, testArtifacts("v1"))

	// A fresh provider (a new CI runner) sees the same gateway live: nothing to do, and apply writes nothing.
	fresh := h.provider(t, g)
	mark := len(h.srv.Requests())
	pl := h.plan(t, g, testArtifacts("v1"), fresh)
	if pl.Targets[0].HasChanges() {
		t.Errorf("re-plan of the live gateway has changes: %+v", pl.Targets[0].Changes)
	}
	rep, err := h.apply(t, g, pl, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Targets[0].Status != providers.StatusUnchanged {
		t.Errorf("re-apply status %s, want unchanged", rep.Targets[0].Status)
	}
	if w := h.writes(mark); len(w) != 0 {
		t.Errorf("re-apply wrote %v", w)
	}

	// A new route shows as a route change, compared with the summary the live version carries.
	g2 := testGateway(false, "users", "orders")
	tp := h.plan(t, g2, testArtifacts("v2"), fresh).Targets[0]
	var routes []string
	for _, c := range tp.Changes {
		if c.Kind == "route" {
			routes = append(routes, string(c.Action)+" "+c.Name)
		}
	}
	if strings.Join(routes, ",") != "create orders" {
		t.Errorf("route changes %v, want [create orders]", routes)
	}
	if tp.LiveRoutes != 1 {
		t.Errorf("live routes %d, want 1", tp.LiveRoutes)
	}
}

func TestStalePlanIsRefused(t *testing.T) {
	h := newHarness(t)
	g := testGateway(false, "users")
	p := h.provider(t, g)
	h.deploy(t, p, g, testArtifacts("v1"))

	pl := h.plan(t, g, testArtifacts("v2"), p)
	h.cf.deployOutside() // someone deploys with wrangler after the plan was reviewed
	mark := len(h.srv.Requests())
	_, err := h.apply(t, g, pl, p)
	var stale *providers.StalePlanError
	if !errors.As(err, &stale) {
		t.Fatalf("apply of a stale plan: %v, want a StalePlanError", err)
	}
	if w := h.writes(mark); len(w) != 0 {
		t.Errorf("a refused plan wrote %v", w)
	}

	// Between stage and activate: Activate itself checks the token.
	pl = h.plan(t, g, testArtifacts("v3"), p)
	s, err := p.Stage(context.Background(), pl.Targets[0])
	if err != nil {
		t.Fatal(err)
	}
	h.cf.deployOutside()
	before, _ := h.cf.active()
	if _, err := p.Activate(context.Background(), s, providers.DeployRecord{Kind: providers.KindApply}); !errors.As(err, &stale) {
		t.Fatalf("Activate after the live deployment moved: %v, want a StalePlanError", err)
	}
	if after, _ := h.cf.active(); after != before {
		t.Errorf("the refused activation changed the live version from %s to %s", before, after)
	}

	// A script deleted behind the plan is a moved live state too, not a first deploy.
	pl = h.plan(t, g, testArtifacts("v4"), p)
	if s, err = p.Stage(context.Background(), pl.Targets[0]); err != nil {
		t.Fatal(err)
	}
	h.cf.deleteScript()
	if _, err := p.Activate(context.Background(), s, providers.DeployRecord{Kind: providers.KindApply}); !errors.As(err, &stale) {
		t.Fatalf("Activate after the script was deleted: %v, want a StalePlanError", err)
	}
}

func TestPartialFailureRestoresTheWorker(t *testing.T) {
	h := newHarness(t)
	// With a secret: the failed apply's own secrets call changed it, and the restore must still go through.
	g := testGateway(true, "users")
	p := h.provider(t, g)
	v1 := h.deploy(t, p, g, testArtifacts("v1"))

	other := fake.New("other")
	other.Faults.Activate = errors.New("other target refuses")
	h.env["JWT_SECRET"] = testSecret + "-rotated"
	before, _ := h.cf.active()
	g2 := testGateway(true, "users", "orders")
	pl := h.plan(t, g2, testArtifacts("v2"), p, other)
	rep, err := h.apply(t, g2, pl, p, other)
	var partial *providers.PartialError
	if !errors.As(err, &partial) {
		t.Fatalf("apply: %v, want a PartialError", err)
	}
	if live, _ := h.cf.active(); live != before {
		t.Errorf("live version %s after the restore, want %s", live, before)
	}
	if rep.Targets[0].Target != Name || rep.Targets[0].Status != providers.StatusRestored {
		t.Errorf("report %+v, want cloudflare restored", rep.Targets)
	}
	recs, err := p.History(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(recs); n != 3 || recs[2].Kind != providers.KindRestore || recs[2].Version != before || recs[1].Version == v1 {
		t.Errorf("history %+v, want apply of %s, apply, restore to %s", recs, v1, before)
	}
}

func TestRollbackIsExactlyOneAPICall(t *testing.T) {
	h := newHarness(t)
	g := testGateway(false, "users")
	p := h.provider(t, g)
	v1 := h.deploy(t, p, g, testArtifacts("v1"))
	v2 := h.deploy(t, p, testGateway(false, "users", "orders"), testArtifacts("v2"))

	// The provider's rollback itself: one request, the deployment.
	mark := len(h.srv.Requests())
	res, err := p.Rollback(context.Background(), providers.RestorePoint{Target: Name, Version: v1},
		providers.DeployRecord{Kind: providers.KindRollback, Previous: providers.RestorePoint{Version: v2}})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.calls(mark); len(got) != 1 || got[0] != "POST /deployments" {
		t.Errorf("rollback made %v, want exactly one POST /deployments", got)
	}
	if live, _ := h.cf.active(); live != v1 || res.Version != v1 {
		t.Errorf("live %s, result %s, want %s", live, res.Version, v1)
	}

	// Through the engine: it reads the records, then writes exactly that one deployment.
	p2 := h.provider(t, g)
	h.deploy(t, p2, testGateway(false, "users", "orders"), testArtifacts("v3"))
	mark = len(h.srv.Requests())
	rep, err := providers.Rollback(context.Background(), []providers.Provider{p2}, providers.RollbackOptions{Getenv: h.getenv, Who: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	if w := h.writes(mark); len(w) != 1 || w[0] != "POST /deployments" {
		t.Errorf("engine rollback wrote %v, want exactly one POST /deployments", w)
	}
	if live, _ := h.cf.active(); live != v1 || rep.Targets[0].Status != providers.StatusRolledBack {
		t.Errorf("live %s, report %+v, want %s rolled back", live, rep.Targets, v1)
	}
}

func TestRollbackAfterASecretChangeNeedsForce(t *testing.T) {
	h := newHarness(t)
	g := testGateway(true, "users")
	p := h.provider(t, g)
	h.deploy(t, p, g, testArtifacts("v1")) // first deploy: the secret is set once the script exists
	h.env["JWT_SECRET"] = testSecret + "-rotated"
	h.deploy(t, p, testGateway(true, "users", "orders"), testArtifacts("v2"))
	liveBefore, _ := h.cf.active()

	_, err := providers.Rollback(context.Background(), []providers.Provider{p}, providers.RollbackOptions{Getenv: h.getenv, Who: "tester"})
	var sc *SecretsChangedError
	if !errors.As(err, &sc) {
		t.Fatalf("rollback past a secret change: %v, want a SecretsChangedError", err)
	}
	for _, want := range []string{"error 10220", "secrets changed since that version was live", "the secrets it was deployed with", "nothing was changed", "`edgegw rollback --force`", "script " + sc.Script} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), testSecret) {
		t.Errorf("the error shows the secret value: %v", err)
	}
	var nf providers.NeedsForce // what cmd maps to exit code 5 (cmd/rollback tests the mapping)
	if !errors.As(err, &nf) {
		t.Errorf("the refusal is no providers.NeedsForce, so the command would not exit 5: %T", err)
	}
	if live, _ := h.cf.active(); live != liveBefore {
		t.Errorf("a refused rollback moved the live version from %s to %s", liveBefore, live)
	}

	mark := len(h.srv.Requests())
	if _, err := providers.Rollback(context.Background(), []providers.Provider{p}, providers.RollbackOptions{Getenv: h.getenv, Who: "tester", Force: true}); err != nil {
		t.Fatalf("forced rollback: %v", err)
	}
	if w := h.writes(mark); len(w) != 1 || w[0] != "POST /deployments?force=true" {
		t.Errorf("forced rollback wrote %v, want one POST /deployments?force=true", w)
	}
	if live, _ := h.cf.active(); live == liveBefore {
		t.Errorf("the forced rollback left %s live", live)
	}
}

func TestNoSecretValueInAnyRequestButTheSecretsCall(t *testing.T) {
	h := newHarness(t)
	g := testGateway(true, "users")
	p := h.provider(t, g)
	h.deploy(t, p, g, testArtifacts("v1"))
	h.deploy(t, p, testGateway(true, "users", "orders"), testArtifacts("v2"))
	if _, err := providers.Rollback(context.Background(), []providers.Provider{p}, providers.RollbackOptions{Getenv: h.getenv}); err == nil {
		t.Log("rollback went through")
	}

	secretCalls := 0
	for _, r := range h.srv.Requests() {
		line := fmt.Sprintf("%s %s?%s %v %s", r.Method, r.Path, r.Query.Encode(), r.Header, r.Body)
		isSecrets := r.Method == http.MethodPut && strings.HasSuffix(r.Path, "/secrets")
		if isSecrets {
			secretCalls++
			if !strings.Contains(line, testSecret) {
				t.Errorf("the secrets call does not carry the value: %s", line)
			}
			continue
		}
		if strings.Contains(line, testSecret) {
			t.Errorf("secret value in a request that is not the secrets call: %s %s", r.Method, r.Path)
		}
	}
	if secretCalls != 2 {
		t.Errorf("%d secrets calls, want 2 (one per apply)", secretCalls)
	}

	// A failed secrets call does not repeat the value in its error either.
	h.cf.inject("PUT", "/secrets", apitest.Bytes(http.StatusBadRequest, "application/json",
		[]byte(`{"success":false,"errors":[{"code":10021,"message":"bad secret"}],"messages":[],"result":null}`)))
	err := p.PutSecrets(context.Background(), []providers.Secret{{Name: "JWT_SECRET", Value: providers.NewSensitive(testSecret)}})
	if err == nil || strings.Contains(err.Error(), testSecret) || !strings.Contains(err.Error(), "10021") {
		t.Errorf("failed secrets call: %v", err)
	}
}

func TestAPIFaults(t *testing.T) {
	t.Run("429 with Retry-After is waited out and retried", func(t *testing.T) {
		h := newHarness(t)
		g := testGateway(false, "users")
		p := h.provider(t, g)
		h.cf.inject("PUT", "/"+testScript, apitest.RateLimited(1))
		start := time.Now()
		live := h.deploy(t, p, g, testArtifacts("v1"))
		if d := time.Since(start); d < time.Second {
			t.Errorf("apply took %v: Retry-After: 1 was not honoured", d)
		}
		var uploads int
		for _, c := range h.calls(0) {
			if c == "PUT " {
				uploads++
			}
		}
		if uploads != 2 {
			t.Errorf("%d uploads, want 2 (the rate-limited one, then the retry)", uploads)
		}
		if v, _ := h.cf.active(); v != live {
			t.Errorf("live %s, want %s", v, live)
		}
	})
	t.Run("a 5xx is retried", func(t *testing.T) {
		h := newHarness(t)
		g := testGateway(false, "users")
		p := h.provider(t, g)
		h.cf.inject("POST", "/deployments", apitest.ServerError(http.StatusServiceUnavailable))
		live := h.deploy(t, p, g, testArtifacts("v1"))
		if v, n := h.cf.active(); v != live || n != 2 {
			t.Errorf("live %s with %d deployments, want %s and two deployments (the script upload's, the record's)", v, n, live)
		}
	})
	t.Run("a timed-out upload fails the apply before any traffic moves", func(t *testing.T) {
		h := newHarness(t)
		g := testGateway(false, "users")
		p := h.provider(t, g)
		v1 := h.deploy(t, p, g, testArtifacts("v1"))
		slow, err := Open(g, Options{Getenv: h.getenv, Timeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		h.cf.inject("POST", "/versions", apitest.Delay(10*time.Second, apitest.JSON(200, envelope(nil))))
		start := time.Now()
		_, err = h.apply(t, g, h.plan(t, testGateway(false, "users", "orders"), testArtifacts("v2"), slow), slow)
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("apply with a hanging upload: %v, want a deadline error", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the timeout took %v", d)
		}
		if v, _ := h.cf.active(); v != v1 {
			t.Errorf("live %s, want %s untouched", v, v1)
		}
	})
	t.Run("an upload the API rejects is reported with its code", func(t *testing.T) {
		h := newHarness(t)
		g := testGateway(false, "users")
		p := h.provider(t, g)
		arts := testArtifacts("v1")
		arts[0].MediaType = "text/plain" // not a module: the API cannot find the main module
		_, err := h.apply(t, g, h.plan(t, g, arts, p), p)
		if err == nil || !strings.Contains(err.Error(), "not among the uploaded modules") && apiCode(err) != 10021 {
			t.Fatalf("apply of a non-module main: %v", err)
		}
		if v, _ := h.cf.active(); v != "" {
			t.Errorf("live %s after a rejected upload", v)
		}
	})
}

func TestCredentials(t *testing.T) {
	g := testGateway(false, "users")
	env := map[string]string{TokenVar: testToken, AccountVar: testAccount}
	open := func(g *ir.Gateway, unset ...string) error {
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		for _, k := range unset {
			delete(e, k)
		}
		_, err := Open(g, Options{Getenv: func(k string) string { return e[k] }})
		return err
	}
	var ce *providers.CredentialsError
	if err := open(g, TokenVar); !errors.As(err, &ce) || ce.Var != TokenVar {
		t.Errorf("no token: %v, want a CredentialsError naming %s", err, TokenVar)
	}
	if err := open(g, AccountVar); !errors.As(err, &ce) || ce.Var != AccountVar {
		t.Errorf("no account: %v, want a CredentialsError naming %s", err, AccountVar)
	}
	named := testGateway(false, "users")
	named.Targets[0].Config.(*Settings).AccountID = ir.Value{Env: "MY_CF_ACCOUNT"}
	if err := open(named); !errors.As(err, &ce) || ce.Var != "MY_CF_ACCOUNT" {
		t.Errorf("account from an unset {env: MY_CF_ACCOUNT}: %v, want a CredentialsError naming it", err)
	}
	literal := testGateway(false, "users")
	literal.Targets[0].Config.(*Settings).AccountID = ir.Value{Literal: testAccount}
	if err := open(literal, AccountVar); err != nil {
		t.Errorf("literal account id: %v", err)
	}
	env[endpoint.CloudflareBaseURL] = "ftp://example.com"
	if err := open(g); err == nil || errors.As(err, &ce) || !strings.Contains(err.Error(), endpoint.CloudflareBaseURL) {
		t.Errorf("bad endpoint override: %v, want an error naming %s", err, endpoint.CloudflareBaseURL)
	}
}

func TestDeployMessageFitsCloudflareLimit(t *testing.T) {
	rec := providers.DeployRecord{Kind: providers.KindRollback, Commit: testCommit, Who: "github:someone",
		Previous: providers.RestorePoint{Version: "0000-1111"}, Note: strings.Repeat("é long note ", 200)}
	m := encodeMessage(rec)
	if len(m) > maxMessage {
		t.Fatalf("message is %d bytes, over %d", len(m), maxMessage)
	}
	got, ok := decodeMessage(m)
	if !ok || got.Commit != testCommit || got.Kind != providers.KindRollback || got.Previous != "0000-1111" {
		t.Errorf("decoded %+v from %q", got, m)
	}
}

func TestVersionAnnotationsNameTheManifestCommit(t *testing.T) {
	dir := t.TempDir()
	manifestPath := filepath.Join(dir, "edgegw.yaml")
	if err := os.WriteFile(manifestPath, []byte("name: test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add("edgegw.yaml"); err != nil {
		t.Fatal(err)
	}
	sha, err := wt.Commit("manifest", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}

	h := newHarness(t)
	g := testGateway(false, "users")
	g.Sections = map[string]ir.Pos{"targets." + Name: {File: manifestPath, Line: 3, Col: 3}}
	p, err := Open(g, Options{Getenv: h.getenv, BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	h.deploy(t, p, g, testArtifacts("v1"))
	var md struct {
		Annotations map[string]string `json:"annotations"`
	}
	for _, r := range h.srv.Requests() {
		if r.Method == "PUT" && strings.HasSuffix(r.Path, "/"+testScript) {
			if err := json.Unmarshal(metadataPart(t, r), &md); err != nil {
				t.Fatal(err)
			}
		}
	}
	if want := "git:" + sha.String() + " "; !strings.Contains(md.Annotations["workers/message"], want) {
		t.Errorf("version message %q, want it to name %s", md.Annotations["workers/message"], want)
	}
}

func TestRoutesForHostsAndWildcards(t *testing.T) {
	h := newHarness(t)
	g := testGateway(false, "users")
	g.Domains = []ir.Domain{
		{Host: "example.com", Zone: "example.com", Apex: true},
		{Host: "api.example.com", Zone: "example.com"},
		{Host: "*.tenants.example.com", Zone: "example.com", Wildcard: true},
	}
	p := h.provider(t, g)
	h.deploy(t, p, g, testArtifacts("v1"))
	want := []string{"*.tenants.example.com/* -> " + testScript, "api.example.com/* -> " + testScript, "example.com/* -> " + testScript}
	if got := h.cf.patterns("example.com"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("routes %v, want %v", got, want)
	}

	// A route deleted by hand is drift: plan lists the domain, apply puts the route back.
	h.cf.mu.Lock()
	zid := h.cf.zones["example.com"]
	for i, x := range h.cf.routes[zid] {
		if x.Pattern == "api.example.com/*" {
			h.cf.routes[zid] = append(h.cf.routes[zid][:i:i], h.cf.routes[zid][i+1:]...)
		}
	}
	h.cf.mu.Unlock()
	tp := h.plan(t, g, testArtifacts("v1"), p).Targets[0]
	if len(tp.Changes) != 1 || tp.Changes[0].Kind != "domain" || tp.Changes[0].Action != providers.Create || tp.Changes[0].Name != "api.example.com" {
		t.Errorf("plan after a route was deleted: %+v, want create domain api.example.com", tp.Changes)
	}
	h.deploy(t, p, g, testArtifacts("v1"))
	if got := h.cf.patterns("example.com"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("routes after the repair %v, want %v", got, want)
	}

	// A domain taken out of the manifest loses its route; other scripts' routes are left alone.
	h.cf.mu.Lock()
	h.cf.routes[zid] = append(h.cf.routes[zid], route{ID: "other-1", Pattern: "www.example.com/*", Script: "marketing-site"})
	h.cf.mu.Unlock()
	g2 := testGateway(false, "users")
	g2.Domains = g.Domains[1:]
	pl := h.plan(t, g2, testArtifacts("v2"), p)
	var th *providers.ThresholdError
	if _, err := h.apply(t, g2, pl, p); !errors.As(err, &th) {
		t.Fatalf("apply that drops the live apex: %v, want a ThresholdError", err)
	}
	if _, err := providers.Apply(context.Background(), pl, map[string]providers.Provider{Name: p},
		providers.ApplyOptions{Gateway: g2, Getenv: h.getenv, Who: "tester", Force: true}); err != nil {
		t.Fatalf("forced apply: %v", err)
	}
	want = []string{"*.tenants.example.com/* -> " + testScript, "api.example.com/* -> " + testScript, "www.example.com/* -> marketing-site"}
	if got := h.cf.patterns("example.com"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("routes after removing the apex %v, want %v", got, want)
	}

	// A pattern another script serves is not taken over.
	g3 := testGateway(false, "users")
	g3.Domains = append(g2.Domains, ir.Domain{Host: "www.example.com", Zone: "example.com"})
	_, err := p.Plan(context.Background(), providers.PlanInput{Gateway: g3, Artifacts: testArtifacts("v3")})
	if err == nil || !strings.Contains(err.Error(), "marketing-site") {
		t.Errorf("plan onto another script's route: %v, want an error naming marketing-site", err)
	}
}

func TestRouteChangesMarkTheApex(t *testing.T) {
	rp := routePlan{
		create: []wantRoute{{zone: "example.com", host: "example.com", pattern: "example.com/*", apex: true}},
		remove: []staleRoute{{zone: "example.org", route: route{ID: "1", Pattern: "example.org/*", Script: testScript}},
			{zone: "example.org", route: route{ID: "2", Pattern: "api.example.org/*", Script: testScript}}},
	}
	got := routeChanges(rp, &providers.TargetPlan{})
	var s []string
	for _, c := range got {
		s = append(s, fmt.Sprintf("%s %s apex=%v", c.Action, c.Name, c.Apex))
	}
	want := "create example.com apex=true,delete example.org apex=true,delete api.example.org apex=false"
	if strings.Join(s, ",") != want {
		t.Errorf("route changes %v, want %s", s, want)
	}
}

// metadataPart returns the "metadata" part of a multipart upload request.
func metadataPart(t *testing.T, r apitest.Request) []byte {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("%s %s: content type %q, want multipart/form-data", r.Method, r.Path, r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(strings.NewReader(string(r.Body)), params["boundary"])
	for part, err := mr.NextPart(); err == nil; part, err = mr.NextPart() {
		if part.FormName() == "metadata" {
			b, _ := io.ReadAll(part)
			return b
		}
	}
	t.Fatalf("%s %s: no metadata part", r.Method, r.Path)
	return nil
}

func TestSavedPlanIsAppliedByAnotherProcess(t *testing.T) {
	h := newHarness(t)
	g := testGateway(false, "users")
	h.deploy(t, h.provider(t, g), g, testArtifacts("v1"))

	// `plan -out` in one process, `apply plan.json` in another: the plan goes through its file.
	g2 := testGateway(false, "users", "orders")
	data, err := h.plan(t, g2, testArtifacts("v2"), h.provider(t, g2)).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), testToken) {
		t.Error("the plan file holds the API token")
	}
	saved, err := providers.ReadPlan("plan.json", data)
	if err != nil {
		t.Fatal(err)
	}
	applier := h.provider(t, g2)
	if _, err := h.apply(t, g2, saved, applier); err != nil {
		t.Fatalf("apply of the saved plan: %v", err)
	}
	// What the applying process uploaded carries the gateway summary: a third process sees no change, and
	// a route change is still a route change.
	if tp := h.plan(t, g2, testArtifacts("v2"), h.provider(t, g2)).Targets[0]; tp.HasChanges() || tp.LiveRoutes != 2 {
		t.Errorf("plan after the saved plan was applied: changes %+v, %d live routes, want none and 2", tp.Changes, tp.LiveRoutes)
	}
}
