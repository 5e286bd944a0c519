package azure_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/edgegw/edgegw/providers/apitest"
)

// fakeARM is Azure Resource Manager's Microsoft.Cdn provider on an apitest server, for one profile: the
// paths, api-version query and JSON bodies armcdn v2 sends and reads, long-running operations as ARM runs
// them (PUT and PATCH answer 201/200 with an Azure-AsyncOperation URL polled until Succeeded or Failed,
// then the resource is read again; DELETE answers 202 with a Location URL polled until 200), the error body
// {"error":{"code","message"}}, and ids given back with ARM's lower-case segments (resourcegroups,
// afdendpoints, rulesets). A change takes effect when its operation succeeds; a failed one changes nothing.
type fakeARM struct {
	*apitest.Server
	t                       testing.TB
	sub, group, profile, ep string

	mu        sync.Mutex
	tags      map[string]string
	res       map[string]map[string]any // lower-case path below the profile → resource
	ops       map[string]*op
	nextOp    int
	faults    *apitest.Faults
	failLRO   *apitest.Faults // the next operation a matching request starts fails
	pollsLeft int             // polls an operation answers InProgress before it ends
}

type op struct {
	polls  int
	fail   string
	commit func()
	done   bool
}

func newFakeARM(t testing.TB, opts ...apitest.Option) *fakeARM {
	f := &fakeARM{Server: apitest.New(t, opts...), t: t, sub: "00000000-0000-0000-0000-000000000001", group: "rg-edge", profile: "edge", ep: "api",
		tags: map[string]string{"owner": "platform"}, res: map[string]map[string]any{}, ops: map[string]*op{}, pollsLeft: 1,
		faults: apitest.NewFaults(t, "fake ARM"), failLRO: apitest.NewFaults(t, "fake ARM (failed operation)")}
	f.Register(apitest.MatchFunc("the fake ARM API", func(r *apitest.Request) bool {
		return !strings.Contains(r.Path, "/oauth2/") && !strings.Contains(r.Path, "/.well-known/")
	}), f.serve).Always()
	return f
}

// inject makes the next request m matches get respond's answer.
func (f *fakeARM) inject(m apitest.Matcher, respond apitest.Responder) { f.faults.Add(m, respond) }

// failNext makes the operation the next request m matches starts end as Failed.
func (f *fakeARM) failNext(m apitest.Matcher) { f.failLRO.Add(m, nil) }

func (f *fakeARM) profilePath() string {
	return "/subscriptions/" + f.sub + "/resourceGroups/" + f.group + "/providers/Microsoft.Cdn/profiles/" + f.profile
}

// armID is the id ARM gives back: lower-case segment names.
func (f *fakeARM) armID(rest string) string {
	id := "/subscriptions/" + f.sub + "/resourcegroups/" + f.group + "/providers/Microsoft.Cdn/profiles/" + f.profile
	if rest != "" {
		id += "/" + rest
	}
	return id
}

var typeOf = map[string]string{
	"customdomains": "Microsoft.Cdn/profiles/customdomains", "origingroups": "Microsoft.Cdn/profiles/origingroups",
	"origins": "Microsoft.Cdn/profiles/origingroups/origins", "rulesets": "Microsoft.Cdn/profiles/rulesets",
	"rules": "Microsoft.Cdn/profiles/rulesets/rules", "routes": "Microsoft.Cdn/profiles/afdendpoints/routes",
}

// lowerIDs gives ids inside a body back as ARM does, with lower-case segment names.
func lowerIDs(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "id" {
				for _, seg := range []string{"resourceGroups", "ruleSets", "originGroups", "customDomains", "afdEndpoints"} {
					s = strings.ReplaceAll(s, "/"+seg+"/", "/"+strings.ToLower(seg)+"/")
				}
				x[k] = s
			} else {
				x[k] = lowerIDs(e)
			}
		}
	case []any:
		for i := range x {
			x[i] = lowerIDs(x[i])
		}
	}
	return v
}

