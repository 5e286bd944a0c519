// Package evaluate is the `gcp` test engine: an evaluator of the global external Application Load
// Balancer's URL-map semantics over the JSON render/gcp writes (host rules, routeRules by priority, match
// rules with fullPathMatch, prefixMatch, pathTemplateMatch and headerMatches, urlRedirect, urlRewrite, header
// actions at route, path-matcher and map level, corsPolicy, outlierDetection and Cloud Armor throttle
// rules). It proxies to the loopback origins it is opened with, as the load balancer would to its internet
// NEGs, and it runs the map's own tests[] as GCP's validate does.
//
// It models what the load balancer does, not what the IR says: where the two differ the capability table in
// providers/gcp says Cannot, and the conformance suite skips those cases.
package evaluate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	compute "google.golang.org/api/compute/v1"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest/ir"
	gcprender "github.com/edgegw/edgegw/render/gcp"
)

// Target is the engine's target name.
const Target = "gcp"

func init() { testrun.RegisterEngine(Target, Engine{}) }

// Engine opens evaluators of the rendered map.
type Engine struct{}

var _ testrun.Engine = Engine{}

// Open renders g in test mode and loads the map.
func (Engine) Open(_ context.Context, g *ir.Gateway, origins map[string]string, _ testrun.Env) (testrun.Instance, error) {
	arts, err := gcprender.Render(g, gcprender.Options{Test: true})
	if err != nil {
		return nil, fmt.Errorf("gcp: render: %w", err)
	}
	b, err := gcprender.Parse(arts)
	if err != nil {
		return nil, err
	}
	return New(b, origins), nil
}

// Evaluator is one loaded URL map with its state (outlier ejections, throttle counters).
type Evaluator struct {
	b       *gcprender.Bundle
	origins map[string]string // origin name → base URL
	client  *http.Client

	mu        sync.Mutex
	now       time.Time
	outliers  map[string]*outlier  // endpoint group name → state
	throttles map[string]*throttle // policy name + key → window
}

type outlier struct {
	consecutive  int
	ejections    int
	ejectedUntil time.Time
}

type throttle struct {
	start time.Time
	count int64
}

// New builds an evaluator of b whose NEGs reach the origins at these URLs.
func New(b *gcprender.Bundle, origins map[string]string) *Evaluator {
	tr := &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 64}
	return &Evaluator{b: b, origins: origins, outliers: map[string]*outlier{}, throttles: map[string]*throttle{},
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Close implements testrun.Instance.
func (e *Evaluator) Close() error {
	e.client.CloseIdleConnections()
	return nil
}

// Selection is what the map chose for one request.
type Selection struct {
	PathMatcher *compute.PathMatcher
	Rule        *compute.HttpRouteRule // nil: a default service
	Match       *compute.HttpRouteRuleMatch
	Service     string
	Action      *compute.HttpRouteAction
	Redirect    *compute.HttpRedirectAction
}

// Select runs host rules and route rules on a host, path and headers (method as :method).
func (e *Evaluator) Select(method, host, path string, h http.Header) Selection {
	um := e.b.URLMap
	pm := e.pathMatcher(host)
	if pm == nil {
		return Selection{Service: um.DefaultService, Action: um.DefaultRouteAction, Redirect: um.DefaultUrlRedirect}
	}
	rules := slices.Clone(pm.RouteRules)
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].Priority < rules[j].Priority })
	for _, rr := range rules {
		for _, mr := range rr.MatchRules {
			if matchRule(mr, method, host, path, h) {
				return Selection{PathMatcher: pm, Rule: rr, Match: mr, Service: rr.Service, Action: rr.RouteAction, Redirect: rr.UrlRedirect}
			}
		}
	}
	return Selection{PathMatcher: pm, Service: pm.DefaultService, Action: pm.DefaultRouteAction, Redirect: pm.DefaultUrlRedirect}
}

