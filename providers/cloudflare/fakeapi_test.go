package cloudflare

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgegw/edgegw/providers/apitest"
)

// fakeCF is the Workers API of one account as the tests' apitest server answers it: the paths, envelopes
// and error codes of the real API (cloudflare-go v6 workers/scriptversion.go, scriptdeployment.go,
// scriptsecret.go), with versions, deployments and secrets kept in memory. A secret change deploys a new
// version, as on Cloudflare, and a deployment of a version older than the last secret change is refused
// with 10220 unless ?force=true.
type fakeCF struct {
	t       *testing.T
	mu      sync.Mutex
	account string
	script  string
	exists  bool
	n       int
	// versions by id; deployments newest first, as the API lists them.
	versions    map[string]*fakeVersion
	deployments []fakeDeployment
	secrets     map[string]string
	secretGen   int
	// Durable Object classes created by migrations, and the last migration tag.
	classes      []string
	migrationTag string
	// zones by name → id, and each zone's Workers routes.
	zones  map[string]string
	routes map[string][]route
	// the account's Workers Custom Domains, and each zone's DNS records (by zone id).
	domains []customDomain
	records map[string][]dnsRecord
	// faults answer the next matching requests instead of the fake, in order.
	faults []fault
}

type fakeVersion struct {
	ID          string
	Number      int
	Annotations map[string]string
	Bindings    []map[string]any
	Modules     map[string]string // filename → content type
	MainModule  string
	SecretGen   int
}

type fakeDeployment struct {
	ID        string
	Created   time.Time
	VersionID string
	Message   string
	Trigger   string
}

type fault struct {
	method, suffix string
	respond        apitest.Responder
}

const (
	testAccount = "0123456789abcdef0123456789abcdef"
	testScript  = "edge-api-gateway"
)

// newFakeCF serves the fake on srv: one stub that answers every Workers API call of the script. Tests that
// need to know the exact calls read srv's request log.
func newFakeCF(t *testing.T, srv *apitest.Server) *fakeCF {
	f := &fakeCF{t: t, account: testAccount, script: testScript, versions: map[string]*fakeVersion{}, secrets: map[string]string{},
		zones: map[string]string{"example.com": "023e105f4ecef8ad9ca31a8372d0c353"}, routes: map[string][]route{}, records: map[string][]dnsRecord{}}
	base := "/client/v4/accounts/" + f.account + "/workers/scripts/" + f.script
	srv.Register(apitest.MatchFunc("cloudflare workers api of "+f.script, func(r *apitest.Request) bool {
		return r.Path == base || strings.HasPrefix(r.Path, base+"/")
	}), func(w http.ResponseWriter, r *apitest.Request) {
		f.serve(w, r, strings.TrimPrefix(strings.TrimPrefix(r.Path, base), "/"))
	}).Always()
	srv.Register(apitest.MatchFunc("cloudflare workers custom domains and script list api", func(r *apitest.Request) bool {
		return strings.HasPrefix(r.Path, "/client/v4/accounts/"+f.account+"/workers/domains") || r.Path == "/client/v4/accounts/"+f.account+"/workers/scripts"
	}), f.serveDomains).Always()
	srv.Register(apitest.MatchFunc("cloudflare zones api", func(r *apitest.Request) bool {
		return strings.HasPrefix(r.Path, "/client/v4/zones")
	}), f.serveZones).Always()
	return f
}

