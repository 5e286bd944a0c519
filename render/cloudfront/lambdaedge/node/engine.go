// Package node runs the rendered lambda-edge-auth handler in Node.js, as Lambda@Edge's nodejs20.x runtime
// does, and plays the distribution around it: it implements testrun.Engine for cloudfront gateways that
// render as the companion.
//
// An instance is one Node process, a warm Lambda@Edge container: the handler module is loaded once, so keys
// are imported once and JWKS documents cached across the requests of a case. Each client request becomes the
// documented Lambda@Edge viewer-request event (event.Records[0].cf: config.eventType, request.clientIp,
// headers as {lower-case name: [{key, value}]}, method, querystring as the raw string, uri). A returned
// response is the client's answer (CloudFront runs no viewer-response trigger on it). A returned request
// runs through the origin-request event, goes to the origin it names (request.origin.custom: protocol,
// domain, port, path, readTimeout in whole seconds), and the origin's answer runs through the
// viewer-response event, which CloudFront skips when the origin answered 400 or more. An unreachable or
// timed-out origin is the distribution's custom error response (the IR's edge error). The origin's answer
// gets the distribution's response headers policy (HSTS, render/cloudfront/headers). The package is a test
// runtime: nothing in production uses it.
package node

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render/cloudfront/headers"
	"github.com/edgegw/edgegw/render/cloudfront/lambdaedge"
)

const (
	headerNow      = "x-edgegw-test-now"
	headerScheme   = "x-edgegw-test-scheme"
	headerDecision = "x-edgegw-test-decision"
)

//go:embed driver.js
var driver string

// Engine loads the handler into Node. The zero value uses node on PATH.
type Engine struct {
	// Node is the node executable. Default: node on PATH.
	Node string
}

var _ testrun.Engine = (*Engine)(nil)

// Default is the engine tests and the cloudfront engine share.
var Default = &Engine{}

func (e *Engine) node() string {
	if e.Node != "" {
		return e.Node
	}
	return "node"
}

// Available reports why the engine cannot run (node missing), or nil.
func (e *Engine) Available() error {
	if _, err := exec.LookPath(e.node()); err != nil {
		return fmt.Errorf("render/cloudfront/lambdaedge/node: node not found (scripts/install-test-deps.sh installs it): %w: %w", err, testrun.ErrRuntimeMissing)
	}
	return nil
}

// Instance is one rendered handler in one Node process.
type Instance struct {
	g      *ir.Gateway
	dir    string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Reader
	stderr bytes.Buffer
	mu     sync.Mutex
	seq    int
	client *http.Client
	policy *headers.Policy // the distribution's response headers policy, nil without one
	// Bytes is the size of the rendered handler.
	Bytes int
}

// Open implements testrun.Engine.
func (e *Engine) Open(ctx context.Context, g *ir.Gateway, origins map[string]string, env testrun.Env) (testrun.Instance, error) {
	return e.OpenInstance(g, origins)
}

// OpenInstance is Open with the concrete type.
func (e *Engine) OpenInstance(g *ir.Gateway, origins map[string]string) (*Instance, error) {
	if err := e.Available(); err != nil {
		return nil, err
	}
	arts, err := lambdaedge.Render(g, lambdaedge.Options{Test: true, OriginURLs: origins})
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "edgegw-lambdaedge-")
	if err != nil {
		return nil, err
	}
	in := &Instance{g: g, dir: dir, client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	// The response headers policy is the distribution's, rendered beside the handler (render/cloudfront).
	if a, ok, err := headers.Render(g, "cloudfront"); err != nil {
		in.Close()
		return nil, err
	} else if ok {
		if in.policy, err = headers.Parse(a.Data); err != nil {
			in.Close()
			return nil, err
		}
	}
	handler := filepath.Join(dir, lambdaedge.File)
	if err := os.WriteFile(handler, arts[0].Data, 0o644); err != nil {
		in.Close()
		return nil, err
	}
	in.Bytes = len(arts[0].Data)
	drv := filepath.Join(dir, "driver.js")
	if err := os.WriteFile(drv, []byte(driver), 0o644); err != nil {
		in.Close()
		return nil, err
	}
	in.cmd = exec.Command(e.node(), drv, handler)
	in.cmd.Stderr = &in.stderr
	if in.stdin, err = in.cmd.StdinPipe(); err != nil {
		in.Close()
		return nil, err
	}
	stdout, err := in.cmd.StdoutPipe()
	if err != nil {
		in.Close()
		return nil, err
	}
	in.out = bufio.NewReaderSize(stdout, 1<<20)
	if err := in.cmd.Start(); err != nil {
		in.Close()
		return nil, fmt.Errorf("render/cloudfront/lambdaedge/node: start node: %w", err)
	}
	return in, nil
}

