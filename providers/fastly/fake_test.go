package fastly_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgegw/edgegw/internal/falco"
	"github.com/edgegw/edgegw/providers/apitest"
)

// fakeFastly is a Fastly API on an apitest server, speaking the HTTP shape go-fastly v12 sends and reads:
// form-encoded bodies, JSON answers with Fastly's field names, the legacy error body {"msg","detail"},
// the Fastly-Key header and the Fastly-RateLimit-* headers on mutating calls. It keeps services as
// versions of objects, with Fastly's rules: a locked (once active) version cannot change, clone copies
// every object into a new unlocked version, activation validates and locks.
type fakeFastly struct {
	*apitest.Server
	t       testing.TB
	token   string
	service string

	mu       sync.Mutex
	versions []*fakeVersion // versions[i].number == i+1
	active   int
	faults   *apitest.Faults
	// invalid makes validation and activation fail when a VCL file holds this text.
	invalid string
	clock   time.Time
	// items are the edge dictionaries' items by dictionary id: not versioned, as on Fastly.
	items  map[string]map[string]string
	nextID int
	// falco is the falco binary validation lints the main VCL with ("" when falco is missing).
	falco string
}

type fakeVersion struct {
	number  int
	comment string
	locked  bool
	updated time.Time
	objects map[string]map[string]map[string]any // kind → name → fields
}

var kinds = []string{"backend", "healthcheck", "domain", "vcl", "dictionary"}

func newFakeFastly(t testing.TB) *fakeFastly {
	f := &fakeFastly{Server: apitest.New(t), t: t, token: "test-token", service: "SU1Z0isxPaozGVKXdv0eY",
		clock: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), items: map[string]map[string]string{},
		faults: apitest.NewFaults(t, "fake fastly")}
	// Fastly compiles every version it validates; the fake has falco lint the main VCL, so a VCL Fastly
	// would refuse fails here too. CI must have falco (scripts/install-test-deps.sh builds it).
	bin, err := falco.Binary()
	if err != nil && os.Getenv("CI") != "" {
		t.Fatalf("fake fastly: falco is required when CI is set (scripts/install-test-deps.sh builds it): %v", err)
	}
	if err == nil {
		f.falco = bin
	}
	f.Register(apitest.MatchFunc("the fake Fastly API", func(*apitest.Request) bool { return true }), f.serve).Always()
	return f
}

// inject makes the next request m matches get respond's answer.
func (f *fakeFastly) inject(m apitest.Matcher, respond apitest.Responder) { f.faults.Add(m, respond) }

// seed makes a first version by hand, as the Fastly UI would, and activates it.
func (f *fakeFastly) seed(objects map[string]map[string]map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.newVersion()
	for k, objs := range objects {
		for name, fields := range objs {
			o := map[string]any{"name": name}
			for fk, fv := range fields {
				o[fk] = fv
			}
			v.objects[k][name] = o
		}
	}
	v.locked = true
	f.active = v.number
}

func (f *fakeFastly) newVersion() *fakeVersion {
	v := &fakeVersion{number: len(f.versions) + 1, updated: f.tick(), objects: map[string]map[string]map[string]any{}}
	for _, k := range kinds {
		v.objects[k] = map[string]map[string]any{}
	}
	f.versions = append(f.versions, v)
	return v
}

func (f *fakeFastly) tick() time.Time {
	f.clock = f.clock.Add(time.Minute)
	return f.clock
}

// Active is the live version number.
func (f *fakeFastly) Active() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.active
}

// Versions is how many versions the service has.
func (f *fakeFastly) Versions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.versions)
}

// Object returns a field of an object of a version.
func (f *fakeFastly) Object(version int, kind, name string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.versions[version-1].objects[kind][name]
}