// serveZones answers the zone lookup (GET /zones?name=) and the zone's Workers routes.
func (f *fakeCF) serveZones(w http.ResponseWriter, r *apitest.Request) {
	f.mu.Lock()
	if f.fault(w, r) {
		return
	}
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		apiError(http.StatusBadRequest, 10000, "Authentication error")(w, r)
		return
	}
	segs := strings.Split(strings.TrimPrefix(r.Path, "/client/v4/"), "/")
	switch {
	case r.Method == "GET" && len(segs) == 1:
		out := []any{}
		if id, ok := f.zones[r.Query.Get("name")]; ok && r.Query.Get("account.id") == f.account {
			out = append(out, map[string]any{"id": id, "name": r.Query.Get("name"), "account": map[string]any{"id": f.account}})
		}
		apitest.JSON(http.StatusOK, map[string]any{"success": true, "errors": []any{}, "messages": []any{}, "result": out,
			"result_info": map[string]any{"page": 1, "per_page": 20, "count": len(out), "total_count": len(out)}})(w, r)
	case len(segs) >= 4 && segs[2] == "workers" && segs[3] == "routes":
		f.serveRoutes(w, r, segs[1], segs[4:])
	case len(segs) >= 3 && segs[2] == "dns_records":
		f.serveRecords(w, r, segs[1], segs[3:])
	default:
		apiError(http.StatusNotFound, 7000, "No route for that URI")(w, r)
	}
}

func (f *fakeCF) serveRoutes(w http.ResponseWriter, r *apitest.Request, zone string, rest []string) {
	known := false
	for _, id := range f.zones {
		known = known || id == zone
	}
	if !known {
		apiError(http.StatusNotFound, 1001, "Invalid zone identifier")(w, r)
		return
	}
	routeJSON := func(x route) map[string]any {
		return map[string]any{"id": x.ID, "pattern": x.Pattern, "script": x.Script}
	}
	switch {
	case r.Method == "GET" && len(rest) == 0:
		out := []any{}
		for _, x := range f.routes[zone] {
			out = append(out, routeJSON(x))
		}
		apitest.JSON(http.StatusOK, envelope(out))(w, r)
	case r.Method == "POST" && len(rest) == 0:
		var body struct{ Pattern, Script string }
		if err := json.Unmarshal(r.Body, &body); err != nil || body.Pattern == "" {
			apiError(http.StatusBadRequest, 10021, "invalid route")(w, r)
			return
		}
		for _, x := range f.routes[zone] {
			if x.Pattern == body.Pattern {
				apiError(http.StatusConflict, 10020, "A route with the same pattern already exists.")(w, r)
				return
			}
		}
		x := route{ID: fmt.Sprintf("route-%d", len(f.routes[zone])+1+f.n), Pattern: body.Pattern, Script: body.Script}
		f.n++
		f.routes[zone] = append(f.routes[zone], x)
		apitest.JSON(http.StatusOK, envelope(routeJSON(x)))(w, r)
	case r.Method == "DELETE" && len(rest) == 1:
		rs := f.routes[zone]
		for i, x := range rs {
			if x.ID == rest[0] {
				f.routes[zone] = append(rs[:i:i], rs[i+1:]...)
				apitest.JSON(http.StatusOK, envelope(map[string]any{"id": x.ID}))(w, r)
				return
			}
		}
		apiError(http.StatusNotFound, 10019, "Route not found")(w, r)
	default:
		apiError(http.StatusNotFound, 7000, "No route for that URI")(w, r)
	}
}

// fault answers r with the first injected fault that matches it, if any; the caller holds f.mu, which
// fault releases when it answers.
func (f *fakeCF) fault(w http.ResponseWriter, r *apitest.Request) bool {
	for i, x := range f.faults {
		if x.method == r.Method && strings.HasSuffix(r.Path, x.suffix) {
			f.faults = append(f.faults[:i], f.faults[i+1:]...)
			f.mu.Unlock()
			x.respond(w, r)
			return true
		}
	}
	return false
}

