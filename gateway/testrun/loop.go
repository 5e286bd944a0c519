package testrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/manifest/ir"
)

// Options say how to run cases on one target.
type Options struct {
	// Target names the target in results.
	Target string
	Engine Engine
	// Reference, when set, runs every case on it too and the target must decide exactly as it does
	// (nil when the target is the reference).
	Reference Engine
	Env       Env
	// Cannot returns why the target cannot enforce a capability feature, or "" when it can; a case that
	// needs such a feature is skipped with the reason. nil: the target enforces every feature.
	Cannot func(feature string) string
	// Keys are the run's generated keys; nil makes a cache for this call.
	Keys *KeyCache
}

// Run executes cases (tests[i] of g, each with its own index in g.Tests) on one target and returns one
// Result per case, in order. It stops early only when ctx ends.
func Run(ctx context.Context, g *ir.Gateway, cases []ir.TestCase, o Options) []Result {
	if o.Keys == nil {
		o.Keys = &KeyCache{}
	}
	if o.Env.Now == nil {
		o.Env.Now = time.Now
	}
	if o.Env.Getenv == nil {
		o.Env.Getenv = func(string) string { return "" }
	}
	probe, probeErr := gateway.New(g, gateway.Options{Getenv: o.Env.Getenv})
	var out []Result
	for _, tc := range cases {
		if ctx.Err() != nil {
			break
		}
		res := Result{Target: o.Target, Index: indexOf(g, tc), Name: tc.Name, Pos: posString(tc.Pos), Features: tc.Features}
		if probeErr != nil {
			res.Error = probeErr.Error()
		} else {
			runCase(ctx, g, probe, tc, o, &res)
		}
		out = append(out, res)
	}
	return out
}

func indexOf(g *ir.Gateway, tc ir.TestCase) int {
	for i := range g.Tests {
		if g.Tests[i].Name == tc.Name {
			return i
		}
	}
	return -1
}

// request is one client request of a case, built once and sent to the target and to the reference alike.
type request struct {
	label  string // "steps[1] #3"; "" for a one-request case
	cr     *ClientRequest
	expect []ir.TestExpect
}

func runCase(ctx context.Context, g *ir.Gateway, probe *gateway.Gateway, tc ir.TestCase, o Options, res *Result) {
	if o.Cannot != nil {
		for _, f := range tc.Features {
			if why := o.Cannot(f); why != "" {
				res.Skipped = fmt.Sprintf("%s cannot enforce %s: %s", o.Target, f, why)
				return
			}
		}
	}
	if u, ok := o.Engine.(Unexecutable); ok {
		if why := u.Unexecutable(g, tc); why != "" {
			res.Skipped, res.Unexecutable = fmt.Sprintf("%s's test runtime cannot execute this case: %s", o.Target, why), true
			return
		}
	}
	start := o.Env.Now()
	tg, env, stopKeys, err := testKeys(g, tc, o.Env, o.Keys)
	if err != nil {
		res.Error = err.Error()
		return
	}
	defer stopKeys()
	reqs, notes, err := buildRequests(g, probe, tg, tc, start, env, o.Keys)
	res.Notes = append(res.Notes, notes...)
	if err != nil {
		res.Error = err.Error()
		return
	}
	got, err := sequence(ctx, o.Engine, tg, env, tc, reqs)
	if err != nil {
		res.Error = fmt.Sprintf("%s: %v", o.Target, err)
		res.RuntimeMissing = errors.Is(err, ErrRuntimeMissing)
		return
	}
	var ref []*Observed
	if o.Reference != nil {
		if ref, err = sequence(ctx, o.Reference, tg, env, tc, reqs); err != nil {
			res.Error = "reference: " + err.Error()
			return
		}
	}
	ids := requestIDHeaders(g)
	for i, rq := range reqs {
		for _, e := range rq.expect {
			diffs, n := Compare(e, got[i])
			for k := range diffs {
				diffs[k].Step = rq.label
			}
			res.Diffs = append(res.Diffs, diffs...)
			for _, s := range n {
				if !slices.Contains(res.Notes, s) {
					res.Notes = append(res.Notes, s)
				}
			}
		}
		if ref != nil {
			diffs := CompareReference(got[i], ref[i], rq.cr.Header, ids)
			for k := range diffs {
				diffs[k].Step = rq.label
			}
			res.Diffs = append(res.Diffs, diffs...)
		}
	}
	res.Observed = got[len(got)-1]
	res.Pass = len(res.Diffs) == 0
}

