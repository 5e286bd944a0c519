// Package njs runs rendered CloudFront Functions in njs, the engine cloudfront-js-2.0 is built on (the
// Debian njs package's CLI), and plays the distribution around them: it implements testrun.Engine.
//
// Each request builds the documented CloudFront Functions event (request.method, uri, querystring as an
// object of {value, multiValue}, lower-cased headers, cookies, viewer.ip, context) and runs the
// viewer-request function once in a fresh njs process, with a `cloudfront` module shim that serves the
// KeyValueStore (the test secrets, resolved through the case's Getenv) and records the origin the function
// picked. A returned response is the client's answer. A returned request goes to the loopback origin the
// function picked, as CloudFront would send it: the origin's path prepended, the origin's Host, the
// origin's timeout, and, for an origin group, the secondary on a failover status or a failed attempt for
// GET, HEAD and OPTIONS only. The origin's answer (or the edge error the distribution's custom error
// responses give for an unreachable or timed-out origin) then runs through the viewer-response function,
// below 400 only, and the origin's answer gets the response headers policy's headers (HSTS).
// The package is a test runtime: nothing in production uses it.
package njs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
	"github.com/edgegw/edgegw/render/cloudfront"
	"github.com/edgegw/edgegw/render/cloudfront/headers"
	"github.com/edgegw/edgegw/render/cloudfront/lambdaedge"
	"github.com/edgegw/edgegw/render/cloudfront/lambdaedge/node"
)

const (
	headerNow      = "x-edgegw-test-now"
	headerScheme   = "x-edgegw-test-scheme"
	headerDecision = "x-edgegw-test-decision"
)

// Engine loads the functions into njs. The zero value uses njs on PATH.
type Engine struct {
	// NJS is the njs executable. Default: njs on PATH.
	NJS string
	// IgnoreSizeLimit renders functions over CloudFront's code-size limit too, to check their semantics;
	// such functions cannot be deployed, so Default leaves it off.
	IgnoreSizeLimit bool

	renders sync.Map // renderKey → []render.Artifact: a case opens an instance each, and a large table renders in seconds
}

type renderKey struct {
	g       *ir.Gateway
	origins string
}

var _ testrun.Engine = (*Engine)(nil)

// Default is the engine tests and the registry share.
var Default = &Engine{}

func (e *Engine) njs() string {
	if e.NJS != "" {
		return e.NJS
	}
	return "njs"
}

// Available reports why the engine cannot run (njs missing), or nil.
func (e *Engine) Available() error {
	if _, err := exec.LookPath(e.njs()); err != nil {
		return fmt.Errorf("render/cloudfront/njs: njs not found (apt-get install njs, or scripts/install-test-deps.sh): %w: %w", err, testrun.ErrRuntimeMissing)
	}
	return nil
}

type originInfo struct {
	base    *url.URL
	host    string
	timeout time.Duration
}

// Instance is one rendered gateway in njs.
type Instance struct {
	e        *Engine
	dir      string
	g        *ir.Gateway
	origins  map[string]originInfo
	request  string // the viewer-request function's code
	response string
	policy   *headers.Policy // the response headers policy, nil without one
	client   *http.Client
	seq      atomic.Int64
	// Sizes of the rendered functions, in bytes.
	RequestBytes, ResponseBytes int
}

// Open implements testrun.Engine.
func (e *Engine) Open(ctx context.Context, g *ir.Gateway, origins map[string]string, env testrun.Env) (testrun.Instance, error) {
	if lambdaedge.Needed(g) {
		// With the lambda-edge-auth companion the gateway is one Lambda@Edge handler, which runs in Node.
		return node.Default.Open(ctx, g, origins, env)
	}
	return e.OpenInstance(g, origins, env)
}