// pathMatcher picks the host rule: an exact host first, then the `*` pattern with the longest suffix
// (`*` matches any string of [a-z0-9-.], so `*.a.com` covers x.y.a.com too).
func (e *Evaluator) pathMatcher(host string) *compute.PathMatcher {
	host = strings.ToLower(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	best, bestLen := "", -1
	for _, hr := range e.b.URLMap.HostRules {
		for _, p := range hr.Hosts {
			p = strings.ToLower(p)
			switch {
			case p == host:
				return e.matcherNamed(hr.PathMatcher)
			case strings.HasPrefix(p, "*"):
				suffix := p[1:]
				if strings.HasSuffix(host, suffix) && len(host) > len(suffix) && strings.Trim(host[:len(host)-len(suffix)], "abcdefghijklmnopqrstuvwxyz0123456789-.") == "" && len(suffix) > bestLen {
					best, bestLen = hr.PathMatcher, len(suffix)
				}
			}
		}
	}
	if bestLen < 0 {
		return nil
	}
	return e.matcherNamed(best)
}

func (e *Evaluator) matcherNamed(name string) *compute.PathMatcher {
	for _, pm := range e.b.URLMap.PathMatchers {
		if pm.Name == name {
			return pm
		}
	}
	return nil
}

func matchRule(mr *compute.HttpRouteRuleMatch, method, host, path string, h http.Header) bool {
	p := path
	if mr.IgnoreCase {
		p = strings.ToLower(p)
	}
	switch {
	case mr.FullPathMatch != "":
		if p != mr.FullPathMatch {
			return false
		}
	case mr.PrefixMatch != "":
		if !strings.HasPrefix(p, mr.PrefixMatch) {
			return false
		}
	case mr.PathTemplateMatch != "":
		if _, ok := MatchTemplate(mr.PathTemplateMatch, p); !ok {
			return false
		}
	case mr.RegexMatch != "":
		// Only test mode writes one, on a route kept in place that the load balancer cannot carry out.
		re, err := regexp.Compile(mr.RegexMatch)
		if err != nil || !re.MatchString(p) {
			return false
		}
	}
	for _, hm := range mr.HeaderMatches {
		var v string
		var present bool
		switch strings.ToLower(hm.HeaderName) {
		case ":method":
			v, present = method, true
		case ":authority", "host":
			v, present = host, true
		default:
			vals := h.Values(hm.HeaderName)
			v, present = strings.Join(vals, ","), len(vals) > 0
		}
		ok := present
		switch {
		case hm.ExactMatch != "":
			ok = present && v == hm.ExactMatch
		case hm.PrefixMatch != "":
			ok = present && strings.HasPrefix(v, hm.PrefixMatch)
		case hm.SuffixMatch != "":
			ok = present && strings.HasSuffix(v, hm.SuffixMatch)
		}
		if hm.InvertMatch {
			ok = !ok
		}
		if !ok {
			return false
		}
	}
	return true
}

// MatchTemplate matches a path against a pathTemplateMatch: literal segments equal, {v=*} or * one
// non-empty segment, {v=**} or ** the rest (at the end only). It returns the variables.
func MatchTemplate(tmpl, path string) (map[string]string, bool) {
	ts := strings.Split(strings.TrimPrefix(tmpl, "/"), "/")
	ps := strings.Split(strings.TrimPrefix(path, "/"), "/")
	vars := map[string]string{}
	for i, t := range ts {
		name, op := "", t
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			name, op, _ = strings.Cut(t[1:len(t)-1], "=")
			if op == "" {
				op = "*"
			}
		}
		switch op {
		case "**":
			if i != len(ts)-1 || i >= len(ps) {
				return nil, false
			}
			if name != "" {
				vars[name] = strings.Join(ps[i:], "/")
			}
			return vars, true
		case "*":
			if i >= len(ps) || ps[i] == "" {
				return nil, false
			}
			if name != "" {
				vars[name] = ps[i]
			}
		default:
			if i >= len(ps) || ps[i] != op {
				return nil, false
			}
		}
	}
	return vars, len(ps) == len(ts)
}

