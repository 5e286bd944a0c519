// Package gcp renders the IR for the global external Application Load Balancer (EXTERNAL_MANAGED): a URL map
// with host rules, path matchers of routeRules and the map's own tests[], the backend services, internet
// NEGs and health checks behind it, the two Cloud Storage backend buckets that answer HOST_UNKNOWN and
// NO_ROUTE, and a Cloud Armor policy per rate-limited route. Every resource is a google.golang.org/api
// compute/v1 type, marshalled as the API takes it.
//
// It is pure: the same IR gives the same bytes. Routes are emitted in IR order, priority 1 + 10·index, and
// never re-sorted. It does not decide what the target can enforce (providers/gcp's capability table does);
// it refuses, at the route, only what it cannot write at all.
package gcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	compute "google.golang.org/api/compute/v1"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
)

// Name is the renderer's name, the target's.
const Name = "gcp"

// Artifact paths.
const (
	URLMapPath           = "url-map.json"
	BackendServicesPath  = "backend-services.json"
	BackendBucketsPath   = "backend-buckets.json"
	EndpointGroupsPath   = "network-endpoint-groups.json"
	HealthChecksPath     = "health-checks.json"
	SecurityPoliciesPath = "security-policies.json"
	ErrorPagesPath       = "error-pages.json"
)

// DefaultProject is the project resource references name when targets.gcp has no project; the deploy
// replaces it with the project it deploys to (GOOGLE_CLOUD_PROJECT).
const DefaultProject = "edgegw-project"

// MaxURLMapBytes is GCP's limit on one URL map (1 MB).
const MaxURLMapBytes = 1 << 20

// MaxTests is the most tests[] one URL map holds.
const MaxTests = 100

// ComputeBase is the prefix of full resource URLs (a backend's group must be one).
const ComputeBase = "https://www.googleapis.com/compute/v1/"

// UnrenderablePrefix starts the service of a route that test mode keeps in place although the load balancer
// cannot carry it out (a synthetic response, a regex): an evaluator answers such a route with an error.
const UnrenderablePrefix = "edgegw-unrenderable:"

// missingObjectPrefix is what the error buckets' routes rewrite every path under: no object lives there, so
// the bucket answers with its notFoundPage, the edge's body, and status 404.
const missingObjectPrefix = "/-/"

func init() { render.Register(Renderer{}) }

// Renderer renders the gcp target.
type Renderer struct{}

var _ render.Renderer = Renderer{}

// Name implements render.Renderer.
func (Renderer) Name() string { return Name }

// Render implements render.Renderer.
func (Renderer) Render(g *ir.Gateway) ([]render.Artifact, error) { return Render(g, Options{}) }

// Options change what Render does with what the load balancer cannot carry out.
type Options struct {
	// Test keeps such a route in place, with a service naming it under UnrenderablePrefix, so a test
	// engine can run the other routes of the manifest in their precedence. Never deployed.
	Test bool
}

// Settings are the parts of targets.gcp the renderer reads. The manifest's block lives in providers/gcp;
// the renderer gets it through SettingsOf.
type Settings struct {
	Project    string
	URLMap     string
	Companions []string
}

// SettingsOf returns the target's settings; providers/gcp sets it. Defaults keep a manifest without a
// targets.gcp block renderable (the conformance corpus).
var SettingsOf = func(g *ir.Gateway) Settings { return Settings{} }

// ErrorPage is one object of an error bucket: the body the bucket answers for every path, with status 404.
type ErrorPage struct {
	Bucket       string `json:"bucket"`
	Object       string `json:"object"`
	ContentType  string `json:"contentType"`
	CacheControl string `json:"cacheControl"`
	Body         string `json:"body"`
}

// EndpointGroup is an internet NEG with its one endpoint (the origin).
type EndpointGroup struct {
	Group     *compute.NetworkEndpointGroup `json:"group"`
	Endpoints []*compute.NetworkEndpoint    `json:"endpoints"`
}

// Bundle is everything Render writes, parsed back; an evaluator and the deploy read it.
type Bundle struct {
	URLMap           *compute.UrlMap
	BackendServices  []*compute.BackendService
	BackendBuckets   []*compute.BackendBucket
	EndpointGroups   []EndpointGroup
	HealthChecks     []*compute.HealthCheck
	SecurityPolicies []*compute.SecurityPolicy
	ErrorPages       []ErrorPage
}