// OpenInstance is Open with the concrete type.
func (e *Engine) OpenInstance(g *ir.Gateway, origins map[string]string, env testrun.Env) (*Instance, error) {
	if err := e.Available(); err != nil {
		return nil, err
	}
	routeKVS := map[string]string{}
	ok, _ := json.Marshal(origins)
	key := renderKey{g, string(ok)}
	var arts []render.Artifact
	if v, hit := e.renders.Load(key); hit {
		arts = v.([]render.Artifact)
	} else {
		var err error
		arts, err = cloudfront.RenderWith(g, cloudfront.Options{Test: true, OriginURLs: origins, IgnoreSizeLimit: e.IgnoreSizeLimit})
		if err != nil {
			return nil, err
		}
		e.renders.Store(key, arts)
	}
	in := &Instance{e: e, g: g, origins: map[string]originInfo{},
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	for _, a := range arts {
		switch a.Path {
		case cloudfront.RequestFile:
			in.request, in.RequestBytes = string(a.Data), len(a.Data)
		case cloudfront.ResponseFile:
			in.response, in.ResponseBytes = string(a.Data), len(a.Data)
		case cloudfront.HeadersPolicyFile:
			p, err := headers.Parse(a.Data)
			if err != nil {
				return nil, fmt.Errorf("render/cloudfront/njs: %w", err)
			}
			in.policy = p
		case cloudfront.KVSFile:
			var f struct {
				Data []struct{ Key, Value string } `json:"data"`
			}
			if err := json.Unmarshal(a.Data, &f); err != nil {
				return nil, fmt.Errorf("render/cloudfront/njs: %s: %w", a.Path, err)
			}
			for _, it := range f.Data {
				routeKVS[it.Key] = it.Value
			}
		}
	}
	for _, o := range g.Origins {
		raw := o.URL
		if v, ok := origins[o.Name]; ok {
			raw = v
		}
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("render/cloudfront/njs: origin %q: %w", o.Name, err)
		}
		oi := originInfo{base: u, host: u.Host, timeout: o.Timeout.D()}
		if o.HostHeader != "" {
			oi.host = o.HostHeader
		}
		if oi.timeout <= 0 {
			oi.timeout = 30 * time.Second
		}
		in.origins[o.Name] = oi
	}
	kvs := routeKVS
	for _, p := range g.AuthPolicies {
		key := cloudfront.SecretKey(p)
		if key == "" {
			continue
		}
		v := p.JWT.Secret.Literal
		if p.JWT.Secret.Env != "" && env.Getenv != nil {
			v = env.Getenv(p.JWT.Secret.Env)
		}
		if v != "" {
			kvs[key] = v
		}
	}
	dir, err := os.MkdirTemp("", "edgegw-njs-")
	if err != nil {
		return nil, err
	}
	in.dir = dir
	kj, _ := json.Marshal(kvs)
	if err := os.WriteFile(filepath.Join(dir, "cloudfront"), []byte(fmt.Sprintf(shim, kj)), 0o644); err != nil {
		in.Close()
		return nil, err
	}
	return in, nil
}

// shim is the `cloudfront` module (njs resolves the name as a file in -p without adding .js): the
// KeyValueStore (the route table's kvs.json entries and the case's secrets; get resolves a key's value,
// parsed with {format: "json"}, and rejects an absent key, exists resolves whether it is there, as the
// documented API does; both are counted) and the origin-selection calls, recorded for the engine.
const shim = `var DATA = %s;
var picked = null;
var reads = 0;
export default {
  kvs: function () {
    // The deploy associates one store with the functions, which open it as cf.kvs(), as CloudFront
    // documents; an id here names a store nothing associates.
    if (arguments.length) throw new Error("cf.kvs(id): the function must open its one associated store as cf.kvs()");
    return {
      get: function (k, opts) {
        if (!Object.prototype.hasOwnProperty.call(DATA, k)) return Promise.reject(new Error("KeyValueStore: key not found: " + k));
        reads++;
        return Promise.resolve(opts && opts.format === "json" ? JSON.parse(DATA[k]) : DATA[k]);
      },
      exists: function (k) {
        reads++;
        return Promise.resolve(Object.prototype.hasOwnProperty.call(DATA, k));
      }
    };
  },
  selectRequestOriginById: function (id) { picked = { ids: [id], statusCodes: [] }; },
  createRequestOriginGroup: function (g) { picked = { ids: g.originIds, statusCodes: g.failoverCriteria.statusCodes }; },
  updateRequestOrigin: function () { throw new Error("updateRequestOrigin is not used by edgegw's functions"); },
  __picked: function () { return picked; },
  __reads: function () { return reads; }
};
`

