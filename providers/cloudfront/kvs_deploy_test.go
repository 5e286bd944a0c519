package cloudfront_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/apitest"
	"github.com/edgegw/edgegw/providers/cloudfront"
	"github.com/edgegw/edgegw/providers/endpoint"
)

// kvsManifest is an HS256 gateway whose secret the viewer-request function reads from gw-secrets.
const kvsManifest = `version: 1
name: hs
domains:
  - {host: api.example.com, zone: example.com}
tls: {hsts: {max_age: 31536000}}
origins:
  app: {url: "http://127.0.0.1:9000"}
pools:
  app: {origins: [app]}
auth:
  users:
    jwt:
      algorithms: [HS256]
      secret: {env: JWT_SECRET}
      issuer: https://auth.example.com/
      audience: [api]
      clock_skew: 30s
      forward_claims: {sub: X-User}
routes:
  - name: health
    match: {path: {exact: /health}}
    respond: {status: 200, body: ok}
  - name: api
    match: {path: {prefix: /api}}
    pool: app
    auth: users
targets:
  cloudfront: {distribution_id: E2EXAMPLE, function: gw, key_value_store: gw-secrets}
`

// kvsProvider opens the provider for the HS256 gateway with env as the process environment.
func (e *env) kvsProvider(env map[string]string) *cloudfront.Provider {
	e.t.Helper()
	getenv := e.f.Getenv(func(k string) string { return env[k] }, endpoint.CloudFront)
	p, err := cloudfront.Open(load(e.t, kvsManifest), cloudfront.Options{Getenv: getenv, DialContext: accountDial, BaseDir: e.dir,
		PollInterval: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func isPutKey(r apitest.Request) bool {
	return r.Method == http.MethodPut && strings.Contains(r.Path, "/keys/")
}

// An HS256 gateway's secret: the first apply creates the store, associates it with the viewer-request
// function and writes the key (through a throttled answer and an ETag conflict); a re-apply makes no
// mutating call; a rotated value is one PutKey. The value is in no request but the PutKeys, and in no
// deploy record.
func TestKeyValueStoreSecret(t *testing.T) {
	e := newEnv(t)
	const first, second = "first-secret-value-of-32-bytes-or-more", "second-secret-value-of-32-bytes-or-more"
	env := map[string]string{"JWT_SECRET": first}
	g := load(t, kvsManifest)

	putOnce := func() apitest.Matcher {
		return apitest.MatchFunc("PutKey", func(r *apitest.Request) bool { return isPutKey(*r) })
	}
	e.f.inject(putOnce(), func(w http.ResponseWriter, r *apitest.Request) {
		kvsError(w, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
	})
	e.f.inject(putOnce(), func(w http.ResponseWriter, r *apitest.Request) {
		kvsError(w, http.StatusConflict, "ConflictException", "the ETag does not match")
	})
	p := e.kvsProvider(env)
	if _, err := e.apply(p, g, e.plan(p, g)); err != nil {
		t.Fatal(err)
	}
	c := e.callsSince(0)
	t.Logf("first apply: %d reads, %d tests, %d mutating: %v", c.reads, c.tests, c.writes, c.list)
	if v, ok := e.f.item("gw-secrets", "JWT_SECRET"); !ok || v != first {
		t.Fatalf("the store holds %q (%v) under JWT_SECRET, want the environment's value", v, ok)
	}
	e.f.mu.Lock()
	fn, store := e.f.fns["gw-viewer-request"], e.f.stores["gw-secrets"]
	e.f.mu.Unlock()
	if fn == nil || fn.live == nil || store == nil || fn.live.kvs != store.arn {
		t.Fatalf("the LIVE viewer-request function does not associate the store gw-secrets")
	}
	puts := 0
	for _, r := range e.f.Requests() {
		if isPutKey(r) {
			puts++
		}
	}
	if puts != 3 { // throttled, conflict, written
		t.Errorf("%d PutKey requests, want 3 (one throttled, one refused for its ETag, one written)", puts)
	}
	// CreateKeyValueStore, 2 CreateFunction, the 3 PutKey, CreateResponseHeadersPolicy (the manifest's
	// HSTS), 2 PublishFunction, UpdateDistribution.
	if c.writes != 10 || c.list[0] != "POST /2020-05-31/key-value-store" {
		t.Errorf("the first apply made %v, want the store created first and 10 mutating calls", c.list)
	}

	from := len(e.f.Requests())
	p = e.kvsProvider(env)
	plan := e.plan(p, g)
	if plan.HasChanges() {
		t.Fatalf("re-plan has changes: %+v", plan.Targets[0].Changes)
	}
	if _, err := e.apply(p, g, plan); err != nil {
		t.Fatal(err)
	}
	if c := e.callsSince(from); c.writes != 0 {
		t.Fatalf("re-apply made %d mutating calls: %v", c.writes, c.list)
	}

	env["JWT_SECRET"] = second
	from = len(e.f.Requests())
	p = e.kvsProvider(env)
	plan = e.plan(p, g)
	if len(plan.Targets[0].Changes) != 1 || !strings.Contains(plan.Targets[0].Changes[0].Name, "key JWT_SECRET") {
		t.Fatalf("the rotation plans %+v, want one key change", plan.Targets[0].Changes)
	}
	if _, err := e.apply(p, g, plan); err != nil {
		t.Fatal(err)
	}
	c = e.callsSince(from)
	t.Logf("rotation: %d reads, %d mutating: %v", c.reads, c.writes, c.list)
	if c.writes != 1 || !strings.HasSuffix(c.list[0], "/keys/JWT_SECRET") {
		t.Fatalf("the rotation made %v, want one PutKey", c.list)
	}
	if v, _ := e.f.item("gw-secrets", "JWT_SECRET"); v != second {
		t.Fatalf("the store holds %q after the rotation", v)
	}

	for _, r := range e.f.Requests() {
		if isPutKey(r) {
			continue
		}
		line := r.Method + " " + r.EscapedPath + " " + r.Query.Encode() + " " + string(r.Body)
		for _, vs := range r.Header {
			line += " " + strings.Join(vs, " ")
		}
		if strings.Contains(line, first) || strings.Contains(line, second) {
			t.Errorf("%s %s carries the secret", r.Method, r.Path)
		}
	}
	files, _ := filepath.Glob(filepath.Join(e.dir, cloudfront.RecordsDir(distID), "*.json"))
	if len(files) == 0 {
		t.Fatal("no deploy record")
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), first) || strings.Contains(string(b), second) {
			t.Errorf("deploy record %s holds the secret", f)
		}
	}
}

// A secret whose variable is not set fails the apply before it changes anything, naming the variable.
func TestKeyValueStoreMissingSecret(t *testing.T) {
	e := newEnv(t)
	g := load(t, kvsManifest)
	p := e.kvsProvider(map[string]string{})
	plan := e.plan(p, g)
	from := len(e.f.Requests())
	_, err := e.apply(p, g, plan)
	if err == nil || !strings.Contains(err.Error(), "export JWT_SECRET") {
		t.Fatalf("apply without JWT_SECRET: %v", err)
	}
	if code := exitCode(err); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if c := e.callsSince(from); c.writes != 0 || c.tests != 0 {
		t.Fatalf("the refused apply made %v", c.list)
	}
	if len(e.f.fns) != 0 || len(e.f.stores) != 0 {
		t.Fatalf("the refused apply created functions %v or stores %v", e.f.fns, e.f.stores)
	}
}

// A rollback leaves the keys as they are and keeps the viewer-request function's association: it writes
// no key, and the plan after it lists no key change.
func TestKeyValueStoreRollbackLeavesKeys(t *testing.T) {
	e := newEnv(t)
	const secret = "the-secret-value-of-32-bytes-or-more-x"
	env := map[string]string{"JWT_SECRET": secret}
	g1 := load(t, kvsManifest)
	p := e.kvsProvider(env)
	if _, err := e.apply(p, g1, e.plan(p, g1)); err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(kvsManifest, "body: ok}", "body: changed}", 1)
	g2 := load(t, changed)
	p2, err := cloudfront.Open(g2, cloudfront.Options{Getenv: e.f.Getenv(func(k string) string { return env[k] }, endpoint.CloudFront),
		DialContext: accountDial, BaseDir: e.dir, PollInterval: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.apply(p2, g2, e.plan(p2, g2)); err != nil {
		t.Fatal(err)
	}
	from := len(e.f.Requests())
	if _, err := providers.Rollback(context.Background(), []providers.Provider{p2}, providers.RollbackOptions{Who: "sre@laptop", Getenv: func(string) string { return "" }}); err != nil {
		t.Fatal(err)
	}
	for _, r := range e.f.Requests()[from:] {
		if strings.Contains(r.Path, "/keys/") {
			t.Errorf("the rollback wrote a key: %s %s", r.Method, r.Path)
		}
	}
	e.f.mu.Lock()
	fn, store := e.f.fns["gw-viewer-request"], e.f.stores["gw-secrets"]
	e.f.mu.Unlock()
	if fn.live.kvs != store.arn {
		t.Fatalf("after the rollback the viewer-request function associates %q, want the store", fn.live.kvs)
	}
	if v, _ := e.f.item("gw-secrets", "JWT_SECRET"); v != secret {
		t.Fatal("the rollback changed the key's value")
	}
	for _, c := range e.plan(e.kvsProvider(env), g1).Targets[0].Changes {
		if strings.Contains(c.Kind, "keyvaluestore") {
			t.Errorf("after the rollback the plan lists %+v", c)
		}
	}
}

// A store whose ETag keeps moving (4 conflicts in a row) stops the apply as a stale plan before anything
// is published.
func TestKeyValueStoreConflictStopsApply(t *testing.T) {
	e := newEnv(t)
	g := load(t, kvsManifest)
	p := e.kvsProvider(map[string]string{"JWT_SECRET": "the-secret-value-of-32-bytes-or-more-y"})
	plan := e.plan(p, g)
	for range 4 {
		e.f.inject(apitest.MatchFunc("PutKey", func(r *apitest.Request) bool { return isPutKey(*r) }), func(w http.ResponseWriter, r *apitest.Request) {
			kvsError(w, http.StatusConflict, "ConflictException", "the ETag does not match")
		})
	}
	_, err := e.apply(p, g, plan)
	if err == nil || !strings.Contains(err.Error(), "ConflictException") {
		t.Fatalf("apply against a moving store: %v", err)
	}
	if code := exitCode(err); code != 5 {
		t.Errorf("exit code %d, want 5 (stale plan)", code)
	}
	for _, r := range e.f.Requests() {
		if strings.HasSuffix(r.Path, "/publish") || strings.Contains(r.Path, "/distribution/") && r.Method == http.MethodPut {
			t.Errorf("the refused apply made %s %s", r.Method, r.Path)
		}
	}
}

// targets.cloudfront.key_value_store is a store's name or its ARN; anything else is a manifest error at
// the block, before any call.
func TestKeyValueStoreSettingChecked(t *testing.T) {
	for _, tc := range []struct {
		value string
		ok    bool
	}{
		{"gw-secrets", true},
		{"arn:aws:cloudfront::123456789012:key-value-store/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111", true},
		{"gw secrets", false},
		{strings.Repeat("a", 65), false},
		{"arn:aws:s3:::bucket", false},
	} {
		src := strings.Replace(kvsManifest, "key_value_store: gw-secrets}", "key_value_store: \""+tc.value+"\"}", 1)
		_, diags := manifest.LoadBytes("edgegw.yaml", []byte(src), manifest.LoadOptions{})
		if diags.HasErrors() == tc.ok || !tc.ok && !strings.Contains(fmt.Sprint(diags), "neither a KeyValueStore name nor") {
			t.Errorf("key_value_store %q: ok %v, diagnostics %v", tc.value, tc.ok, diags)
		}
	}
}