// rewritePath applies a route's urlRewrite to the path.
func rewritePath(sel Selection, path string) string {
	if sel.Action == nil || sel.Action.UrlRewrite == nil {
		return path
	}
	rw := sel.Action.UrlRewrite
	switch {
	case rw.PathTemplateRewrite != "" && sel.Match != nil && sel.Match.PathTemplateMatch != "":
		vars, _ := MatchTemplate(sel.Match.PathTemplateMatch, path)
		out := rw.PathTemplateRewrite
		for k, v := range vars {
			out = strings.ReplaceAll(out, "{"+k+"}", v)
		}
		return out
	case rw.PathPrefixRewrite != "":
		matched := ""
		switch {
		case sel.Match == nil:
			matched = "" // a default route: the whole path follows the rewrite
		case sel.Match.FullPathMatch != "":
			matched = path
		case sel.Match.PrefixMatch != "":
			matched = sel.Match.PrefixMatch
		}
		if sel.Match == nil {
			return strings.TrimSuffix(rw.PathPrefixRewrite, "/") + path
		}
		return rw.PathPrefixRewrite + strings.TrimPrefix(path, matched)
	}
	return path
}

// headerActions lists the header actions that apply, in the order the load balancer applies them: the
// route's, the path matcher's, the map's.
func (e *Evaluator) headerActions(sel Selection) []*compute.HttpHeaderAction {
	var out []*compute.HttpHeaderAction
	if sel.Rule != nil && sel.Rule.HeaderAction != nil {
		out = append(out, sel.Rule.HeaderAction)
	}
	if sel.PathMatcher != nil && sel.PathMatcher.HeaderAction != nil {
		out = append(out, sel.PathMatcher.HeaderAction)
	}
	if e.b.URLMap.HeaderAction != nil {
		out = append(out, e.b.URLMap.HeaderAction)
	}
	return out
}

func applyHeaders(h http.Header, remove []string, add []*compute.HttpHeaderOption) {
	for _, n := range remove {
		h.Del(n)
	}
	for _, o := range add {
		if replace(o) {
			h.Set(o.HeaderName, o.HeaderValue)
		} else {
			h.Add(o.HeaderName, o.HeaderValue)
		}
	}
}

// replace reads HttpHeaderOption.replace: true unless sent as false (the API's default is true).
func replace(o *compute.HttpHeaderOption) bool {
	return o.Replace || !slices.Contains(o.ForceSendFields, "Replace")
}