const driver = `
import __edgegw_cf from "cloudfront";
var __edgegw_event = %s;
Promise.resolve(handler(__edgegw_event)).then(function (r) {
  console.log(JSON.stringify({ result: r, origin: __edgegw_cf.__picked(), kvsReads: __edgegw_cf.__reads() }));
}, function (e) {
  console.log(JSON.stringify({ error: String(e) }));
});
`

// Close removes the instance's files.
func (in *Instance) Close() error {
	if in.dir != "" {
		return os.RemoveAll(in.dir)
	}
	return nil
}

// Event is a CloudFront Functions event.
type Event struct {
	Version string         `json:"version"`
	Context map[string]any `json:"context"`
	Viewer  map[string]any `json:"viewer"`
	Request *EventRequest  `json:"request"`
	// Response is set for viewer-response events.
	Response *EventResponse `json:"response,omitempty"`
}

// Value is one value of a header, query parameter or cookie, with the others of the same name.
type Value struct {
	Value      string  `json:"value"`
	MultiValue []Value `json:"multiValue,omitempty"`
}

// EventRequest is event.request.
type EventRequest struct {
	Method      string           `json:"method"`
	URI         string           `json:"uri"`
	Querystring map[string]Value `json:"querystring"`
	Headers     map[string]Value `json:"headers"`
	Cookies     map[string]Value `json:"cookies"`
	// order of the query keys as sent (JSON objects keep insertion order in njs; Go maps do not), and the
	// raw query and Cookie header, which CloudFront forwards unchanged when the function leaves them be.
	queryOrder []string
	rawQuery   string
	rawCookie  string
}

// EventResponse is event.response, or a response the viewer-request function returns.
type EventResponse struct {
	StatusCode        int              `json:"statusCode"`
	StatusDescription string           `json:"statusDescription,omitempty"`
	Headers           map[string]Value `json:"headers"`
	Cookies           map[string]Value `json:"cookies,omitempty"`
	Body              *struct {
		Encoding string `json:"encoding"`
		Data     string `json:"data"`
	} `json:"body,omitempty"`

	edge bool // the distribution's own answer (an unreachable or timed-out origin), not the origin's
}

// Request is the viewer-request function's code.
func (in *Instance) Request() string { return in.request }

// Result is what one function run returned: its result, the origin it picked, its KeyValueStore reads.
type Result struct {
	Result json.RawMessage `json:"result"`
	Origin *struct {
		IDs         []string `json:"ids"`
		StatusCodes []int    `json:"statusCodes"`
	} `json:"origin"`
	Error string `json:"error"`
	// KVSReads counts the function's KeyValueStore calls (get and exists).
	KVSReads int `json:"kvsReads"`
}

func values(vals []string) Value {
	v := Value{Value: vals[0]}
	if len(vals) > 1 {
		for _, s := range vals {
			v.MultiValue = append(v.MultiValue, Value{Value: s})
		}
	}
	return v
}

func (v Value) all() []string {
	if len(v.MultiValue) == 0 {
		return []string{v.Value}
	}
	var out []string
	for _, m := range v.MultiValue {
		out = append(out, m.Value)
	}
	return out
}

// splitTarget returns the path and raw query of a request-target.
func splitTarget(target string) (string, string) {
	s := target
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
		if j := strings.IndexAny(s, "/?"); j >= 0 {
			s = s[j:]
		} else {
			s = "/"
		}
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	path, query, _ := strings.Cut(s, "?")
	if path == "" {
		path = "/"
	}
	return path, query
}