// Parse reads the artifacts Render wrote.
func Parse(arts []render.Artifact) (*Bundle, error) {
	b := &Bundle{}
	for _, a := range arts {
		var dst any
		switch a.Path {
		case URLMapPath:
			b.URLMap = &compute.UrlMap{}
			dst = b.URLMap
		case BackendServicesPath:
			dst = &b.BackendServices
		case BackendBucketsPath:
			dst = &b.BackendBuckets
		case EndpointGroupsPath:
			dst = &b.EndpointGroups
		case HealthChecksPath:
			dst = &b.HealthChecks
		case SecurityPoliciesPath:
			dst = &b.SecurityPolicies
		case ErrorPagesPath:
			dst = &b.ErrorPages
		default:
			continue
		}
		if err := json.Unmarshal(a.Data, dst); err != nil {
			return nil, fmt.Errorf("render/gcp: %s: %w", a.Path, err)
		}
	}
	if b.URLMap == nil {
		return nil, errors.New("render/gcp: no " + URLMapPath + " among the artifacts")
	}
	return b, nil
}

type renderer struct {
	g        *ir.Gateway
	o        Options
	s        Settings
	b        Bundle
	services map[string]string // backend service name → partial URL, for dedupe
}

// Render renders g.
func Render(g *ir.Gateway, o Options) ([]render.Artifact, error) {
	r := &renderer{g: g, o: o, s: SettingsOf(g), services: map[string]string{}}
	if r.s.URLMap == "" {
		r.s.URLMap = resourceName(g.Name, "")
	}
	if r.s.Project == "" {
		r.s.Project = DefaultProject
	}
	if err := r.render(); err != nil {
		return nil, err
	}
	return r.artifacts()
}

func (r *renderer) global(kind, name string) string {
	return "projects/" + r.s.Project + "/global/" + kind + "/" + name
}

func (r *renderer) render() error {
	g := r.g
	hostUnknown := r.errorBucket(ir.CodeHostUnknown)
	noRoute := r.errorBucket(ir.CodeNoRoute)
	for _, o := range g.Origins {
		if err := r.endpointGroup(o); err != nil {
			return err
		}
	}
	um := &compute.UrlMap{
		Name:           r.s.URLMap,
		Description:    "edgegw gateway " + g.Name,
		DefaultService: hostUnknown,
		DefaultRouteAction: &compute.HttpRouteAction{
			UrlRewrite: &compute.UrlRewrite{PathPrefixRewrite: missingObjectPrefix},
		},
		HeaderAction: r.mapHeaderAction(),
	}
	r.b.URLMap = um

	// Each domain's path matcher holds the routes that apply to it; domains with the same routes share one.
	type matcher struct {
		name   string
		hosts  []string
		routes []int
	}
	var matchers []*matcher
	domains := g.Domains
	if len(domains) == 0 {
		domains = []ir.Domain{{Host: "*"}}
		um.DefaultService, um.DefaultRouteAction = "", nil
	}
	for _, d := range domains {
		var idx []int
		for i, rt := range g.Routes {
			if len(rt.Match.Hosts) == 0 || slices.Contains(rt.Match.Hosts, d.Host) {
				idx = append(idx, i)
			}
		}
		found := false
		for _, m := range matchers {
			if slices.Equal(m.routes, idx) {
				m.hosts, found = append(m.hosts, d.Host), true
				break
			}
		}
		if !found {
			matchers = append(matchers, &matcher{name: fmt.Sprintf("routes-%d", len(matchers)+1), hosts: []string{d.Host}, routes: idx})
		}
	}
	rules := map[int][]*compute.HttpRouteRule{}
	for i := range g.Routes {
		rs, err := r.routeRules(i)
		if err != nil {
			return &render.RouteError{Route: g.Routes[i].Name, Err: err}
		}
		rules[i] = rs
	}
	for _, m := range matchers {
		pm := &compute.PathMatcher{Name: m.name, DefaultService: noRoute}
		for _, i := range m.routes {
			pm.RouteRules = append(pm.RouteRules, rules[i]...)
		}
		pm.RouteRules = append(pm.RouteRules, &compute.HttpRouteRule{
			Description:  "NO_ROUTE: no route matches",
			Priority:     int64(1 + 10*len(g.Routes)),
			MatchRules:   []*compute.HttpRouteRuleMatch{{PrefixMatch: "/"}},
			Service:      noRoute,
			RouteAction:  &compute.HttpRouteAction{UrlRewrite: &compute.UrlRewrite{PathPrefixRewrite: missingObjectPrefix}},
			HeaderAction: headerAction(ir.HeaderTransform{}, g.Transform.Response),
		})
		um.PathMatchers = append(um.PathMatchers, pm)
		um.HostRules = append(um.HostRules, &compute.HostRule{Hosts: m.hosts, PathMatcher: m.name})
	}
	tests, err := r.tests()
	if err != nil {
		return err
	}
	um.Tests = tests
	return r.checkSize()
}