// buildRequests turns the case's steps into client requests, signing tokens at each step's clock time.
func buildRequests(g *ir.Gateway, probe *gateway.Gateway, tg *ir.Gateway, tc ir.TestCase, start time.Time, env Env, keys *KeyCache) ([]request, []string, error) {
	var out []request
	var notes []string
	note := func(s string) {
		if !slices.Contains(notes, s) {
			notes = append(notes, s)
		}
	}
	now := start
	steps := tc.Sequence()
	for si, st := range steps {
		if st.At != 0 {
			now = start.Add(st.At.D())
		}
		n := max(st.Repeat, 1)
		for k := 0; k < n; k++ {
			cr, err := clientRequest(st.Request, now)
			if err != nil {
				return nil, notes, err
			}
			if j := st.Request.JWT; j != nil {
				if err := attachToken(g, probe, tg, cr, j, env, keys, note); err != nil {
					return nil, notes, err
				}
			}
			rq := request{cr: cr}
			if len(tc.Steps) > 0 {
				rq.label = fmt.Sprintf("steps[%d]", si)
				if n > 1 {
					rq.label += fmt.Sprintf(" #%d", k+1)
				}
			}
			if !st.Expect.IsZero() {
				rq.expect = append(rq.expect, st.Expect)
			}
			if st.ExpectLast != nil && k == n-1 {
				rq.expect = append(rq.expect, *st.ExpectLast)
			}
			out = append(out, rq)
		}
	}
	return out, notes, nil
}

func attachToken(g *ir.Gateway, probe *gateway.Gateway, tg *ir.Gateway, cr *ClientRequest, j *ir.TestJWT, env Env, keys *KeyCache, note func(string)) error {
	placeholder := false
	for _, vs := range cr.Header {
		for _, v := range vs {
			placeholder = placeholder || strings.Contains(v, ir.TokenPlaceholder)
		}
	}
	if !placeholder && cr.Header.Get("Authorization") != "" {
		note("the case's own Authorization header is sent; jwt: is ignored")
		return nil
	}
	policy := policyFor(g, probe, cr)
	if policy == nil {
		note("no auth policy applies to this request; no token sent")
		return nil
	}
	tp := tg.AuthPolicy(policy.Name)
	secretOf := func(alg string) (string, error) {
		if s := tp.JWT.Secret; s != nil {
			if s.Literal != "" {
				return s.Literal, nil
			}
			if v := env.Getenv(s.Env); v != "" {
				return v, nil
			}
		}
		return "", fmt.Errorf("testrun: auth policy %q has no secret for %s", policy.Name, alg)
	}
	tok, err := SignTestToken(tp, j, cr.Now, secretOf, keys)
	if err != nil {
		return err
	}
	note(tok.Note)
	if !placeholder {
		cr.Header.Set("Authorization", "Bearer "+tok.Bearer)
		return nil
	}
	for name, vs := range cr.Header {
		for i, v := range vs {
			cr.Header[name][i] = strings.ReplaceAll(v, ir.TokenPlaceholder, tok.Bearer)
		}
	}
	return nil
}

// policyFor returns the auth policy of the route the request takes, or the only policy when the route has
// none (a case may send a token to a route without auth).
func policyFor(g *ir.Gateway, probe *gateway.Gateway, cr *ClientRequest) *ir.AuthPolicy {
	if req, err := cr.HTTPRequest(); err == nil {
		if r := probe.RouteFor(req); r != nil && r.Auth != "" {
			return g.AuthPolicy(r.Auth)
		}
	}
	if len(g.AuthPolicies) == 1 {
		return &g.AuthPolicies[0]
	}
	return nil
}

// NewClientRequest builds the request a case's request describes, at clock time now, before any token is
// signed: for engines' own tests that drive an Instance directly.
func NewClientRequest(tr ir.TestRequest, now time.Time) (*ClientRequest, error) {
	return clientRequest(tr, now)
}

// clientRequest builds the request of one step at clock time now.
func clientRequest(tr ir.TestRequest, now time.Time) (*ClientRequest, error) {
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
	if tr.Target != "" {
		target = tr.Target
	}
	if tr.Host != "" {
		host = tr.Host
	}
	h := http.Header{}
	for _, hs := range tr.Headers {
		h[hs.Name] = append(h[hs.Name], hs.Value)
	}
	return &ClientRequest{Method: method, Scheme: scheme, Target: target, Host: host, Header: h, Body: []byte(tr.Body),
		ClientIP: firstNonEmpty(tr.ClientIP, DefaultClientIP), Now: now}, nil
}

