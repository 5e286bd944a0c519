package gcp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/edgegw/edgegw/providers/apitest"
)

// fakeCompute is the part of the Compute API the deploy uses, as compute/v1 speaks it: global URL maps,
// backend services and health checks under /compute/v1/projects/{project}/global/, each mutation an
// operation waited on at global/operations/{op}/wait, and the internet NEGs, backend buckets and Cloud
// Armor policies behind them. It keeps what GCP keeps: a fingerprint per map and
// backend service (an update without the live one is 412 conditionNotMet), references written back as
// full URLs, output-only fields, and requestIds (a repeated one answers with the first operation and
// changes nothing again). Faults are queued per request ("PUT urlMaps/m") and answer before the fake does.
type fakeCompute struct {
	t       *testing.T
	s       *apitest.Server
	project string

	mu        sync.Mutex
	objects   map[string]map[string]map[string]any // kind → name → resource
	endpoints map[string][]any                     // NEG name → its endpoints
	ops       map[string]map[string]any            // name → operation
	byRequest map[string]string                    // requestId → operation name
	seq       int
	faults    map[string][]apitest.Responder
	failOps   map[string]string // "PUT urlMaps/m" → the error the operation ends with (once)
	validate  string            // a test failure the next validate reports (once)
}

const fakeProject = "my-project"

func newFake(t *testing.T) *fakeCompute {
	f := &fakeCompute{t: t, s: apitest.New(t), project: fakeProject,
		objects: map[string]map[string]map[string]any{"urlMaps": {}, "backendServices": {}, "healthChecks": {},
			"networkEndpointGroups": {}, "backendBuckets": {}, "securityPolicies": {}},
		endpoints: map[string][]any{},
		ops:       map[string]map[string]any{}, byRequest: map[string]string{}, faults: map[string][]apitest.Responder{}, failOps: map[string]string{}}
	f.s.Register(apitest.MatchFunc("the Compute API", func(r *apitest.Request) bool {
		return strings.HasPrefix(r.Path, "/compute/v1/projects/")
	}), f.serve).Always()
	return f
}

// fault queues responders for the next requests with this key ("PUT urlMaps/m", "GET backendServices/x").
func (f *fakeCompute) fault(key string, rs ...apitest.Responder) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[key] = append(f.faults[key], rs...)
}

func (f *fakeCompute) failOperation(key, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failOps[key] = msg
}

func (f *fakeCompute) get(kind, name string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.objects[kind][name]
}