// BuildEvent builds the viewer-request event of a client request, as CloudFront documents it: the Cookie
// header becomes request.cookies, query parameters keep their raw (undecoded) text.
func BuildEvent(req *testrun.ClientRequest, requestID string) *Event {
	path, query := splitTarget(req.Target)
	er := &EventRequest{Method: req.Method, URI: path, Querystring: map[string]Value{}, Headers: map[string]Value{}, Cookies: map[string]Value{}}
	if er.Method == "" {
		er.Method = http.MethodGet
	}
	er.rawQuery = query
	if query != "" {
		multi := map[string][]string{}
		for _, kv := range strings.Split(query, "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			if _, seen := multi[k]; !seen {
				er.queryOrder = append(er.queryOrder, k)
			}
			multi[k] = append(multi[k], v)
		}
		for k, vs := range multi {
			er.Querystring[k] = values(vs)
		}
	}
	for name, vals := range req.Header {
		if len(vals) == 0 {
			continue
		}
		ln := strings.ToLower(name)
		if isDisallowed(ln) {
			continue // not exposed to edge functions
		}
		if ln == "cookie" {
			er.rawCookie = strings.Join(vals, "; ")
			multi := map[string][]string{}
			for _, line := range vals {
				for _, c := range strings.Split(line, ";") {
					k, v, _ := strings.Cut(strings.TrimSpace(c), "=")
					if k != "" {
						multi[k] = append(multi[k], v)
					}
				}
			}
			for k, vs := range multi {
				er.Cookies[k] = values(vs)
			}
			continue
		}
		if old, ok := er.Headers[ln]; ok {
			vals = append(old.all(), vals...)
		}
		er.Headers[ln] = values(vals)
	}
	if req.Host != "" {
		er.Headers["host"] = Value{Value: req.Host}
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	er.Headers[headerNow] = Value{Value: strconv.FormatInt(now.UnixMilli(), 10)}
	scheme := req.Scheme
	if scheme == "" {
		scheme = "https"
	}
	er.Headers[headerScheme] = Value{Value: scheme}
	ip := req.ClientIP
	if ip == "" {
		ip = "192.0.2.1"
	}
	return &Event{Version: "1.0", Context: map[string]any{"distributionId": "EDGEGWTEST", "eventType": "viewer-request", "requestId": requestID},
		Viewer: map[string]any{"ip": ip}, Request: er}
}

// marshalEvent writes the event with the query keys in their request order.
func marshalEvent(ev *Event) ([]byte, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	if len(ev.Request.queryOrder) < 2 {
		return b, nil
	}
	// Re-emit querystring in order: json.Marshal sorts map keys.
	var qs bytes.Buffer
	qs.WriteByte('{')
	for i, k := range ev.Request.queryOrder {
		if i > 0 {
			qs.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(ev.Request.Querystring[k])
		qs.Write(kb)
		qs.WriteByte(':')
		qs.Write(vb)
	}
	qs.WriteByte('}')
	sorted, _ := json.Marshal(ev.Request.Querystring)
	return bytes.Replace(b, append([]byte(`"querystring":`), sorted...), append([]byte(`"querystring":`), qs.Bytes()...), 1), nil
}

// Run runs one function's code on an event in njs and returns its result.
func (in *Instance) Run(ctx context.Context, code string, ev *Event) (*Result, error) {
	evJSON, err := marshalEvent(ev)
	if err != nil {
		return nil, err
	}
	n := in.seq.Add(1)
	file := filepath.Join(in.dir, fmt.Sprintf("run-%d.js", n))
	if err := os.WriteFile(file, []byte(code+fmt.Sprintf(driver, evJSON)), 0o644); err != nil {
		return nil, err
	}
	defer os.Remove(file)
	cmd := exec.CommandContext(ctx, in.e.njs(), "-q", "-t", "module", "-p", in.dir, file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("render/cloudfront/njs: njs: %v: %s%s", err, stderr.String(), stdout.String())
	}
	var r Result
	out := bytes.TrimSpace(stdout.Bytes())
	if i := bytes.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("render/cloudfront/njs: function output %q: %v (stderr %s)", stdout.String(), err, stderr.String())
	}
	if r.Error != "" {
		return nil, fmt.Errorf("render/cloudfront/njs: the function threw: %s", r.Error)
	}
	return &r, nil
}