// Do implements testrun.Instance.
func (e *Evaluator) Do(ctx context.Context, cr *testrun.ClientRequest) (*testrun.ClientResponse, error) {
	e.mu.Lock()
	e.now = cr.Now
	if e.now.IsZero() {
		e.now = time.Now()
	}
	e.mu.Unlock()
	path, query, _ := strings.Cut(cr.Target, "?")
	hasQuery := strings.Contains(cr.Target, "?")
	host := cr.Host
	sel := e.Select(cr.Method, host, path, cr.Header)
	resp := &testrun.ClientResponse{Header: http.Header{}}
	scheme := cr.Scheme
	if scheme == "" {
		scheme = "https"
	}
	if rd := sel.Redirect; rd != nil {
		s := scheme
		if rd.HttpsRedirect {
			s = "https"
		}
		h := strings.ToLower(host)
		if rd.HostRedirect != "" {
			h = rd.HostRedirect
		}
		p := path
		if rd.PathRedirect != "" {
			p = rd.PathRedirect
		}
		loc := s + "://" + h + p
		if !rd.StripQuery && hasQuery {
			loc += "?" + query
		}
		resp.Status = gcprender.RedirectStatus(rd.RedirectResponseCode)
		resp.Header.Set("Location", loc)
		e.responseHeaders(sel, resp.Header)
		return resp, nil
	}
	if strings.HasPrefix(sel.Service, gcprender.UnrenderablePrefix) {
		return nil, fmt.Errorf("gcp: the request reached a route the load balancer cannot carry out (%s)", strings.TrimPrefix(sel.Service, gcprender.UnrenderablePrefix))
	}
	if page := e.errorPage(sel.Service); page != nil {
		resp.Status = http.StatusNotFound
		resp.Header.Set("Content-Type", page.ContentType)
		resp.Header.Set("Cache-Control", page.CacheControl)
		resp.Body = []byte(page.Body)
		e.responseHeaders(sel, resp.Header)
		return resp, nil
	}
	bs := e.backendService(sel.Service)
	if bs == nil {
		return nil, fmt.Errorf("gcp: service %q is not one of the rendered backend services or buckets", sel.Service)
	}
	origin := ""
	var cors *compute.CorsPolicy
	if sel.Action != nil {
		cors = sel.Action.CorsPolicy
	}
	if cors != nil && cr.Method == http.MethodOptions && cr.Header.Get("Origin") != "" && cr.Header.Get("Access-Control-Request-Method") != "" {
		if o := cr.Header.Get("Origin"); slices.Contains(cors.AllowOrigins, o) || slices.Contains(cors.AllowOrigins, "*") {
			resp.Status = http.StatusOK
			corsHeaders(cors, o, resp.Header)
			resp.Header.Set("Access-Control-Allow-Methods", strings.Join(cors.AllowMethods, ","))
			if len(cors.AllowHeaders) > 0 {
				resp.Header.Set("Access-Control-Allow-Headers", strings.Join(cors.AllowHeaders, ","))
			}
			if cors.MaxAge > 0 {
				resp.Header.Set("Access-Control-Max-Age", strconv.FormatInt(cors.MaxAge, 10))
			}
			e.responseHeaders(sel, resp.Header)
			return resp, nil
		}
	}
	if denied := e.throttled(bs, cr); denied {
		resp.Status = http.StatusTooManyRequests
		resp.Header.Set("Content-Type", "text/html; charset=UTF-8")
		resp.Body = []byte("Too Many Requests\n") // Cloud Armor's own denial, not the IR's body
		return resp, nil
	}
	neg := e.pickEndpoint(bs)
	if neg != nil {
		origin = neg.Group.Annotations["edgegw-origin"]
	}
	base, ok := e.origins[origin]
	if !ok {
		return nil, fmt.Errorf("gcp: backend service %s reaches origin %q, which the engine was not opened with", bs.Name, origin)
	}
	upPath := rewritePath(sel, path)
	target := strings.TrimSuffix(base, "/") + upPath
	if hasQuery {
		target += "?" + query
	}
	timeout := time.Duration(bs.TimeoutSec) * time.Second
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, cr.Method, target, strings.NewReader(string(cr.Body)))
	if err != nil {
		return nil, fmt.Errorf("gcp: upstream request %s: %w", target, err)
	}
	req.Header = cr.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	for _, ha := range e.headerActions(sel) {
		applyHeaders(req.Header, ha.RequestHeadersToRemove, ha.RequestHeadersToAdd)
	}
	ip := cr.ClientIP
	if ip == "" {
		ip = testrun.DefaultClientIP
	}
	req.Header.Add("X-Forwarded-For", ip)
	req.Header.Set("X-Forwarded-Proto", scheme)
	req.Header.Add("Via", "1.1 google")
	req.Host = cr.Host
	up, err := e.client.Do(req)
	if err != nil {
		e.record(neg, bs, 502)
		// The load balancer's own answer: Google's body and no header action (hsts.errors is Cannot).
		resp.Header.Set("Content-Type", "text/html; charset=UTF-8")
		resp.Status = http.StatusBadGateway
		if errors.Is(err, context.DeadlineExceeded) || rctx.Err() != nil {
			resp.Status = http.StatusGatewayTimeout
			resp.Body = []byte("upstream request timeout")
		} else {
			resp.Body = []byte("upstream connect error or disconnect/reset before headers")
		}
		return resp, nil
	}
	defer up.Body.Close()
	body, err := io.ReadAll(up.Body)
	if err != nil {
		return nil, fmt.Errorf("gcp: upstream response: %w", err)
	}
	e.record(neg, bs, up.StatusCode)
	resp.Status, resp.Header, resp.Body = up.StatusCode, up.Header.Clone(), body
	resp.Header.Del("Content-Length")
	resp.Header.Add("Via", "1.1 google")
	if cors != nil {
		if o := cr.Header.Get("Origin"); o != "" && (slices.Contains(cors.AllowOrigins, o) || slices.Contains(cors.AllowOrigins, "*")) {
			corsHeaders(cors, o, resp.Header)
		}
	}
	e.responseHeaders(sel, resp.Header)
	return resp, nil
}

