// Package evaluate is the `azure` test engine: an evaluator of Azure Front Door's documented route and rule
// semantics over the ARM template render/azure writes, parsed back into armcdn/v2 types. It proxies to the
// loopback origins it is opened with, as Front Door would to its origins.
//
// The semantics it applies (Front Door Standard/Premium documentation: route matching, rules match
// conditions, rule actions, origin groups):
//   - a request's host must be one of the endpoint's custom domains (an exact host, or a `*.` wildcard that
//     covers any subdomain); otherwise Front Door answers 400 itself;
//   - among the routes of that domain the most specific pattern wins: an exact pattern (no wildcard, case
//     insensitive) first, then the `/*` pattern with the longest prefix; no pattern → 400;
//   - the route's rule sets run in order, each rule's conditions AND, each condition's values OR, string
//     operators exact unless a Lowercase transform is given; a matched rule's actions apply in order (origin
//     group override, redirect, request and response header modification, URL rewrite) and its
//     matchProcessingBehavior Stop ends the rule sets; later rules see the request as earlier actions left it;
//   - the origin group sends the request to the origin of the lowest priority value that its health
//     probes find healthy. The engine sends no probes (they would reach the recording origins): every
//     origin starts healthy, and SetHealthy sets the probe result;
//   - a redirect, a failed connection (503) and a timeout (504) are Front Door's own answers, without the
//     rule set's response headers.
//
// It models what Front Door does, not what the IR says: where the two differ the capability table in
// providers/azure says Cannot or constrains the feature, and the conformance suite skips those cases.
package evaluate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/cdn/armcdn/v2"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest/ir"
	azrender "github.com/edgegw/edgegw/render/azure"
)

// Target is the engine's target name.
const Target = "azure"

// OriginResponseTimeout is the profile's default origin response timeout.
const OriginResponseTimeout = 60 * time.Second

func init() { testrun.RegisterEngine(Target, Engine{}) }

// Engine opens evaluators of the rendered template.
type Engine struct{}

var _ testrun.Engine = Engine{}

// Open renders g in test mode and loads the template, with each Front Door origin reaching the loopback
// URL of its IR origin.
func (Engine) Open(_ context.Context, g *ir.Gateway, origins map[string]string, _ testrun.Env) (testrun.Instance, error) {
	arts, err := azrender.Render(g, azrender.Options{Test: true})
	if err != nil {
		return nil, fmt.Errorf("azure: render: %w", err)
	}
	b, err := azrender.Parse(arts)
	if err != nil {
		return nil, err
	}
	urls := map[string]string{}
	for name, u := range origins {
		urls[azrender.OriginName(name)] = u
	}
	return New(b, urls), nil
}

// Evaluator is one loaded template with its state (the health probes' results).
type Evaluator struct {
	b       *azrender.Bundle
	origins map[string]string // Front Door origin name → base URL
	client  *http.Client

	mu        sync.Mutex
	unhealthy map[string]bool // origin group/origin
}