func armError(status int, code, msg string) apitest.Responder {
	return apitest.JSON(status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

func (f *fakeARM) serve(w http.ResponseWriter, r *apitest.Request) {
	if respond, ok := f.faults.Take(r); ok {
		respond(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Query.Get("api-version") == "" {
		armError(400, "MissingApiVersionParameter", "the api-version query parameter is required")(w, r)
		return
	}
	opsPrefix := "/subscriptions/" + f.sub + "/providers/Microsoft.Cdn/operationresults/"
	if strings.HasPrefix(r.Path, opsPrefix) {
		f.poll(w, r, strings.TrimPrefix(r.Path, opsPrefix))
		return
	}
	pp := f.profilePath()
	if !strings.HasPrefix(strings.ToLower(r.Path), strings.ToLower(pp)) {
		armError(404, "ResourceGroupNotFound", "no such resource group or profile: "+r.Path)(w, r)
		return
	}
	rest := strings.Trim(r.Path[len(pp):], "/")
	if rest == "" {
		f.profileCall(w, r)
		return
	}
	segs := strings.Split(rest, "/")
	lower := strings.ToLower(rest)
	if len(segs)%2 == 1 { // a collection
		if r.Method != http.MethodGet {
			armError(405, "MethodNotAllowed", r.Method+" on a collection")(w, r)
			return
		}
		var keys []string
		for k := range f.res {
			if strings.HasPrefix(k, lower+"/") && !strings.Contains(strings.TrimPrefix(k, lower+"/"), "/") {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		vals := []any{}
		for _, k := range keys {
			vals = append(vals, f.res[k])
		}
		apitest.JSON(200, map[string]any{"value": vals})(w, r)
		return
	}
	kind := strings.ToLower(segs[len(segs)-2])
	name := segs[len(segs)-1]
	if len(segs) >= 4 {
		parent := strings.ToLower(strings.Join(segs[:len(segs)-2], "/"))
		if _, ok := f.res[parent]; !ok && !strings.HasPrefix(parent, "afdendpoints/") {
			armError(404, "ParentResourceNotFound", "parent "+parent+" does not exist")(w, r)
			return
		}
	}
	cur := f.res[lower]
	switch r.Method {
	case http.MethodGet:
		if cur == nil {
			armError(404, "NotFound", "the resource "+rest+" does not exist")(w, r)
			return
		}
		apitest.JSON(200, cur)(w, r)
	case http.MethodPut, http.MethodPatch:
		body := map[string]any{}
		if len(r.Body) == 0 && kind == "rulesets" {
			// RuleSets.Create sends no body.
		} else if err := json.Unmarshal(r.Body, &body); err != nil {
			armError(400, "InvalidRequestContent", err.Error())(w, r)
			return
		}
		props, _ := body["properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
		}
		if r.Method == http.MethodPatch {
			if cur == nil {
				armError(404, "NotFound", "the resource "+rest+" does not exist")(w, r)
				return
			}
			merged := map[string]any{}
			for k, v := range cur["properties"].(map[string]any) {
				merged[k] = v
			}
			for k, v := range props {
				merged[k] = v
			}
			props = merged
		}
		props = lowerIDs(props).(map[string]any)
		if missing := f.missingRefs(props); missing != "" {
			armError(400, "BadRequest", "the resource "+missing+" referenced by "+rest+" does not exist")(w, r)
			return
		}
		delete(props, "provisioningState")
		props["provisioningState"] = "Succeeded"
		next := map[string]any{"id": f.armID(lower), "name": name, "type": typeOf[kind], "properties": props}
		if kind == "rulesets" && r.Method == http.MethodPut {
			// RuleSets.Create is not long-running.
			status := 201
			if cur != nil {
				status = 200
			}
			f.res[lower] = next
			apitest.JSON(status, next)(w, r)
			return
		}
		status := 201
		if cur != nil {
			status = 200
		}
		id := f.startOp(r, func() { f.res[lower] = next })
		w.Header().Set("Azure-AsyncOperation", f.URL+opsPrefix+id+"?api-version=2024-02-01")
		shown := map[string]any{"id": next["id"], "name": name, "type": next["type"], "properties": map[string]any{"provisioningState": "Updating"}}
		apitest.JSON(status, shown)(w, r)
	case http.MethodDelete:
		if cur == nil {
			w.WriteHeader(204)
			return
		}
		if by := f.referencedBy(lower); by != "" {
			armError(409, "Conflict", "the resource "+rest+" is in use by "+by)(w, r)
			return
		}
		id := f.startOp(r, func() {
			for k := range f.res {
				if k == lower || strings.HasPrefix(k, lower+"/") {
					delete(f.res, k)
				}
			}
		})
		w.Header().Set("Location", f.URL+opsPrefix+id+"?api-version=2024-02-01&location=1")
		w.WriteHeader(202)
	default:
		armError(405, "MethodNotAllowed", r.Method)(w, r)
	}
}

// missingRefs returns the first id in v (a route's rule sets and origin group, a rule's origin group
// override) that names no resource of the profile.
func (f *fakeARM) missingRefs(v any) string {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "id" {
				rest := strings.ToLower(s)
				if i := strings.Index(rest, "/profiles/"+f.profile+"/"); i >= 0 {
					rest = rest[i+len("/profiles/"+f.profile+"/"):]
					if _, ok := f.res[rest]; !ok {
						return rest
					}
				}
			} else if m := f.missingRefs(e); m != "" {
				return m
			}
		}
	case []any:
		for _, e := range x {
			if m := f.missingRefs(e); m != "" {
				return m
			}
		}
	}
	return ""
}

// referencedBy returns a resource whose body refers to the resource at rest, as ARM refuses to delete a
// rule set or an origin group a route still uses.
func (f *fakeARM) referencedBy(rest string) string {
	needle := "/profiles/" + strings.ToLower(f.profile) + "/" + rest + `"`
	for k, v := range f.res {
		if k == rest || strings.HasPrefix(k, rest+"/") {
			continue
		}
		b, _ := json.Marshal(v["properties"])
		if strings.Contains(strings.ToLower(string(b)), needle) {
			return k
		}
	}
	return ""
}

func (f *fakeARM) startOp(r *apitest.Request, commit func()) string {
	f.nextOp++
	id := fmt.Sprintf("op%04d", f.nextOp)
	o := &op{polls: f.pollsLeft, commit: commit}
	if _, ok := f.failLRO.Take(r); ok {
		o.fail = "the operation on " + r.Path + " failed: InternalServerError"
	}
	f.ops[id] = o
	return id
}

func (f *fakeARM) poll(w http.ResponseWriter, r *apitest.Request, id string) {
	o := f.ops[id]
	if o == nil {
		armError(404, "NotFound", "no operation "+id)(w, r)
		return
	}
	location := r.Query.Get("location") != ""
	if o.polls > 0 {
		o.polls--
		if location {
			w.WriteHeader(202)
			return
		}
		apitest.JSON(200, map[string]any{"status": "InProgress"})(w, r)
		return
	}
	if o.fail != "" {
		if location {
			armError(500, "InternalServerError", o.fail)(w, r)
			return
		}
		apitest.JSON(200, map[string]any{"status": "Failed", "error": map[string]any{"code": "InternalServerError", "message": o.fail}})(w, r)
		return
	}
	if !o.done {
		o.done = true
		o.commit()
	}
	if location {
		w.WriteHeader(200)
		return
	}
	apitest.JSON(200, map[string]any{"status": "Succeeded"})(w, r)
}

func (f *fakeARM) profileJSON() map[string]any {
	tags := map[string]any{}
	for k, v := range f.tags {
		tags[k] = v
	}
	return map[string]any{"id": f.armID(""), "name": f.profile, "type": "Microsoft.Cdn/profiles", "location": "Global",
		"sku": map[string]any{"name": "Standard_AzureFrontDoor"}, "tags": tags, "properties": map[string]any{"provisioningState": "Succeeded"}}
}

func (f *fakeARM) profileCall(w http.ResponseWriter, r *apitest.Request) {
	switch r.Method {
	case http.MethodGet:
		apitest.JSON(200, f.profileJSON())(w, r)
	case http.MethodPatch:
		var body struct {
			Tags map[string]string `json:"tags"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			armError(400, "InvalidRequestContent", err.Error())(w, r)
			return
		}
		id := f.startOp(r, func() {
			if body.Tags != nil {
				f.tags = body.Tags
			}
		})
		w.Header().Set("Azure-AsyncOperation", f.URL+"/subscriptions/"+f.sub+"/providers/Microsoft.Cdn/operationresults/"+id+"?api-version=2024-02-01")
		shown := f.profileJSON()
		shown["properties"] = map[string]any{"provisioningState": "Updating"}
		apitest.JSON(200, shown)(w, r)
	default:
		armError(405, "MethodNotAllowed", r.Method)(w, r)
	}
}

// routeSets returns each route's rule-set names.
func (f *fakeARM) routeSets() map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]string{}
	for k, v := range f.res {
		if !strings.HasPrefix(k, "afdendpoints/") {
			continue
		}
		var sets []string
		for _, rs := range v["properties"].(map[string]any)["ruleSets"].([]any) {
			id := rs.(map[string]any)["id"].(string)
			sets = append(sets, id[strings.LastIndex(id, "/")+1:])
		}
		out[v["name"].(string)] = sets
	}
	return out
}

// ruleSets lists the rule sets, sorted.
func (f *fakeARM) ruleSets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k, v := range f.res {
		if strings.HasPrefix(k, "rulesets/") && strings.Count(k, "/") == 1 {
			out = append(out, v["name"].(string))
		}
	}
	sort.Strings(out)
	return out
}

// count counts the resources below prefix (lower case), e.g. "rulesets/release0123/rules/".
func (f *fakeARM) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k := range f.res {
		if strings.HasPrefix(k, strings.ToLower(prefix)) && !strings.Contains(strings.TrimPrefix(k, strings.ToLower(prefix)), "/") {
			n++
		}
	}
	return n
}

// setRouteSet points a route at another rule set by hand, as a colleague in the portal would.
func (f *fakeARM) setRouteSet(route, set string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.res["afdendpoints/"+f.ep+"/routes/"+route]
	r["properties"].(map[string]any)["ruleSets"] = []any{map[string]any{"id": f.armID("rulesets/" + set)}}
}