// mapHeaderAction is what every response gets: HSTS, Vary: Origin with CORS, and the client headers no
// client may send (tenant and claim headers).
func (r *renderer) mapHeaderAction() *compute.HttpHeaderAction {
	ha := &compute.HttpHeaderAction{RequestHeadersToRemove: r.g.StripHeaders}
	if r.g.HSTS != nil {
		ha.ResponseHeadersToAdd = append(ha.ResponseHeadersToAdd, &compute.HttpHeaderOption{HeaderName: "Strict-Transport-Security", HeaderValue: r.g.HSTS.Header(), Replace: true})
	}
	if r.g.CORS != nil {
		ha.ResponseHeadersToAdd = append(ha.ResponseHeadersToAdd, &compute.HttpHeaderOption{HeaderName: "Vary", HeaderValue: "Origin", ForceSendFields: []string{"Replace"}})
	}
	if len(ha.RequestHeadersToRemove)+len(ha.ResponseHeadersToAdd) == 0 {
		return nil
	}
	return ha
}

func headerAction(req, resp ir.HeaderTransform) *compute.HttpHeaderAction {
	if req.IsZero() && resp.IsZero() {
		return nil
	}
	ha := &compute.HttpHeaderAction{RequestHeadersToRemove: req.RemoveHeaders, ResponseHeadersToRemove: resp.RemoveHeaders}
	for _, s := range req.SetHeaders {
		ha.RequestHeadersToAdd = append(ha.RequestHeadersToAdd, &compute.HttpHeaderOption{HeaderName: s.Name, HeaderValue: s.Value, Replace: true})
	}
	for _, s := range resp.SetHeaders {
		ha.ResponseHeadersToAdd = append(ha.ResponseHeadersToAdd, &compute.HttpHeaderOption{HeaderName: s.Name, HeaderValue: s.Value, Replace: true})
	}
	return ha
}

func (r *renderer) errorBucket(code string) string {
	e := r.g.Error(code)
	name := resourceName(r.s.URLMap, strings.ToLower(strings.ReplaceAll(code, "_", "-")))
	obj := code + ".json"
	var ct, cc string
	for _, h := range e.Headers {
		switch h.Name {
		case "Content-Type":
			ct = h.Value
		case "Cache-Control":
			cc = h.Value
		}
	}
	r.b.BackendBuckets = append(r.b.BackendBuckets, &compute.BackendBucket{
		Name: name, BucketName: name, LoadBalancingScheme: "EXTERNAL_MANAGED",
		Description: fmt.Sprintf("%s (%d): a website bucket whose notFoundPage is %s", code, e.Status, obj),
	})
	r.b.ErrorPages = append(r.b.ErrorPages, ErrorPage{Bucket: name, Object: obj, ContentType: ct, CacheControl: cc, Body: e.Body})
	return r.global("backendBuckets", name)
}

