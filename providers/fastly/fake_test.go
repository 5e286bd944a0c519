package fastly_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
	faults   []*fault
	// invalid makes validation and activation fail when a VCL file holds this text.
	invalid string
	clock   time.Time
}

type fakeVersion struct {
	number  int
	comment string
	locked  bool
	updated time.Time
	objects map[string]map[string]map[string]any // kind → name → fields
}

// A fault answers the next request it matches instead of the fake, once.
type fault struct {
	match   apitest.Matcher
	respond apitest.Responder
	used    bool
}

var kinds = []string{"backend", "healthcheck", "domain", "vcl"}

func newFakeFastly(t testing.TB) *fakeFastly {
	f := &fakeFastly{Server: apitest.New(t), t: t, token: "test-token", service: "SU1Z0isxPaozGVKXdv0eY",
		clock: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	f.Register(apitest.MatchFunc("the fake Fastly API", func(*apitest.Request) bool { return true }), f.serve).Always()
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, ft := range f.faults {
			if !ft.used {
				t.Errorf("fake fastly: fault never used: %s", ft.match)
			}
		}
	})
	return f
}

// inject makes the next request m matches get respond's answer.
func (f *fakeFastly) inject(m apitest.Matcher, respond apitest.Responder) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &fault{match: m, respond: respond})
}

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
	f.mu.Lock()
	for _, ft := range f.faults {
		if !ft.used && ft.match.Match(r) {
			ft.used = true
			f.mu.Unlock()
			ft.respond(w, r)
			return
		}
	}
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

// check is Fastly's compilation, as far as the fake goes: a main VCL among custom VCL files (with none,
// Fastly generates the VCL), backends that name existing health
// checks, and no VCL holding the text the test made invalid.
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
	return ""
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
	}
	return map[string]any{}
}

var intFields = map[string]bool{"port": true, "connect_timeout": true, "first_byte_timeout": true, "between_bytes_timeout": true,
	"check_interval": true, "timeout": true, "threshold": true, "window": true, "initial": true, "expected_response": true, "weight": true}

var boolFields = map[string]bool{"use_ssl": true, "main": true, "ssl_check_cert": true, "auto_loadbalance": true, "prefer_ipv6": true}

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
