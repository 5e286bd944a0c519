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
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/plan/view"
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
		q := cloneQuery(r.Query)
		if q.Get("page") == "1" && q.Get("per_page") == "1000" {
			q.Del("page")
			q.Del("per_page")
		}
		if q.Get("comment.exact") == placeholderComment(testScript) {
			q.Set("comment.exact", "EDGEGW")
		}
		if len(q) > 0 {
			s += "?" + q.Encode()
		}
		out = append(out, s)
	}
	return out
}

func cloneQuery(q url.Values) url.Values {
	c := url.Values{}
	for k, v := range q {
		c[k] = append([]string(nil), v...)
	}
	return c
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
	const (
		zr   = "/zones/023e105f4ecef8ad9ca31a8372d0c353/workers/routes"
		own  = "GET /zones/023e105f4ecef8ad9ca31a8372d0c353/dns_records?comment.exact=EDGEGW" // the placeholders edgegw made
		host = "GET /zones/023e105f4ecef8ad9ca31a8372d0c353/dns_records?name.exact=api.example.com"
		cds  = "/accounts/" + testAccount + "/workers/domains"
	)
	diff := func(got, want []string) {
		t.Helper()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("API calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	// The first deploy creates the script with the Durable Object migration: versions take none.
	v1 := h.deploy(t, p, g1, testArtifacts("v1"))
	// api.example.com has no DNS record: it becomes a Workers Custom Domain.
	diff(h.calls(0), []string{
		"GET /deployments", "GET /zones?account.id=" + testAccount + "&name=example.com", "GET " + zr, own, "GET " + cds, host, // plan: no script yet
		"GET /deployments", "GET " + zr, own, "GET " + cds, host, // the engine's stale check
		"PUT ", "GET /deployments", // stage: the script upload, which deploys
		"GET /deployments", "GET " + zr, own, "GET " + cds, host, "PUT " + cds, "POST /deployments", // activate: the edge, then the record
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
		"GET /deployments", "GET /versions/" + v1, "GET " + zr, own, "GET " + cds, // plan: the live version's summary
		"GET /deployments", "GET /versions/" + v1, "GET " + zr, own, "GET " + cds,
		"POST /versions",
		"GET /deployments", "GET " + zr, own, "GET " + cds, "POST /deployments",
	})
	if v, _ := h.cf.active(); v != live || live == "" || live == v1 {
		t.Fatalf("live version %q, the apply reported %q", v, live)
	}
	if got, _ := h.cf.edge("example.com"); strings.Join(got, ",") != "api.example.com -> "+testScript {
		t.Errorf("custom domains %v, want api.example.com to the script", got)
	}
	if got := h.cf.patterns("example.com"); len(got) != 0 {
		t.Errorf("zone routes %v, want none: the custom domain serves the host", got)
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
	// A mutation whose answer is lost after the API carried it out is not made twice: the provider reads
	// whether it landed before trying again.
	wildcard := testGateway(false, "users")
	wildcard.Domains = []ir.Domain{{Host: "*.tenants.example.com", Zone: "example.com", Wildcard: true}}
	for _, c := range []struct {
		name, method, suffix string
		lose                 apitest.Responder
	}{
		{"a deployment answered with a 502", "POST", "/deployments", apitest.ServerError(http.StatusBadGateway)},
		{"a route whose connection drops", "POST", "/workers/routes", apitest.ResetConnection()},
		{"a DNS record whose answer outlives the timeout", "POST", "/dns_records", apitest.Delay(10*time.Second, apitest.JSON(200, envelope(nil)))},
	} {
		t.Run(c.name+" is not made twice", func(t *testing.T) {
			h := newHarness(t)
			p, err := Open(wildcard, Options{Getenv: h.getenv, Timeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			h.cf.inject(c.method, c.suffix, h.cf.lostAnswer(c.lose))
			live := h.deploy(t, p, wildcard, testArtifacts("v1"))
			n := 0
			for _, w := range h.writes(0) {
				if strings.HasPrefix(w, c.method+" ") && strings.HasSuffix(strings.SplitN(w, "?", 2)[0], c.suffix) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d × %s …%s, want 1: the mutation that landed was replayed (%v)", n, c.method, c.suffix, h.writes(0))
			}
			_, records := h.cf.edge("example.com")
			if v, deps := h.cf.active(); v != live || deps != 2 || len(h.cf.patterns("example.com")) != 1 || len(records) != 1 {
				t.Errorf("live %s with %d deployments, routes %v, records %v; want %s, 2 deployments, one route, one record",
					v, deps, h.cf.patterns("example.com"), records, live)
			}
		})
	}
	t.Run("a version upload answered with a 502 is not made twice", func(t *testing.T) {
		h := newHarness(t)
		g := testGateway(false, "users")
		p := h.provider(t, g)
		h.deploy(t, p, g, testArtifacts("v1"))
		h.cf.inject("POST", "/versions", h.cf.lostAnswer(apitest.ServerError(http.StatusBadGateway)))
		mark := len(h.srv.Requests())
		live := h.deploy(t, p, testGateway(false, "users", "orders"), testArtifacts("v2"))
		n := 0
		for _, w := range h.writes(mark) {
			if w == "POST /versions" {
				n++
			}
		}
		h.cf.mu.Lock()
		versions := len(h.cf.versions)
		h.cf.mu.Unlock()
		if v, _ := h.cf.active(); n != 1 || versions != 2 || v != live {
			t.Errorf("%d version uploads, %d versions, live %s (reported %s); want 1 upload, 2 versions, the uploaded one live", n, versions, v, live)
		}
	})
	t.Run("a deletion whose answer is lost is done once and not an error", func(t *testing.T) {
		h := newHarness(t)
		p := h.provider(t, wildcard)
		h.deploy(t, p, wildcard, testArtifacts("v1"))
		h.cf.inject("DELETE", "", h.cf.lostAnswer(apitest.ServerError(http.StatusBadGateway)))
		h.cf.inject("DELETE", "", h.cf.lostAnswer(apitest.ResetConnection()))
		none := testGateway(false, "users")
		none.Domains = []ir.Domain{{Host: "api.example.com", Zone: "example.com"}}
		h.deploy(t, p, none, testArtifacts("v2"))
		domains, records := h.cf.edge("example.com")
		if routes := h.cf.patterns("example.com"); len(routes) != 0 || len(records) != 0 || strings.Join(domains, ",") != "api.example.com -> "+testScript {
			t.Errorf("routes %v, records %v, custom domains %v; want the wildcard's route and placeholder gone, api.example.com a custom domain", routes, records, domains)
		}
	})
	t.Run("a rate-limited deployment waits out Retry-After and is made once", func(t *testing.T) {
		h := newHarness(t)
		g := testGateway(false, "users")
		p := h.provider(t, g)
		h.cf.inject("POST", "/deployments", apitest.RateLimited(1))
		start := time.Now()
		live := h.deploy(t, p, g, testArtifacts("v1"))
		if d := time.Since(start); d < time.Second {
			t.Errorf("apply took %v: Retry-After: 1 was not honoured", d)
		}
		if v, n := h.cf.active(); v != live || n != 2 {
			t.Errorf("live %s with %d deployments, want %s and 2", v, n, live)
		}
	})
	t.Run("a hanging upload is tried a bounded number of times, then fails before any traffic moves", func(t *testing.T) {
		h := newHarness(t)
		g := testGateway(false, "users")
		p := h.provider(t, g)
		v1 := h.deploy(t, p, g, testArtifacts("v1"))
		slow, err := Open(g, Options{Getenv: h.getenv, Timeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		saved := backoff
		backoff = func(int) time.Duration { return 10 * time.Millisecond }
		defer func() { backoff = saved }()
		for range maxRetries + 2 { // one more than the provider tries
			h.cf.inject("POST", "/versions", apitest.Delay(10*time.Second, apitest.JSON(200, envelope(nil))))
		}
		mark := len(h.srv.Requests())
		start := time.Now()
		_, err = h.apply(t, g, h.plan(t, testGateway(false, "users", "orders"), testArtifacts("v2"), slow), slow)
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("apply with a hanging upload: %v, want a deadline error", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the timeouts took %v", d)
		}
		n := 0
		for _, w := range h.writes(mark) {
			if w == "POST /versions" {
				n++
			}
		}
		if n != maxRetries+1 {
			t.Errorf("%d uploads, want %d: the first and %d retries", n, maxRetries+1, maxRetries)
		}
		if v, _ := h.cf.active(); v != v1 {
			t.Errorf("live %s, want %s untouched", v, v1)
		}
		h.cf.mu.Lock()
		h.cf.faults = nil // the one left over
		h.cf.mu.Unlock()
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

// addRecord puts a DNS record in the fake's zone, as a user made it.
func (f *fakeCF) addRecord(zone, name, typ, content string, proxied bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.zones[zone]
	f.records[id] = append(f.records[id], dnsRecord{ID: f.id("record"), Name: name, Type: typ, Content: content, Proxied: proxied})
}

func changeLines(tp *providers.TargetPlan) []string {
	var out []string
	for _, c := range tp.Changes {
		out = append(out, string(c.Action)+" "+c.Kind+" "+c.Name)
	}
	return out
}

func TestCustomDomainsRoutesAndPlaceholderRecords(t *testing.T) {
	h := newHarness(t)
	g := testGateway(false, "users")
	g.Domains = []ir.Domain{
		{Host: "example.com", Zone: "example.com", Apex: true},
		{Host: "api.example.com", Zone: "example.com"},
		{Host: "*.tenants.example.com", Zone: "example.com", Wildcard: true},
		{Host: "legacy.example.com", Zone: "example.com"},
	}
	// The apex has the user's CNAME (flattened, proxied); legacy has a DNS-only A record.
	h.cf.addRecord("example.com", "example.com", "CNAME", "origin.example.net", true)
	h.cf.addRecord("example.com", "legacy.example.com", "A", "192.0.2.10", false)
	p := h.provider(t, g)

	tp := h.plan(t, g, testArtifacts("v1"), p).Targets[0]
	var edge []string
	for _, l := range changeLines(tp) {
		if !strings.Contains(l, " domain ") && !strings.Contains(l, " route ") && !strings.Contains(l, " artifact ") {
			edge = append(edge, l)
		}
	}
	wantPlan := []string{
		"create migration v1: new EdgegwState",
		"create custom_domain api.example.com",
		"create zone_route example.com/*", "create zone_route *.tenants.example.com/*", "create zone_route legacy.example.com/*",
		"create dns_record *.tenants.example.com AAAA 100:: proxied",
	}
	if strings.Join(edge, "\n") != strings.Join(wantPlan, "\n") {
		t.Errorf("plan's edge changes:\n%s\nwant:\n%s", strings.Join(edge, "\n"), strings.Join(wantPlan, "\n"))
	}
	if len(tp.Warnings) != 1 || !strings.Contains(tp.Warnings[0], "legacy.example.com") || !strings.Contains(tp.Warnings[0], "proxy") {
		t.Errorf("plan warnings %q, want one saying legacy.example.com's records are DNS-only", tp.Warnings)
	}

	h.deploy(t, p, g, testArtifacts("v1"))
	wantRoutes := []string{"*.tenants.example.com/* -> " + testScript, "example.com/* -> " + testScript, "legacy.example.com/* -> " + testScript}
	wantDomains := []string{"api.example.com -> " + testScript}
	wantRecords := []string{"*.tenants.example.com AAAA 100:: proxied (edgegw)", "example.com CNAME origin.example.net proxied", "legacy.example.com A 192.0.2.10"}
	check := func(when string, routes, domains, records []string) {
		t.Helper()
		gotD, gotR := h.cf.edge("example.com")
		if got := h.cf.patterns("example.com"); strings.Join(got, "\n") != strings.Join(routes, "\n") {
			t.Errorf("%s: routes %v, want %v", when, got, routes)
		}
		if strings.Join(gotD, "\n") != strings.Join(domains, "\n") {
			t.Errorf("%s: custom domains %v, want %v", when, gotD, domains)
		}
		if strings.Join(gotR, "\n") != strings.Join(records, "\n") {
			t.Errorf("%s: DNS records %v, want %v", when, gotR, records)
		}
	}
	check("first apply", wantRoutes, wantDomains, wantRecords)
	// The deploy record names the placeholder it created.
	recs, err := p.History(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	deps, _ := p.api.Deployments(context.Background(), testScript)
	if m, ok := decodeMessage(deps[0].Message); !ok || strings.Join(m.DNS, ",") != "*.tenants.example.com" || len(recs) != 1 {
		t.Errorf("deploy record %q, want it to name the placeholder *.tenants.example.com", deps[0].Message)
	}

	// Re-plan: nothing to do.
	if tp := h.plan(t, g, testArtifacts("v1"), p).Targets[0]; tp.HasChanges() {
		t.Errorf("re-plan has changes %v", changeLines(tp))
	}

	// A custom domain detached by hand is drift: plan lists it, apply attaches it again.
	h.cf.mu.Lock()
	h.cf.domains = nil
	h.cf.mu.Unlock()
	tp = h.plan(t, g, testArtifacts("v1"), p).Targets[0]
	if got := strings.Join(changeLines(tp), ","); got != "create domain api.example.com,create custom_domain api.example.com" {
		t.Errorf("plan after the custom domain was detached: %s", got)
	}
	h.deploy(t, p, g, testArtifacts("v1"))
	check("repair", wantRoutes, wantDomains, wantRecords)

	// Hosts taken out of the manifest lose their route, custom domain and placeholder; the user's
	// records and other scripts' routes are left alone.
	h.cf.mu.Lock()
	zid := h.cf.zones["example.com"]
	h.cf.routes[zid] = append(h.cf.routes[zid], route{ID: "other-1", Pattern: "www.example.com/*", Script: "marketing-site"})
	h.cf.mu.Unlock()
	g2 := testGateway(false, "users")
	g2.Domains = []ir.Domain{g.Domains[0]}
	pl := h.plan(t, g2, testArtifacts("v2"), p)
	if _, err := h.apply(t, g2, pl, p); err != nil {
		t.Fatalf("apply: %v", err)
	}
	check("hosts removed", []string{"example.com/* -> " + testScript, "www.example.com/* -> marketing-site"}, nil,
		[]string{"example.com CNAME origin.example.net proxied", "legacy.example.com A 192.0.2.10"})

	// Dropping the live apex is refused without --force.
	g3 := testGateway(false, "users")
	g3.Domains = []ir.Domain{g.Domains[1]}
	var th *providers.ThresholdError
	if _, err := h.apply(t, g3, h.plan(t, g3, testArtifacts("v3"), p), p); !errors.As(err, &th) {
		t.Fatalf("apply that drops the live apex: %v, want a ThresholdError", err)
	}

	// A pattern another script serves, or another Worker's custom domain, is not taken over.
	g4 := testGateway(false, "users")
	g4.Domains = append(g2.Domains, ir.Domain{Host: "www.example.com", Zone: "example.com"})
	if _, err := p.Plan(context.Background(), providers.PlanInput{Gateway: g4, Artifacts: testArtifacts("v4")}); err == nil || !strings.Contains(err.Error(), "marketing-site") {
		t.Errorf("plan onto another script's route: %v, want an error naming marketing-site", err)
	}
	h.cf.mu.Lock()
	h.cf.domains = append(h.cf.domains, customDomain{ID: "d-other", Host: "shop.example.com", Script: "storefront", ZoneID: zid})
	h.cf.mu.Unlock()
	g4.Domains = append(g2.Domains, ir.Domain{Host: "shop.example.com", Zone: "example.com"})
	if _, err := p.Plan(context.Background(), providers.PlanInput{Gateway: g4, Artifacts: testArtifacts("v4")}); err == nil || !strings.Contains(err.Error(), "storefront") {
		t.Errorf("plan onto another Worker's custom domain: %v, want an error naming storefront", err)
	}
}

func TestEdgeChangesMarkTheApex(t *testing.T) {
	ep := edgePlan{
		domains: []wantHost{{zone: "example.com", host: "example.com", apex: true}},
		removeRoutes: []staleRoute{{zone: "example.org", route: route{ID: "1", Pattern: "example.org/*", Script: testScript}},
			{zone: "example.org", route: route{ID: "2", Pattern: "api.example.org/*", Script: testScript}}},
		removeDomains: []customDomain{{ID: "3", Host: "example.net", Script: testScript, ZoneName: "example.net"}},
	}
	got := edgeChanges(ep, &providers.TargetPlan{})
	var s []string
	for _, c := range got {
		s = append(s, fmt.Sprintf("%s %s %s apex=%v", c.Action, c.Kind, c.Name, c.Apex))
	}
	want := "create domain example.com apex=true,delete domain example.org apex=true,delete domain api.example.org apex=false,delete domain example.net apex=true," +
		"create custom_domain example.com apex=true,delete custom_domain example.net apex=true,delete zone_route example.org/* apex=false,delete zone_route api.example.org/* apex=false"
	if strings.Join(s, ",") != want {
		t.Errorf("edge changes\n%v\nwant\n%s", strings.Join(s, ","), want)
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

// A failed apply leaves no route, custom domain or DNS record changed: a failure of the deployment right
// after the edge changed, of a call in the middle of the edge changes, and of a later step (another
// target) that restores this one. The first two exit 3, as the engine's restore does.
func TestFailedApplyPutsTheEdgeBack(t *testing.T) {
	g1 := testGateway(false, "users")
	g2 := testGateway(false, "users", "orders")
	g2.Domains = []ir.Domain{{Host: "*.tenants.example.com", Zone: "example.com", Wildcard: true}, {Host: "new.example.com", Zone: "example.com"}}
	setup := func(t *testing.T) (*harness, *Provider, string) {
		h := newHarness(t)
		p := h.provider(t, g1)
		v1 := h.deploy(t, p, g1, testArtifacts("v1"))
		return h, p, v1
	}
	same := func(t *testing.T, h *harness, v1 string) {
		t.Helper()
		if v, _ := h.cf.active(); v != v1 {
			t.Errorf("live version %s, want %s", v, v1)
		}
		domains, records := h.cf.edge("example.com")
		if routes := h.cf.patterns("example.com"); len(routes) != 0 || strings.Join(domains, ",") != "api.example.com -> "+testScript || len(records) != 0 {
			t.Errorf("after the failed apply: routes %v, custom domains %v, DNS records %v; want only the custom domain api.example.com", routes, domains, records)
		}
	}
	exit3 := func(t *testing.T, err error) {
		t.Helper()
		if code := cmdutil.ExitCode(view.ExitError(err)); code != cmdutil.ExitPartial || !strings.Contains(err.Error(), "put back") {
			t.Errorf("apply error %v: exit %d, want %d and the error saying the edge was put back", err, code, cmdutil.ExitPartial)
		}
	}

	t.Run("the deployment fails after the edge changed", func(t *testing.T) {
		h, p, v1 := setup(t)
		h.cf.inject("POST", "/deployments", apiError(http.StatusBadRequest, 10021, "deployment refused"))
		mark := len(h.srv.Requests())
		_, err := h.apply(t, g2, h.plan(t, g2, testArtifacts("v2"), p), p)
		exit3(t, err)
		same(t, h, v1)
		var changed bool
		for _, w := range h.writes(mark) {
			changed = changed || strings.HasPrefix(w, "POST /zones/") // the route and the placeholder were made, then put back
		}
		if !changed {
			t.Errorf("the edge was never changed: the fault did not come after the route change (%v)", h.writes(mark))
		}
	})
	t.Run("a call in the middle of the edge changes fails", func(t *testing.T) {
		h, p, v1 := setup(t)
		h.cf.inject("PUT", "/workers/domains", apiError(http.StatusBadRequest, 100100, "invalid domain"))
		_, err := h.apply(t, g2, h.plan(t, g2, testArtifacts("v2"), p), p)
		exit3(t, err)
		same(t, h, v1)
	})
	t.Run("a later step fails and the engine restores the target", func(t *testing.T) {
		h, p, v1 := setup(t)
		other := fake.New("other")
		other.Faults.Activate = errors.New("other target refuses")
		rep, err := h.apply(t, g2, h.plan(t, g2, testArtifacts("v2"), p, other), p, other)
		var partial *providers.PartialError
		if !errors.As(err, &partial) || rep.Targets[0].Status != providers.StatusRestored {
			t.Fatalf("apply: %v, report %+v, want cloudflare restored", err, rep.Targets)
		}
		same(t, h, v1)
	})
}

// workerWithClasses is testArtifacts with Durable Object bindings to the given classes of the script.
func workerWithClasses(body string, classes ...string) []render.Artifact {
	arts := testArtifacts(body)
	var bs []string
	for i, c := range classes {
		bs = append(bs, fmt.Sprintf(`{"type":"durable_object_namespace","name":"STATE_%d","class_name":%q}`, i, c))
	}
	arts[1].Data = []byte(`{"main_module":"worker.js","compatibility_date":"2024-09-23","bindings":[` + strings.Join(bs, ",") + `]}`)
	return arts
}

// uploads returns the metadata migrations of every upload since mark: "PUT <migrations JSON>" for a script
// upload, "POST <migrations JSON>" for a version upload ("null" when it carries none).
func (h *harness) uploads(t *testing.T, mark int) []string {
	t.Helper()
	var out []string
	for _, r := range h.srv.Requests()[mark:] {
		if (r.Method == "PUT" && strings.HasSuffix(r.Path, "/scripts/"+testScript)) || (r.Method == "POST" && strings.HasSuffix(r.Path, "/versions")) {
			var md struct {
				Migrations json.RawMessage `json:"migrations"`
			}
			if err := json.Unmarshal(metadataPart(t, r), &md); err != nil {
				t.Fatal(err)
			}
			m := string(md.Migrations)
			if m == "" {
				m = "null"
			}
			out = append(out, r.Method+" "+m)
		}
	}
	return out
}

func TestDurableObjectMigrations(t *testing.T) {
	h := newHarness(t)
	g := testGateway(false, "users")
	step := func(name string, arts []render.Artifact, wantPlan string, want ...string) {
		t.Helper()
		p := h.provider(t, g) // a fresh process: the tag is read back from the live version
		tp := h.plan(t, g, arts, p).Targets[0]
		var got []string
		for _, c := range tp.Changes {
			if c.Kind == kindMigration {
				got = append(got, c.Name)
			}
		}
		if strings.Join(got, ",") != wantPlan {
			t.Errorf("%s: plan's migration %q, want %q", name, got, wantPlan)
		}
		mark := len(h.srv.Requests())
		h.deploy(t, p, g, arts)
		if u := h.uploads(t, mark); strings.Join(u, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: uploads\n%s\nwant\n%s", name, strings.Join(u, "\n"), strings.Join(want, "\n"))
		}
	}
	step("first deploy", workerWithClasses("v1", "EdgegwState"), "v1: new EdgegwState",
		`PUT {"new_sqlite_classes":["EdgegwState"],"new_tag":"v1"}`)
	step("second deploy, same classes", workerWithClasses("v2", "EdgegwState"), "", "POST null")
	step("a class added", workerWithClasses("v3", "EdgegwState", "EdgegwBreaker"), "v1 → v2: new EdgegwBreaker",
		`PUT {"new_sqlite_classes":["EdgegwBreaker"],"new_tag":"v2","old_tag":"v1"}`)
	step("next deploy, same classes", workerWithClasses("v4", "EdgegwState", "EdgegwBreaker"), "", "POST null")
	step("a class removed", workerWithClasses("v5", "EdgegwState"), "v2 → v3: delete EdgegwBreaker and its state",
		`PUT {"deleted_classes":["EdgegwBreaker"],"new_tag":"v3","old_tag":"v2"}`)
	h.cf.mu.Lock()
	tag, classes := h.cf.migrationTag, strings.Join(h.cf.classes, ",")
	h.cf.mu.Unlock()
	if tag != "v3" || classes != "EdgegwState" {
		t.Errorf("the script is at %s with classes %s, want v3 with EdgegwState", tag, classes)
	}

	// A script first deployed without classes gets its first migration when it gains one.
	h2 := newHarness(t)
	h = h2
	step("first deploy, no classes", workerWithClasses("w1"), "", "POST null")
	step("a class added later", workerWithClasses("w2", "EdgegwState"), "v1: new EdgegwState",
		`PUT {"new_sqlite_classes":["EdgegwState"],"new_tag":"v1"}`)

	// A script wrangler migrated past the tag the live version records: old_tag is the script's.
	h.cf.mu.Lock()
	h.cf.migrationTag = "v7"
	h.cf.mu.Unlock()
	step("a class removed after wrangler migrated the script", workerWithClasses("w3"), "v7 → v8: delete EdgegwState and its state",
		`PUT {"deleted_classes":["EdgegwState"],"new_tag":"v8","old_tag":"v7"}`)
	step("the class back", workerWithClasses("w4", "EdgegwState"), "v8 → v9: new EdgegwState",
		`PUT {"new_sqlite_classes":["EdgegwState"],"new_tag":"v9","old_tag":"v8"}`)

	// The script upload of a migration goes live at once: a failed activation deploys the version
	// live before it again, and exits 3.
	before, _ := h.cf.active()
	p := h.provider(t, g)
	h.cf.inject("POST", "/deployments", apiError(http.StatusBadRequest, 10021, "deployment refused"))
	_, err := h.apply(t, g, h.plan(t, g, workerWithClasses("w5", "EdgegwState", "EdgegwBreaker"), p), p)
	if code := cmdutil.ExitCode(view.ExitError(err)); code != cmdutil.ExitPartial || !strings.Contains(err.Error(), "replaced by "+before+" again") {
		t.Errorf("failed activation after a migration: %v, exit %d, want %d and the error naming %s", err, code, cmdutil.ExitPartial, before)
	}
	if live, _ := h.cf.active(); live != before {
		t.Errorf("live version %s after the failed apply, want %s again", live, before)
	}
}