func (r *renderer) endpointGroup(o ir.Origin) error {
	u, err := url.Parse(o.URL)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("render/gcp: origin %s: url %q has no host", o.Name, o.URL)
	}
	port := int64(80)
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		port, _ = strconv.ParseInt(p, 10, 64)
	}
	ep := &compute.NetworkEndpoint{Port: port}
	if ipLike(u.Hostname()) {
		ep.IpAddress = u.Hostname()
	} else {
		ep.Fqdn = u.Hostname()
	}
	typ := "INTERNET_FQDN_PORT"
	if ep.IpAddress != "" {
		typ = "INTERNET_IP_PORT"
	}
	r.b.EndpointGroups = append(r.b.EndpointGroups, EndpointGroup{
		Group: &compute.NetworkEndpointGroup{
			Name: resourceName(r.s.URLMap, "origin-"+o.Name), NetworkEndpointType: typ, DefaultPort: port,
			Annotations: map[string]string{"edgegw-origin": o.Name},
		},
		Endpoints: []*compute.NetworkEndpoint{ep},
	})
	if o.Health != nil {
		hc := &compute.HealthCheck{
			Name: resourceName(r.s.URLMap, "health-"+o.Name), Type: "HTTP",
			CheckIntervalSec: o.Health.Interval.Seconds(), TimeoutSec: o.Health.Timeout.Seconds(),
			UnhealthyThreshold: int64(o.Health.Threshold), HealthyThreshold: 1,
			HttpHealthCheck: &compute.HTTPHealthCheck{RequestPath: o.Health.Path, Port: port},
		}
		if u.Scheme == "https" {
			hc.Type, hc.HttpHealthCheck = "HTTPS", nil
			hc.HttpsHealthCheck = &compute.HTTPSHealthCheck{RequestPath: o.Health.Path, Port: port}
		}
		r.b.HealthChecks = append(r.b.HealthChecks, hc)
	}
	return nil
}

func ipLike(h string) bool { return strings.Trim(h, "0123456789.") == "" || strings.Contains(h, ":") }

// backendService returns the service of a pool; a rate-limited route gets its own, since a Cloud Armor
// policy attaches to a backend service.
func (r *renderer) backendService(pool string, route *ir.Route) (string, error) {
	p := r.g.Pool(pool)
	if p == nil {
		return "", fmt.Errorf("pool %q is not in the IR", pool)
	}
	name := resourceName(r.s.URLMap, "pool-"+p.Name)
	var rl *ir.RateLimit
	if route != nil {
		rl = r.g.RateLimit(route.RateLimit)
	}
	if rl != nil {
		name = resourceName(r.s.URLMap, "route-"+route.Name)
	}
	if u, ok := r.services[name]; ok {
		return u, nil
	}
	bs := &compute.BackendService{Name: name, LoadBalancingScheme: "EXTERNAL_MANAGED", Description: "pool " + p.Name}
	for i, on := range p.Origins {
		o := r.g.Origin(on)
		if o == nil {
			return "", fmt.Errorf("origin %q is not in the IR", on)
		}
		if i == 0 {
			bs.Protocol = "HTTP"
			if strings.HasPrefix(o.URL, "https:") {
				bs.Protocol = "HTTPS"
			}
			bs.TimeoutSec = max(1, o.Timeout.Seconds())
		}
		be := &compute.Backend{Group: ComputeBase + r.global("networkEndpointGroups", resourceName(r.s.URLMap, "origin-"+o.Name))}
		if len(p.Origins) > 1 {
			be.Preference = "DEFAULT"
			if i == 0 {
				be.Preference = "PREFERRED"
			}
		}
		bs.Backends = append(bs.Backends, be)
		if o.Health != nil {
			bs.HealthChecks = append(bs.HealthChecks, r.global("healthChecks", resourceName(r.s.URLMap, "health-"+o.Name)))
		}
	}
	if p.Failover != nil && p.Failover.Breaker != nil {
		b := p.Failover.Breaker
		bs.OutlierDetection = &compute.OutlierDetection{
			ConsecutiveGatewayFailure: int64(b.Consecutive), EnforcingConsecutiveGatewayFailure: 100,
			ConsecutiveErrors: 0, EnforcingConsecutiveErrors: 0, ForceSendFields: []string{"EnforcingConsecutiveErrors"},
			BaseEjectionTime: &compute.Duration{Seconds: b.Cooldown.Seconds()},
			Interval:         &compute.Duration{Seconds: 1}, MaxEjectionPercent: 100,
		}
	}
	if rl != nil {
		sp, err := r.securityPolicy(route, rl)
		if err != nil {
			return "", err
		}
		bs.SecurityPolicy = r.global("securityPolicies", sp.Name)
	}
	r.b.BackendServices = append(r.b.BackendServices, bs)
	u := r.global("backendServices", name)
	r.services[name] = u
	return u, nil
}