func apiError(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg,
		"errors": []map[string]string{{"reason": reason, "message": msg}}}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeCompute) serve(w http.ResponseWriter, r *apitest.Request) {
	rest := strings.TrimPrefix(r.Path, "/compute/v1/projects/"+f.project+"/global/")
	if rest == r.Path {
		apiError(w, 404, "notFound", "project not found")
		return
	}
	key := r.Method + " " + rest
	f.mu.Lock()
	if q := f.faults[key]; len(q) > 0 {
		f.faults[key] = q[1:]
		f.mu.Unlock()
		q[0](w, r)
		return
	}
	defer f.mu.Unlock()
	parts := strings.Split(rest, "/")
	kind := parts[0]
	switch {
	case kind == "operations" && len(parts) == 3 && parts[2] == "wait" && r.Method == "POST":
		op, ok := f.ops[parts[1]]
		if !ok {
			apiError(w, 404, "notFound", "operation not found")
			return
		}
		writeJSON(w, op)
		return
	case f.objects[kind] == nil:
		apiError(w, 404, "notFound", "no such collection "+kind)
		return
	case len(parts) == 3 && parts[2] == "validate" && r.Method == "POST":
		res := map[string]any{"loadSucceeded": true, "testPassed": true}
		if f.validate != "" {
			res["testPassed"] = false
			res["testFailures"] = []map[string]string{{"host": "api.example.com", "path": "/", "expectedService": f.validate, "actualService": "other"}}
			f.validate = ""
		}
		writeJSON(w, map[string]any{"result": res})
		return
	}
	if kind == "networkEndpointGroups" && len(parts) == 3 && parts[2] == "listNetworkEndpoints" {
		var items []map[string]any
		for _, e := range f.endpoints[parts[1]] {
			items = append(items, map[string]any{"networkEndpoint": e})
		}
		writeJSON(w, map[string]any{"kind": "compute#networkEndpointGroupsListNetworkEndpoints", "items": items})
		return
	}
	if r.Method == "GET" && len(parts) == 2 {
		o, ok := f.objects[kind][parts[1]]
		if !ok {
			apiError(w, 404, "notFound", fmt.Sprintf("The resource 'projects/%s/global/%s/%s' was not found", f.project, kind, parts[1]))
			return
		}
		writeJSON(w, o)
		return
	}
	// A mutation: a repeated requestId is answered with the first operation, changing nothing.
	id := r.Query.Get("requestId")
	if name, ok := f.byRequest[id]; ok && id != "" {
		writeJSON(w, f.ops[name])
		return
	}
	var body map[string]any
	if len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, &body); err != nil {
			apiError(w, 400, "invalid", err.Error())
			return
		}
	}
	name := ""
	attach := ""
	switch {
	case kind == "networkEndpointGroups" && r.Method == "POST" && len(parts) == 3 &&
		(parts[2] == "attachNetworkEndpoints" || parts[2] == "detachNetworkEndpoints"):
		name, attach = parts[1], parts[2]
		if _, ok := f.objects[kind][name]; !ok {
			apiError(w, 404, "notFound", "not found")
			return
		}
	case r.Method == "POST" && len(parts) == 1:
		name, _ = body["name"].(string)
		if _, dup := f.objects[kind][name]; dup {
			apiError(w, 409, "alreadyExists", "already exists")
			return
		}
	case (r.Method == "PUT" || r.Method == "DELETE") && len(parts) == 2:
		name = parts[1]
		cur, ok := f.objects[kind][name]
		if !ok {
			apiError(w, 404, "notFound", "not found")
			return
		}
		if r.Method == "PUT" && (kind == "urlMaps" || kind == "backendServices") && body["fingerprint"] != cur["fingerprint"] {
			apiError(w, 412, "conditionNotMet", "Precondition Failed")
			return
		}
	default:
		apiError(w, 400, "badRequest", "unsupported "+key)
		return
	}
	f.seq++
	op := map[string]any{"kind": "compute#operation", "name": fmt.Sprintf("operation-%d", f.seq), "status": "DONE",
		"operationType": map[string]string{"POST": "insert", "PUT": "update", "DELETE": "delete"}[r.Method],
		"targetLink":    fmt.Sprintf("https://www.googleapis.com/compute/v1/projects/%s/global/%s/%s", f.project, kind, name), "clientOperationId": id}
	if msg, ok := f.failOps[key]; ok {
		delete(f.failOps, key)
		op["error"] = map[string]any{"errors": []map[string]string{{"code": "RESOURCE_NOT_READY", "message": msg}}}
		op["httpErrorStatusCode"] = 400
	} else if attach == "attachNetworkEndpoints" {
		eps, _ := body["networkEndpoints"].([]any)
		f.endpoints[name] = append(f.endpoints[name], eps...)
	} else if attach == "detachNetworkEndpoints" {
		eps, _ := body["networkEndpoints"].([]any)
		var keep []any
		for _, e := range f.endpoints[name] {
			gone := false
			for _, d := range eps {
				a, _ := json.Marshal(e)
				b, _ := json.Marshal(d)
				gone = gone || string(a) == string(b)
			}
			if !gone {
				keep = append(keep, e)
			}
		}
		f.endpoints[name] = keep
	} else if r.Method == "DELETE" {
		delete(f.objects[kind], name)
		delete(f.endpoints, name)
	} else {
		o := fullURLs(body).(map[string]any)
		o["kind"], o["id"], o["creationTimestamp"] = "compute#"+strings.TrimSuffix(kind, "s"), "1234", "2026-12-01T00:00:00.000-08:00"
		o["selfLink"] = op["targetLink"]
		o["fingerprint"] = fmt.Sprintf("fp-%d", f.seq)
		f.objects[kind][name] = o
	}
	f.ops[op["name"].(string)] = op
	if id != "" {
		f.byRequest[id] = op["name"].(string)
	}
	// The answer is the operation still running, as GCP gives it; the wait finds it DONE.
	running := map[string]any{}
	for k, v := range op {
		if k != "error" && k != "httpErrorStatusCode" {
			running[k] = v
		}
	}
	running["status"] = "RUNNING"
	writeJSON(w, running)
}

// fullURLs writes a resource as GCP gives it back: references as full URLs, fields at their zero value
// left out.
func fullURLs(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == false || e == 0.0 || e == "" {
				delete(x, k)
				continue
			}
			x[k] = fullURLs(e)
		}
	case []any:
		for i, e := range x {
			x[i] = fullURLs(e)
		}
	case string:
		if strings.HasPrefix(x, "projects/") {
			return "https://www.googleapis.com/compute/v1/" + x
		}
	}
	return v
}

// calls counts the requests logged since from: all, and the mutating ones (not a wait, a validate or a
// listNetworkEndpoints, which are POSTs that change nothing).
func (f *fakeCompute) calls(from int) (total, mutating int, log []string) {
	reqs := f.s.Requests()
	for _, r := range reqs[from:] {
		if !strings.HasPrefix(r.Path, "/compute/") {
			continue
		}
		total++
		rest := strings.TrimPrefix(r.Path, "/compute/v1/projects/"+f.project+"/global/")
		log = append(log, r.Method+" "+rest)
		if r.Method != "GET" && !strings.HasSuffix(r.Path, "/wait") && !strings.HasSuffix(r.Path, "/validate") && !strings.HasSuffix(r.Path, "/listNetworkEndpoints") {
			mutating++
		}
	}
	return total, mutating, log
}

func (f *fakeCompute) mark() int { return len(f.s.Requests()) }
