package cloudfront

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/edgegw/edgegw/manifest/ir"
)

// Before anything is published, every manifest test with one request runs through TestFunction: the
// viewer-request function on the documented event built from the test's request (in the stage that will
// be live: DEVELOPMENT for a changed function, LIVE for the other), and the viewer-response function on
// the request it forwards with a 200 answer. A function that throws, a ComputeUtilization over
// MaxComputeUtilization, or an answer that differs from the test's status, body or upstream path stops the
// apply with nothing published. Tests that sign a token, script origins or send a sequence need the
// reference gateway's runner and are left to `edgegw test`.

// cfEvent is a CloudFront Functions event.
type cfEvent struct {
	Version  string          `json:"version"`
	Context  map[string]any  `json:"context"`
	Viewer   map[string]any  `json:"viewer"`
	Request  json.RawMessage `json:"request"`
	Response json.RawMessage `json:"response,omitempty"`
}

type cfValue struct {
	Value      string    `json:"value"`
	MultiValue []cfValue `json:"multiValue,omitempty"`
}

type cfRequest struct {
	Method      string             `json:"method"`
	URI         string             `json:"uri"`
	Querystring map[string]cfValue `json:"querystring"`
	Headers     map[string]cfValue `json:"headers"`
	Cookies     map[string]cfValue `json:"cookies"`
}

type cfResponse struct {
	StatusCode int                `json:"statusCode"`
	Headers    map[string]cfValue `json:"headers"`
	Body       json.RawMessage    `json:"body,omitempty"`
}

func valuesOf(vals []string) cfValue {
	v := cfValue{Value: vals[0]}
	if len(vals) > 1 {
		for _, s := range vals {
			v.MultiValue = append(v.MultiValue, cfValue{Value: s})
		}
	}
	return v
}

// requestEvent builds the viewer-request event of a test's request, as CloudFront documents it.
func requestEvent(distID string, n int, tr ir.TestRequest) ([]byte, error) {
	u, err := url.Parse(tr.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("url %q is not an absolute URL", tr.URL)
	}
	target := u.EscapedPath()
	rawQuery := u.RawQuery
	if tr.Target != "" {
		target, rawQuery, _ = strings.Cut(tr.Target, "?")
	}
	if target == "" {
		target = "/"
	}
	method := tr.Method
	if method == "" {
		method = "GET"
	}
	r := cfRequest{Method: method, URI: target, Querystring: map[string]cfValue{}, Headers: map[string]cfValue{}, Cookies: map[string]cfValue{}}
	q := map[string][]string{}
	for _, kv := range strings.Split(rawQuery, "&") {
		if kv != "" {
			k, v, _ := strings.Cut(kv, "=")
			q[k] = append(q[k], v)
		}
	}
	for k, vs := range q {
		r.Querystring[k] = valuesOf(vs)
	}
	h := map[string][]string{}
	for _, hs := range tr.Headers {
		n := strings.ToLower(hs.Name)
		if n == "cookie" {
			for _, c := range strings.Split(hs.Value, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(c), "=")
				if k != "" {
					r.Cookies[k] = cfValue{Value: v}
				}
			}
			continue
		}
		h[n] = append(h[n], hs.Value)
	}
	host := u.Host
	if tr.Host != "" {
		host = tr.Host
	}
	h["host"] = []string{host}
	for k, vs := range h {
		r.Headers[k] = valuesOf(vs)
	}
	rj, _ := json.Marshal(r)
	ip := tr.ClientIP
	if ip == "" {
		ip = "192.0.2.1"
	}
	return json.Marshal(cfEvent{Version: "1.0", Request: rj, Viewer: map[string]any{"ip": ip},
		Context: map[string]any{"distributionId": distID, "eventType": "viewer-request", "requestId": "edgegw-test-" + strconv.Itoa(n)}})
}

// testable reports whether a test can run through TestFunction, and why not.
func testable(tc ir.TestCase) (bool, string) {
	switch {
	case len(tc.Steps) > 0:
		return false, "a sequence of requests"
	case tc.Request.JWT != nil:
		return false, "a signed token"
	case len(tc.Origins) > 0:
		return false, "scripted origins"
	}
	return true, ""
}