func (r *renderer) securityPolicy(route *ir.Route, rl *ir.RateLimit) (*compute.SecurityPolicy, error) {
	interval := rl.Window.Seconds()
	if !r.o.Test && !slices.Contains(throttleIntervals, interval) {
		return nil, fmt.Errorf("rate limit %s has a window of %s; a Cloud Armor throttle takes one of %s seconds", rl.Name, rl.Window, joinInts(throttleIntervals))
	}
	opts := &compute.SecurityPolicyRuleRateLimitOptions{
		ConformAction: "allow", ExceedAction: "deny(429)",
		RateLimitThreshold: &compute.SecurityPolicyRuleRateLimitOptionsThreshold{Count: int64(rl.Limit), IntervalSec: interval},
	}
	switch kind, h := rl.KeyKind(); kind {
	case "ip":
		opts.EnforceOnKey = "IP"
	case "header":
		opts.EnforceOnKey, opts.EnforceOnKeyName = "HTTP_HEADER", h
	default:
		if !r.o.Test {
			return nil, fmt.Errorf("rate limit %s is keyed by %s; a Cloud Armor throttle keys by IP or a header", rl.Name, rl.Key)
		}
		opts.EnforceOnKey = "ALL"
	}
	sp := &compute.SecurityPolicy{
		Name: resourceName(r.s.URLMap, "limit-"+route.Name), Type: "CLOUD_ARMOR",
		Description: "rate limit " + rl.Name + " on route " + route.Name,
		Rules: []*compute.SecurityPolicyRule{
			{Priority: 1000, Action: "throttle", Description: "rate limit " + rl.Name, RateLimitOptions: opts, Match: allTraffic()},
			{Priority: 2147483647, Action: "allow", Description: "default rule", Match: allTraffic()},
		},
	}
	r.b.SecurityPolicies = append(r.b.SecurityPolicies, sp)
	return sp, nil
}

var throttleIntervals = []int64{10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600}

func joinInts(v []int64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatInt(x, 10)
	}
	return strings.Join(s, ", ")
}

func allTraffic() *compute.SecurityPolicyRuleMatcher {
	return &compute.SecurityPolicyRuleMatcher{VersionedExpr: "SRC_IPS_V1", Config: &compute.SecurityPolicyRuleMatcherConfig{SrcIpRanges: []string{"*"}}}
}

// pathMatch is one alternative of a route's path condition.
type pathMatch struct {
	full, prefix, template, regex string
}

func (r *renderer) routeRules(i int) ([]*compute.HttpRouteRule, error) {
	rt := &r.g.Routes[i]
	base := int64(1 + 10*i)
	desc := "route " + rt.Name
	if rt.Pos.Line > 0 {
		desc += fmt.Sprintf(" (%s)", rt.Pos)
	}
	why := r.unrenderable(rt)
	var groups [][]pathMatch // one routeRule per group
	switch rt.Match.Kind {
	case ir.PathExact:
		groups = [][]pathMatch{{{full: rt.Match.Path}}}
	case ir.PathPrefix:
		p := rt.Match.Path
		switch {
		case strings.HasSuffix(p, "/"):
			groups = [][]pathMatch{{{prefix: p}}}
		case rt.Rewrite != nil && rt.Rewrite.Prefix != "":
			// The replacement of P and of P/ differ, and one routeRule has one urlRewrite.
			groups = [][]pathMatch{{{full: p}}, {{prefix: p + "/"}}}
		default:
			groups = [][]pathMatch{{{full: p}, {prefix: p + "/"}}}
		}
	case ir.PathTemplate:
		groups = [][]pathMatch{{{template: templateMatch(rt.Match)}}}
	case ir.PathFallback:
		groups = [][]pathMatch{{{prefix: "/"}}}
	case ir.PathRegex:
		if why == "" {
			why = "the global external Application Load Balancer has no path regex"
		}
		// Test mode only: the regex stays in place so the routes after it keep their precedence.
		groups = [][]pathMatch{{{regex: "^(?:" + rt.Match.Path + ")$"}}}
	}
	if why != "" && !r.o.Test {
		return nil, errors.New("render/gcp: " + why)
	}
	var out []*compute.HttpRouteRule
	for gi, pms := range groups {
		rule := &compute.HttpRouteRule{Priority: base + int64(gi), Description: desc}
		for _, pm := range pms {
			methods := rt.Match.Methods
			if len(methods) == 0 {
				methods = []string{""}
			}
			for _, m := range methods {
				mr := &compute.HttpRouteRuleMatch{FullPathMatch: pm.full, PrefixMatch: pm.prefix, PathTemplateMatch: pm.template, RegexMatch: pm.regex}
				for _, h := range rt.Match.Headers {
					mr.HeaderMatches = append(mr.HeaderMatches, &compute.HttpHeaderMatch{HeaderName: h.Name, ExactMatch: h.Value})
				}
				if m != "" {
					mr.HeaderMatches = append(mr.HeaderMatches, &compute.HttpHeaderMatch{HeaderName: ":method", ExactMatch: m})
				}
				rule.MatchRules = append(rule.MatchRules, mr)
			}
		}
		if why != "" {
			rule.Service = UnrenderablePrefix + rt.Name + ": " + why
			out = append(out, rule)
			continue
		}
		if err := r.action(rt, rule, pms[0]); err != nil {
			return nil, err
		}
		out = append(out, rule)
	}
	return out, nil
}

