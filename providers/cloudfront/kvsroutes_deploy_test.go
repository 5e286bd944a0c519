package cloudfront_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/apitest"
	"github.com/edgegw/edgegw/providers/cloudfront"
	"github.com/edgegw/edgegw/providers/endpoint"
	"github.com/edgegw/edgegw/render"
	cfrender "github.com/edgegw/edgegw/render/cloudfront"
)

// routesManifest is an HS256 gateway (its secret in gw-routes) with n generated exact and prefix routes,
// too many for the viewer-request function's code: the exact and prefix routes go to the KeyValueStore.
// answer is every generated route's body, so a change of it changes every key's value and the table's
// version.
func routesManifest(n int, answer string) string {
	var b strings.Builder
	b.WriteString(`version: 1
name: big
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
routes:
`)
	for i := range n {
		if i%2 == 0 {
			fmt.Fprintf(&b, "  - name: exact-%d\n    match: {path: {exact: /s%d/item}}\n    respond: {status: 200, body: %s-%d}\n", i, i, answer, i)
		} else {
			fmt.Fprintf(&b, "  - name: prefix-%d\n    match: {path: {prefix: /p%d}}\n    pool: app\n    auth: users\n", i, i)
		}
	}
	// The fallback stays in the function's code: its answer makes each build's code differ too.
	fmt.Fprintf(&b, `  - name: default
    match: {fallback: true}
    respond: {status: 404, body: not found %[1]s}
targets:
  cloudfront: {distribution_id: E2EXAMPLE, function: gw, key_value_store: gw-routes}
tests:
  - name: unknown paths fall through
    request: {url: https://api.example.com/nothing/here}
    expect: {status: 404, body: not found %[1]s}
`, answer)
	return b.String()
}

const routesSecret = "the-route-test-secret-of-32-bytes-or-more"