// Names lists the objects of a kind in a version.
func (f *fakeFastly) Names(version int, kind string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.versions[version-1].objects[kind] {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Activate makes a version live, as someone in the Fastly UI would.
func (f *fakeFastly) Activate(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.versions[n-1].locked = true
	f.active = n
}

func (f *fakeFastly) Env() map[string]string {
	env := f.EnvFor("fastly")
	env["FASTLY_API_TOKEN"] = f.token
	return env
}

func (f *fakeFastly) serve(w http.ResponseWriter, r *apitest.Request) {
	if respond, ok := f.faults.Take(r); ok {
		respond(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Fastly-Key") != f.token {
		fastlyError(w, http.StatusUnauthorized, "Provided credentials are missing or invalid", "")
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Fastly-RateLimit-Remaining", "999")
		w.Header().Set("Fastly-RateLimit-Reset", strconv.FormatInt(f.clock.Add(time.Hour).Unix(), 10))
	}
	segs := strings.Split(strings.Trim(r.Path, "/"), "/")
	if len(segs) < 2 || segs[0] != "service" || segs[1] != f.service {
		fastlyError(w, http.StatusNotFound, "Record not found", "Couldn't find Service '"+strings.Join(segs[1:2], "")+"'")
		return
	}
	form, _ := url.ParseQuery(string(r.Body))
	segs = segs[2:]
	if len(segs) == 3 && segs[0] == "dictionary" && segs[2] == "items" {
		f.dictionaryItems(w, r, segs[1])
		return
	}
	route := r.Method + " " + strings.Join(shape(segs), "/")
	switch route {
	case "GET ":
		f.reply(w, f.serviceJSON())
		return
	case "POST version":
		v := f.newVersion()
		f.reply(w, f.versionJSON(v))
		return
	}
	if len(segs) < 2 || segs[0] != "version" {
		fastlyError(w, http.StatusNotFound, "Not found", route)
		return
	}
	n, err := strconv.Atoi(segs[1])
	if err != nil || n < 1 || n > len(f.versions) {
		fastlyError(w, http.StatusNotFound, "Record not found", "no version "+segs[1])
		return
	}
	v := f.versions[n-1]
	writes := r.Method != http.MethodGet
	switch route {
	case "GET version/N":
		f.reply(w, f.versionJSON(v))
	case "PUT version/N":
		if v.locked {
			fastlyError(w, http.StatusBadRequest, "Bad request", "Version is locked")
			return
		}
		v.comment, v.updated = form.Get("comment"), f.tick()
		f.reply(w, f.versionJSON(v))
	case "PUT version/N/clone":
		c := f.newVersion()
		for k, objs := range v.objects {
			for name, o := range objs {
				cp := map[string]any{}
				for fk, fv := range o {
					cp[fk] = fv
				}
				c.objects[k][name] = cp
			}
		}
		f.reply(w, f.versionJSON(c))
	case "GET version/N/validate":
		if msg := f.check(v); msg != "" {
			f.reply(w, map[string]any{"status": "error", "msg": msg, "errors": []string{msg}})
			return
		}
		f.reply(w, map[string]any{"status": "ok", "msg": nil, "errors": []string{}, "warnings": []string{}})
	case "PUT version/N/activate":
		if msg := f.check(v); msg != "" {
			fastlyError(w, http.StatusBadRequest, "Bad request", msg)
			return
		}
		v.locked, v.updated, f.active = true, f.tick(), n
		f.reply(w, f.versionJSON(v))
	case "GET version/N/KIND":
		kind := segs[2]
		if _, ok := v.objects[kind]; !ok {
			fastlyError(w, http.StatusNotFound, "Not found", kind)
			return
		}
		list := []map[string]any{}
		for _, name := range sortedNames(v.objects[kind]) {
			list = append(list, f.objectJSON(v, kind, v.objects[kind][name]))
		}
		f.reply(w, list)
	default:
		if writes && v.locked {
			fastlyError(w, http.StatusBadRequest, "Bad request", "Version is locked")
			return
		}
		f.objectRoute(w, r, route, v, segs, form)
	}
}

// shape turns a path into its route: version/N/KIND/NAME.
func shape(segs []string) []string {
	out := append([]string(nil), segs...)
	if len(out) > 1 {
		out[1] = "N"
	}
	if len(out) > 2 && out[2] != "clone" && out[2] != "validate" && out[2] != "activate" {
		out[2] = "KIND"
	}
	if len(out) > 3 {
		out[3] = "NAME"
	}
	return out
}

func (f *fakeFastly) objectRoute(w http.ResponseWriter, r *apitest.Request, route string, v *fakeVersion, segs []string, form url.Values) {
	kind := segs[2]
	objs, ok := v.objects[kind]
	if !ok {
		fastlyError(w, http.StatusNotFound, "Not found", kind)
		return
	}
	switch route {
	case "POST version/N/KIND":
		name := form.Get("name")
		if name == "" {
			fastlyError(w, http.StatusBadRequest, "Bad request", "name is required")
			return
		}
		if _, dup := objs[name]; dup {
			fastlyError(w, http.StatusConflict, "Duplicate record", fmt.Sprintf("Duplicate %s: '%s'", kind, name))
			return
		}
		o := defaults(kind)
		setFields(o, form)
		if kind == "dictionary" {
			f.nextID++
			o["id"] = fmt.Sprintf("dict%04d", f.nextID)
			f.items[o["id"].(string)] = map[string]string{}
		}
		if kind == "vcl" && o["main"] == true {
			for _, other := range objs {
				other["main"] = false
			}
		}
		objs[name] = o
		f.reply(w, f.objectJSON(v, kind, o))
		return
	}
	name := segs[3]
	o, ok := objs[name]
	if !ok {
		fastlyError(w, http.StatusNotFound, "Record not found", fmt.Sprintf("Couldn't find %s '%s'", kind, name))
		return
	}
	switch route {
	case "GET version/N/KIND/NAME":
		f.reply(w, f.objectJSON(v, kind, o))
	case "PUT version/N/KIND/NAME":
		setFields(o, form)
		if nn := o["name"].(string); nn != name {
			delete(objs, name)
			objs[nn] = o
		}
		f.reply(w, f.objectJSON(v, kind, o))
	case "DELETE version/N/KIND/NAME":
		delete(objs, name)
		f.reply(w, map[string]any{"status": "ok"})
	case "PUT version/N/KIND/NAME/main":
		for _, other := range objs {
			other["main"] = false
		}
		o["main"] = true
		f.reply(w, f.objectJSON(v, kind, o))
	default:
		fastlyError(w, http.StatusNotFound, "Not found", route)
	}
}

// dictionaryItems serves /service/ID/dictionary/ID/items: the list (one page, as for fewer than 100 items
// or a client that asks for more) and the batch PATCH. A write-only dictionary's items are never read back.
func (f *fakeFastly) dictionaryItems(w http.ResponseWriter, r *apitest.Request, id string) {
	items, ok := f.items[id]
	if !ok {
		fastlyError(w, http.StatusNotFound, "Record not found", "Couldn't find dictionary '"+id+"'")
		return
	}
	writeOnly := false
	for _, v := range f.versions {
		if d := findByID(v.objects["dictionary"], id); d != nil {
			writeOnly = d["write_only"] == true
		}
	}
	switch r.Method {
	case http.MethodGet:
		if writeOnly {
			fastlyError(w, http.StatusForbidden, "Forbidden", "the items of a write-only dictionary cannot be read")
			return
		}
		list := []map[string]any{}
		for _, k := range sortedKeys(items) {
			list = append(list, map[string]any{"dictionary_id": id, "service_id": f.service, "item_key": k, "item_value": items[k],
				"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "deleted_at": nil})
		}
		f.reply(w, list)
	case http.MethodPatch:
		var batch struct {
			Items []struct {
				Op    string  `json:"op"`
				Key   string  `json:"item_key"`
				Value *string `json:"item_value"`
			} `json:"items"`
		}
		if err := json.Unmarshal(r.Body, &batch); err != nil || len(batch.Items) == 0 || len(batch.Items) > 1000 {
			fastlyError(w, http.StatusBadRequest, "Bad request", "a batch holds 1 to 1000 items")
			return
		}
		next := map[string]string{}
		for k, v := range items {
			next[k] = v
		}
		for _, it := range batch.Items {
			_, exists := next[it.Key]
			switch {
			case it.Op == "delete" && exists:
				delete(next, it.Key)
			case it.Op == "upsert" && it.Value != nil, it.Op == "create" && !exists && it.Value != nil, it.Op == "update" && exists && it.Value != nil:
				next[it.Key] = *it.Value
			default:
				fastlyError(w, http.StatusBadRequest, "Bad request", fmt.Sprintf("cannot %s item '%s'", it.Op, it.Key))
				return
			}
		}
		f.items[id] = next
		f.reply(w, map[string]any{"status": "ok"})
	default:
		fastlyError(w, http.StatusMethodNotAllowed, "Method not allowed", r.Method)
	}
}

func findByID(objs map[string]map[string]any, id string) map[string]any {
	for _, o := range objs {
		if o["id"] == id {
			return o
		}
	}
	return nil
}

// Items returns the items of a version's dictionary (nil when the version has no such dictionary).
func (f *fakeFastly) Items(version int, name string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.versions[version-1].objects["dictionary"][name]
	if d == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range f.items[d["id"].(string)] {
		out[k] = v
	}
	return out
}

// SetItem changes a dictionary item by hand, as the Fastly UI would.
func (f *fakeFastly) SetItem(version int, name, key, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[f.versions[version-1].objects["dictionary"][name]["id"].(string)][key] = value
}

// lint has falco lint the version's main VCL as Fastly compiles it: after the declarations Fastly
// generates from the version's objects (its backends and its dictionaries as tables). It returns
// falco's errors, "" when the VCL is clean or falco is missing.
func (f *fakeFastly) lint(v *fakeVersion) string {
	if f.falco == "" {
		return ""
	}
	var main string
	for _, o := range v.objects["vcl"] {
		if o["main"] == true {
			main, _ = o["content"].(string)
		}
	}
	if main == "" {
		return ""
	}
	var b strings.Builder
	for _, name := range sortedNames(v.objects["backend"]) {
		o := v.objects["backend"][name]
		fmt.Fprintf(&b, "backend F_%s {\n  .host = \"%v\";\n  .port = \"%v\";\n}\n", name, o["address"], o["port"])
	}
	for _, name := range sortedNames(v.objects["dictionary"]) {
		fmt.Fprintf(&b, "table %s STRING {\n}\n", name)
	}
	b.WriteString(main)
	sum := sha256.Sum256([]byte(b.String()))
	key := hex.EncodeToString(sum[:])
	if msg, ok := lintCache.Load(key); ok {
		return msg.(string)
	}
	dir := f.t.TempDir()
	path := filepath.Join(dir, "main.vcl")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		f.t.Errorf("fake fastly: %v", err)
		return ""
	}
	out, err := falco.Lint(context.Background(), path)
	msg := ""
	if err != nil || strings.Contains(out, "[ERROR]") {
		var errs []string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "[ERROR]") {
				errs = append(errs, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "🔥")))
			}
		}
		if len(errs) == 0 {
			errs = append(errs, strings.TrimSpace(out))
		}
		msg = "falco lint: " + strings.Join(errs, "; ")
	}
	lintCache.Store(key, msg)
	return msg
}