// New builds an evaluator of b whose origins (by Front Door origin name) are at these URLs.
func New(b *azrender.Bundle, origins map[string]string) *Evaluator {
	tr := &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 64}
	return &Evaluator{b: b, origins: origins, unhealthy: map[string]bool{},
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// SetHealthy sets the health probes' verdict on one origin of an origin group.
func (e *Evaluator) SetHealthy(group, origin string, healthy bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.unhealthy[group+"/"+origin] = !healthy
}

// Close implements testrun.Instance.
func (e *Evaluator) Close() error {
	e.client.CloseIdleConnections()
	return nil
}

// request is the request as the rules engine sees and changes it.
type request struct {
	method string
	host   string // lower case, without a port
	path   string // as the client sent it, with the leading slash
	header http.Header
}

// Outcome is what the route and its rule sets decided for one request.
type Outcome struct {
	Status       int // Front Door's own answer (400), or 0
	Route        *armcdn.Route
	Rules        []string // the rules that matched, in order
	Unrenderable string   // set when a matched rule stands for a route Front Door cannot carry out
	OriginGroup  string
	Redirect     *armcdn.URLRedirectActionParameters
	Path         string // the path to send upstream
	Header       http.Header
	Response     []*armcdn.HeaderActionParameters // response header actions, in order
}

// Decide runs domain, route and rule matching on one request.
func (e *Evaluator) Decide(method, host, path string, h http.Header) Outcome {
	host = strings.ToLower(host)
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	req := &request{method: method, host: host, path: path, header: h.Clone()}
	if req.header == nil {
		req.header = http.Header{}
	}
	domain, ok := e.domain(host)
	if !ok {
		return Outcome{Status: http.StatusBadRequest}
	}
	route := e.route(domain, path)
	if route == nil {
		return Outcome{Status: http.StatusBadRequest}
	}
	out := Outcome{Route: route, OriginGroup: azrender.LastName(*route.Properties.OriginGroup.ID)}
	stop := false
	for _, ref := range route.Properties.RuleSets {
		rules := slices.Clone(e.b.Rules[azrender.LastName(*ref.ID)])
		sort.SliceStable(rules, func(i, j int) bool { return *rules[i].Properties.Order < *rules[j].Properties.Order })
		for _, rule := range rules {
			if !matches(rule.Properties.Conditions, req) {
				continue
			}
			out.Rules = append(out.Rules, *rule.Name)
			if why, ok := e.b.Unrenderable[*rule.Name]; ok {
				out.Unrenderable = why
				return out
			}
			for _, a := range rule.Properties.Actions {
				switch a := a.(type) {
				case *armcdn.DeliveryRuleRouteConfigurationOverrideAction:
					if o := a.Parameters.OriginGroupOverride; o != nil && o.OriginGroup != nil {
						out.OriginGroup = azrender.LastName(*o.OriginGroup.ID)
					}
				case *armcdn.URLRedirectAction:
					out.Redirect = a.Parameters
				case *armcdn.DeliveryRuleRequestHeaderAction:
					applyHeader(req.header, a.Parameters)
				case *armcdn.DeliveryRuleResponseHeaderAction:
					out.Response = append(out.Response, a.Parameters)
				case *armcdn.URLRewriteAction:
					req.path = rewrite(a.Parameters, req.path)
				}
			}
			if rule.Properties.MatchProcessingBehavior != nil && *rule.Properties.MatchProcessingBehavior == armcdn.MatchProcessingBehaviorStop {
				stop = true
				break
			}
		}
		if stop {
			break
		}
	}
	out.Path, out.Header = req.path, req.header
	return out
}

// domain returns the custom domain serving host: an exact host name, else the wildcard with the longest
// suffix. An endpoint without custom domains serves its default domain, here any host.
func (e *Evaluator) domain(host string) (string, bool) {
	if len(e.b.Domains) == 0 {
		return "", true
	}
	best, bestLen := "", -1
	for _, d := range e.b.Domains {
		hn := strings.ToLower(*d.Properties.HostName)
		if hn == host {
			return *d.Name, true
		}
		if suffix, ok := strings.CutPrefix(hn, "*"); ok && strings.HasSuffix(host, suffix) && len(host) > len(suffix) && len(suffix) > bestLen {
			best, bestLen = *d.Name, len(suffix)
		}
	}
	return best, bestLen >= 0
}

// route picks the most specific route of the domain: an exact pattern, else the longest wildcard prefix.
func (e *Evaluator) route(domain, path string) *armcdn.Route {
	lp := strings.ToLower(path)
	var best *armcdn.Route
	bestLen := -1
	for _, rt := range e.b.Routes {
		p := rt.Properties
		if p.EnabledState != nil && *p.EnabledState != armcdn.EnabledStateEnabled {
			continue
		}
		if domain != "" && !slices.ContainsFunc(p.CustomDomains, func(r *armcdn.ActivatedResourceReference) bool { return azrender.LastName(*r.ID) == domain }) {
			continue
		}
		for _, pat := range p.PatternsToMatch {
			pt := strings.ToLower(*pat)
			if prefix, ok := strings.CutSuffix(pt, "*"); ok {
				if strings.HasPrefix(lp, prefix) && len(prefix) > bestLen {
					best, bestLen = rt, len(prefix)
				}
				continue
			}
			if pt == lp {
				return rt
			}
		}
	}
	return best
}

func matches(conds []armcdn.DeliveryRuleConditionClassification, req *request) bool {
	for _, c := range conds {
		if !matchCondition(c, req) {
			return false
		}
	}
	return true
}

func matchCondition(c armcdn.DeliveryRuleConditionClassification, req *request) bool {
	switch c := c.(type) {
	case *armcdn.DeliveryRuleURLPathCondition:
		p := c.Parameters
		return compare(string(*p.Operator), strings.TrimPrefix(req.path, "/"), true, p.MatchValues, p.Transforms, p.NegateCondition)
	case *armcdn.DeliveryRuleHostNameCondition:
		p := c.Parameters
		return compare(string(*p.Operator), req.host, true, p.MatchValues, p.Transforms, p.NegateCondition)
	case *armcdn.DeliveryRuleRequestHeaderCondition:
		p := c.Parameters
		vals := req.header.Values(*p.Selector)
		return compare(string(*p.Operator), strings.Join(vals, ","), len(vals) > 0, p.MatchValues, p.Transforms, p.NegateCondition)
	case *armcdn.DeliveryRuleRequestMethodCondition:
		p := c.Parameters
		ok := slices.ContainsFunc(p.MatchValues, func(v *armcdn.RequestMethodMatchConditionParametersMatchValuesItem) bool {
			return string(*v) == req.method
		})
		if p.NegateCondition != nil && *p.NegateCondition {
			return !ok
		}
		return ok
	}
	return false // a condition the renderer does not write never matches
}

// compare applies a standard operator: any of the values (OR), after the transforms.
func compare(op, v string, present bool, values []*string, transforms []*armcdn.Transform, negate *bool) bool {
	for _, t := range transforms {
		switch *t {
		case armcdn.TransformLowercase:
			v = strings.ToLower(v)
		case armcdn.TransformUppercase:
			v = strings.ToUpper(v)
		case armcdn.TransformTrim:
			v = strings.TrimSpace(v)
		}
	}
	ok := false
	switch op {
	case "Any":
		ok = present
	default:
		for _, mv := range values {
			m := *mv
			switch op {
			case "Equal":
				ok = present && v == m
			case "BeginsWith":
				ok = present && strings.HasPrefix(v, m)
			case "EndsWith":
				ok = present && strings.HasSuffix(v, m)
			case "Contains":
				ok = present && strings.Contains(v, m)
			case "RegEx":
				re, err := regexp.Compile(m)
				ok = err == nil && present && re.MatchString(v)
			}
			if ok {
				break
			}
		}
	}
	if negate != nil && *negate {
		return !ok
	}
	return ok
}

func applyHeader(h http.Header, p *armcdn.HeaderActionParameters) {
	switch *p.HeaderAction {
	case armcdn.HeaderActionDelete:
		h.Del(*p.HeaderName)
	case armcdn.HeaderActionOverwrite:
		h.Set(*p.HeaderName, deref(p.Value))
	case armcdn.HeaderActionAppend:
		h.Add(*p.HeaderName, deref(p.Value))
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// rewrite applies a UrlRewrite: a path that begins with the source pattern gets the destination, followed
// by the rest of the path when preserveUnmatchedPath is set.
func rewrite(p *armcdn.URLRewriteActionParameters, path string) string {
	src := deref(p.SourcePattern)
	rest, ok := strings.CutPrefix(path, src)
	if !ok {
		return path
	}
	if p.PreserveUnmatchedPath == nil || *p.PreserveUnmatchedPath {
		return deref(p.Destination) + rest
	}
	return deref(p.Destination)
}

// pickOrigin returns the origin of the lowest priority value the probes find healthy (the first by name
// among equals); when none is healthy, Front Door sends to all of them, here the first.
func (e *Evaluator) pickOrigin(group string) *armcdn.AFDOrigin {
	os := slices.Clone(e.b.Origins[group])
	sort.SliceStable(os, func(i, j int) bool { return prio(os[i]) < prio(os[j]) })
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, o := range os {
		if o.Properties.EnabledState != nil && *o.Properties.EnabledState != armcdn.EnabledStateEnabled {
			continue
		}
		if !e.unhealthy[group+"/"+*o.Name] {
			return o
		}
	}
	if len(os) > 0 {
		return os[0]
	}
	return nil
}

func prio(o *armcdn.AFDOrigin) int32 {
	if o.Properties.Priority == nil {
		return 1
	}
	return *o.Properties.Priority
}

// ownPage is an answer Front Door writes itself: its own HTML, no rule-set header.
func ownPage(status int, what string) *testrun.ClientResponse {
	h := http.Header{}
	h.Set("Content-Type", "text/html")
	h.Set("X-Azure-Ref", "0edgegwTestRef")
	return &testrun.ClientResponse{Status: status, Header: h, Body: []byte("<h2>Our services aren't available right now</h2><p>" + what + "</p>")}
}

// Do implements testrun.Instance.
func (e *Evaluator) Do(ctx context.Context, cr *testrun.ClientRequest) (*testrun.ClientResponse, error) {
	path, query, hasQuery := strings.Cut(cr.Target, "?")
	out := e.Decide(cr.Method, cr.Host, path, cr.Header)
	if out.Status != 0 {
		return ownPage(out.Status, "Front Door has no route for this request."), nil
	}
	if out.Unrenderable != "" {
		return nil, fmt.Errorf("azure: the request reached a route Front Door cannot carry out (%s)", out.Unrenderable)
	}
	scheme := cr.Scheme
	if scheme == "" {
		scheme = "https"
	}
	if rd := out.Redirect; rd != nil {
		proto := scheme
		switch deref((*string)(rd.DestinationProtocol)) {
		case string(armcdn.DestinationProtocolHTTP):
			proto = "http"
		case string(armcdn.DestinationProtocolHTTPS):
			proto = "https"
		}
		host := strings.ToLower(cr.Host)
		if h := deref(rd.CustomHostname); h != "" {
			host = h
		}
		p := path
		if cp := deref(rd.CustomPath); cp != "" {
			p = cp
		}
		loc := proto + "://" + host + p
		switch {
		case deref(rd.CustomQueryString) != "":
			loc += "?" + deref(rd.CustomQueryString)
		case hasQuery && query != "":
			loc += "?" + query
		}
		if f := deref(rd.CustomFragment); f != "" {
			loc += "#" + f
		}
		h := http.Header{}
		h.Set("Location", loc)
		h.Set("X-Azure-Ref", "0edgegwTestRef")
		return &testrun.ClientResponse{Status: azrender.RedirectStatus(string(*rd.RedirectType)), Header: h}, nil
	}
	origin := e.pickOrigin(out.OriginGroup)
	if origin == nil {
		return nil, fmt.Errorf("azure: origin group %q has no origins in the template", out.OriginGroup)
	}
	base, ok := e.origins[*origin.Name]
	if !ok {
		return nil, fmt.Errorf("azure: origin %s of group %s is not one the engine was opened with", *origin.Name, out.OriginGroup)
	}
	target := strings.TrimSuffix(base, "/") + out.Path
	if hasQuery {
		target += "?" + query
	}
	rctx, cancel := context.WithTimeout(ctx, OriginResponseTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, cr.Method, target, strings.NewReader(string(cr.Body)))
	if err != nil {
		return nil, fmt.Errorf("azure: upstream request %s: %w", target, err)
	}
	req.Header = out.Header
	ip := cr.ClientIP
	if ip == "" {
		ip = testrun.DefaultClientIP
	}
	req.Header.Add("X-Forwarded-For", ip)
	req.Header.Set("X-Forwarded-Host", cr.Host)
	req.Header.Set("X-Forwarded-Proto", scheme)
	req.Header.Set("X-Azure-ClientIP", ip)
	req.Header.Set("X-Azure-SocketIP", ip)
	req.Header.Set("X-Azure-Ref", "0edgegwTestRef")
	req.Host = deref(origin.Properties.OriginHostHeader)
	if req.Host == "" {
		req.Host = cr.Host
	}
	up, err := e.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || rctx.Err() != nil {
			return ownPage(http.StatusGatewayTimeout, "The origin did not answer in time."), nil
		}
		return ownPage(http.StatusServiceUnavailable, "Front Door could not reach the origin."), nil
	}
	defer up.Body.Close()
	body, err := io.ReadAll(up.Body)
	if err != nil {
		return nil, fmt.Errorf("azure: upstream response: %w", err)
	}
	resp := &testrun.ClientResponse{Status: up.StatusCode, Header: up.Header.Clone(), Body: body}
	resp.Header.Del("Content-Length")
	for _, a := range out.Response {
		applyHeader(resp.Header, a)
	}
	resp.Header.Set("X-Azure-Ref", "0edgegwTestRef")
	resp.Header.Set("X-Cache", "CONFIG_NOCACHE")
	return resp, nil
}