// table is a rendered KVSFile's keys and values.
func table(t testing.TB, data []byte) map[string]string {
	t.Helper()
	var f struct {
		Data []struct{ Key, Value string } `json:"data"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, it := range f.Data {
		out[it.Key] = it.Value
	}
	return out
}

// routeBuild is a rendered gateway whose route table is in the KeyValueStore.
type routeBuild struct {
	g       *ir.Gateway
	arts    []render.Artifact
	keys    map[string]string // the table's keys and values
	version string
}

func (e *env) routeBuild(answer string) routeBuild {
	e.t.Helper()
	g := load(e.t, routesManifest(120, answer))
	arts, err := cfrender.RenderWith(g, cfrender.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	b := routeBuild{g: g}
	for _, a := range arts {
		if a.Path == cfrender.KVSFile {
			b.keys = table(e.t, a.Data)
		}
		b.arts = append(b.arts, a)
	}
	if len(b.keys) == 0 {
		e.t.Fatalf("the build has no %s: the table fits the function's code, give the test more routes", cfrender.KVSFile)
	}
	for k := range b.keys {
		v, ok := cfrender.RouteKeyVersion(k)
		if !ok || b.version != "" && v != b.version {
			e.t.Fatalf("%s holds key %q, not a route key of version %s", cfrender.KVSFile, k, b.version)
		}
		b.version = v
	}
	return b
}

// routeProvider opens the provider for b's gateway with JWT_SECRET set.
func (e *env) routeProvider(b routeBuild) *cloudfront.Provider {
	e.t.Helper()
	getenv := e.f.Getenv(func(k string) string {
		if k == "JWT_SECRET" {
			return routesSecret
		}
		return ""
	}, endpoint.CloudFront)
	p, err := cloudfront.Open(b.g, cloudfront.Options{Getenv: getenv, DialContext: accountDial, BaseDir: e.dir,
		PollInterval: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// planRoutes plans b through the provider alone.
func (e *env) planRoutes(p *cloudfront.Provider, b routeBuild) *providers.TargetPlan {
	e.t.Helper()
	tp, err := p.Plan(context.Background(), providers.PlanInput{Gateway: b.g, Artifacts: b.arts})
	if err != nil {
		e.t.Fatal(err)
	}
	return tp
}

// applyRoutes applies a plan of b as the engine does for a changed target.
func (e *env) applyRoutes(p *cloudfront.Provider, tp *providers.TargetPlan) error {
	_, err := p.Apply(context.Background(), tp, providers.DeployRecord{Kind: "apply", Commit: commit, Artifacts: tp.Digests(), Who: "ci@runner", Time: time.Now()})
	return err
}

// keyChanges counts a plan's route key changes by action.
func keyChanges(tp *providers.TargetPlan) map[providers.Action]int {
	out := map[providers.Action]int{}
	for _, c := range tp.Changes {
		if c.Kind == "keyvaluestore key" && !strings.HasSuffix(c.Name, "key JWT_SECRET") {
			out[c.Action]++
		}
	}
	return out
}

// routeItems is the store's route keys (all but the secret).
func (e *env) routeItems() map[string]string {
	items := e.f.items("gw-routes")
	delete(items, "JWT_SECRET")
	return items
}

// union is the keys of both tables.
func union(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func sameItems(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	var missing, extra, differ []string
	for k, v := range want {
		if g, ok := got[k]; !ok {
			missing = append(missing, k)
		} else if g != v {
			differ = append(differ, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra)+len(differ) > 0 {
		sort.Strings(missing)
		sort.Strings(extra)
		sort.Strings(differ)
		few := func(s []string) []string { return s[:min(3, len(s))] }
		t.Fatalf("%s: the store lacks %d keys %v, holds %d extra %v, %d with other values %v", what, len(missing), few(missing), len(extra), few(extra), len(differ), few(differ))
	}
}

func isUpdateKeys(r apitest.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.Path, "/key-value-stores/") && strings.HasSuffix(r.Path, "/keys")
}

// updateKeysBody is an UpdateKeys request's body.
type updateKeysBody struct {
	Puts    []struct{ Key, Value string }
	Deletes []struct{ Key string }
}

// dataWrites returns the UpdateKeys requests from on (a retried one again), in order, with the index of
// each; a route key written any other way fails the test.
func (e *env) dataWrites(from int) (writes []updateKeysBody, at []int) {
	for i, r := range e.f.Requests()[from:] {
		if isUpdateKeys(r) {
			var b updateKeysBody
			if err := json.Unmarshal(r.Body, &b); err != nil {
				e.t.Fatal(err)
			}
			writes = append(writes, b)
			at = append(at, from+i)
		}
		if r.Method == http.MethodPut && strings.Contains(r.Path, "/keys/") || r.Method == http.MethodDelete && strings.Contains(r.Path, "/keys/") {
			if !strings.HasSuffix(r.Path, "/keys/JWT_SECRET") {
				e.t.Errorf("a route key went through %s %s, not UpdateKeys", r.Method, r.Path)
			}
		}
	}
	return writes, at
}

// firstIndex is the index of the first request from on that m matches, -1 when none.
func (e *env) firstIndex(from int, m func(apitest.Request) bool) int {
	for i, r := range e.f.Requests()[from:] {
		if m(r) {
			return from + i
		}
	}
	return -1
}

func isPublish(r apitest.Request) bool { return strings.HasSuffix(r.Path, "/publish") }
func isTest(r apitest.Request) bool    { return strings.HasSuffix(r.Path, "/test") }

// The route table in the store, over three applies and a re-apply: the first writes exactly the table's
// keys (in calls of at most 50, through a throttled answer, a 503 and an ETag conflict) before any
// TestFunction or publish; a re-apply writes nothing; a changed table writes its version beside the
// live one; the next change removes the oldest version once the new code is live, keeping the one
// before it. The secret survives every step.
func TestRouteTableApply(t *testing.T) {
	e := newEnv(t)
	b1, b2, b3 := e.routeBuild("one"), e.routeBuild("two"), e.routeBuild("three")
	if b1.version == b2.version || b2.version == b3.version {
		t.Fatalf("the builds share a table version: %s %s %s", b1.version, b2.version, b3.version)
	}
	t.Logf("%d route keys in the table, version %s", len(b1.keys), b1.version)

	updateOnce := apitest.MatchFunc("UpdateKeys", func(r *apitest.Request) bool { return isUpdateKeys(*r) })
	e.f.inject(updateOnce, func(w http.ResponseWriter, r *apitest.Request) {
		kvsError(w, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
	})
	e.f.inject(updateOnce, func(w http.ResponseWriter, r *apitest.Request) {
		kvsError(w, http.StatusServiceUnavailable, "InternalServerException", "try again")
	})
	e.f.inject(updateOnce, func(w http.ResponseWriter, r *apitest.Request) {
		kvsError(w, http.StatusConflict, "ConflictException", "the ETag does not match")
	})
	p := e.routeProvider(b1)
	tp := e.planRoutes(p, b1)
	if n := keyChanges(tp); n[providers.Create] != len(b1.keys) || n[providers.Delete] != 0 || n[providers.Update] != 0 {
		t.Fatalf("the first plan counts route key changes %v, want %d to add", n, len(b1.keys))
	}
	from := len(e.f.Requests())
	if err := e.applyRoutes(p, tp); err != nil {
		t.Fatal(err)
	}
	sameItems(t, "after the first apply", e.routeItems(), b1.keys)
	if v, _ := e.f.item("gw-routes", "JWT_SECRET"); v != routesSecret {
		t.Fatalf("the secret is %q after the first apply", v)
	}
	writes, at := e.dataWrites(from)
	attempts := 0
	for _, r := range e.f.Requests()[from:] {
		if isUpdateKeys(r) {
			attempts++
		}
	}
	wantCalls := (len(b1.keys) + 49) / 50
	if attempts != wantCalls+3 {
		t.Errorf("%d UpdateKeys requests, want %d (%d calls of at most 50 keys, and one each throttled, failed with 503 and refused for its ETag)", attempts, wantCalls+3, wantCalls)
	}
	for _, w := range writes {
		if len(w.Puts)+len(w.Deletes) > 50 || len(w.Deletes) > 0 {
			t.Errorf("an UpdateKeys call of the first apply has %d puts and %d deletes", len(w.Puts), len(w.Deletes))
		}
	}
	if test, pub := e.firstIndex(from, isTest), e.firstIndex(from, isPublish); test < 0 || pub < 0 || at[len(at)-1] > test || at[len(at)-1] > pub {
		t.Errorf("the keys were written at requests %v, the first TestFunction is %d and the first publish %d: the keys must go first", at, test, pub)
	}
	// Both functions open the store: each looks the route up in it.
	for _, name := range []string{"gw-viewer-request", "gw-viewer-response"} {
		e.f.mu.Lock()
		fn, store := e.f.fns[name], e.f.stores["gw-routes"]
		e.f.mu.Unlock()
		if fn == nil || fn.live == nil || store == nil || fn.live.kvs != store.arn {
			t.Fatalf("the LIVE %s function does not associate the store gw-routes", name)
		}
	}

	// A re-plan has nothing to do (the record answers it: the store's keys are not listed), and a
	// re-apply makes no call that writes.
	p = e.routeProvider(b1)
	from = len(e.f.Requests())
	tp = e.planRoutes(p, b1)
	if n := e.listCalls(from); n != 0 {
		t.Errorf("the re-plan listed the store's keys (%d ListKeys) though the deploy record accounts for them", n)
	}
	if tp.HasChanges() {
		t.Fatalf("re-plan has %d changes, the first %+v", len(tp.Changes), tp.Changes[0])
	}
	from = len(e.f.Requests())
	if err := e.applyRoutes(p, tp); err != nil {
		t.Fatal(err)
	}
	if c := e.callsSince(from); c.writes != 0 {
		t.Fatalf("re-apply made %v", c.list)
	}

	// A changed table goes in beside the live one.
	p = e.routeProvider(b2)
	tp = e.planRoutes(p, b2)
	if n := keyChanges(tp); n[providers.Create] != len(b2.keys) || n[providers.Delete] != 0 {
		t.Fatalf("the second plan counts %v, want %d route keys to add and none to remove", n, len(b2.keys))
	}
	if err := e.applyRoutes(p, tp); err != nil {
		t.Fatal(err)
	}
	sameItems(t, "after the second apply", e.routeItems(), union(b1.keys, b2.keys))

	// The next one removes the first, after its code is live, and keeps the second.
	p = e.routeProvider(b3)
	tp = e.planRoutes(p, b3)
	if n := keyChanges(tp); n[providers.Create] != len(b3.keys) || n[providers.Delete] != len(b1.keys) {
		t.Fatalf("the third plan counts %v, want %d route keys to add and %d to remove", n, len(b3.keys), len(b1.keys))
	}
	from = len(e.f.Requests())
	if err := e.applyRoutes(p, tp); err != nil {
		t.Fatal(err)
	}
	sameItems(t, "after the third apply", e.routeItems(), union(b2.keys, b3.keys))
	writes, at = e.dataWrites(from)
	lastPublish := -1
	for i, r := range e.f.Requests()[from:] {
		if isPublish(r) {
			lastPublish = from + i
		}
	}
	for i, w := range writes {
		if len(w.Deletes) > 0 && at[i] < lastPublish {
			t.Errorf("route keys were removed at request %d, before the last publish (%d)", at[i], lastPublish)
		}
		for _, d := range w.Deletes {
			if !strings.HasPrefix(d.Key, "r"+b1.version) {
				t.Errorf("the third apply removed %s, not a key of the oldest table", d.Key)
			}
		}
	}
	if v, _ := e.f.item("gw-routes", "JWT_SECRET"); v != routesSecret {
		t.Fatalf("the secret is %q after the third apply", v)
	}
	if tp := e.planRoutes(e.routeProvider(b3), b3); tp.HasChanges() {
		t.Fatalf("the plan after the third apply has %d changes, the first %+v", len(tp.Changes), tp.Changes[0])
	}
}

// A rollback to a version whose table an apply removed puts that table's keys back before it publishes
// the version's code; a rollback to a version whose keys are there writes none. The secret survives.
func TestRouteTableRollback(t *testing.T) {
	e := newEnv(t)
	b1, b2, b3 := e.routeBuild("one"), e.routeBuild("two"), e.routeBuild("three")
	for _, b := range []routeBuild{b1, b2, b3} {
		p := e.routeProvider(b)
		if err := e.applyRoutes(p, e.planRoutes(p, b)); err != nil {
			t.Fatal(err)
		}
	}
	sameItems(t, "after three applies", e.routeItems(), union(b2.keys, b3.keys))
	p := e.routeProvider(b3)
	hist, err := p.History(context.Background())
	if err != nil || len(hist) != 3 {
		t.Fatalf("history: %d records, %v", len(hist), err)
	}

	// Back to the second version: its keys are there, nothing is written.
	from := len(e.f.Requests())
	if _, err := p.Rollback(context.Background(), hist[2].Previous, providers.DeployRecord{Kind: "rollback", Who: "sre@laptop", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if w, _ := e.dataWrites(from); len(w) != 0 {
		t.Fatalf("the rollback to a version whose keys are there wrote %d UpdateKeys", len(w))
	}
	if got := e.f.liveCode("gw-viewer-request"); string(got) != string(code(t, b2, cfrender.RequestFile)) {
		t.Fatal("after the rollback the viewer-request function does not run the second version's code")
	}

	// Back to the first: its keys were removed, and go back before its code. The rollback reads the
	// store's keys, page by page.
	from = len(e.f.Requests())
	p = e.routeProvider(b2)
	if n := e.listCalls(from); n != 0 {
		t.Fatalf("%d ListKeys before the rollback", n)
	}
	if _, err := p.Rollback(context.Background(), providers.RestorePoint{Target: cloudfront.Name, Version: hist[0].Version}, providers.DeployRecord{Kind: "rollback", Who: "sre@laptop", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	sameItems(t, "after the rollback to the first version", e.routeItems(), union(b1.keys, union(b2.keys, b3.keys)))
	if n, want := e.listCalls(from), (len(b2.keys)+len(b3.keys)+1+9)/10; n != want {
		t.Errorf("the rollback made %d ListKeys calls, want %d (every page of the store's %d keys)", n, want, len(b2.keys)+len(b3.keys)+1)
	}
	writes, at := e.dataWrites(from)
	if len(writes) == 0 {
		t.Fatal("the rollback wrote no key")
	}
	puts := 0
	for _, w := range writes {
		puts += len(w.Puts)
		if len(w.Deletes) > 0 {
			t.Errorf("the rollback removed %d keys", len(w.Deletes))
		}
	}
	if puts != len(b1.keys) {
		t.Errorf("the rollback wrote %d keys, want the first table's %d", puts, len(b1.keys))
	}
	if pub := e.firstIndex(from, isPublish); pub < 0 || at[len(at)-1] > pub {
		t.Errorf("the rollback wrote keys at %v and published at %d: the keys must go first", at, pub)
	}
	if got := e.f.liveCode("gw-viewer-request"); string(got) != string(code(t, b1, cfrender.RequestFile)) {
		t.Fatal("after the rollback the viewer-request function does not run the first version's code")
	}
	if v, _ := e.f.item("gw-routes", "JWT_SECRET"); v != routesSecret {
		t.Fatalf("the secret is %q after the rollbacks", v)
	}

	// The next apply keeps the version live before it (the first) and removes the others.
	b4 := e.routeBuild("four")
	p = e.routeProvider(b4)
	if err := e.applyRoutes(p, e.planRoutes(p, b4)); err != nil {
		t.Fatal(err)
	}
	sameItems(t, "after an apply that follows the rollback", e.routeItems(), union(b1.keys, b4.keys))
	if v, _ := e.f.item("gw-routes", "JWT_SECRET"); v != routesSecret {
		t.Fatalf("the secret is %q after the last apply", v)
	}
}

func code(t *testing.T, b routeBuild, path string) []byte {
	t.Helper()
	for _, a := range b.arts {
		if a.Path == path {
			return a.Data
		}
	}
	t.Fatalf("no %s", path)
	return nil
}

// An UpdateKeys conflict on every try stops the apply as a stale plan before anything is published.
func TestRouteTableConflictStopsApply(t *testing.T) {
	e := newEnv(t)
	b := e.routeBuild("one")
	p := e.routeProvider(b)
	tp := e.planRoutes(p, b)
	for range 4 {
		e.f.inject(apitest.MatchFunc("UpdateKeys", func(r *apitest.Request) bool { return isUpdateKeys(*r) }), func(w http.ResponseWriter, r *apitest.Request) {
			kvsError(w, http.StatusConflict, "ConflictException", "the ETag does not match")
		})
	}
	err := e.applyRoutes(p, tp)
	if err == nil || !strings.Contains(err.Error(), "ConflictException") {
		t.Fatalf("apply against a moving store: %v", err)
	}
	if i := e.firstIndex(0, isPublish); i >= 0 {
		t.Fatalf("the refused apply published (request %d)", i)
	}
}

// A route table over CloudFront's limits, or naming a key that is not a route key of its one version,
// is refused before any change, naming the key and the limit; the deploy does not trust the file.
func TestRouteTableBounds(t *testing.T) {
	e := newEnv(t)
	b := e.routeBuild("one")
	item := func(k, v string) string {
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(v)
		return fmt.Sprintf(`{"key":%s,"value":%s}`, kb, vb)
	}
	ver := b.version
	var big []string
	for i := range 5200 {
		big = append(big, item(fmt.Sprintf("r%s/k%05d", ver, i), `"`+strings.Repeat("x", 1000)+`"`))
	}
	for _, tc := range []struct {
		name, file, want string
	}{
		{"value", `{"data":[` + item("r"+ver+"/long", `"`+strings.Repeat("v", 1100)+`"`) + `]}`, `the value of key "r` + ver + `/long" is 1102 bytes, over a KeyValueStore value's 1024`},
		{"key", `{"data":[` + item("r"+ver+"/"+strings.Repeat("k", 520), `0`) + `]}`, `over a KeyValueStore key's 512`},
		{"total", `{"data":[` + strings.Join(big, ",") + `]}`, "over a store's 5242880"},
		{"secret", `{"data":[` + item("JWT_SECRET", `0`) + `]}`, `key "JWT_SECRET", which holds an HS256 secret`},
		{"versions", `{"data":[` + item("r"+ver+"/a", `0`) + "," + item("r0000ffff/b", `0`) + `]}`, "mixes table versions"},
		{"not a route key", `{"data":[` + item("r/a", `0`) + `]}`, `key "r/a", which is not a route key`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.routeProvider(b)
			tp := e.planRoutes(p, b)
			for i := range tp.Artifacts {
				if tp.Artifacts[i].Path == cfrender.KVSFile {
					tp.Artifacts[i].Data = []byte(tc.file)
				}
			}
			from := len(e.f.Requests())
			err := e.applyRoutes(p, tp)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was changed") {
				t.Fatalf("apply of a table with a bad %s: %v, want an error saying %q", tc.name, err, tc.want)
			}
			if c := e.callsSince(from); c.writes != 0 || c.tests != 0 {
				t.Fatalf("the refused apply made %v", c.list)
			}
			if _, err := p.Plan(context.Background(), providers.PlanInput{Gateway: b.g, Artifacts: []render.Artifact{tp.Artifacts[0].Artifact(cfrender.Name), tp.Artifacts[1].Artifact(cfrender.Name), {Path: cfrender.KVSFile, Data: []byte(tc.file)}}}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("plan of a table with a bad %s: %v", tc.name, err)
			}
		})
	}

	// A table that fits a store alone but not beside the live one is refused too.
	p := e.routeProvider(b)
	if err := e.applyRoutes(p, e.planRoutes(p, b)); err != nil {
		t.Fatal(err)
	}
	var items []string
	for i := range 5160 {
		items = append(items, item(fmt.Sprintf("r0000abcd/k%05d", i), `"`+strings.Repeat("y", 998)+`"`))
	}
	tp := e.planRoutes(p, b)
	tp.Artifacts = append(tp.Artifacts, providers.PlannedArtifact{Path: cfrender.KVSFile, Data: []byte(`{"data":[` + strings.Join(items, ",") + `]}`)})
	for i := range tp.Artifacts[:len(tp.Artifacts)-1] {
		if tp.Artifacts[i].Path == cfrender.KVSFile {
			tp.Artifacts = append(tp.Artifacts[:i], tp.Artifacts[i+1:]...)
			break
		}
	}
	from := len(e.f.Requests())
	if err := e.applyRoutes(p, tp); err == nil || !strings.Contains(err.Error(), "the store holds until the new code is live") {
		t.Fatalf("apply of a table that does not fit beside the live one: %v", err)
	}
	if c := e.callsSince(from); c.writes != 0 {
		t.Fatalf("the refused apply made %v", c.list)
	}
}