// lintCache keeps falco's verdict per linted file across the tests of a run.
var lintCache sync.Map

// check is Fastly's compilation, as far as the fake goes: a main VCL among custom VCL files (with none,
// Fastly generates the VCL), backends that name existing health checks, no VCL holding the text the test
// made invalid, and a main VCL falco lints clean.
func (f *fakeFastly) check(v *fakeVersion) string {
	main := false
	for name, o := range v.objects["vcl"] {
		if o["main"] == true {
			main = true
		}
		if f.invalid != "" && strings.Contains(o["content"].(string), f.invalid) {
			return fmt.Sprintf("Syntax error: Unexpected '%s' in VCL '%s'", f.invalid, name)
		}
	}
	if !main && len(v.objects["vcl"]) > 0 {
		return "No main VCL configured"
	}
	for name, b := range v.objects["backend"] {
		if hc, _ := b["healthcheck"].(string); hc != "" {
			if _, ok := v.objects["healthcheck"][hc]; !ok {
				return fmt.Sprintf("Backend '%s' uses unknown healthcheck '%s'", name, hc)
			}
		}
	}
	return f.lint(v)
}

// defaults are the values Fastly fills in for fields a create leaves out.
func defaults(kind string) map[string]any {
	switch kind {
	case "backend":
		return map[string]any{"port": 80, "use_ssl": false, "connect_timeout": 1000, "first_byte_timeout": 15000,
			"between_bytes_timeout": 10000, "override_host": nil, "ssl_cert_hostname": nil, "ssl_sni_hostname": nil, "healthcheck": nil, "weight": 100}
	case "healthcheck":
		return map[string]any{"method": "HEAD", "host": nil, "check_interval": 5000, "timeout": 500, "threshold": 3, "window": 5,
			"initial": 4, "expected_response": 200, "http_version": "1.1", "headers": []string{}}
	case "vcl":
		return map[string]any{"main": false, "content": ""}
	case "dictionary":
		return map[string]any{"write_only": false}
	}
	return map[string]any{}
}