// sequence opens one instance of engine for the case, with fresh origins, and sends every request in
// order, observing each at the origins.
func sequence(ctx context.Context, engine Engine, g *ir.Gateway, env Env, tc ir.TestCase, reqs []request) ([]*Observed, error) {
	var mu sync.Mutex
	var current []received
	origins, stop, err := startOrigins(g, tc.Origins, func(r received) {
		mu.Lock()
		current = append(current, r)
		mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	defer stop()
	urls := map[string]string{}
	for name, o := range origins {
		urls[name] = o.url
	}
	inst, err := engine.Open(ctx, g, urls, env)
	if err != nil {
		return nil, err
	}
	defer inst.Close()
	var out []*Observed
	for _, rq := range reqs {
		mu.Lock()
		current = nil
		mu.Unlock()
		cr := *rq.cr
		cr.Header = rq.cr.Header.Clone()
		resp, err := inst.Do(ctx, &cr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		seen := current
		mu.Unlock()
		out = append(out, observe(resp, seen))
	}
	return out, nil
}

// Observed is what a target did with one request: what the client received, what the target reported of
// its decision (Decided: route and pool are known), and what the origins received.
type Observed struct {
	Status  int         `json:"status"`
	Header  http.Header `json:"-"`
	Body    string      `json:"-"`
	Decided bool        `json:"-"`
	Route   string      `json:"route,omitempty"`
	Pool    string      `json:"pool,omitempty"`
	Reason  string      `json:"reason,omitempty"`
	// Origin is the origin that received the request last; Tried every one that received it, in order.
	Origin         string      `json:"origin,omitempty"`
	Tried          []string    `json:"tried,omitempty"`
	UpstreamPath   string      `json:"upstream_path,omitempty"`
	UpstreamQuery  string      `json:"upstream_query,omitempty"`
	UpstreamHeader http.Header `json:"-"` // nil when no request reached an origin
}

func observe(resp *ClientResponse, seen []received) *Observed {
	o := &Observed{Status: resp.Status, Header: resp.Header, Body: string(resp.Body)}
	if o.Header == nil {
		o.Header = http.Header{}
	}
	if resp.Decision != nil {
		o.Decided = true
		o.Route, o.Pool, o.Reason = resp.Decision["route"], resp.Decision["pool"], resp.Decision["reason"]
	}
	for _, r := range seen {
		o.Tried = append(o.Tried, r.Origin)
	}
	if len(seen) > 0 {
		last := seen[len(seen)-1]
		o.Origin = last.Origin
		o.UpstreamPath, o.UpstreamQuery, _ = strings.Cut(last.URI, "?")
		o.UpstreamHeader = last.Header
	}
	return o
}

// Compare checks an expectation against what was observed; every target is judged by it alike.
func Compare(e ir.TestExpect, o *Observed) (diffs []Diff, notes []string) {
	add := func(field, want, got string) { diffs = append(diffs, Diff{Field: field, Want: want, Got: got}) }
	if e.Status != 0 && e.Status != o.Status {
		add("status", fmt.Sprint(e.Status), fmt.Sprint(o.Status))
	}
	if len(e.StatusIn) > 0 && !slices.Contains(e.StatusIn, o.Status) {
		add("status", "one of "+strings.Trim(fmt.Sprint(e.StatusIn), "[]"), fmt.Sprint(o.Status))
	}
	for _, f := range []struct{ field, want, got string }{{"route", e.Route, o.Route}, {"pool", e.Pool, o.Pool}} {
		if f.want == "" {
			continue
		}
		if !o.Decided {
			notes = append(notes, f.field+" not observable on this target; not checked")
			continue
		}
		if f.want != f.got {
			add(f.field, f.want, orNone(f.got))
		}
	}
	if e.Origin != "" && e.Origin != o.Origin {
		add("origin", e.Origin, orNone(o.Origin))
	}
	if e.NoOrigin && len(o.Tried) > 0 {
		add("origin", "(none)", strings.Join(o.Tried, ", "))
	}
	if len(e.Tried) > 0 && !slices.Equal(e.Tried, o.Tried) {
		add("tried", orNone(strings.Join(e.Tried, ", ")), orNone(strings.Join(o.Tried, ", ")))
	}
	if e.UpstreamPath != "" && e.UpstreamPath != o.UpstreamPath {
		add("upstream_path", e.UpstreamPath, orNone(o.UpstreamPath))
	}
	if e.UpstreamQuery != "" && e.UpstreamQuery != o.UpstreamQuery {
		add("upstream_query", e.UpstreamQuery, orNone(o.UpstreamQuery))
	}
	if e.Upstream != nil {
		if o.UpstreamHeader == nil {
			add("upstream_headers", "a request upstream", "none reached an origin")
		} else {
			diffs = append(diffs, compareHeaders("upstream header", *e.Upstream, o.UpstreamHeader)...)
		}
	}
	if e.Response != nil {
		diffs = append(diffs, compareHeaders("header", *e.Response, o.Header)...)
	}
	if e.Body != nil && *e.Body != o.Body {
		add("body", fmt.Sprintf("%q", *e.Body), fmt.Sprintf("%q", truncate(o.Body, 200)))
	}
	return diffs, notes
}

func compareHeaders(what string, e ir.HeaderExpect, got http.Header) []Diff {
	var diffs []Diff
	for _, name := range e.Present {
		if _, ok := got[http.CanonicalHeaderKey(name)]; !ok {
			diffs = append(diffs, Diff{Field: what + " " + name, Want: "present", Got: "absent"})
		}
	}
	for _, name := range e.Absent {
		if v, ok := got[http.CanonicalHeaderKey(name)]; ok {
			diffs = append(diffs, Diff{Field: what + " " + name, Want: "absent", Got: fmt.Sprintf("%q", strings.Join(v, ", "))})
		}
	}
	for _, h := range e.Equal {
		v, ok := got[http.CanonicalHeaderKey(h.Name)]
		if !ok {
			diffs = append(diffs, Diff{Field: what + " " + h.Name, Want: fmt.Sprintf("%q", h.Value), Got: "absent"})
		} else if j := strings.Join(v, ", "); j != h.Value {
			diffs = append(diffs, Diff{Field: what + " " + h.Name, Want: fmt.Sprintf("%q", h.Value), Got: fmt.Sprintf("%q", j)})
		}
	}
	for _, h := range e.NotEqual {
		v, ok := got[http.CanonicalHeaderKey(h.Name)]
		if !ok {
			diffs = append(diffs, Diff{Field: what + " " + h.Name, Want: fmt.Sprintf("a value other than %q", h.Value), Got: "absent"})
		} else if j := strings.Join(v, ", "); j == h.Value {
			diffs = append(diffs, Diff{Field: what + " " + h.Name, Want: fmt.Sprintf("a value other than %q", h.Value), Got: fmt.Sprintf("%q", j)})
		}
	}
	sort.SliceStable(diffs, func(i, j int) bool { return diffs[i].Field < diffs[j].Field })
	return diffs
}

// transportHeaders are upstream headers a runtime's HTTP client adds or owns on its own (connection
// management, compression, its own forwarding and tracing headers); they are not the manifest's decision.
var transportHeaders = []string{"Accept-Encoding", "Connection", "Content-Length", "Keep-Alive", "Te", "Trailer",
	"Transfer-Encoding", "Upgrade", "User-Agent", "Via", "Cdn-Loop", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded"}

// vendorHeaderPrefixes are upstream header prefixes a vendor runtime adds on its own.
var vendorHeaderPrefixes = []string{"Cf-", "Fastly-", "X-Amz-", "X-Azure-", "X-Fd-", "X-Cloud-Trace", "X-Varnish"}

// governedResponseHeaders are the response headers the manifest decides on every target.
var governedResponseHeaders = []string{"Strict-Transport-Security", "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age", "Access-Control-Expose-Headers",
	"Vary", "Retry-After", "Location"}

// syntheticResponseHeaders are decided too when the edge answered itself (no origin got the request).
var syntheticResponseHeaders = []string{"Cache-Control", "Content-Type"}

var requestIDForm = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$`)

func requestIDHeaders(g *ir.Gateway) []string {
	var ids []string
	if h := g.Transform.RequestIDHeader; h != "" {
		ids = append(ids, h)
	}
	for _, r := range g.Routes {
		if r.Transform != nil && r.Transform.RequestIDHeader != "" && !slices.Contains(ids, r.Transform.RequestIDHeader) {
			ids = append(ids, r.Transform.RequestIDHeader)
		}
	}
	return ids
}

// CompareReference lists where a target decided otherwise than the reference for the same request: status,
// the origins that got it, the upstream path, query and headers (a request id: present and well-formed on
// both), the response headers the manifest governs and, for an answer of the edge itself, its body.
// Want holds the reference's value.
func CompareReference(got, ref *Observed, sentHeader http.Header, requestIDs []string) []Diff {
	var diffs []Diff
	add := func(field, refv, gotv string) {
		diffs = append(diffs, Diff{Field: field, Want: refv, Got: gotv, Reference: true})
	}
	if got.Status != ref.Status {
		add("status", fmt.Sprint(ref.Status), fmt.Sprint(got.Status))
	}
	// The route and pool are compared where both runtimes report them (test mode); the origins reached
	// are compared always, observed at the origins.
	if got.Decided && ref.Decided {
		if got.Route != ref.Route {
			add("route", orNone(ref.Route), orNone(got.Route))
		}
		if got.Pool != ref.Pool {
			add("pool", orNone(ref.Pool), orNone(got.Pool))
		}
	}
	names := func(o *Observed) string {
		if len(o.Tried) == 0 {
			return "no origin"
		}
		return strings.Join(o.Tried, ", ")
	}
	if !slices.Equal(got.Tried, ref.Tried) {
		add("origins", names(ref), names(got))
	}
	if got.UpstreamHeader != nil && ref.UpstreamHeader != nil && got.Origin == ref.Origin {
		if got.UpstreamPath != ref.UpstreamPath {
			add("upstream_path", ref.UpstreamPath, got.UpstreamPath)
		}
		if got.UpstreamQuery != ref.UpstreamQuery {
			add("upstream_query", fmt.Sprintf("%q", ref.UpstreamQuery), fmt.Sprintf("%q", got.UpstreamQuery))
		}
		for _, name := range headerNames(got.UpstreamHeader, ref.UpstreamHeader) {
			if slices.Contains(transportHeaders, name) || hasVendorPrefix(name) {
				continue
			}
			gv, gok := got.UpstreamHeader[name]
			rv, rok := ref.UpstreamHeader[name]
			if slices.Contains(requestIDs, name) {
				// A fresh id differs per request: present and well-formed on both, and a client-sent id
				// kept or replaced as the reference did.
				sentv, sent := sentHeader[name]
				keptRef := sent && rok && slices.Equal(rv, sentv)
				keptGot := sent && gok && slices.Equal(gv, sentv)
				if gok != rok || keptRef != keptGot || (gok && !keptGot && !requestIDForm.MatchString(strings.Join(gv, ","))) {
					add("upstream header "+name, requestIDText(rv, rok, keptRef), requestIDText(gv, gok, keptGot))
				}
				continue
			}
			if gok != rok || !slices.Equal(gv, rv) {
				add("upstream header "+name, headerText(rv, rok), headerText(gv, gok))
			}
		}
	}
	check := governedResponseHeaders
	synthetic := len(ref.Tried) == 0
	if synthetic {
		check = append(slices.Clone(check), syntheticResponseHeaders...)
	}
	for _, name := range check {
		gv, gok := got.Header[name]
		rv, rok := ref.Header[name]
		if name == "Vary" {
			gv, rv = varyTokens(gv), varyTokens(rv)
		}
		if gok != rok || !slices.Equal(gv, rv) {
			add("header "+name, headerText(rv, rok), headerText(gv, gok))
		}
	}
	if synthetic && got.Body != ref.Body {
		add("body", fmt.Sprintf("%q", truncate(ref.Body, 200)), fmt.Sprintf("%q", truncate(got.Body, 200)))
	}
	return diffs
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func requestIDText(v []string, ok, kept bool) string {
	switch {
	case !ok:
		return "absent"
	case kept:
		return "the client's " + headerText(v, true)
	}
	return "a fresh id " + headerText(v, true)
}

func hasVendorPrefix(name string) bool {
	for _, p := range vendorHeaderPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// varyTokens compares Vary as a set of names, as caches read it.
func varyTokens(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, t := range strings.Split(v, ",") {
			if t = http.CanonicalHeaderKey(strings.TrimSpace(t)); t != "" && !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	slices.Sort(out)
	return out
}

func headerNames(a, b http.Header) []string {
	var out []string
	for _, h := range []http.Header{a, b} {
		for k := range h {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

func headerText(v []string, ok bool) string {
	if !ok {
		return "absent"
	}
	b, _ := json.Marshal(strings.Join(v, ", "))
	return string(b)
}

func posString(p ir.Pos) string {
	if p.File == "" && p.Line == 0 {
		return ""
	}
	return p.String()
}
