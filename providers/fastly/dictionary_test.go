package fastly_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/plan/view"
	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/apitest"
	"github.com/edgegw/edgegw/providers/fastly"
	"github.com/edgegw/edgegw/render"
	fastlyvcl "github.com/edgegw/edgegw/render/fastly"
)

// jwksServer serves a key set of RSA keys by kid; set replaces them.
type jwksServer struct {
	*httptest.Server
	mu   sync.Mutex
	keys map[string]*rsa.PublicKey
}

func newJWKSServer(t testing.TB, kids ...string) *jwksServer {
	s := &jwksServer{}
	s.set(t, kids...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		var keys []map[string]string
		for kid, k := range s.keys {
			keys = append(keys, map[string]string{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(t testing.TB, kids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = map[string]*rsa.PublicKey{}
	for _, kid := range kids {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		s.keys[kid] = &k.PublicKey
	}
}

// items is the JWKS dictionary the provider must fill from the served keys.
func (s *jwksServer) items(t testing.TB) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []jwtverify.Key
	for kid, k := range s.keys {
		keys = append(keys, jwtverify.Key{KID: kid, Alg: "RS256", Key: k})
	}
	return fastlyvcl.JWKSItems(keys, []string{"RS256"})
}

const secretValue = "hs256-secret-0123456789abcdefghijklmnopqrstuvwxyz"

// authGateway is a manifest with an HS256 policy (secret JWT_SECRET_KEY) and a JWKS policy at jwksURL.
func authGateway(t testing.TB, jwksURL string) *ir.Gateway {
	t.Helper()
	return authGatewayWith(t, jwksURL, "")
}

// authGatewayWith is authGateway with more settings in targets.fastly (", validate_plan: true").
func authGatewayWith(t testing.TB, jwksURL, settings string) *ir.Gateway {
	t.Helper()
	src := `version: 1
name: edge-api-gateway
domains: [{host: api.example.com, zone: example.com}]
origins: {primary: {url: "https://api-origin.internal"}}
pools: {api: {origins: [primary]}}
auth:
  hs: {jwt: {algorithms: [HS256], secret: {env: JWT_SECRET_KEY}}}
  idp: {jwt: {algorithms: [RS256], jwks: {url: "` + jwksURL + `"}}}
routes:
  - {name: internal, match: {path: {prefix: /internal}}, pool: api, auth: hs}
  - {name: public, match: {path: {prefix: /v1}}, pool: api, auth: idp}
  - {name: default, match: {fallback: true}, pool: api}
targets:
  fastly: {service_id: SU1Z0isxPaozGVKXdv0eY` + settings + `}
`
	g, diags := manifest.LoadBytes("edgegw.yaml", []byte(src), manifest.LoadOptions{})
	if g == nil || diags.HasErrors() {
		t.Fatal(diags)
	}
	return g
}

func rendered(t testing.TB, g *ir.Gateway) []render.Artifact {
	t.Helper()
	arts, err := fastlyvcl.Renderer{}.Render(g)
	if err != nil {
		t.Fatal(err)
	}
	return arts
}

// secretEnv is an environment a test can change between applies.
type secretEnv struct {
	mu   sync.Mutex
	vars map[string]string
}

func (e *secretEnv) get(k string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.vars[k]
}

func (e *secretEnv) set(k, v string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.vars[k] = v
}

func newSecretProvider(t testing.TB, f *fakeFastly, g *ir.Gateway, jwks *jwksServer) (providers.Provider, *secretEnv) {
	t.Helper()
	env := &secretEnv{vars: f.Env()}
	env.set("JWT_SECRET_KEY", secretValue)
	p, err := fastly.New(providers.Config{Gateway: g, Getenv: env.get})
	if err != nil {
		t.Fatal(err)
	}
	fastly.SetRetrySleep(p, func(time.Duration) {})
	return p, env
}

func itemChanges(tp *providers.TargetPlan) []string {
	var out []string
	for _, c := range tp.Changes {
		if strings.HasPrefix(c.Kind, "dictionary") {
			out = append(out, string(c.Action)+" "+c.Kind+" "+c.Name)
		}
	}
	return out
}

func TestDictionariesAreCreatedInTheCloneAndFilledJustBeforeActivation(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	jwks := newJWKSServer(t, "k1")
	g := authGateway(t, jwks.URL)
	p, env := newSecretProvider(t, f, g, jwks)
	arts := rendered(t, g)

	plan := planOf(t, p, g, arts)
	got := strings.Join(itemChanges(plan.Targets[0]), "\n")
	for _, want := range []string{
		"create dictionary edgegw_jwks_idp",
		"create dictionary edgegw_secrets",
		"create dictionary item edgegw_jwks_idp[k1/RS256] = sha256:",
		"create dictionary item edgegw_secrets[JWT_SECRET_KEY] = (sensitive)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("plan's dictionary changes lack %q:\n%s", want, got)
		}
	}
	mid := len(f.Requests())
	if _, err := applyPlan(p, g, plan, providers.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	c := callsSince(f, mid)
	if f.Active() != 2 {
		t.Fatalf("active %d, want version 2", f.Active())
	}
	// The dictionaries are created in the clone; the items are written after the record and right before
	// the activation.
	n := len(c.list)
	if n < 6 || !strings.HasSuffix(c.list[n-1], "/version/2/activate") ||
		!strings.HasPrefix(c.list[n-2], "PATCH "+svcPath+"/dictionary/") || !strings.HasPrefix(c.list[n-3], "PATCH "+svcPath+"/dictionary/") ||
		c.list[n-4] != "POST "+svcPath+"/version/2/vcl" || f.Count(apitest.Route("POST", svcPath+"/version/2/dictionary")) != 2 {
		t.Errorf("mutating calls of the first apply:\n%s\nwant the two dictionaries created in version 2 and their items written just before the activation", strings.Join(c.list, "\n"))
	}
	if d := f.Object(2, "dictionary", "edgegw_secrets"); d == nil || d["write_only"] != true {
		t.Errorf("edgegw_secrets in version 2: %v, want a write-only dictionary", d)
	}
	if items := f.Items(2, "edgegw_secrets"); items["JWT_SECRET_KEY"] != secretValue || len(items) != 1 {
		t.Errorf("edgegw_secrets holds %d items, want JWT_SECRET_KEY with the secret", len(items))
	}
	if items, want := f.Items(2, "edgegw_jwks_idp"), jwks.items(t); !equalItems(items, want) {
		t.Errorf("edgegw_jwks_idp holds %v, want the key set's items %v", keysOf(items), keysOf(want))
	}
	assertNoSecretOutsideItsWrite(t, f)
	t.Logf("first apply with 2 dictionaries over a hand-made service: %d calls (%d reads, %d mutating)", c.total(), c.reads, c.writes)

	// Nothing changed: a re-apply makes no mutating call.
	mid = len(f.Requests())
	plan = planOf(t, p, g, arts)
	if plan.Targets[0].HasChanges() {
		t.Fatalf("re-plan: %v, want no change", plan.Targets[0].Changes)
	}
	if _, err := applyPlan(p, g, plan, providers.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if c := callsSince(f, mid); c.writes != 0 {
		t.Errorf("re-apply made %d mutating calls: %v", c.writes, c.list)
	}

	// A rotated secret is one item write, shown as (sensitive); the VCL does not change.
	env.set("JWT_SECRET_KEY", secretValue+"-rotated")
	plan = planOf(t, p, g, arts)
	if got := itemChanges(plan.Targets[0]); len(got) != 1 || got[0] != "update dictionary item edgegw_secrets[JWT_SECRET_KEY] = (sensitive) -> (sensitive)" {
		t.Errorf("plan of a rotated secret: %v", got)
	}
	mid = len(f.Requests())
	if _, err := applyPlan(p, g, plan, providers.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	c = callsSince(f, mid)
	if f.Items(3, "edgegw_secrets")["JWT_SECRET_KEY"] != secretValue+"-rotated" || f.Count(apitest.Route("PUT", svcPath+"/version/3/vcl/main")) != 0 {
		t.Errorf("after the rotation: the secret was not written, or the main VCL was uploaded again: %v", c.list)
	}
	t.Logf("apply of a rotated secret: %d calls (%d reads, %d mutating: %v)", c.total(), c.reads, c.writes, c.list)
	assertNoSecretOutsideItsWrite(t, f)
}

// Rollback activates the previous version and puts back the public items it was live with.
func TestRollbackRestoresTheKeysTheVersionWasLiveWith(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	jwks := newJWKSServer(t, "k1")
	g := authGateway(t, jwks.URL)
	p, _ := newSecretProvider(t, f, g, jwks)
	arts := rendered(t, g)
	apply(t, p, g, arts) // version 2, keys k1
	before := f.Items(2, "edgegw_jwks_idp")

	jwks.set(t, "k2") // the IdP rotates its keys
	p, _ = newSecretProvider(t, f, g, jwks)
	plan := planOf(t, p, g, arts)
	got := strings.Join(itemChanges(plan.Targets[0]), "\n")
	if !strings.Contains(got, "create dictionary item edgegw_jwks_idp[k2/RS256]") || !strings.Contains(got, "delete dictionary item edgegw_jwks_idp[k1/RS256] (was sha256:") {
		t.Errorf("plan of rotated keys:\n%s", got)
	}
	if _, err := applyPlan(p, g, plan, providers.ApplyOptions{}); err != nil { // version 3, keys k2
		t.Fatal(err)
	}
	if items := f.Items(3, "edgegw_jwks_idp"); !equalItems(items, jwks.items(t)) {
		t.Fatalf("version 3's keys %v, want k2's", keysOf(items))
	}

	mid := len(f.Requests())
	rep, err := providers.Rollback(context.Background(), []providers.Provider{p}, providers.RollbackOptions{Who: "ci@runner"})
	if err != nil {
		t.Fatal(err)
	}
	c := callsSince(f, mid)
	if f.Active() != 2 || rep.Targets[0].Version != "2" {
		t.Fatalf("rollback: active %d, want version 2", f.Active())
	}
	if items := f.Items(2, "edgegw_jwks_idp"); !equalItems(items, before) {
		t.Errorf("after the rollback the keys are %v, want version 2's %v", keysOf(items), keysOf(before))
	}
	if c.writes != 2 || !strings.HasPrefix(c.list[0], "PATCH "+svcPath+"/dictionary/") || c.list[1] != "PUT "+svcPath+"/version/2/activate" {
		t.Errorf("rollback's mutating calls %v, want the key restore then the activation", c.list)
	}
	t.Logf("rollback with one changed key set: %d calls (%d reads, %d mutating: %v)", c.total(), c.reads, c.writes, c.list)
	if notes := strings.Join(rep.NotReverted, "\n"); !strings.Contains(notes, "secret") {
		t.Errorf("what a rollback does not revert does not name secret values:\n%s", notes)
	}
	assertNoSecretOutsideItsWrite(t, f)
}

// A failed activation puts the public items back; nothing goes live.
func TestFailedActivationPutsTheKeysBack(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	jwks := newJWKSServer(t, "k1")
	g := authGateway(t, jwks.URL)
	p, _ := newSecretProvider(t, f, g, jwks)
	arts := rendered(t, g)
	apply(t, p, g, arts)
	before := f.Items(2, "edgegw_jwks_idp")
	jwks.set(t, "k2")
	p, _ = newSecretProvider(t, f, g, jwks)
	plan := planOf(t, p, g, arts)
	f.inject(apitest.Route("PUT", svcPath+"/version/3/activate"), func(w http.ResponseWriter, r *apitest.Request) {
		fastlyError(w, http.StatusBadRequest, "Bad request", "activation refused")
	})
	_, err := applyPlan(p, g, plan, providers.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "dictionary items written were put back") {
		t.Fatalf("apply whose activation failed: %v", err)
	}
	if f.Active() != 2 || !equalItems(f.Items(2, "edgegw_jwks_idp"), before) {
		t.Errorf("after the failed activation: active %d, keys %v, want version 2 with its keys %v", f.Active(), keysOf(f.Items(2, "edgegw_jwks_idp")), keysOf(before))
	}
}

// A secret whose variable is not set at apply time stops the apply before any mutating call.
func TestUnsetSecretStopsTheApplyBeforeAnyChange(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	jwks := newJWKSServer(t, "k1")
	g := authGateway(t, jwks.URL)
	p, env := newSecretProvider(t, f, g, jwks)
	env.set("JWT_SECRET_KEY", "")
	plan := planOf(t, p, g, rendered(t, g))
	mid := len(f.Requests())
	_, err := applyPlan(p, g, plan, providers.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET_KEY, which is not set") {
		t.Fatalf("apply without the secret: %v", err)
	}
	if c := callsSince(f, mid); c.writes != 0 {
		t.Errorf("apply without the secret made mutating calls: %v", c.list)
	}
}

// assertNoSecretOutsideItsWrite: the secret appears in no request but the item write of edgegw_secrets,
// and never in the deploy record.
func assertNoSecretOutsideItsWrite(t testing.TB, f *fakeFastly) {
	t.Helper()
	f.mu.Lock()
	ids := map[string]bool{}
	for _, v := range f.versions {
		if d := v.objects["dictionary"]["edgegw_secrets"]; d != nil {
			ids[d["id"].(string)] = true
		}
	}
	f.mu.Unlock()
	for _, r := range f.Requests() {
		line := r.Method + " " + r.Path + "?" + r.Query.Encode() + " " + string(r.Body)
		if !strings.Contains(line, secretValue) {
			continue
		}
		segs := strings.Split(strings.Trim(r.Path, "/"), "/")
		if r.Method != http.MethodPatch || len(segs) != 5 || segs[2] != "dictionary" || !ids[segs[3]] {
			t.Errorf("the secret value is in a request other than its item write: %s %s", r.Method, r.Path)
		}
		if q, _ := url.QueryUnescape(r.Query.Encode()); strings.Contains(q, secretValue) {
			t.Errorf("the secret value is in a query string: %s", r.Path)
		}
	}
	for v := 1; v <= f.Versions(); v++ {
		rec := f.Object(v, "vcl", "edgegw_record")
		if rec == nil {
			continue
		}
		js, err := fastly.DecodeRecord(rec["content"].(string))
		if err != nil {
			t.Fatalf("version %d's record: %v", v, err)
		}
		if strings.Contains(js, "hs256-secret") || !strings.Contains(js, "fingerprints") {
			t.Errorf("version %d's deploy record holds the secret, or no fingerprint of it", v)
		}
	}
}

func equalItems(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func keysOf(m map[string]string) []string { return sortedKeys(m) }

// The plan's human view names dictionary item changes by key, secrets as (sensitive), and counts them.
func TestPlanViewShowsDictionaryItemsByKey(t *testing.T) {
	f := newFakeFastly(t)
	jwks := newJWKSServer(t, "k1")
	g := authGateway(t, jwks.URL)
	p, _ := newSecretProvider(t, f, g, jwks)
	plan := planOf(t, p, g, rendered(t, g)) // a new service: no version yet
	var out strings.Builder
	v := view.New(&cmdutil.Factory{IO: cmdutil.TestIO(nil, &out, io.Discard), Format: "human", NoColor: true, Getenv: func(string) string { return "" }}, "plan")
	v.Plan(plan)
	text := out.String()
	for _, want := range []string{
		"dictionaries: 2 to add", "dictionary items: 2 to add",
		"+ dictionary item edgegw_secrets[JWT_SECRET_KEY] = (sensitive)",
		"+ dictionary item edgegw_jwks_idp[k1/RS256] = sha256:",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("plan output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, secretValue) {
		t.Errorf("plan output holds the secret value")
	}
	// Applied onto the new service: version 1 holds the dictionaries, filled.
	if _, err := applyPlan(p, g, plan, providers.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if f.Active() != 1 || f.Items(1, "edgegw_secrets")["JWT_SECRET_KEY"] != secretValue || len(f.Items(1, "edgegw_jwks_idp")) != 1 {
		t.Errorf("first deploy onto a new service: active %d, dictionaries not filled", f.Active())
	}
}

// With validate_plan, a plan without the secret (a pull request's CI) compiles a clone holding the
// dictionaries; the apply, with the secret, does not activate that clone but stages one and writes the
// secret.
func TestValidatePlanWithoutTheSecretIsNeverActivated(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	jwks := newJWKSServer(t, "k1")
	g := authGatewayWith(t, jwks.URL, ", validate_plan: true")
	p, env := newSecretProvider(t, f, g, jwks)
	env.set("JWT_SECRET_KEY", "")
	arts := rendered(t, g)
	plan := planOf(t, p, g, arts)
	if f.Versions() != 2 || f.Active() != 1 {
		t.Fatalf("validate_plan: %d versions, active %d, want a compiled clone (version 2) and version 1 live", f.Versions(), f.Active())
	}
	env.set("JWT_SECRET_KEY", secretValue)
	if _, err := applyPlan(p, g, plan, providers.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if f.Active() != 3 || f.Items(3, "edgegw_secrets")["JWT_SECRET_KEY"] != secretValue {
		t.Errorf("apply after a plan without the secret: active %d, want a fresh version 3 with the secret written", f.Active())
	}
}

// go-fastly's FASTLY_DEBUG_MODE would print every request body, the secret's item write included, on
// stdout: the provider keeps it off.
func TestDebugModeDoesNotPrintTheSecret(t *testing.T) {
	t.Setenv("FASTLY_DEBUG_MODE", "true")
	f := newFakeFastly(t)
	seedHandMade(f)
	jwks := newJWKSServer(t, "k1")
	g := authGateway(t, jwks.URL)
	p, _ := newSecretProvider(t, f, g, jwks)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	_, aerr := applyPlan(p, g, planOf(t, p, g, rendered(t, g)), providers.ApplyOptions{})
	os.Stdout = stdout
	w.Close()
	out := <-done
	if aerr != nil {
		t.Fatal(aerr)
	}
	if f.Items(2, "edgegw_secrets")["JWT_SECRET_KEY"] != secretValue {
		t.Fatal("the secret was not written")
	}
	if strings.Contains(string(out), "hs256-secret") || len(out) > 0 {
		t.Errorf("the apply printed %d bytes on stdout (the secret: %v)", len(out), strings.Contains(string(out), "hs256-secret"))
	}
}

// A failed verification after the activation restores the previous version and the keys it was live with.
func TestFailedVerificationRestoresTheKeys(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	jwks := newJWKSServer(t, "k1")
	g := authGateway(t, jwks.URL)
	p, _ := newSecretProvider(t, f, g, jwks)
	arts := rendered(t, g)
	apply(t, p, g, arts) // version 2, keys k1
	before := f.Items(2, "edgegw_jwks_idp")
	jwks.set(t, "k2")
	p, _ = newSecretProvider(t, f, g, jwks)
	plan := planOf(t, p, g, arts)
	rep, err := applyPlan(p, g, plan, providers.ApplyOptions{VerifyHTTP: func(context.Context, string) error {
		if !equalItems(f.Items(3, "edgegw_jwks_idp"), jwks.items(t)) || f.Active() != 3 {
			t.Errorf("at verification: version %d live with keys %v, want version 3 with k2's", f.Active(), keysOf(f.Items(3, "edgegw_jwks_idp")))
		}
		return errors.New("https://api.example.com/v1 answered 403")
	}})
	if err == nil || rep.Targets[0].Status != providers.StatusRestored {
		t.Fatalf("apply whose verification failed: %v, %+v", err, rep.Targets)
	}
	if f.Active() != 2 || !equalItems(f.Items(2, "edgegw_jwks_idp"), before) {
		t.Errorf("after the restore: version %d live with keys %v, want version 2 with %v", f.Active(), keysOf(f.Items(2, "edgegw_jwks_idp")), keysOf(before))
	}
}

// A rollback to an older version than the live one's predecessor restores the keys that version's own
// deploy left.
func TestRollbackToAnOlderVersionRestoresItsOwnKeys(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	jwks := newJWKSServer(t, "k1")
	g := authGateway(t, jwks.URL)
	arts := rendered(t, g)
	var p providers.Provider
	var keys []map[string]string
	for _, kid := range []string{"k1", "k2", "k3"} { // versions 2, 3, 4
		jwks.set(t, kid)
		p, _ = newSecretProvider(t, f, g, jwks)
		apply(t, p, g, arts)
		keys = append(keys, jwks.items(t))
	}
	if _, err := providers.Rollback(context.Background(), []providers.Provider{p}, providers.RollbackOptions{Version: "2", Who: "ci@runner"}); err != nil {
		t.Fatal(err)
	}
	if f.Active() != 2 || !equalItems(f.Items(2, "edgegw_jwks_idp"), keys[0]) {
		t.Errorf("rollback to version 2: version %d live with keys %v, want version 2 with k1's", f.Active(), keysOf(f.Items(2, "edgegw_jwks_idp")))
	}
}

// An item write that fails (a 5xx on a batch is not retried: it may hold deletions) stops the apply before
// the activation and puts back the public items already written.
func TestFailedItemWritePutsBackTheKeysWritten(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	jwks := newJWKSServer(t, "k1")
	g := authGateway(t, jwks.URL)
	p, env := newSecretProvider(t, f, g, jwks)
	arts := rendered(t, g)
	apply(t, p, g, arts)
	before := f.Items(2, "edgegw_jwks_idp")
	jwks.set(t, "k2")
	p, env = newSecretProvider(t, f, g, jwks)
	env.set("JWT_SECRET_KEY", secretValue+"-next")
	plan := planOf(t, p, g, arts)
	f.mu.Lock()
	secretsID := f.versions[1].objects["dictionary"]["edgegw_secrets"]["id"].(string)
	f.mu.Unlock()
	write := apitest.Route("PATCH", svcPath+"/dictionary/"+secretsID+"/items")
	sent := f.Count(write)
	f.inject(write, apitest.ServerError(502))
	_, err := applyPlan(p, g, plan, providers.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "write the items of dictionary edgegw_secrets (1 changes)") || !strings.Contains(err.Error(), "nothing was activated; the dictionary items written were put back") {
		t.Fatalf("apply whose secret write failed: %v", err)
	}
	if f.Active() != 2 || !equalItems(f.Items(2, "edgegw_jwks_idp"), before) || f.Items(2, "edgegw_secrets")["JWT_SECRET_KEY"] != secretValue {
		t.Errorf("after the failed write: version %d live, keys %v (want version 2 with %v and the old secret)", f.Active(), keysOf(f.Items(2, "edgegw_jwks_idp")), keysOf(before))
	}
	if n := f.Count(write) - sent; n != 1 {
		t.Errorf("the failed batch was sent %d times, want 1", n)
	}
}