// Close stops the Node process and removes the instance's files.
func (in *Instance) Close() error {
	if in.stdin != nil {
		in.stdin.Close()
	}
	if in.cmd != nil && in.cmd.Process != nil {
		_ = in.cmd.Wait()
	}
	return os.RemoveAll(in.dir)
}

// Header is one CloudFront header entry.
type Header struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Request is cf.request of a Lambda@Edge event.
type Request struct {
	ClientIP    string              `json:"clientIp"`
	Headers     map[string][]Header `json:"headers"`
	Method      string              `json:"method"`
	Querystring string              `json:"querystring"`
	URI         string              `json:"uri"`
	Origin      *struct {
		Custom *struct {
			DomainName  string `json:"domainName"`
			Port        int    `json:"port"`
			Protocol    string `json:"protocol"`
			Path        string `json:"path"`
			ReadTimeout int    `json:"readTimeout"`
		} `json:"custom,omitempty"`
	} `json:"origin,omitempty"`
}

// Response is cf.response, or a response the handler returns.
type Response struct {
	Status            string              `json:"status"`
	StatusDescription string              `json:"statusDescription,omitempty"`
	Headers           map[string][]Header `json:"headers"`
	Body              *string             `json:"body,omitempty"`
	BodyEncoding      string              `json:"bodyEncoding,omitempty"`

	fromOrigin bool // the origin's answer, which the response headers policy covers
}

type event struct {
	Records []record `json:"Records"`
}

type record struct {
	CF struct {
		Config   map[string]string `json:"config"`
		Request  *Request          `json:"request"`
		Response *Response         `json:"response,omitempty"`
	} `json:"cf"`
}

func newEvent(kind, requestID string, req *Request, resp *Response) event {
	var r record
	r.CF.Config = map[string]string{"distributionDomainName": "d111111abcdef8.cloudfront.net", "distributionId": "EDGEGWTEST", "eventType": kind, "requestId": requestID}
	r.CF.Request, r.CF.Response = req, resp
	return event{Records: []record{r}}
}

// ViewerRequest builds the viewer-request cf.request of a client request.
func ViewerRequest(req *testrun.ClientRequest) *Request {
	path, query := splitTarget(req.Target)
	r := &Request{Method: req.Method, URI: path, Querystring: query, Headers: map[string][]Header{}, ClientIP: req.ClientIP}
	if r.Method == "" {
		r.Method = http.MethodGet
	}
	if r.ClientIP == "" {
		r.ClientIP = "192.0.2.1"
	}
	for name, vals := range req.Header {
		ln := strings.ToLower(name)
		for _, v := range vals {
			r.Headers[ln] = append(r.Headers[ln], Header{Key: name, Value: v})
		}
	}
	if req.Host != "" {
		r.Headers["host"] = []Header{{Key: "Host", Value: req.Host}}
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	r.Headers[headerNow] = []Header{{Key: headerNow, Value: strconv.FormatInt(now.UnixMilli(), 10)}}
	scheme := req.Scheme
	if scheme == "" {
		scheme = "https"
	}
	r.Headers[headerScheme] = []Header{{Key: headerScheme, Value: scheme}}
	return r
}

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

// Run runs the handler on one event and returns its result.
func (in *Instance) Run(ev event) (json.RawMessage, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.seq++
	line, err := json.Marshal(map[string]any{"id": in.seq, "event": ev})
	if err != nil {
		return nil, err
	}
	if _, err := in.stdin.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("render/cloudfront/lambdaedge/node: write to node: %w (stderr: %s)", err, in.stderr.String())
	}
	out, err := in.out.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("render/cloudfront/lambdaedge/node: read from node: %w (stderr: %s)", err, in.stderr.String())
	}
	var r struct {
		ID     int             `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  string          `json:"error"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("render/cloudfront/lambdaedge/node: handler output %q: %w", out, err)
	}
	if r.Error != "" {
		return nil, fmt.Errorf("render/cloudfront/lambdaedge/node: the handler threw: %s", r.Error)
	}
	return r.Result, nil
}