// A failed apply after the keys went in (TestFunction refuses the code) leaves the new version's keys
// beside the live table, and the live code as it was; the next apply of that table goes through.
func TestRouteTableFailedApplyLeavesKeys(t *testing.T) {
	e := newEnv(t)
	b1, b2 := e.routeBuild("one"), e.routeBuild("two")
	p := e.routeProvider(b1)
	if err := e.applyRoutes(p, e.planRoutes(p, b1)); err != nil {
		t.Fatal(err)
	}
	e.f.mu.Lock()
	e.f.utilization = "95"
	e.f.mu.Unlock()
	p = e.routeProvider(b2)
	if err := e.applyRoutes(p, e.planRoutes(p, b2)); err == nil || !strings.Contains(err.Error(), "compute budget") {
		t.Fatalf("apply with a function over its compute budget: %v", err)
	}
	sameItems(t, "after the failed apply", e.routeItems(), union(b1.keys, b2.keys))
	if got := e.f.liveCode("gw-viewer-request"); string(got) != string(code(t, b1, cfrender.RequestFile)) {
		t.Fatal("after the failed apply the live code is not the first version's")
	}
	e.f.mu.Lock()
	e.f.utilization = "12"
	e.f.mu.Unlock()
	p = e.routeProvider(b2)
	if err := e.applyRoutes(p, e.planRoutes(p, b2)); err != nil {
		t.Fatal(err)
	}
	sameItems(t, "after the apply that followed", e.routeItems(), union(b1.keys, b2.keys))
	if v, _ := e.f.item("gw-routes", "JWT_SECRET"); v != routesSecret {
		t.Fatalf("the secret is %q", v)
	}
}