func corsHeaders(c *compute.CorsPolicy, origin string, h http.Header) {
	h.Set("Access-Control-Allow-Origin", origin)
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(c.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
	}
}

func (e *Evaluator) responseHeaders(sel Selection, h http.Header) {
	for _, ha := range e.headerActions(sel) {
		applyHeaders(h, ha.ResponseHeadersToRemove, ha.ResponseHeadersToAdd)
	}
}

func lastSegment(u string) string { return u[strings.LastIndex(u, "/")+1:] }

func (e *Evaluator) errorPage(service string) *gcprender.ErrorPage {
	if !strings.Contains(service, "/backendBuckets/") {
		return nil
	}
	name := lastSegment(service)
	for i := range e.b.ErrorPages {
		if e.b.ErrorPages[i].Bucket == name {
			return &e.b.ErrorPages[i]
		}
	}
	return nil
}

func (e *Evaluator) backendService(service string) *compute.BackendService {
	name := lastSegment(service)
	for _, bs := range e.b.BackendServices {
		if bs.Name == name {
			return bs
		}
	}
	return nil
}

// pickEndpoint sends to the PREFERRED backend (or the first) unless outlier detection ejected it; when every
// backend is ejected the load balancer uses them all anyway (panic routing), here the first.
func (e *Evaluator) pickEndpoint(bs *compute.BackendService) *gcprender.EndpointGroup {
	e.mu.Lock()
	defer e.mu.Unlock()
	var first *gcprender.EndpointGroup
	order := slices.Clone(bs.Backends)
	sort.SliceStable(order, func(i, j int) bool { return order[i].Preference == "PREFERRED" && order[j].Preference != "PREFERRED" })
	for _, be := range order {
		neg := e.endpointGroup(lastSegment(be.Group))
		if neg == nil {
			continue
		}
		if first == nil {
			first = neg
		}
		if o := e.outliers[neg.Group.Name]; o == nil || !e.now.Before(o.ejectedUntil) {
			return neg
		}
	}
	return first
}

func (e *Evaluator) endpointGroup(name string) *gcprender.EndpointGroup {
	for i := range e.b.EndpointGroups {
		if e.b.EndpointGroups[i].Group.Name == name {
			return &e.b.EndpointGroups[i]
		}
	}
	return nil
}

// record feeds outlier detection: consecutiveGatewayFailure counts 502, 503 and 504 (and connection
// failures, answered 502); any other status resets the count. An ejection lasts baseEjectionTime times the
// number of times the endpoint was ejected.
func (e *Evaluator) record(neg *gcprender.EndpointGroup, bs *compute.BackendService, status int) {
	od := bs.OutlierDetection
	if neg == nil || od == nil || od.ConsecutiveGatewayFailure == 0 || od.EnforcingConsecutiveGatewayFailure == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.outliers[neg.Group.Name]
	if o == nil {
		o = &outlier{}
		e.outliers[neg.Group.Name] = o
	}
	if status != 502 && status != 503 && status != 504 {
		o.consecutive = 0
		return
	}
	o.consecutive++
	if int64(o.consecutive) >= od.ConsecutiveGatewayFailure && od.EnforcingConsecutiveGatewayFailure >= 100 {
		o.ejections++
		base := time.Duration(30) * time.Second
		if od.BaseEjectionTime != nil {
			base = time.Duration(od.BaseEjectionTime.Seconds) * time.Second
		}
		o.ejectedUntil = e.now.Add(base * time.Duration(o.ejections))
		o.consecutive = 0
	}
}