// Do implements testrun.Instance.
func (in *Instance) Do(ctx context.Context, req *testrun.ClientRequest) (*testrun.ClientResponse, error) {
	reqID := fmt.Sprintf("edgegw-test-%d", in.seq.Add(1))
	ev := BuildEvent(req, reqID)
	viewerJSON, _ := marshalEvent(ev)
	r, err := in.Run(ctx, in.request, ev)
	if err != nil {
		return nil, err
	}
	var probe struct {
		StatusCode *int `json:"statusCode"`
	}
	if err := json.Unmarshal(r.Result, &probe); err != nil {
		return nil, fmt.Errorf("render/cloudfront/njs: viewer-request result: %v", err)
	}
	if probe.StatusCode != nil {
		var resp EventResponse
		if err := json.Unmarshal(r.Result, &resp); err != nil {
			return nil, fmt.Errorf("render/cloudfront/njs: viewer-request response: %v", err)
		}
		return clientResponse(&resp, nil)
	}
	var fwd EventRequest
	if err := json.Unmarshal(r.Result, &fwd); err != nil {
		return nil, fmt.Errorf("render/cloudfront/njs: viewer-request request: %v", err)
	}
	decision := fwd.Headers[headerDecision]
	delete(fwd.Headers, headerDecision)
	if bad := invalidHeaders(ev.Request.Headers, fwd.Headers, readOnlyRequest); bad != "" {
		return validationError(bad), nil
	}
	if r.Origin == nil || len(r.Origin.IDs) == 0 {
		return nil, errors.New("render/cloudfront/njs: the function forwarded the request without picking an origin")
	}
	resp, body := in.forward(ctx, ev.Request, &fwd, r.Origin.IDs, r.Origin.StatusCodes, req.Body)
	if resp.StatusCode >= 400 {
		// CloudFront invokes no viewer-response function when the origin answers 400 or more (or the
		// distribution answers for an unreachable origin): the answer goes to the viewer with only the
		// response headers policy's headers, on the origin's answer.
		if decision.Value != "" {
			resp.Headers[headerDecision] = decision
		}
		return in.withPolicy(resp, body)
	}
	// viewer-response: the viewer's request as it arrived, and the origin's (or distribution's) answer.
	var vev Event
	_ = json.Unmarshal(viewerJSON, &vev)
	vev.Context["eventType"] = "viewer-response"
	vev.Response = resp
	rr, err := in.Run(ctx, in.response, &vev)
	if err != nil {
		return nil, err
	}
	var final EventResponse
	if err := json.Unmarshal(rr.Result, &final); err != nil {
		return nil, fmt.Errorf("render/cloudfront/njs: viewer-response result: %v", err)
	}
	if bad := invalidHeaders(resp.Headers, final.Headers, readOnlyResponse); bad != "" {
		return validationError(bad), nil
	}
	if decision.Value != "" {
		final.Headers[headerDecision] = decision
	}
	final.edge = resp.edge
	return in.withPolicy(&final, body)
}

// withPolicy is the viewer's answer: resp with the response headers policy applied when it covers resp
// (an answer the origin gave; AWS documents no policy on the distribution's own answers).
func (in *Instance) withPolicy(resp *EventResponse, body []byte) (*testrun.ClientResponse, error) {
	out, err := clientResponse(resp, body)
	if err == nil && in.policy != nil && !resp.edge {
		in.policy.Apply(out.Header)
	}
	return out, err
}