// unrenderable says why the load balancer cannot carry a route out at all, or "".
func (r *renderer) unrenderable(rt *ir.Route) string {
	switch {
	case rt.Respond != nil:
		return "a URL map cannot write a synthetic response"
	case r.g.AuthPolicy(rt.Auth) != nil && !slices.Contains(r.s.Companions, "origin-auth"):
		return "a URL map cannot verify a JWT (add origin-auth to targets.gcp.companions to let the origin verify it)"
	case rt.Match.Kind == ir.PathTemplate && strings.ContainsAny(strings.Join(rt.Match.TemplateSegments(), ""), "*="):
		return "a template literal holds * or =, which pathTemplateMatch reads as operators"
	case rt.Rewrite != nil && rt.Rewrite.Path != "" && rt.Match.Kind == ir.PathPrefix:
		return "pathPrefixRewrite replaces the matched prefix, not the whole path of a prefix route"
	}
	if rd := rt.Redirect; rd != nil {
		if _, err := ParseRedirect(rd.Location); err != nil {
			return "redirect: " + err.Error()
		}
	}
	if !r.o.Test {
		if t := r.g.EffectiveTransform(rt); t.RequestIDHeader != "" {
			return "the load balancer cannot put a fresh request id in " + t.RequestIDHeader
		}
	}
	return ""
}

func templateMatch(m ir.Match) string {
	var b strings.Builder
	for _, s := range m.TemplateSegments() {
		b.WriteByte('/')
		if v, ok := ir.TemplateVar(s); ok {
			b.WriteString("{" + v + "=*}")
		} else {
			b.WriteString(s)
		}
	}
	return b.String()
}

func (r *renderer) action(rt *ir.Route, rule *compute.HttpRouteRule, pm pathMatch) error {
	if rd := rt.Redirect; rd != nil {
		ra, err := ParseRedirect(rd.Location)
		if err != nil {
			return fmt.Errorf("render/gcp: redirect: %w", err)
		}
		ra.StripQuery = !rd.KeepQuery
		ra.RedirectResponseCode = redirectCodes[rd.Status]
		if !ra.StripQuery {
			ra.ForceSendFields = append(ra.ForceSendFields, "StripQuery")
		}
		rule.UrlRedirect = ra
		return nil
	}
	svc, err := r.backendService(rt.Pool, rt)
	if err != nil {
		return err
	}
	rule.Service = svc
	ra := &compute.HttpRouteAction{}
	if rw := rt.Rewrite; rw != nil {
		switch {
		case rw.Prefix != "" && pm.full != "":
			ra.UrlRewrite = &compute.UrlRewrite{PathPrefixRewrite: rw.Prefix}
		case rw.Prefix != "" && pm.prefix != "":
			// P/rest goes to JoinPrefix(R, /rest): R with one slash, then rest.
			to := rw.Prefix
			if !strings.HasSuffix(to, "/") {
				to += "/"
			}
			ra.UrlRewrite = &compute.UrlRewrite{PathPrefixRewrite: to}
		case rw.Path != "" && pm.template != "":
			ra.UrlRewrite = &compute.UrlRewrite{PathTemplateRewrite: rw.Path}
		case rw.Path != "":
			ra.UrlRewrite = &compute.UrlRewrite{PathPrefixRewrite: rw.Path}
		}
	}
	if c := r.g.CORS; c != nil {
		ra.CorsPolicy = &compute.CorsPolicy{
			AllowOrigins: c.AllowOrigins, AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders,
			ExposeHeaders: c.ExposeHeaders, AllowCredentials: c.AllowCredentials, MaxAge: c.MaxAge.Seconds(),
		}
	}
	if ra.UrlRewrite != nil || ra.CorsPolicy != nil {
		rule.RouteAction = ra
	}
	t := r.g.EffectiveTransform(rt)
	rule.HeaderAction = headerAction(t.Request, t.Response)
	return nil
}