// Through the engine, as `edgegw plan`, `apply` and `rollback` run it: the plan counts the route keys, the
// apply writes the rendered table, a changed table goes in beside it, and `rollback` returns to the first
// version, whose keys are still there, writing none.
func TestRouteTableEngine(t *testing.T) {
	e := newEnv(t)
	b1, b2 := e.routeBuild("one"), e.routeBuild("two")
	p := e.routeProvider(b1)
	plan := e.plan(p, b1.g)
	if n := keyChanges(plan.Targets[0]); n[providers.Create] != len(b1.keys) {
		t.Fatalf("the plan counts %v route key changes, want %d to add", n, len(b1.keys))
	}
	if _, err := e.apply(p, b1.g, plan); err != nil {
		t.Fatal(err)
	}
	sameItems(t, "after the first apply", e.routeItems(), b1.keys)
	if plan := e.plan(e.routeProvider(b1), b1.g); plan.HasChanges() {
		t.Fatalf("re-plan has %d changes, the first %+v", len(plan.Targets[0].Changes), plan.Targets[0].Changes[0])
	}
	p = e.routeProvider(b2)
	if _, err := e.apply(p, b2.g, e.plan(p, b2.g)); err != nil {
		t.Fatal(err)
	}
	sameItems(t, "after the second apply", e.routeItems(), union(b1.keys, b2.keys))
	from := len(e.f.Requests())
	if _, err := providers.Rollback(context.Background(), []providers.Provider{p}, providers.RollbackOptions{Who: "sre@laptop", Getenv: func(string) string { return "" }}); err != nil {
		t.Fatal(err)
	}
	if w, _ := e.dataWrites(from); len(w) != 0 {
		t.Fatalf("the rollback wrote %d UpdateKeys, the first table's keys were there", len(w))
	}
	if got := e.f.liveCode("gw-viewer-request"); string(got) != string(code(t, b1, cfrender.RequestFile)) {
		t.Fatal("after the rollback the viewer-request function does not run the first version's code")
	}
	if v, _ := e.f.item("gw-routes", "JWT_SECRET"); v != routesSecret {
		t.Fatalf("the secret is %q", v)
	}
}

// listCalls counts the ListKeys requests from on.
func (e *env) listCalls(from int) int {
	n := 0
	for _, r := range e.f.Requests()[from:] {
		if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/key-value-stores/") && strings.HasSuffix(r.Path, "/keys") {
			n++
		}
	}
	return n
}