// throttled applies the backend service's Cloud Armor throttle rule: a count per key over intervalSec,
// counted from the key's first request of the interval; a header key without the header is one ALL key.
func (e *Evaluator) throttled(bs *compute.BackendService, cr *testrun.ClientRequest) bool {
	if bs.SecurityPolicy == "" {
		return false
	}
	var sp *compute.SecurityPolicy
	for _, p := range e.b.SecurityPolicies {
		if p.Name == lastSegment(bs.SecurityPolicy) {
			sp = p
		}
	}
	if sp == nil {
		return false
	}
	for _, rule := range sp.Rules {
		ro := rule.RateLimitOptions
		if rule.Action != "throttle" || ro == nil || ro.RateLimitThreshold == nil {
			continue
		}
		key := "ALL"
		switch ro.EnforceOnKey {
		case "IP":
			key = "IP:" + cr.ClientIP
		case "HTTP_HEADER":
			if v := cr.Header.Get(ro.EnforceOnKeyName); v != "" {
				key = "H:" + v
			}
		}
		e.mu.Lock()
		t := e.throttles[sp.Name+"|"+key]
		interval := time.Duration(ro.RateLimitThreshold.IntervalSec) * time.Second
		if t == nil || !e.now.Before(t.start.Add(interval)) {
			t = &throttle{start: e.now}
			e.throttles[sp.Name+"|"+key] = t
		}
		t.count++
		over := t.count > ro.RateLimitThreshold.Count
		e.mu.Unlock()
		return over
	}
	return false
}

// TestFailure is one of the map's tests[] the map does not pass.
type TestFailure struct {
	Test *compute.UrlMapTest
	Why  string
}

// RunMapTests runs the map's own tests[] as GCP's validate does: each names a host, a path and headers and
// expects a service, or a redirect code and URL, and the forwarded URL when a rewrite applies.
func (e *Evaluator) RunMapTests() []TestFailure {
	var out []TestFailure
	for _, t := range e.b.URLMap.Tests {
		h := http.Header{}
		for _, th := range t.Headers {
			h.Add(th.Name, th.Value)
		}
		sel := e.Select(http.MethodGet, t.Host, t.Path, h)
		fail := func(format string, a ...any) { out = append(out, TestFailure{Test: t, Why: fmt.Sprintf(format, a...)}) }
		if t.ExpectedRedirectResponseCode != 0 {
			if sel.Redirect == nil {
				fail("expected a redirect %d, the map sends to %s", t.ExpectedRedirectResponseCode, sel.Service)
				continue
			}
			if st := gcprender.RedirectStatus(sel.Redirect.RedirectResponseCode); int64(st) != t.ExpectedRedirectResponseCode {
				fail("redirect code %d, expected %d", st, t.ExpectedRedirectResponseCode)
			}
			s := "http"
			if sel.Redirect.HttpsRedirect {
				s = "https"
			}
			p := sel.Redirect.PathRedirect
			if p == "" {
				p = t.Path
			}
			if got := s + "://" + sel.Redirect.HostRedirect + p; t.ExpectedOutputUrl != "" && got != t.ExpectedOutputUrl {
				fail("redirect to %s, expected %s", got, t.ExpectedOutputUrl)
			}
			continue
		}
		if sel.Redirect != nil || lastSegment(sel.Service) != lastSegment(t.Service) {
			fail("service %s, expected %s", sel.Service, t.Service)
			continue
		}
		if t.ExpectedOutputUrl != "" {
			u, err := url.Parse(t.ExpectedOutputUrl)
			if err != nil {
				fail("expectedOutputUrl %q: %v", t.ExpectedOutputUrl, err)
				continue
			}
			if got := rewritePath(sel, t.Path); got != u.EscapedPath() {
				fail("forwarded path %s, expected %s", got, u.EscapedPath())
			}
		}
	}
	return out
}