// serveDomains answers the account's Workers Custom Domains: list, attach (PUT, idempotent) and detach.
// Attaching a host that has DNS records of its own is refused, as the API does without an override.
func (f *fakeCF) serveDomains(w http.ResponseWriter, r *apitest.Request) {
	f.mu.Lock()
	if f.fault(w, r) {
		return
	}
	defer f.mu.Unlock()
	if r.Path == "/client/v4/accounts/"+f.account+"/workers/scripts" {
		out := []any{}
		if f.exists {
			out = append(out, map[string]any{"id": f.script, "migration_tag": f.migrationTag, "handlers": []string{"fetch"}})
		}
		apitest.JSON(http.StatusOK, envelope(out))(w, r)
		return
	}
	rest := strings.Trim(strings.TrimPrefix(r.Path, "/client/v4/accounts/"+f.account+"/workers/domains"), "/")
	domainJSON := func(d customDomain) map[string]any {
		zone := ""
		for n, id := range f.zones {
			if id == d.ZoneID {
				zone = n
			}
		}
		return map[string]any{"id": d.ID, "hostname": d.Host, "service": d.Script, "zone_id": d.ZoneID, "zone_name": zone,
			"environment": "production", "cert_id": "00000000-0000-4000-8000-000000000000"}
	}
	switch {
	case r.Method == "GET" && rest == "":
		out := []any{}
		for _, d := range f.domains {
			out = append(out, domainJSON(d))
		}
		apitest.JSON(http.StatusOK, envelope(out))(w, r)
	case r.Method == "PUT" && rest == "":
		var body struct {
			Hostname, Service string
			ZoneID            string `json:"zone_id"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || body.Hostname == "" || body.Service == "" {
			apiError(http.StatusBadRequest, 100100, "invalid domain")(w, r)
			return
		}
		for i, d := range f.domains {
			if d.Host == body.Hostname {
				if d.Script != body.Service {
					f.domains[i].Script = body.Service
				}
				apitest.JSON(http.StatusOK, envelope(domainJSON(f.domains[i])))(w, r)
				return
			}
		}
		if len(f.recordsNamed(body.ZoneID, body.Hostname)) > 0 {
			apiError(http.StatusConflict, 100117, "Hostname already has externally managed DNS records (A, AAAA, CNAME).")(w, r)
			return
		}
		d := customDomain{ID: f.id("domain"), Host: body.Hostname, Script: body.Service, ZoneID: body.ZoneID}
		f.domains = append(f.domains, d)
		apitest.JSON(http.StatusOK, envelope(domainJSON(d)))(w, r)
	case r.Method == "DELETE" && rest != "":
		for i, d := range f.domains {
			if d.ID == rest {
				f.domains = append(f.domains[:i:i], f.domains[i+1:]...)
				apitest.JSON(http.StatusOK, map[string]any{"success": true, "errors": []any{}, "messages": []any{}})(w, r)
				return
			}
		}
		apiError(http.StatusNotFound, 100101, "domain not found")(w, r)
	default:
		apiError(http.StatusNotFound, 7000, "No route for that URI")(w, r)
	}
}

func (f *fakeCF) recordsNamed(zone, name string) []dnsRecord {
	var out []dnsRecord
	for _, x := range f.records[zone] {
		if strings.EqualFold(x.Name, name) {
			out = append(out, x)
		}
	}
	return out
}

// serveRecords answers a zone's DNS records: list (by name.exact or comment.exact), create, delete.
// Creating a record identical to one that exists is refused (81058).
func (f *fakeCF) serveRecords(w http.ResponseWriter, r *apitest.Request, zone string, rest []string) {
	recordJSON := func(x dnsRecord) map[string]any {
		return map[string]any{"id": x.ID, "name": x.Name, "type": x.Type, "content": x.Content, "comment": x.Comment,
			"proxied": x.Proxied, "proxiable": true, "ttl": 1}
	}
	switch {
	case r.Method == "GET" && len(rest) == 0:
		out := []any{}
		for _, x := range f.records[zone] {
			if n := r.Query.Get("name.exact"); n != "" && !strings.EqualFold(n, x.Name) {
				continue
			}
			if c := r.Query.Get("comment.exact"); c != "" && c != x.Comment {
				continue
			}
			out = append(out, recordJSON(x))
		}
		apitest.JSON(http.StatusOK, map[string]any{"success": true, "errors": []any{}, "messages": []any{}, "result": out,
			"result_info": map[string]any{"page": 1, "per_page": 1000, "count": len(out), "total_count": len(out), "total_pages": 1}})(w, r)
	case r.Method == "POST" && len(rest) == 0:
		var body struct {
			Name, Type, Content, Comment string
			Proxied                      bool
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || body.Name == "" || body.Type == "" {
			apiError(http.StatusBadRequest, 9000, "invalid DNS record")(w, r)
			return
		}
		for _, x := range f.records[zone] {
			if strings.EqualFold(x.Name, body.Name) && x.Type == body.Type && x.Content == body.Content {
				apiError(http.StatusBadRequest, 81058, "An identical record already exists.")(w, r)
				return
			}
		}
		x := dnsRecord{ID: f.id("record"), Name: body.Name, Type: body.Type, Content: body.Content, Comment: body.Comment, Proxied: body.Proxied}
		f.records[zone] = append(f.records[zone], x)
		apitest.JSON(http.StatusOK, envelope(recordJSON(x)))(w, r)
	case r.Method == "DELETE" && len(rest) == 1:
		rs := f.records[zone]
		for i, x := range rs {
			if x.ID == rest[0] {
				f.records[zone] = append(rs[:i:i], rs[i+1:]...)
				apitest.JSON(http.StatusOK, envelope(map[string]any{"id": x.ID}))(w, r)
				return
			}
		}
		apiError(http.StatusNotFound, 81044, "Record does not exist.")(w, r)
	default:
		apiError(http.StatusNotFound, 7000, "No route for that URI")(w, r)
	}
}

// edge returns the custom domains (host -> script) and DNS records (name type content [proxied] [edgegw])
// of the zone, sorted.
func (f *fakeCF) edge(zone string) (domains, records []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.domains {
		domains = append(domains, d.Host+" -> "+d.Script)
	}
	for _, x := range f.records[f.zones[zone]] {
		s := x.Name + " " + x.Type + " " + x.Content
		if x.Proxied {
			s += " proxied"
		}
		if x.Comment == placeholderComment(f.script) {
			s += " (edgegw)"
		}
		records = append(records, s)
	}
	sort.Strings(domains)
	sort.Strings(records)
	return domains, records
}

// patterns returns the zone's route patterns with their scripts, sorted.
func (f *fakeCF) patterns(zone string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, x := range f.routes[f.zones[zone]] {
		out = append(out, x.Pattern+" -> "+x.Script)
	}
	sort.Strings(out)
	return out
}

// inject makes the next request whose method is method and whose path ends in suffix answer with respond.
func (f *fakeCF) inject(method, suffix string, respond apitest.Responder) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, fault{method, suffix, respond})
}

// lostAnswer is a fault that lets the fake carry the request out, then loses its answer on the way back
// with lose (a 5xx, a reset connection, a hang past the client's timeout): the mutation happened, and the
// client cannot tell.
func (f *fakeCF) lostAnswer(lose apitest.Responder) apitest.Responder {
	return func(w http.ResponseWriter, r *apitest.Request) {
		rec := httptest.NewRecorder()
		switch {
		case strings.HasPrefix(r.Path, "/client/v4/zones"):
			f.serveZones(rec, r)
		case strings.Contains(r.Path, "/workers/domains"):
			f.serveDomains(rec, r)
		default:
			f.mu.Lock()
			base := "/client/v4/accounts/" + f.account + "/workers/scripts/" + f.script
			f.mu.Unlock()
			f.serve(rec, r, strings.TrimPrefix(strings.TrimPrefix(r.Path, base), "/"))
		}
		if rec.Code != http.StatusOK {
			f.t.Errorf("lostAnswer: %s %s failed in the fake: %d %s", r.Method, r.Path, rec.Code, rec.Body)
		}
		lose(w, r)
	}
}

func (f *fakeCF) id(kind string) string {
	f.n++
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", f.n, len(kind))
}

func envelope(result any) map[string]any {
	return map[string]any{"success": true, "errors": []any{}, "messages": []any{}, "result": result}
}

func apiError(status int, code int, msg string) apitest.Responder {
	return apitest.JSON(status, map[string]any{"success": false, "errors": []any{map[string]any{"code": code, "message": msg}},
		"messages": []any{}, "result": nil})
}

func (f *fakeCF) serve(w http.ResponseWriter, r *apitest.Request, rest string) {
	f.mu.Lock()
	if f.fault(w, r) {
		return
	}
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		apiError(http.StatusBadRequest, 10000, "Authentication error")(w, r)
		return
	}
	var respond apitest.Responder
	switch {
	case r.Method == "GET" && rest == "deployments":
		respond = f.listDeployments()
	case r.Method == "POST" && rest == "deployments":
		respond = f.newDeployment(r)
	case r.Method == "POST" && rest == "versions":
		respond = f.upload(r, false)
	case r.Method == "PUT" && rest == "":
		respond = f.upload(r, true)
	case r.Method == "GET" && rest == "versions":
		respond = f.listVersions(r)
	case r.Method == "GET" && strings.HasPrefix(rest, "versions/"):
		respond = f.getVersion(strings.TrimPrefix(rest, "versions/"))
	case r.Method == "PUT" && rest == "secrets":
		respond = f.putSecret(r)
	default:
		respond = apiError(http.StatusNotFound, 7000, "No route for that URI")
	}
	respond(w, r)
}

func (f *fakeCF) deploymentJSON(d fakeDeployment) map[string]any {
	ann := map[string]any{"workers/triggered_by": d.Trigger}
	if d.Message != "" {
		ann["workers/message"] = d.Message
	}
	return map[string]any{"id": d.ID, "created_on": d.Created.Format(time.RFC3339Nano), "source": "api", "strategy": "percentage",
		"author_email": "ci@example.com", "annotations": ann,
		"versions": []any{map[string]any{"version_id": d.VersionID, "percentage": 100}}}
}

func (f *fakeCF) listDeployments() apitest.Responder {
	if !f.exists {
		return apiError(http.StatusNotFound, codeScriptNotFound, "This Worker does not exist on your account.")
	}
	out := []any{}
	for _, d := range f.deployments {
		out = append(out, f.deploymentJSON(d))
	}
	return apitest.JSON(http.StatusOK, envelope(map[string]any{"deployments": out}))
}

func (f *fakeCF) deploy(versionID, message, trigger string) fakeDeployment {
	d := fakeDeployment{ID: f.id("deployment"), Created: time.Now().UTC(), VersionID: versionID, Message: message, Trigger: trigger}
	f.deployments = append([]fakeDeployment{d}, f.deployments...)
	return d
}

func (f *fakeCF) newDeployment(r *apitest.Request) apitest.Responder {
	if !f.exists {
		return apiError(http.StatusNotFound, codeScriptNotFound, "This Worker does not exist on your account.")
	}
	var body struct {
		Strategy string `json:"strategy"`
		Versions []struct {
			Percentage float64 `json:"percentage"`
			VersionID  string  `json:"version_id"`
		} `json:"versions"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Strategy != "percentage" || len(body.Versions) != 1 || body.Versions[0].Percentage != 100 {
		return apiError(http.StatusBadRequest, 10021, fmt.Sprintf("invalid deployment: %s", r.Body))
	}
	v := f.versions[body.Versions[0].VersionID]
	if v == nil {
		return apiError(http.StatusBadRequest, 10218, "version not found")
	}
	if v.SecretGen < f.secretGen && r.Query.Get("force") != "true" {
		return apiError(http.StatusBadRequest, codeSecretsChanged, "A secret has changed since this version was active. Use force to deploy anyway.")
	}
	trigger := "deployment"
	if len(f.deployments) > 0 && v.Number < f.versions[f.deployments[0].VersionID].Number {
		trigger = "rollback"
	}
	d := f.deploy(v.ID, body.Annotations["workers/message"], trigger)
	return apitest.JSON(http.StatusOK, envelope(f.deploymentJSON(d)))
}

// upload reads a multipart upload as the API does: a "metadata" JSON part, and module parts found by
// filename; the main module must be one of them with a module content type. A Durable Object binding to a
// class of the script needs that class created by a migration, which only the script upload (script true,
// PUT /scripts/{name}) takes, and which deploys the new version at once.
func (f *fakeCF) upload(r *apitest.Request, script bool) apitest.Responder {
	bad := func(format string, args ...any) apitest.Responder {
		return apiError(http.StatusBadRequest, 10021, fmt.Sprintf(format, args...))
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return bad("expected multipart/form-data, got %q", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(strings.NewReader(string(r.Body)), params["boundary"])
	var md struct {
		MainModule   string            `json:"main_module"`
		Annotations  map[string]string `json:"annotations"`
		Bindings     []map[string]any  `json:"bindings"`
		KeepBindings []string          `json:"keep_bindings"`
		Migrations   *struct {
			OldTag           string   `json:"old_tag"`
			NewTag           string   `json:"new_tag"`
			NewSqliteClasses []string `json:"new_sqlite_classes"`
			DeletedClasses   []string `json:"deleted_classes"`
		} `json:"migrations"`
	}
	haveMD := false
	modules := map[string]string{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return bad("multipart: %v", err)
		}
		data, _ := io.ReadAll(part)
		if part.FormName() == "metadata" {
			if err := json.Unmarshal(data, &md); err != nil {
				return bad("metadata: %v", err)
			}
			haveMD = true
			continue
		}
		if part.FileName() != "" {
			modules[part.FileName()] = part.Header.Get("Content-Type")
		}
	}
	if !haveMD {
		return bad("Uncaught Error: no metadata part")
	}
	ct, ok := modules[md.MainModule]
	if !ok {
		return bad("Uncaught Error: No such module %q", md.MainModule)
	}
	if ct != "application/javascript+module" && ct != "text/javascript+module" {
		return bad("main module %q has content type %q, not a module", md.MainModule, ct)
	}
	for _, b := range md.Bindings {
		if t, _ := b["type"].(string); t == "secret_text" {
			return bad("secret_text binding %v in metadata", b["name"])
		}
	}
	if md.Migrations != nil {
		if !script {
			return bad("Durable Object migrations are not supported by version uploads")
		}
		if md.Migrations.NewTag == f.migrationTag {
			return bad("migration tag %q is already applied", md.Migrations.NewTag)
		}
		if md.Migrations.OldTag != f.migrationTag {
			return apiError(http.StatusBadRequest, 10079, fmt.Sprintf("migration old_tag %q does not match the script's tag %q", md.Migrations.OldTag, f.migrationTag))
		}
		for _, c := range md.Migrations.DeletedClasses {
			if !slices.Contains(f.classes, c) {
				return bad("cannot delete class %q: no migration created it", c)
			}
			f.classes = slices.DeleteFunc(f.classes, func(x string) bool { return x == c })
		}
		f.migrationTag = md.Migrations.NewTag
		f.classes = append(f.classes, md.Migrations.NewSqliteClasses...)
	}
	for _, b := range md.Bindings {
		if t, _ := b["type"].(string); t == "durable_object_namespace" && b["script_name"] == nil {
			if !slices.Contains(f.classes, b["class_name"].(string)) {
				return apiError(http.StatusBadRequest, 10061, fmt.Sprintf("Cannot create binding for class %q: no migration created it", b["class_name"]))
			}
		}
	}
	gen := 0
	for _, k := range md.KeepBindings {
		if k == "secret_text" {
			gen = f.secretGen
		}
	}
	f.exists = true
	v := &fakeVersion{ID: f.id("version"), Number: len(f.versions) + 1, Annotations: md.Annotations, Bindings: md.Bindings,
		Modules: modules, MainModule: md.MainModule, SecretGen: gen}
	if v.Annotations == nil {
		v.Annotations = map[string]string{}
	}
	v.Annotations["workers/triggered_by"] = "upload"
	f.versions[v.ID] = v
	if script {
		f.deploy(v.ID, "", "upload")
		return apitest.JSON(http.StatusOK, envelope(map[string]any{"id": f.script, "etag": v.ID, "handlers": []string{"fetch"},
			"migration_tag": f.migrationTag, "created_on": time.Now().UTC().Format(time.RFC3339)}))
	}
	return apitest.JSON(http.StatusOK, envelope(f.versionJSON(v)))
}

func (f *fakeCF) versionJSON(v *fakeVersion) map[string]any {
	bindings := []any{}
	for _, b := range v.Bindings {
		bindings = append(bindings, b)
	}
	return map[string]any{"id": v.ID, "number": v.Number, "annotations": v.Annotations,
		"metadata": map[string]any{"source": "api", "created_on": time.Now().UTC().Format(time.RFC3339), "hasPreview": false},
		"resources": map[string]any{"bindings": bindings, "script": map[string]any{"handlers": []string{"fetch"}},
			"script_runtime": map[string]any{"usage_model": "standard"}}}
}

// listVersions lists the script's versions newest first, a page of per_page (default 10) at a time, each
// with its id, number and metadata only, as the API does.
func (f *fakeCF) listVersions(r *apitest.Request) apitest.Responder {
	if !f.exists {
		return apiError(http.StatusNotFound, codeScriptNotFound, "This Worker does not exist on your account.")
	}
	vs := make([]*fakeVersion, 0, len(f.versions))
	for _, v := range f.versions {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Number > vs[j].Number })
	per := 10
	if n, err := strconv.Atoi(r.Query.Get("per_page")); err == nil && n > 0 {
		per = n
	}
	out := []any{}
	for _, v := range vs[:min(per, len(vs))] {
		out = append(out, map[string]any{"id": v.ID, "number": v.Number, "metadata": map[string]any{"source": "api", "hasPreview": false}})
	}
	return apitest.JSON(http.StatusOK, map[string]any{"success": true, "errors": []any{}, "messages": []any{}, "result": map[string]any{"items": out},
		"result_info": map[string]any{"page": 1, "per_page": per, "count": len(out), "total_count": len(vs)}})
}

func (f *fakeCF) getVersion(id string) apitest.Responder {
	v := f.versions[id]
	if v == nil {
		return apiError(http.StatusNotFound, 10218, "version not found")
	}
	return apitest.JSON(http.StatusOK, envelope(f.versionJSON(v)))
}

// putSecret sets a secret as the API does: a new version (the active one with the new secret) deployed at
// once, triggered by "secret".
func (f *fakeCF) putSecret(r *apitest.Request) apitest.Responder {
	if !f.exists || len(f.deployments) == 0 {
		return apiError(http.StatusNotFound, codeScriptNotFound, "This Worker does not exist on your account.")
	}
	var body struct{ Name, Text, Type string }
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Name == "" || body.Type != "secret_text" {
		return apiError(http.StatusBadRequest, 10021, "invalid secret")
	}
	f.secrets[body.Name] = body.Text
	f.secretGen++
	cur := f.versions[f.deployments[0].VersionID]
	v := *cur
	v.ID, v.Number, v.SecretGen = f.id("version"), len(f.versions)+1, f.secretGen
	v.Annotations = map[string]string{"workers/triggered_by": "secret"}
	f.versions[v.ID] = &v
	f.deploy(v.ID, "", "secret")
	return apitest.JSON(http.StatusOK, envelope(map[string]any{"name": body.Name, "type": "secret_text"}))
}

// active returns the live version id and the number of deployments.
func (f *fakeCF) active() (string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.deployments) == 0 {
		return "", 0
	}
	return f.deployments[0].VersionID, len(f.deployments)
}

// deployOutside simulates a deploy made outside edgegw (wrangler, the dashboard): a new version of the same
// Worker (its Durable Object bindings kept), live.
func (f *fakeCF) deployOutside() {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := &fakeVersion{ID: f.id("version"), Number: len(f.versions) + 1, Annotations: map[string]string{"workers/triggered_by": "upload"},
		MainModule: "worker.js", Modules: map[string]string{"worker.js": "application/javascript+module"}, SecretGen: f.secretGen}
	if len(f.deployments) > 0 {
		for _, b := range f.versions[f.deployments[0].VersionID].Bindings {
			if b["type"] == "durable_object_namespace" {
				v.Bindings = append(v.Bindings, b)
			}
		}
	}
	f.versions[v.ID] = v
	f.exists = true
	f.deploy(v.ID, "", "deployment")
}

// deleteScript simulates the script being deleted in the dashboard: no deployments, no versions.
func (f *fakeCF) deleteScript() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exists, f.deployments, f.versions, f.classes, f.migrationTag = false, nil, map[string]*fakeVersion{}, nil, ""
}