// testFunctions runs the manifest's tests through TestFunction; changed functions are tested in their
// DEVELOPMENT stage, the others in LIVE.
func (p *Provider) testFunctions(ctx context.Context, l *liveState, changed []function) error {
	if p.gateway == nil || len(changed) == 0 {
		return nil
	}
	stage := func(f function) (types.FunctionStage, string) {
		if slices.Contains(changed, f) {
			return types.FunctionStageDevelopment, l.fns[f.artifact].devETag
		}
		return types.FunctionStageLive, l.fns[f.artifact].etag
	}
	for i, tc := range p.gateway.Tests {
		if ok, _ := testable(tc); !ok {
			continue
		}
		where := fmt.Sprintf("test %q (%s)", tc.Name, tc.Pos)
		ev, err := requestEvent(p.distID, i+1, tc.Request)
		if err != nil {
			return fmt.Errorf("providers/%s: %s: %w", Name, where, err)
		}
		out, err := p.runTest(ctx, functions[0], stage, ev, where)
		if err != nil {
			return err
		}
		var res struct {
			Request  json.RawMessage `json:"request"`
			Response *cfResponse     `json:"response"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			return fmt.Errorf("providers/%s: %s: TestFunction's output of %s is not an event result (%v): %.200s", Name, where, p.fnName(functions[0]), err, out)
		}
		if msg := compare(tc.Expect, originPaths(p.gateway), res.Request, res.Response); msg != "" {
			return fmt.Errorf("providers/%s: %s: %s in TestFunction answers differently from the manifest: %s; nothing was published: fix the manifest or its test (`edgegw test` shows the reference's decision)", Name, where, p.fnName(functions[0]), msg)
		}
		if res.Request == nil {
			continue
		}
		var rq map[string]any
		_ = json.Unmarshal(res.Request, &rq)
		resp, _ := json.Marshal(map[string]any{"statusCode": 200, "statusDescription": "OK", "headers": map[string]any{}})
		rev, _ := json.Marshal(cfEvent{Version: "1.0", Request: res.Request, Response: resp, Viewer: map[string]any{"ip": "192.0.2.1"},
			Context: map[string]any{"distributionId": p.distID, "eventType": "viewer-response", "requestId": "edgegw-test-" + strconv.Itoa(i+1)}})
		if _, err := p.runTest(ctx, functions[1], stage, rev, where+" with a 200 answer"); err != nil {
			return err
		}
	}
	return nil
}

// runTest runs one event through TestFunction and returns the function's output.
func (p *Provider) runTest(ctx context.Context, f function, stage func(function) (types.FunctionStage, string), ev []byte, where string) (string, error) {
	st, etag := stage(f)
	name := p.fnName(f)
	out, err := p.client.TestFunction(ctx, &cf.TestFunctionInput{Name: aws.String(name), IfMatch: aws.String(etag), Stage: st, EventObject: ev})
	if err != nil {
		return "", p.apiError(fmt.Sprintf("TestFunction %s (%s) for %s", name, st, where), err)
	}
	r := out.TestResult
	if r == nil {
		return "", fmt.Errorf("providers/%s: TestFunction %s for %s: CloudFront answered no result", Name, name, where)
	}
	if m := aws.ToString(r.FunctionErrorMessage); m != "" {
		return "", fmt.Errorf("providers/%s: %s: function %s fails in TestFunction: %s (logs: %s); nothing was published", Name, where, name, m, strings.Join(r.FunctionExecutionLogs, " | "))
	}
	if u, err := strconv.Atoi(strings.TrimSpace(aws.ToString(r.ComputeUtilization))); err == nil && u > MaxComputeUtilization {
		return "", fmt.Errorf("providers/%s: %s: function %s used %d%% of its compute budget in TestFunction (more than %d%%; CloudFront throttles a function over 100%%); nothing was published: use fewer or simpler routes (regex routes cost most) for this target", Name, where, name, u, MaxComputeUtilization)
	}
	return aws.ToString(r.FunctionOutput), nil
}

// compare checks a viewer-request result against what a test expects, as far as the function's output
// shows it: an answer's status and body, or the forwarded request's path. "" when nothing differs.
func compare(e ir.TestExpect, originPaths []string, fwd json.RawMessage, resp *cfResponse) string {
	if resp != nil {
		if e.Status != 0 && resp.StatusCode != e.Status {
			return fmt.Sprintf("status %d, the test expects %d", resp.StatusCode, e.Status)
		}
		if len(e.StatusIn) > 0 && !slices.Contains(e.StatusIn, resp.StatusCode) {
			return fmt.Sprintf("status %d, the test expects one of %v", resp.StatusCode, e.StatusIn)
		}
		if e.Body != nil {
			if body := bodyText(resp.Body); body != *e.Body {
				return fmt.Sprintf("body %q, the test expects %q", body, *e.Body)
			}
		}
		if e.Pool != "" || e.Origin != "" || e.UpstreamPath != "" || len(e.Tried) > 0 {
			return fmt.Sprintf("it answers %d itself, the test expects the request forwarded", resp.StatusCode)
		}
		return ""
	}
	if fwd == nil {
		return "neither a request nor a response"
	}
	if e.NoOrigin {
		return "it forwards the request, the test expects no origin to receive it"
	}
	var r cfRequest
	_ = json.Unmarshal(fwd, &r)
	// The distribution prepends the origin's path to the function's URI.
	if e.UpstreamPath != "" {
		ok := false
		for _, op := range originPaths {
			ok = ok || op+r.URI == e.UpstreamPath
		}
		if !ok {
			return fmt.Sprintf("upstream path %q, the test expects %q", r.URI, e.UpstreamPath)
		}
	}
	return ""
}

// originPaths lists the paths of the gateway's origin URLs without a trailing slash ("" for none), which
// the distribution prepends to the path the function forwards.
func originPaths(g *ir.Gateway) []string {
	out := []string{""}
	for _, o := range g.Origins {
		if u, err := url.Parse(o.URL); err == nil && strings.TrimSuffix(u.Path, "/") != "" {
			out = append(out, strings.TrimSuffix(u.Path, "/"))
		}
	}
	return out
}

// bodyText decodes a response body: a string, or {encoding, data}.
func bodyText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b struct{ Encoding, Data string }
	if json.Unmarshal(raw, &b) == nil {
		if b.Encoding == "base64" {
			d, _ := base64.StdEncoding.DecodeString(b.Data)
			return string(d)
		}
		return b.Data
	}
	return string(raw)
}