var intFields = map[string]bool{"port": true, "connect_timeout": true, "first_byte_timeout": true, "between_bytes_timeout": true,
	"check_interval": true, "timeout": true, "threshold": true, "window": true, "initial": true, "expected_response": true, "weight": true}

var boolFields = map[string]bool{"use_ssl": true, "main": true, "write_only": true, "ssl_check_cert": true, "auto_loadbalance": true, "prefer_ipv6": true}

func setFields(o map[string]any, form url.Values) {
	for k := range form {
		val := form.Get(k)
		switch {
		case intFields[k]:
			n, _ := strconv.Atoi(val)
			o[k] = n
		case boolFields[k]:
			o[k] = val == "1" || val == "true"
		case val == "" && k != "content":
			o[k] = nil
		default:
			o[k] = val
		}
	}
}

func (f *fakeFastly) objectJSON(v *fakeVersion, kind string, o map[string]any) map[string]any {
	out := map[string]any{"service_id": f.service, "version": v.number, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "deleted_at": nil}
	for k, val := range o {
		out[k] = val
	}
	return out
}

func (f *fakeFastly) versionJSON(v *fakeVersion) map[string]any {
	return map[string]any{"number": v.number, "service_id": f.service, "active": f.active == v.number, "locked": v.locked,
		"deployed": false, "staging": false, "testing": false, "comment": v.comment,
		"created_at": v.updated.Format(time.RFC3339), "updated_at": v.updated.Format(time.RFC3339), "deleted_at": nil}
}

func (f *fakeFastly) serviceJSON() map[string]any {
	versions := []map[string]any{}
	for _, v := range f.versions {
		versions = append(versions, f.versionJSON(v))
	}
	return map[string]any{"id": f.service, "name": "edge-api-gateway", "type": "vcl", "customer_id": "x4xCwxxJxGCx123Rx5xTx",
		"comment": "", "version": f.active, "versions": versions,
		"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "deleted_at": nil}
}

func (f *fakeFastly) reply(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		f.t.Errorf("fake fastly: %v", err)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// fastlyError answers as the Fastly API does for its classic endpoints.
func fastlyError(w http.ResponseWriter, status int, msg, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"msg": msg, "detail": detail})
}

func sortedNames(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