var redirectCodes = map[int]string{301: "MOVED_PERMANENTLY_DEFAULT", 302: "FOUND", 303: "SEE_OTHER", 307: "TEMPORARY_REDIRECT", 308: "PERMANENT_REDIRECT"}

// RedirectStatus is the status of a redirectResponseCode.
func RedirectStatus(code string) int {
	for st, c := range redirectCodes {
		if c == code {
			return st
		}
	}
	return 301 // the API's default
}

// ParseRedirect turns an absolute Location into a urlRedirect, or says why it cannot.
func ParseRedirect(loc string) (*compute.HttpRedirectAction, error) {
	u, err := url.Parse(loc)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, fmt.Errorf("Location %q is not an absolute URL; urlRedirect keeps the request's host and scheme unless given both", loc)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("Location %q is not http or https", loc)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return nil, fmt.Errorf("Location %q has a query or fragment; pathRedirect takes a path only", loc)
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	return &compute.HttpRedirectAction{HostRedirect: u.Host, PathRedirect: p, HttpsRedirect: u.Scheme == "https"}, nil
}

// resourceName makes an RFC 1035 name of at most 63 characters from prefix and name.
func resourceName(prefix, name string) string {
	s := strings.ToLower(prefix)
	if name != "" {
		s += "-" + strings.ToLower(name)
	}
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" || out[0] < 'a' || out[0] > 'z' {
		out = "e-" + out
	}
	if len(out) > 63 {
		h := fnv32(out)
		out = strings.TrimRight(out[:54], "-") + "-" + h
	}
	return out
}

func fnv32(s string) string {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return fmt.Sprintf("%08x", h)
}

func (r *renderer) checkSize() error {
	data, err := marshal(r.b.URLMap)
	if err != nil {
		return err
	}
	if len(data) <= MaxURLMapBytes {
		return nil
	}
	// Find the route whose rules carry the map past the limit, so the error points at a manifest line.
	fixed := len(data)
	sizes := make([]int, len(r.g.Routes))
	for _, pm := range r.b.URLMap.PathMatchers {
		for _, rule := range pm.RouteRules {
			if i := int(rule.Priority-1) / 10; i < len(sizes) {
				b, _ := json.Marshal(rule)
				sizes[i] += len(b)
				fixed -= len(b)
			}
		}
	}
	total := fixed
	for i, n := range sizes {
		total += n
		if total > MaxURLMapBytes {
			return &render.RouteError{Route: r.g.Routes[i].Name, Err: fmt.Errorf(
				"render/gcp: the URL map is %d bytes, over GCP's limit of %d (1 MB), and this route is where it passes it: merge routes that share a pool, or serve some hosts from a second URL map",
				len(data), MaxURLMapBytes)}
		}
	}
	return fmt.Errorf("render/gcp: the URL map is %d bytes, over GCP's limit of %d (1 MB): shorten the tests or the header actions", len(data), MaxURLMapBytes)
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("render/gcp: %w", err)
	}
	return buf.Bytes(), nil
}

func (r *renderer) artifacts() ([]render.Artifact, error) {
	files := []struct {
		path string
		v    any
		skip bool
	}{
		{URLMapPath, r.b.URLMap, false},
		{BackendServicesPath, r.b.BackendServices, false},
		{BackendBucketsPath, r.b.BackendBuckets, false},
		{EndpointGroupsPath, r.b.EndpointGroups, false},
		{HealthChecksPath, r.b.HealthChecks, len(r.b.HealthChecks) == 0},
		{SecurityPoliciesPath, r.b.SecurityPolicies, len(r.b.SecurityPolicies) == 0},
		{ErrorPagesPath, r.b.ErrorPages, false},
	}
	var out []render.Artifact
	for _, f := range files {
		if f.skip {
			continue
		}
		data, err := marshal(f.v)
		if err != nil {
			return nil, err
		}
		out = append(out, render.Artifact{Target: Name, Path: f.path, MediaType: "application/json", Data: data})
	}
	return out, nil
}
