package testrun

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/manifest/ir"
)

// RefTarget is the target whose runner is the reference gateway: the local target deploys the IR and
// `edgegw dev` serves it with that gateway.
const RefTarget = "local"

func init() { Register(RefTarget, refRunner{}) }

// refRunner runs cases through the reference gateway, in process, with every origin replaced by a real
// loopback server that records what it received. Each case gets a fresh gateway, so rate-limit and breaker
// state never leak from one case into the next.
type refRunner struct{}

func (refRunner) Run(ctx context.Context, g *ir.Gateway, cases []ir.TestCase, env Env) ([]Result, error) {
	origins := map[string]*recordingOrigin{}
	urls := map[string]string{}
	for _, o := range g.Origins {
		ro := newRecordingOrigin(o.Name)
		defer ro.srv.Close()
		origins[o.Name], urls[o.Name] = ro, ro.srv.URL
	}
	keys := &KeyCache{}
	base := gateway.Options{Now: env.Now, Getenv: env.Getenv, OriginURLs: urls}
	probe, err := gateway.New(g, base)
	if err != nil {
		return nil, fmt.Errorf("testrun: ref: %w", err)
	}
	var results []Result
	for _, tc := range cases {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		results = append(results, runRef(ctx, g, tc, env, base, probe, origins, keys))
	}
	return results, nil
}

func runRef(ctx context.Context, g *ir.Gateway, tc ir.TestCase, env Env, base gateway.Options, probe *gateway.Gateway,
	origins map[string]*recordingOrigin, keys *KeyCache) Result {
	res := Result{Target: RefTarget, Name: tc.Name, Pos: posString(tc.Pos)}
	req, err := NewRequest(tc.Request)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	opts := base
	if tc.Request.JWT != nil {
		if req.Header.Get("Authorization") != "" {
			res.Notes = append(res.Notes, "the case's own Authorization header is sent; jwt: is ignored")
		} else if policy := policyFor(g, probe, req); policy == nil {
			res.Notes = append(res.Notes, "no auth policy applies to this request; no token sent")
		} else {
			tok, err := SignTestToken(policy, tc.Request.JWT, env, keys)
			if err != nil {
				res.Error = err.Error()
				return res
			}
			req.Header.Set("Authorization", "Bearer "+tok.Bearer)
			res.Notes = append(res.Notes, tok.Note)
			if tok.TrustKeys != nil {
				opts.ReplaceKeys = map[string][]jwtverify.Key{tok.Policy: tok.TrustKeys}
			}
		}
	}
	gw, err := gateway.New(g, opts)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	for _, o := range origins {
		o.reset()
	}
	var d gateway.Decision
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req.WithContext(gateway.WithDecision(ctx, &d)))

	obs := &Observed{Status: rec.Code, Header: flatten(rec.Header()), Body: rec.Body.String(), Decided: true,
		Route: d.Route, Pool: d.Pool, Origin: d.Origin, Reason: d.Reason}
	if o := origins[d.Origin]; o != nil {
		if got, ok := o.last(); ok {
			// What the origin received is the truth about the upstream request, not what the gateway meant.
			obs.UpstreamPath, _, _ = strings.Cut(got.uri, "?")
			obs.UpstreamHeader = flatten(got.header)
		}
	}
	res.Observed = obs
	diffs, notes := Compare(tc.Expect, obs)
	res.Diffs, res.Notes = diffs, append(res.Notes, notes...)
	res.Pass = len(diffs) == 0
	return res
}

// policyFor returns the auth policy of the route the request takes, or the only policy when the route has
// none (a case may send a token to a route without auth).
func policyFor(g *ir.Gateway, probe *gateway.Gateway, req *http.Request) *ir.AuthPolicy {
	if r := probe.RouteFor(req); r != nil && r.Auth != "" {
		return g.AuthPolicy(r.Auth)
	}
	if len(g.AuthPolicies) == 1 {
		return &g.AuthPolicies[0]
	}
	return nil
}

func posString(p ir.Pos) string {
	if p.File == "" && p.Line == 0 {
		return ""
	}
	return p.String()
}

// NewRequest builds the server-side request for a case, keeping the URL's path exactly as written (no
// normalization by net/url), so attack paths reach the gateway as a client would send them.
func NewRequest(tr ir.TestRequest) (*http.Request, error) {
	method := tr.Method
	if method == "" {
		method = http.MethodGet
	}
	scheme, rest, ok := strings.Cut(tr.URL, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return nil, fmt.Errorf("testrun: url %q must start with http:// or https://", tr.URL)
	}
	host, target := rest, "/"
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		host, target = rest[:i], rest[i:]
		if target[0] == '?' {
			target = "/" + target
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, host)
	for _, h := range tr.Headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h.Name, h.Value)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(tr.Body), tr.Body)
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(b.String())))
	if err != nil {
		return nil, fmt.Errorf("testrun: request %s %s: %w", method, tr.URL, err)
	}
	req.RemoteAddr = "192.0.2.1:50000" // a fixed client: rate limits keyed by IP behave the same every run
	if scheme == "https" {
		req.TLS = &tls.ConnectionState{}
	}
	return req, nil
}

func flatten(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = strings.Join(v, ", ")
	}
	return out
}

// recordingOrigin is a loopback origin that answers 200 and remembers the last request it got.
type recordingOrigin struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []recorded
}

type recorded struct {
	uri    string
	header http.Header
}

func newRecordingOrigin(name string) *recordingOrigin {
	o := &recordingOrigin{}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		o.mu.Lock()
		o.got = append(o.got, recorded{uri: r.RequestURI, header: r.Header.Clone()})
		o.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "origin "+name+"\n")
	}))
	return o
}

func (o *recordingOrigin) reset() {
	o.mu.Lock()
	o.got = nil
	o.mu.Unlock()
}

func (o *recordingOrigin) last() (recorded, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.got) == 0 {
		return recorded{}, false
	}
	return o.got[len(o.got)-1], true
}