// The header rules of "Restrictions on all edge functions" (AWS): a function's result that adds a
// disallowed header, or adds, changes or removes a read-only one, fails CloudFront's validation and the
// viewer gets a 502.
var (
	disallowed = []string{"connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
		"proxy-connection", "trailer", "upgrade", "x-cache", "x-forwarded-proto", "x-real-ip", "x-amzn-auth",
		"x-amzn-cf-billing", "x-amzn-cf-id", "x-amzn-cf-xff", "x-amzn-errortype", "x-amzn-fle-profile",
		"x-amzn-header-count", "x-amzn-header-order", "x-amzn-lambda-integration-tag", "x-amzn-requestid"}
	disallowedPrefix = []string{"x-accel-", "x-amz-cf-", "x-edge-"}
	readOnlyRequest  = []string{"content-length", "host", "transfer-encoding", "via"}
	readOnlyResponse = []string{"content-encoding", "content-length", "transfer-encoding", "warning", "via"}
)

func isDisallowed(name string) bool {
	for _, d := range disallowed {
		if name == d {
			return true
		}
	}
	for _, p := range disallowedPrefix {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// invalidHeaders says which header rule a function's result (after) breaks against its event (before), or "".
func invalidHeaders(before, after map[string]Value, readOnly []string) string {
	for name := range after {
		if _, had := before[name]; had {
			continue
		}
		if isDisallowed(name) {
			return "the function added the disallowed header " + name
		}
	}
	for _, name := range readOnly {
		a, aok := before[name]
		b, bok := after[name]
		if aok != bok || strings.Join(a.all(), "\x00") != strings.Join(b.all(), "\x00") {
			return "the function changed the read-only header " + name
		}
	}
	return ""
}

// validationError is CloudFront's answer to a function result that fails its validation.
func validationError(why string) *testrun.ClientResponse {
	return &testrun.ClientResponse{Status: http.StatusBadGateway, Header: http.Header{}, Body: []byte("FunctionValidationError: " + why)}
}

func clientResponse(resp *EventResponse, body []byte) (*testrun.ClientResponse, error) {
	out := &testrun.ClientResponse{Status: resp.StatusCode, Header: http.Header{}, Body: body}
	for name, v := range resp.Headers {
		for _, s := range v.all() {
			out.Header.Add(name, s)
		}
	}
	if resp.Body != nil {
		out.Body = []byte(resp.Body.Data)
		if resp.Body.Encoding == "base64" {
			return nil, errors.New("render/cloudfront/njs: base64 bodies are not decoded by this engine")
		}
	}
	if out.Body == nil {
		out.Body = []byte{}
	}
	if raw := out.Header.Get(headerDecision); raw != "" {
		var dec map[string]string
		if json.Unmarshal([]byte(raw), &dec) == nil {
			out.Decision = map[string]string{}
			for k, v := range dec {
				if v != "" {
					out.Decision[k] = v
				}
			}
		}
		out.Header.Del(headerDecision)
	}
	return out, nil
}

// forward sends the function's request to its origin (or origin group) as CloudFront would and returns
// the answer the viewer-response function sees, with the body.
func (in *Instance) forward(ctx context.Context, viewer, fwd *EventRequest, ids []string, failoverStatus []int, body []byte) (*EventResponse, []byte) {
	query := rawQuery(fwd, viewer)
	retry := fwd.Method == http.MethodGet || fwd.Method == http.MethodHead || fwd.Method == http.MethodOptions
	lastTimeout := false
	for k, id := range ids {
		last := k == len(ids)-1 || !retry
		o, ok := in.origins[id]
		if !ok {
			return in.edgeError("UPSTREAM_UNREACHABLE"), nil
		}
		u := *o.base
		u.Path, u.RawPath = "", ""
		target := u.Scheme + "://" + u.Host + strings.TrimSuffix(o.base.EscapedPath(), "/") + fwd.URI
		if query != "" {
			target += "?" + query
		}
		actx, cancel := context.WithTimeout(ctx, o.timeout)
		var rb io.Reader
		if fwd.Method != http.MethodGet && fwd.Method != http.MethodHead {
			rb = bytes.NewReader(body)
		}
		hr, err := http.NewRequestWithContext(actx, fwd.Method, target, rb)
		if err != nil {
			cancel()
			return in.edgeError("UPSTREAM_UNREACHABLE"), nil
		}
		for name, v := range fwd.Headers {
			for _, s := range v.all() {
				hr.Header.Add(name, s)
			}
		}
		if c := cookieHeader(fwd, viewer); c != "" {
			hr.Header.Set("Cookie", c)
		}
		hr.Host = o.host
		resp, err := in.client.Do(hr)
		if err != nil {
			cancel()
			var ne net.Error
			lastTimeout = errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
			if last {
				break
			}
			continue
		}
		rbody, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if err != nil {
			lastTimeout = errors.Is(err, context.DeadlineExceeded)
			if last {
				break
			}
			continue
		}
		if !last && containsInt(failoverStatus, resp.StatusCode) {
			continue
		}
		er := &EventResponse{StatusCode: resp.StatusCode, StatusDescription: http.StatusText(resp.StatusCode), Headers: map[string]Value{}}
		for name, vals := range resp.Header {
			if len(vals) > 0 {
				er.Headers[strings.ToLower(name)] = values(vals)
			}
		}
		return er, rbody
	}
	if lastTimeout {
		return in.edgeError("UPSTREAM_TIMEOUT"), nil
	}
	return in.edgeError("UPSTREAM_UNREACHABLE"), nil
}

func containsInt(list []int, n int) bool {
	for _, v := range list {
		if v == n {
			return true
		}
	}
	return false
}

// edgeError is the distribution's custom error response for code: the IR's edge error.
func (in *Instance) edgeError(code string) *EventResponse {
	errs := in.g.Errors
	if len(errs) == 0 {
		errs = ir.EdgeErrors(in.g.Name)
	}
	for _, e := range errs {
		if e.Code == code {
			r := &EventResponse{StatusCode: e.Status, Headers: map[string]Value{}, edge: true}
			for _, h := range e.Headers {
				r.Headers[strings.ToLower(h.Name)] = Value{Value: h.Value}
			}
			r.Body = &struct {
				Encoding string `json:"encoding"`
				Data     string `json:"data"`
			}{"text", e.Body}
			return r
		}
	}
	return &EventResponse{StatusCode: http.StatusBadGateway, Headers: map[string]Value{}, edge: true}
}

// rawQuery is the query CloudFront forwards: the viewer's, unless the function changed the querystring
// object (then rebuilt from it).
func rawQuery(fwd, viewer *EventRequest) string {
	a, _ := json.Marshal(fwd.Querystring)
	b, _ := json.Marshal(viewer.Querystring)
	if bytes.Equal(a, b) {
		return viewer.rawQuery
	}
	var order []string
	for k := range fwd.Querystring {
		order = append(order, k)
	}
	sort.Strings(order)
	var parts []string
	for _, k := range order {
		for _, v := range fwd.Querystring[k].all() {
			if v == "" {
				parts = append(parts, k)
			} else {
				parts = append(parts, k+"="+v)
			}
		}
	}
	return strings.Join(parts, "&")
}

func cookieHeader(fwd, viewer *EventRequest) string {
	a, _ := json.Marshal(fwd.Cookies)
	b, _ := json.Marshal(viewer.Cookies)
	if bytes.Equal(a, b) {
		return viewer.rawCookie
	}
	var parts []string
	for k, v := range fwd.Cookies {
		for _, s := range v.all() {
			parts = append(parts, k+"="+s)
		}
	}
	return strings.Join(parts, "; ")
}