// isResponse reports whether a handler result is a response (it has a status) rather than a request.
func isResponse(raw json.RawMessage) bool {
	var probe struct {
		Status *string `json:"status"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.Status != nil
}

// Do implements testrun.Instance.
func (in *Instance) Do(ctx context.Context, req *testrun.ClientRequest) (*testrun.ClientResponse, error) {
	reqID := fmt.Sprintf("edgegw-test-%d", time.Now().UnixNano())
	viewer := ViewerRequest(req)
	viewerJSON, _ := json.Marshal(viewer)
	raw, err := in.Run(newEvent("viewer-request", reqID, viewer, nil))
	if err != nil {
		return nil, err
	}
	if isResponse(raw) {
		var resp Response
		if err := json.Unmarshal(raw, &resp); err != nil {
			return nil, fmt.Errorf("render/cloudfront/lambdaedge/node: viewer-request response: %w", err)
		}
		return clientResponse(&resp, nil, Header{})
	}
	var fwd Request
	if err := json.Unmarshal(raw, &fwd); err != nil {
		return nil, fmt.Errorf("render/cloudfront/lambdaedge/node: viewer-request request: %w", err)
	}
	if bad := invalidViewerRequest(viewer, &fwd); bad != "" {
		// CloudFront validates the trigger's request and answers 502 when it breaks a header rule.
		return &testrun.ClientResponse{Status: http.StatusBadGateway, Header: http.Header{}, Body: []byte("LambdaValidationError: " + bad)}, nil
	}
	var decision Header
	if d := fwd.Headers[headerDecision]; len(d) > 0 {
		decision = d[0]
	}
	delete(fwd.Headers, headerDecision)
	if raw, err = in.Run(newEvent("origin-request", reqID, &fwd, nil)); err != nil {
		return nil, err
	}
	var resp *Response
	var body []byte
	if isResponse(raw) {
		resp = &Response{}
		if err := json.Unmarshal(raw, resp); err != nil {
			return nil, fmt.Errorf("render/cloudfront/lambdaedge/node: origin-request response: %w", err)
		}
	} else {
		var up Request
		if err := json.Unmarshal(raw, &up); err != nil {
			return nil, fmt.Errorf("render/cloudfront/lambdaedge/node: origin-request request: %w", err)
		}
		if up.Origin == nil || up.Origin.Custom == nil {
			return nil, errors.New("render/cloudfront/lambdaedge/node: the origin-request event named no custom origin")
		}
		resp, body = in.forward(ctx, &up, req.Body)
	}
	st, _ := strconv.Atoi(resp.Status)
	if st < 400 {
		// CloudFront runs viewer-response triggers only on answers below 400.
		var vreq Request
		_ = json.Unmarshal(viewerJSON, &vreq)
		if raw, err = in.Run(newEvent("viewer-response", reqID, &vreq, resp)); err != nil {
			return nil, err
		}
		var final Response
		if err := json.Unmarshal(raw, &final); err != nil {
			return nil, fmt.Errorf("render/cloudfront/lambdaedge/node: viewer-response result: %w", err)
		}
		final.Status = resp.Status // a viewer-response trigger cannot change the status
		final.fromOrigin = resp.fromOrigin
		resp = &final
	}
	out, err := clientResponse(resp, body, decision)
	if err == nil && in.policy != nil && resp.fromOrigin {
		// The response headers policy covers the origin's answer, whatever its status (AWS documents none
		// on the distribution's own answers or a trigger's generated response).
		in.policy.Apply(out.Header)
	}
	return out, err
}

func clientResponse(resp *Response, body []byte, decision Header) (*testrun.ClientResponse, error) {
	st, err := strconv.Atoi(resp.Status)
	if err != nil {
		return nil, fmt.Errorf("render/cloudfront/lambdaedge/node: status %q: %w", resp.Status, err)
	}
	out := &testrun.ClientResponse{Status: st, Header: http.Header{}, Body: body}
	for _, hs := range resp.Headers {
		for _, h := range hs {
			out.Header.Add(h.Key, h.Value)
		}
	}
	if resp.Body != nil {
		if resp.BodyEncoding == "base64" {
			return nil, errors.New("render/cloudfront/lambdaedge/node: base64 bodies are not decoded by this engine")
		}
		out.Body = []byte(*resp.Body)
	}
	if out.Body == nil {
		out.Body = []byte{}
	}
	raw := out.Header.Get(headerDecision)
	if raw == "" {
		raw = decision.Value
	}
	out.Header.Del(headerDecision)
	if raw != "" {
		var dec map[string]string
		if json.Unmarshal([]byte(raw), &dec) == nil {
			out.Decision = map[string]string{}
			for k, v := range dec {
				if v != "" {
					out.Decision[k] = v
				}
			}
		}
	}
	return out, nil
}

// forward sends the request to its custom origin as CloudFront would and returns the answer the
// viewer-response event sees, with the body.
func (in *Instance) forward(ctx context.Context, up *Request, body []byte) (*Response, []byte) {
	c := up.Origin.Custom
	target := fmt.Sprintf("%s://%s%s", c.Protocol, net.JoinHostPort(c.DomainName, strconv.Itoa(c.Port)), c.Path+up.URI)
	if up.Querystring != "" {
		target += "?" + up.Querystring
	}
	timeout := time.Duration(c.ReadTimeout) * time.Second
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rb io.Reader
	if up.Method != http.MethodGet && up.Method != http.MethodHead {
		rb = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(actx, up.Method, target, rb)
	if err != nil {
		return in.edgeError("UPSTREAM_UNREACHABLE"), nil
	}
	for name, hs := range up.Headers {
		for _, h := range hs {
			if name == "host" {
				hr.Host = h.Value
				continue
			}
			hr.Header.Add(h.Key, h.Value)
		}
	}
	resp, err := in.client.Do(hr)
	if err == nil {
		var rbody []byte
		rbody, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			out := &Response{Status: strconv.Itoa(resp.StatusCode), StatusDescription: http.StatusText(resp.StatusCode), Headers: map[string][]Header{}, fromOrigin: true}
			for name, vals := range resp.Header {
				ln := strings.ToLower(name)
				for _, v := range vals {
					out.Headers[ln] = append(out.Headers[ln], Header{Key: name, Value: v})
				}
			}
			return out, rbody
		}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return in.edgeError("UPSTREAM_TIMEOUT"), nil
	}
	return in.edgeError("UPSTREAM_UNREACHABLE"), nil
}

// edgeError is the distribution's custom error response for code: the IR's edge error.
func (in *Instance) edgeError(code string) *Response {
	errs := in.g.Errors
	if len(errs) == 0 {
		errs = ir.EdgeErrors(in.g.Name)
	}
	for _, e := range errs {
		if e.Code == code {
			r := &Response{Status: strconv.Itoa(e.Status), Headers: map[string][]Header{}}
			for _, h := range e.Headers {
				ln := strings.ToLower(h.Name)
				r.Headers[ln] = append(r.Headers[ln], Header{Key: h.Name, Value: h.Value})
			}
			b := e.Body
			r.Body = &b
			return r
		}
	}
	return &Response{Status: "502", Headers: map[string][]Header{}}
}

// disallowed are the headers edge functions may not add (AWS, "Restrictions on all edge functions"; the
// X-Accel-*, X-Amz-Cf-*, X-Amzn-* and X-Edge-* families too), and readOnlyViewer those a viewer-request
// trigger may not change.
var (
	disallowed     = []string{"connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "trailer", "upgrade", "x-cache", "x-forwarded-proto", "x-real-ip"}
	disallowedPre  = []string{"x-accel-", "x-amz-cf-", "x-amzn-", "x-edge-"}
	readOnlyViewer = []string{"content-length", "host", "transfer-encoding", "via"}
)

// invalidViewerRequest says which header rule the viewer-request trigger's request breaks, or "".
func invalidViewerRequest(viewer, fwd *Request) string {
	for name := range fwd.Headers {
		if _, sent := viewer.Headers[name]; sent {
			continue
		}
		for _, d := range disallowed {
			if name == d {
				return "the function added the disallowed header " + name
			}
		}
		for _, p := range disallowedPre {
			if strings.HasPrefix(name, p) {
				return "the function added the disallowed header " + name
			}
		}
	}
	for _, name := range readOnlyViewer {
		a, _ := json.Marshal(valuesOf(viewer.Headers[name]))
		b, _ := json.Marshal(valuesOf(fwd.Headers[name]))
		if !bytes.Equal(a, b) {
			return "the function changed the read-only header " + name
		}
	}
	return ""
}

func valuesOf(hs []Header) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Value)
	}
	return out
}
