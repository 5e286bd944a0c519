// Package azure renders the IR for Azure Front Door (Standard/Premium) as one ARM template: the profile's
// custom domains, an origin group per pool (priorities, health probe), the endpoint's routes (exact and
// `/*` patterns) and one rule set per release whose ordered rules carry the IR's routes in precedence
// order. Every resource is an azure-sdk-for-go armcdn/v2 type marshalled by the SDK, with the template's
// apiVersion beside it.
//
// A route of the IR becomes one or more rules with the same conditions (UrlPath without the leading
// slash, HostName, RequestHeader, RequestMethod; conditions AND, values OR) and at most five actions
// each: RouteConfigurationOverride to the pool's origin group (or UrlRedirect), ModifyResponseHeader,
// ModifyRequestHeader and UrlRewrite, the last rule with Stop. It is pure: the same IR gives the same
// bytes, and routes are emitted in IR order, never re-sorted. It does not decide what the target can
// enforce (providers/azure's capability table does); it refuses, at the route, what it cannot write at
// all, and checks Front Door's structural limits.
package azure

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/cdn/armcdn/v2"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
)

// Name is the renderer's name, the target's.
const Name = "azure"

// Artifact paths.
const (
	TemplatePath = "frontdoor.json"
	// TestMarksPath lists, in test mode only, the rules kept in place for routes Front Door cannot carry out.
	TestMarksPath = "test-unrenderable.json"
)

// APIVersion is the Microsoft.Cdn API version the template is written for.
const APIVersion = "2024-02-01"

// Front Door's structural limits (Azure subscription and service limits, Front Door Standard/Premium).
const (
	MaxRulesPerSet     = 100
	MaxConditions      = 10
	MaxActions         = 5
	MaxCompositeMetric = 5000
	MaxOriginsPerGroup = 5 // origin priorities are 1 to 5
)

// Resource types.
const (
	TypeCustomDomain = "Microsoft.Cdn/profiles/customDomains"
	TypeOriginGroup  = "Microsoft.Cdn/profiles/originGroups"
	TypeOrigin       = "Microsoft.Cdn/profiles/originGroups/origins"
	TypeRuleSet      = "Microsoft.Cdn/profiles/ruleSets"
	TypeRule         = "Microsoft.Cdn/profiles/ruleSets/rules"
	TypeRoute        = "Microsoft.Cdn/profiles/afdEndpoints/routes"
)

// DeploymentTemplateSchema is the $schema of an ARM deployment template.
const DeploymentTemplateSchema = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"

// Methods are the values the rules engine's RequestMethod condition takes (no PATCH, no CONNECT).
var Methods = []string{"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "TRACE"}

func init() { render.Register(Renderer{}) }

// Renderer renders the azure target.
type Renderer struct{}

var _ render.Renderer = Renderer{}

// Name implements render.Renderer.
func (Renderer) Name() string { return Name }

// Render implements render.Renderer.
func (Renderer) Render(g *ir.Gateway) ([]render.Artifact, error) { return Render(g, Options{}) }

// Options change what Render does with what Front Door cannot carry out.
type Options struct {
	// Test keeps such a route in place as a marked rule (listed in TestMarksPath), so a test engine can
	// run the other routes of the manifest in their precedence. Never deployed.
	Test bool
}

// Settings are the parts of targets.azure the renderer reads; providers/azure sets SettingsOf.
type Settings struct {
	Profile    string
	Endpoint   string
	Companions []string
}

// SettingsOf returns the target's settings. Defaults keep a manifest without a targets.azure block
// renderable (the conformance corpus).
var SettingsOf = func(g *ir.Gateway) Settings { return Settings{} }

// Resource is one resource of the template: the SDK's JSON of it, plus the template's apiVersion.
type Resource struct {
	Type       string
	Name       string // the full template name, profile/child[/grandchild]
	APIVersion string
	Value      any // *armcdn.AFDDomain, *armcdn.AFDOriginGroup, ... as the SDK marshals it
}

// MarshalJSON writes the SDK's JSON of Value with the template's apiVersion and full name.
func (r Resource) MarshalJSON() ([]byte, error) {
	raw, err := json.Marshal(r.Value)
	if err != nil {
		return nil, err
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m["apiVersion"], _ = json.Marshal(r.APIVersion)
	m["name"], _ = json.Marshal(r.Name)
	return json.Marshal(m)
}

// Template is the ARM deployment template Render writes.
type Template struct {
	Schema         string     `json:"$schema"`
	ContentVersion string     `json:"contentVersion"`
	Resources      []Resource `json:"resources"`
}

// Bundle is the template parsed back into SDK types; the evaluator and the deploy read it.
type Bundle struct {
	Profile      string
	Endpoint     string
	Domains      []*armcdn.AFDDomain
	OriginGroups []*armcdn.AFDOriginGroup
	// Origins by origin group name.
	Origins  map[string][]*armcdn.AFDOrigin
	RuleSets []*armcdn.RuleSet
	// Rules by rule set name, in template order.
	Rules  map[string][]*armcdn.Rule
	Routes []*armcdn.Route
	// Unrenderable maps a rule's name to why Front Door cannot carry its route out (test mode only).
	Unrenderable map[string]string
}

// Parse reads the artifacts Render wrote.
func Parse(arts []render.Artifact) (*Bundle, error) {
	b := &Bundle{Origins: map[string][]*armcdn.AFDOrigin{}, Rules: map[string][]*armcdn.Rule{}, Unrenderable: map[string]string{}}
	found := false
	for _, a := range arts {
		switch a.Path {
		case TestMarksPath:
			if err := json.Unmarshal(a.Data, &b.Unrenderable); err != nil {
				return nil, fmt.Errorf("render/azure: %s: %w", a.Path, err)
			}
		case TemplatePath:
			found = true
			var t struct {
				Resources []json.RawMessage `json:"resources"`
			}
			if err := json.Unmarshal(a.Data, &t); err != nil {
				return nil, fmt.Errorf("render/azure: %s: %w", a.Path, err)
			}
			for i, raw := range t.Resources {
				if err := b.add(raw); err != nil {
					return nil, fmt.Errorf("render/azure: %s: resources[%d]: %w", a.Path, i, err)
				}
			}
		}
	}
	if !found {
		return nil, errors.New("render/azure: no " + TemplatePath + " among the artifacts")
	}
	return b, nil
}

func (b *Bundle) add(raw json.RawMessage) error {
	var head struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return err
	}
	parts := strings.Split(head.Name, "/")
	b.Profile = parts[0]
	last := parts[len(parts)-1]
	var v any
	switch head.Type {
	case TypeCustomDomain:
		d := &armcdn.AFDDomain{}
		b.Domains, v = append(b.Domains, d), d
	case TypeOriginGroup:
		og := &armcdn.AFDOriginGroup{}
		b.OriginGroups, v = append(b.OriginGroups, og), og
	case TypeOrigin:
		o := &armcdn.AFDOrigin{}
		b.Origins[parts[1]], v = append(b.Origins[parts[1]], o), o
	case TypeRuleSet:
		rs := &armcdn.RuleSet{}
		b.RuleSets, v = append(b.RuleSets, rs), rs
	case TypeRule:
		r := &armcdn.Rule{}
		b.Rules[parts[1]], v = append(b.Rules[parts[1]], r), r
	case TypeRoute:
		rt := &armcdn.Route{}
		b.Endpoint = parts[1]
		b.Routes, v = append(b.Routes, rt), rt
	default:
		return fmt.Errorf("type %q is not one the renderer writes", head.Type)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return err
	}
	// The template's name is the full path; the SDK's Name is the resource's own.
	switch x := v.(type) {
	case *armcdn.AFDDomain:
		x.Name = &last
	case *armcdn.AFDOriginGroup:
		x.Name = &last
	case *armcdn.AFDOrigin:
		x.Name = &last
	case *armcdn.RuleSet:
		x.Name = &last
	case *armcdn.Rule:
		x.Name = &last
	case *armcdn.Route:
		x.Name = &last
	}
	return nil
}

// ResourceID is the template expression of a resource's id in the same resource group.
func ResourceID(typ string, names ...string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return "[resourceId('" + typ + "', " + strings.Join(q, ", ") + ")]"
}

// LastName returns the last resource name of an id, a template expression or an ARM id alike.
func LastName(id string) string {
	id = strings.TrimSuffix(strings.TrimPrefix(id, "["), "]")
	if strings.HasPrefix(id, "resourceId(") {
		args := strings.Split(strings.TrimSuffix(strings.TrimPrefix(id, "resourceId("), ")"), ",")
		return strings.Trim(strings.TrimSpace(args[len(args)-1]), "'")
	}
	return id[strings.LastIndex(id, "/")+1:]
}

type renderer struct {
	g         *ir.Gateway
	o         Options
	s         Settings
	resources []Resource
	rules     []*armcdn.Rule
	ruleRoute []string // the IR route of each rule
	marks     map[string]string
	overrides int
}

// Render renders g.
func Render(g *ir.Gateway, o Options) ([]render.Artifact, error) {
	r := &renderer{g: g, o: o, s: SettingsOf(g), marks: map[string]string{}}
	if r.s.Profile == "" {
		r.s.Profile = ResourceName("", g.Name)
	}
	if r.s.Endpoint == "" {
		r.s.Endpoint = ResourceName("", g.Name)
	}
	if err := r.render(); err != nil {
		return nil, err
	}
	return r.artifacts()
}

// ResourceName makes a Front Door resource name (letters, digits and hyphens, starting with a letter, at
// most 60 characters) from prefix and name.
func ResourceName(prefix, name string) string {
	s := name
	if prefix != "" {
		s = prefix + "-" + name
	}
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
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
	if len(out) > 60 {
		out = strings.TrimRight(out[:51], "-") + "-" + fnv32(out)
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

// OriginGroupName is the origin group of a pool.
func OriginGroupName(pool string) string { return ResourceName("pool", pool) }

// OriginName is the origin resource of an IR origin.
func OriginName(origin string) string { return ResourceName("origin", origin) }

func (r *renderer) add(typ string, v any, names ...string) {
	r.resources = append(r.resources, Resource{Type: typ, Name: strings.Join(append([]string{r.s.Profile}, names...), "/"), APIVersion: APIVersion, Value: v})
}

func (r *renderer) render() error {
	g := r.g
	var domainIDs []*armcdn.ActivatedResourceReference
	for _, d := range g.Domains {
		name := ResourceName("domain", d.Host)
		r.add(TypeCustomDomain, &armcdn.AFDDomain{Type: to.Ptr(TypeCustomDomain), Properties: &armcdn.AFDDomainProperties{
			HostName: to.Ptr(d.Host),
			TLSSettings: &armcdn.AFDDomainHTTPSParameters{
				CertificateType:   to.Ptr(armcdn.AfdCertificateTypeManagedCertificate),
				MinimumTLSVersion: to.Ptr(armcdn.AfdMinimumTLSVersionTLS12),
			},
		}}, name)
		domainIDs = append(domainIDs, &armcdn.ActivatedResourceReference{ID: to.Ptr(ResourceID(TypeCustomDomain, r.s.Profile, name))})
	}
	for _, p := range g.Pools {
		if err := r.originGroup(p); err != nil {
			return err
		}
	}
	for i := range g.Routes {
		if err := r.routeRules(&g.Routes[i]); err != nil {
			return &render.RouteError{Route: g.Routes[i].Name, Err: err}
		}
	}
	if len(r.rules) > MaxRulesPerSet {
		// The route whose rules pass the limit is where the manifest must change.
		n := 0
		for i := range g.Routes {
			n += r.rulesOf(g.Routes[i].Name)
			if n > MaxRulesPerSet {
				return &render.RouteError{Route: g.Routes[i].Name, Err: fmt.Errorf(
					"render/azure: the rule set has %d rules, over Front Door's limit of %d per rule set, and this route is where it passes it: merge routes that share a pool and headers, or move transforms to the gateway-wide block",
					len(r.rules), MaxRulesPerSet)}
			}
		}
	}
	ruleSet := r.ruleSetName()
	r.add(TypeRuleSet, &armcdn.RuleSet{Type: to.Ptr(TypeRuleSet), Properties: &armcdn.RuleSetProperties{}}, ruleSet)
	for _, rule := range r.rules {
		rule.Type = to.Ptr(TypeRule)
		r.add(TypeRule, rule, ruleSet, *rule.Name)
	}
	return r.routes(ruleSet, domainIDs)
}

func (r *renderer) rulesOf(route string) int {
	n := 0
	for _, of := range r.ruleRoute {
		if of == route {
			n++
		}
	}
	return n
}

func (r *renderer) addRule(route string, rule *armcdn.Rule) {
	r.rules = append(r.rules, rule)
	r.ruleRoute = append(r.ruleRoute, route)
}

// ruleSetName names the release's rule set after its rules, so each release is a new rule set (blue/green)
// and the same rules give the same name.
func (r *renderer) ruleSetName() string {
	h := sha256.New()
	for _, rule := range r.rules {
		b, _ := json.Marshal(rule)
		h.Write(b)
	}
	return "release" + hex.EncodeToString(h.Sum(nil))[:12]
}

func (r *renderer) originGroup(p ir.Pool) error {
	if len(p.Origins) > MaxOriginsPerGroup {
		return fmt.Errorf("render/azure: pool %s has %d origins; an origin group's priorities run from 1 to %d", p.Name, len(p.Origins), MaxOriginsPerGroup)
	}
	name := OriginGroupName(p.Name)
	props := &armcdn.AFDOriginGroupProperties{
		LoadBalancingSettings: &armcdn.LoadBalancingSettingsParameters{
			SampleSize: to.Ptr[int32](4), SuccessfulSamplesRequired: to.Ptr[int32](3), AdditionalLatencyInMilliseconds: to.Ptr[int32](50),
		},
		SessionAffinityState: to.Ptr(armcdn.EnabledStateDisabled),
	}
	for _, on := range p.Origins {
		o := r.g.Origin(on)
		if o == nil {
			return fmt.Errorf("render/azure: pool %s: origin %q is not in the IR", p.Name, on)
		}
		if o.Health != nil && props.HealthProbeSettings == nil {
			proto := armcdn.ProbeProtocolHTTP
			if strings.HasPrefix(o.URL, "https:") {
				proto = armcdn.ProbeProtocolHTTPS
			}
			props.HealthProbeSettings = &armcdn.HealthProbeParameters{
				ProbePath: to.Ptr(o.Health.Path), ProbeProtocol: to.Ptr(proto),
				ProbeRequestType:       to.Ptr(armcdn.HealthProbeRequestTypeHEAD),
				ProbeIntervalInSeconds: to.Ptr(int32(max(5, min(255, o.Health.Interval.Seconds())))),
			}
			props.LoadBalancingSettings.SuccessfulSamplesRequired = to.Ptr(int32(max(1, 4-min(3, o.Health.Threshold-1))))
		}
	}
	r.add(TypeOriginGroup, &armcdn.AFDOriginGroup{Type: to.Ptr(TypeOriginGroup), Properties: props}, name)
	for i, on := range p.Origins {
		o := r.g.Origin(on)
		u, err := url.Parse(o.URL)
		if err != nil || u.Hostname() == "" {
			return fmt.Errorf("render/azure: origin %s: url %q has no host", o.Name, o.URL)
		}
		httpPort, httpsPort := int32(80), int32(443)
		if pv := u.Port(); pv != "" {
			n, _ := strconv.Atoi(pv)
			if u.Scheme == "https" {
				httpsPort = int32(n)
			} else {
				httpPort = int32(n)
			}
		}
		hostHeader := o.HostHeader
		if hostHeader == "" {
			hostHeader = u.Hostname()
		}
		r.add(TypeOrigin, &armcdn.AFDOrigin{Type: to.Ptr(TypeOrigin), Properties: &armcdn.AFDOriginProperties{
			HostName: to.Ptr(u.Hostname()), HTTPPort: to.Ptr(httpPort), HTTPSPort: to.Ptr(httpsPort),
			OriginHostHeader: to.Ptr(hostHeader), Priority: to.Ptr(int32(i + 1)), Weight: to.Ptr[int32](1000),
			EnabledState: to.Ptr(armcdn.EnabledStateEnabled), EnforceCertificateNameCheck: to.Ptr(true),
		}}, name, OriginName(o.Name))
	}
	return nil
}

// RuleName is the name of the n-th rule of a route: letters and digits only, starting with a letter.
func RuleName(route string, n int) string {
	var b strings.Builder
	for _, c := range route {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	s := b.String()
	if len(s) > 40 {
		s = s[:32] + fnv32(route)
	}
	return fmt.Sprintf("r%s%02d", s, n)
}

// routeRules writes the rules of one route.
func (r *renderer) routeRules(rt *ir.Route) error {
	conds, err := r.conditions(rt)
	if err != nil {
		return err
	}
	if len(conds) > MaxConditions {
		return fmt.Errorf("render/azure: the route needs %d match conditions; a Front Door rule holds at most %d: split its hosts, headers or methods over routes", len(conds), MaxConditions)
	}
	if why := r.unrenderable(rt); why != "" {
		if !r.o.Test {
			return errors.New("render/azure: " + why)
		}
		name := RuleName(rt.Name, 1)
		r.marks[name] = rt.Name + ": " + why
		r.addRule(rt.Name, &armcdn.Rule{Name: to.Ptr(name), Properties: &armcdn.RuleProperties{
			Order: to.Ptr(int32(len(r.rules) + 1)), Conditions: conds,
			Actions:                 []armcdn.DeliveryRuleActionAutoGeneratedClassification{requestHeader(armcdn.HeaderActionDelete, "X-Edgegw-Unrenderable", "")},
			MatchProcessingBehavior: to.Ptr(armcdn.MatchProcessingBehaviorStop),
		}})
		return nil
	}
	var acts []armcdn.DeliveryRuleActionAutoGeneratedClassification
	t := r.g.EffectiveTransform(rt)
	if rd := rt.Redirect; rd != nil {
		p, err := ParseRedirect(rd)
		if err != nil {
			return fmt.Errorf("render/azure: redirect: %w", err)
		}
		params := &armcdn.URLRedirectActionParameters{
			TypeName:            to.Ptr(armcdn.URLRedirectActionParametersTypeNameDeliveryRuleURLRedirectActionParameters),
			RedirectType:        to.Ptr(armcdn.RedirectType(p.Type)),
			DestinationProtocol: to.Ptr(armcdn.DestinationProtocol(p.Protocol)),
			CustomHostname:      to.Ptr(p.Host), CustomPath: to.Ptr(p.Path),
		}
		if p.Query != "" {
			params.CustomQueryString = to.Ptr(p.Query)
		}
		if p.Fragment != "" {
			params.CustomFragment = to.Ptr(p.Fragment)
		}
		acts = append(acts, &armcdn.URLRedirectAction{Name: to.Ptr(armcdn.DeliveryRuleActionURLRedirect), Parameters: params})
	} else {
		r.overrides++
		acts = append(acts, &armcdn.DeliveryRuleRouteConfigurationOverrideAction{
			Name: to.Ptr(armcdn.DeliveryRuleActionRouteConfigurationOverride),
			Parameters: &armcdn.RouteConfigurationOverrideActionParameters{
				TypeName: to.Ptr(armcdn.RouteConfigurationOverrideActionParametersTypeNameDeliveryRuleRouteConfigurationOverrideActionParameters),
				OriginGroupOverride: &armcdn.OriginGroupOverride{
					OriginGroup:        &armcdn.ResourceReference{ID: to.Ptr(ResourceID(TypeOriginGroup, r.s.Profile, OriginGroupName(rt.Pool)))},
					ForwardingProtocol: to.Ptr(armcdn.ForwardingProtocolMatchRequest),
				},
			},
		})
		// The origin's answer: remove, then set, then HSTS.
		for _, h := range t.Response.RemoveHeaders {
			acts = append(acts, responseHeader(armcdn.HeaderActionDelete, h, ""))
		}
		for _, h := range t.Response.SetHeaders {
			acts = append(acts, responseHeader(armcdn.HeaderActionOverwrite, h.Name, h.Value))
		}
		if r.g.HSTS != nil {
			acts = append(acts, responseHeader(armcdn.HeaderActionOverwrite, "Strict-Transport-Security", r.g.HSTS.Header()))
		}
		// The request: headers no client may send, then the transform, then the path.
		for _, h := range r.g.StripHeaders {
			acts = append(acts, requestHeader(armcdn.HeaderActionDelete, h, ""))
		}
		for _, h := range t.Request.RemoveHeaders {
			acts = append(acts, requestHeader(armcdn.HeaderActionDelete, h, ""))
		}
		for _, h := range t.Request.SetHeaders {
			acts = append(acts, requestHeader(armcdn.HeaderActionOverwrite, h.Name, h.Value))
		}
		if rw := rt.Rewrite; rw != nil {
			a, err := rewriteAction(rt)
			if err != nil {
				return err
			}
			acts = append(acts, a)
		}
	}
	// A rule holds five actions: the route's actions spread over rules with the same conditions, all but
	// the last continuing. Conditions read the request as the actions before them left it, so no earlier
	// rule may change a header the conditions read.
	read := map[string]bool{}
	for _, h := range rt.Match.Headers {
		read[strings.ToLower(h.Name)] = true
	}
	chunks := (len(acts) + MaxActions - 1) / MaxActions
	for c := 0; c < chunks; c++ {
		part := acts[c*MaxActions : min(len(acts), (c+1)*MaxActions)]
		if c < chunks-1 {
			for _, a := range part {
				if h, ok := a.(*armcdn.DeliveryRuleRequestHeaderAction); ok && read[strings.ToLower(*h.Parameters.HeaderName)] {
					return fmt.Errorf("render/azure: the route's %d actions need %d rules, and an earlier one changes %s, which the route's conditions read: the later rules would not match", len(acts), chunks, *h.Parameters.HeaderName)
				}
			}
		}
		behaviour := armcdn.MatchProcessingBehaviorContinue
		if c == chunks-1 {
			behaviour = armcdn.MatchProcessingBehaviorStop
		}
		r.addRule(rt.Name, &armcdn.Rule{Name: to.Ptr(RuleName(rt.Name, c+1)), Properties: &armcdn.RuleProperties{
			Order: to.Ptr(int32(len(r.rules) + 1)), Conditions: conds, Actions: part,
			MatchProcessingBehavior: to.Ptr(behaviour),
		}})
	}
	return nil
}

// unrenderable says why Front Door cannot carry a route out at all, or "".
func (r *renderer) unrenderable(rt *ir.Route) string {
	switch {
	case rt.Respond != nil:
		return "Front Door's rules engine cannot write a synthetic response"
	case r.g.AuthPolicy(rt.Auth) != nil && !slices.Contains(r.s.Companions, "origin-auth"):
		return "Front Door cannot verify a JWT (add origin-auth to targets.azure.companions to let the origin verify it)"
	case r.g.RateLimit(rt.RateLimit) != nil:
		return "a rate limit needs a WAF custom rate-limit rule, which is not the IR's sliding window: remove the route's rate_limit for this target"
	}
	for _, m := range rt.Match.Methods {
		if !slices.Contains(Methods, m) {
			return fmt.Sprintf("the RequestMethod condition takes %s, not %s", strings.Join(Methods, ", "), m)
		}
	}
	if rt.Match.Kind == ir.PathRegex {
		if _, err := RegexWithoutSlash(rt.Match.Path); err != nil {
			return err.Error()
		}
	}
	if rd := rt.Redirect; rd != nil {
		if _, err := ParseRedirect(rd); err != nil {
			return "redirect: " + err.Error()
		}
	}
	if rw := rt.Rewrite; rw != nil && rw.Path != "" && rt.Match.Kind != ir.PathExact {
		return "a UrlRewrite replaces a prefix; a whole-path rewrite is only written for an exact route"
	}
	if !r.o.Test {
		if t := r.g.EffectiveTransform(rt); t.RequestIDHeader != "" {
			return "Front Door cannot put a fresh request id in " + t.RequestIDHeader
		}
	}
	return ""
}

func rewriteAction(rt *ir.Route) (armcdn.DeliveryRuleActionAutoGeneratedClassification, error) {
	rw := rt.Rewrite
	params := &armcdn.URLRewriteActionParameters{TypeName: to.Ptr(armcdn.URLRewriteActionParametersTypeNameDeliveryRuleURLRewriteActionParameters)}
	switch {
	case rw.Path != "":
		params.SourcePattern, params.Destination, params.PreserveUnmatchedPath = to.Ptr(rt.Match.Path), to.Ptr(rw.Path), to.Ptr(false)
	case rw.Prefix != "" && (rt.Match.Kind == ir.PathPrefix || rt.Match.Kind == ir.PathExact):
		params.SourcePattern, params.Destination, params.PreserveUnmatchedPath = to.Ptr(rt.Match.Path), to.Ptr(rw.Prefix), to.Ptr(true)
	default:
		return nil, fmt.Errorf("render/azure: a UrlRewrite replaces a literal prefix; a %s route has none", rt.Match.Kind)
	}
	return &armcdn.URLRewriteAction{Name: to.Ptr(armcdn.DeliveryRuleActionURLRewrite), Parameters: params}, nil
}

func requestHeader(op armcdn.HeaderAction, name, value string) *armcdn.DeliveryRuleRequestHeaderAction {
	return &armcdn.DeliveryRuleRequestHeaderAction{Name: to.Ptr(armcdn.DeliveryRuleActionModifyRequestHeader), Parameters: headerParams(op, name, value)}
}

func responseHeader(op armcdn.HeaderAction, name, value string) *armcdn.DeliveryRuleResponseHeaderAction {
	return &armcdn.DeliveryRuleResponseHeaderAction{Name: to.Ptr(armcdn.DeliveryRuleActionModifyResponseHeader), Parameters: headerParams(op, name, value)}
}

func headerParams(op armcdn.HeaderAction, name, value string) *armcdn.HeaderActionParameters {
	p := &armcdn.HeaderActionParameters{TypeName: to.Ptr(armcdn.HeaderActionParametersTypeNameDeliveryRuleHeaderActionParameters), HeaderAction: to.Ptr(op), HeaderName: to.Ptr(name)}
	if op != armcdn.HeaderActionDelete {
		p.Value = to.Ptr(value)
	}
	return p
}

// conditions writes a route's match as rule conditions: UrlPath values WITHOUT the leading slash.
func (r *renderer) conditions(rt *ir.Route) ([]armcdn.DeliveryRuleConditionClassification, error) {
	var out []armcdn.DeliveryRuleConditionClassification
	path := func(op armcdn.URLPathOperator, values ...string) {
		out = append(out, &armcdn.DeliveryRuleURLPathCondition{Name: to.Ptr(armcdn.MatchVariableURLPath), Parameters: &armcdn.URLPathMatchConditionParameters{
			TypeName: to.Ptr(armcdn.URLPathMatchConditionParametersTypeNameDeliveryRuleURLPathMatchConditionParameters),
			Operator: to.Ptr(op), MatchValues: to.SliceOfPtrs(values...), NegateCondition: to.Ptr(false),
			Transforms: []*armcdn.Transform{},
		}})
	}
	m := rt.Match
	switch m.Kind {
	case ir.PathExact:
		path(armcdn.URLPathOperatorEqual, strings.TrimPrefix(m.Path, "/"))
	case ir.PathPrefix:
		p := strings.TrimPrefix(m.Path, "/")
		switch {
		case p == "":
			// prefix / is every path: no condition.
		case strings.HasSuffix(p, "/"):
			path(armcdn.URLPathOperatorBeginsWith, p)
		default:
			// One condition can hold one operator: the segment boundary is a RegEx.
			path(armcdn.URLPathOperatorRegEx, "^"+regexp.QuoteMeta(p)+"(?:/.*)?$")
		}
	case ir.PathTemplate:
		var parts []string
		for _, s := range m.TemplateSegments() {
			if s == "" {
				continue
			}
			if ir.IsTemplateVar(s) {
				parts = append(parts, "[^/]+")
			} else {
				parts = append(parts, regexp.QuoteMeta(s))
			}
		}
		path(armcdn.URLPathOperatorRegEx, "^"+strings.Join(parts, "/")+"$")
	case ir.PathRegex:
		re, err := RegexWithoutSlash(m.Path)
		if err != nil {
			if !r.o.Test {
				return nil, fmt.Errorf("render/azure: %w", err)
			}
			re = "^(?:" + strings.TrimPrefix(m.Path, "/") + ")$" // kept in place; the rule is marked
		}
		path(armcdn.URLPathOperatorRegEx, re)
	case ir.PathFallback:
	}
	if len(m.Hosts) > 0 {
		out = append(out, &armcdn.DeliveryRuleHostNameCondition{Name: to.Ptr(armcdn.MatchVariableHostName), Parameters: &armcdn.HostNameMatchConditionParameters{
			TypeName: to.Ptr(armcdn.HostNameMatchConditionParametersTypeNameDeliveryRuleHostNameConditionParameters),
			Operator: to.Ptr(armcdn.HostNameOperatorEqual), MatchValues: to.SliceOfPtrs(m.Hosts...), NegateCondition: to.Ptr(false),
			Transforms: []*armcdn.Transform{to.Ptr(armcdn.TransformLowercase)},
		}})
	}
	for _, h := range m.Headers {
		out = append(out, &armcdn.DeliveryRuleRequestHeaderCondition{Name: to.Ptr(armcdn.MatchVariableRequestHeader), Parameters: &armcdn.RequestHeaderMatchConditionParameters{
			TypeName: to.Ptr(armcdn.RequestHeaderMatchConditionParametersTypeNameDeliveryRuleRequestHeaderConditionParameters),
			Operator: to.Ptr(armcdn.RequestHeaderOperatorEqual), Selector: to.Ptr(h.Name), MatchValues: to.SliceOfPtrs(h.Value),
			NegateCondition: to.Ptr(false), Transforms: []*armcdn.Transform{},
		}})
	}
	if len(m.Methods) > 0 {
		var vals []*armcdn.RequestMethodMatchConditionParametersMatchValuesItem
		for _, mv := range m.Methods {
			if slices.Contains(Methods, mv) || r.o.Test {
				vals = append(vals, to.Ptr(armcdn.RequestMethodMatchConditionParametersMatchValuesItem(mv)))
			}
		}
		out = append(out, &armcdn.DeliveryRuleRequestMethodCondition{Name: to.Ptr(armcdn.MatchVariableRequestMethod), Parameters: &armcdn.RequestMethodMatchConditionParameters{
			TypeName: to.Ptr(armcdn.RequestMethodMatchConditionParametersTypeNameDeliveryRuleRequestMethodConditionParameters),
			Operator: to.Ptr(armcdn.RequestMethodOperatorEqual), MatchValues: vals, NegateCondition: to.Ptr(false),
		}})
	}
	return out, nil
}

// Patterns returns a route's patternsToMatch: P for an exact route, P and P/* for a prefix, /* otherwise.
func Patterns(rt *ir.Route) []string {
	switch rt.Match.Kind {
	case ir.PathExact:
		return []string{rt.Match.Path}
	case ir.PathPrefix:
		p := strings.TrimSuffix(rt.Match.Path, "/")
		if p == "" {
			return []string{"/*"}
		}
		if strings.HasSuffix(rt.Match.Path, "/") {
			return []string{rt.Match.Path, p + "/*"}
		}
		return []string{p, p + "/*"}
	}
	return []string{"/*"}
}

// routes writes the endpoint's routes: the patterns of every IR route, grouped by the origin group a
// request of the pattern gets if no rule matches. Every route runs the release's rule set, which decides.
func (r *renderer) routes(ruleSet string, domains []*armcdn.ActivatedResourceReference) error {
	type group struct {
		pool     string
		patterns []string
	}
	var groups []*group
	seen := map[string]bool{}
	defaultPool := ""
	for _, p := range r.g.Pools {
		defaultPool = p.Name
		break
	}
	// A pattern's origin group is that of the first route without conditions that asks for it, else of the
	// first route that does: the group a request gets when no rule matches.
	order := make([]*ir.Route, 0, len(r.g.Routes))
	for pass := 0; pass < 2; pass++ {
		for i := range r.g.Routes {
			if rt := &r.g.Routes[i]; (rt.Match.Conditions() == 0) == (pass == 0) {
				order = append(order, rt)
			}
		}
	}
	for _, rt := range order {
		pool := rt.Pool
		if pool == "" {
			pool = defaultPool
		}
		for _, p := range Patterns(rt) {
			if seen[strings.ToLower(p)] {
				continue
			}
			seen[strings.ToLower(p)] = true
			var gr *group
			for _, x := range groups {
				if x.pool == pool {
					gr = x
				}
			}
			if gr == nil {
				gr = &group{pool: pool}
				groups = append(groups, gr)
			}
			gr.patterns = append(gr.patterns, p)
		}
	}
	metric := 0
	var formula []string
	nd := max(1, len(domains))
	for _, gr := range groups {
		if gr.pool == "" {
			return errors.New("render/azure: the manifest has no pool: a Front Door route needs an origin group")
		}
		name := ResourceName("route", gr.pool)
		props := &armcdn.RouteProperties{
			PatternsToMatch:     to.SliceOfPtrs(gr.patterns...),
			OriginGroup:         &armcdn.ResourceReference{ID: to.Ptr(ResourceID(TypeOriginGroup, r.s.Profile, OriginGroupName(gr.pool)))},
			RuleSets:            []*armcdn.ResourceReference{{ID: to.Ptr(ResourceID(TypeRuleSet, r.s.Profile, ruleSet))}},
			SupportedProtocols:  []*armcdn.AFDEndpointProtocols{to.Ptr(armcdn.AFDEndpointProtocolsHTTP), to.Ptr(armcdn.AFDEndpointProtocolsHTTPS)},
			HTTPSRedirect:       to.Ptr(armcdn.HTTPSRedirectDisabled),
			ForwardingProtocol:  to.Ptr(armcdn.ForwardingProtocolMatchRequest),
			EnabledState:        to.Ptr(armcdn.EnabledStateEnabled),
			LinkToDefaultDomain: to.Ptr(armcdn.LinkToDefaultDomainDisabled),
			CustomDomains:       domains,
		}
		if len(domains) == 0 {
			props.LinkToDefaultDomain = to.Ptr(armcdn.LinkToDefaultDomainEnabled)
		}
		r.add(TypeRoute, &armcdn.Route{Type: to.Ptr(TypeRoute), Properties: props}, r.s.Endpoint, name)
		m := CompositeMetric(nd, nd, len(gr.patterns), r.overrides)
		metric += m
		formula = append(formula, fmt.Sprintf("%s: (%d+%d)×(%d+%d)=%d", name, nd, nd, len(gr.patterns), r.overrides, m))
	}
	if metric > MaxCompositeMetric {
		return fmt.Errorf("render/azure: the composite route metric is %d, over Front Door's limit of %d per profile: per route, HTTP domains × (paths + route overrides) + HTTPS domains × (paths + route overrides), where every rule with RouteConfigurationOverride in the route's rule set is an override: %s; serve fewer domains per endpoint or merge routes that share a pool",
			metric, MaxCompositeMetric, strings.Join(formula, "; "))
	}
	return nil
}

// CompositeMetric is Front Door's composite route metric of one route (front-door-routing-limits): HTTP
// domains × paths + HTTPS domains × paths, plus the composite override metric, HTTP domains × overrides +
// HTTPS domains × overrides.
func CompositeMetric(httpDomains, httpsDomains, paths, overrides int) int {
	return httpDomains*paths + httpsDomains*paths + httpDomains*overrides + httpsDomains*overrides
}

// Stats are the figures of a rendered template that Front Door limits.
type Stats struct {
	Rules           int
	Routes          int
	Overrides       int
	CompositeMetric int
	MaxConditions   int
	MaxActions      int
}

// StatsOf computes the limited figures of a bundle.
func StatsOf(b *Bundle) Stats {
	var s Stats
	for _, rules := range b.Rules {
		s.Rules += len(rules)
		for _, rule := range rules {
			s.MaxConditions = max(s.MaxConditions, len(rule.Properties.Conditions))
			s.MaxActions = max(s.MaxActions, len(rule.Properties.Actions))
			for _, a := range rule.Properties.Actions {
				if _, ok := a.(*armcdn.DeliveryRuleRouteConfigurationOverrideAction); ok {
					s.Overrides++
				}
			}
		}
	}
	for _, rt := range b.Routes {
		s.Routes++
		d := max(1, len(rt.Properties.CustomDomains))
		var httpD, httpsD int
		for _, p := range rt.Properties.SupportedProtocols {
			switch *p {
			case armcdn.AFDEndpointProtocolsHTTP:
				httpD = d
			case armcdn.AFDEndpointProtocolsHTTPS:
				httpsD = d
			}
		}
		n := 0
		for _, ref := range rt.Properties.RuleSets {
			for _, rule := range b.Rules[LastName(*ref.ID)] {
				for _, a := range rule.Properties.Actions {
					if _, ok := a.(*armcdn.DeliveryRuleRouteConfigurationOverrideAction); ok {
						n++
					}
				}
			}
		}
		s.CompositeMetric += CompositeMetric(httpD, httpsD, len(rt.Properties.PatternsToMatch), n)
	}
	return s
}

// RegexWithoutSlash turns the IR's regex (matched on the whole path) into the anchored RegEx a UrlPath
// condition matches on the path without its leading slash, or says why it cannot.
func RegexWithoutSlash(re string) (string, error) {
	p, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return "", fmt.Errorf("regex %q does not parse: %v", re, err)
	}
	if n := p.MaxCap(); n > 0 {
		return "", fmt.Errorf("regex %q has %d capturing group(s); Front Door's RegEx has no captures: write (?:...) instead", re, n)
	}
	body := strings.TrimPrefix(re, "^")
	if !strings.HasPrefix(body, "/") {
		return "", fmt.Errorf("regex %q does not start with /; a UrlPath value is the path without its leading slash, so the regex must begin with a literal /", re)
	}
	body = strings.TrimSuffix(body[1:], "$")
	return "^(?:" + body + ")$", nil
}

// Redirect is a UrlRedirect action's parameters as the IR's redirect sets them.
type Redirect struct {
	Type     string // Moved, Found, TemporaryRedirect, PermanentRedirect
	Protocol string // Http or Https
	Host     string
	Path     string
	Query    string // "" keeps the client's query
	Fragment string
}

var redirectTypes = map[int]string{301: "Moved", 302: "Found", 307: "TemporaryRedirect", 308: "PermanentRedirect"}

// RedirectStatus returns the status of a redirectType (0 for none).
func RedirectStatus(typ string) int {
	for st, t := range redirectTypes {
		if t == typ {
			return st
		}
	}
	return 0
}

// ParseRedirect says how a UrlRedirect action writes the IR's redirect, or why it cannot: Front Door keeps
// the client's query string when the custom query string is empty, and replaces it otherwise.
func ParseRedirect(rd *ir.Redirect) (Redirect, error) {
	typ := redirectTypes[rd.Status]
	if typ == "" {
		return Redirect{}, fmt.Errorf("status %d has no redirectType; use 301, 302, 307 or 308", rd.Status)
	}
	u, err := url.Parse(rd.Location)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return Redirect{}, fmt.Errorf("Location %q is not an absolute http(s) URL; a UrlRedirect writes the protocol and host it is given", rd.Location)
	}
	switch {
	case rd.KeepQuery && u.RawQuery != "":
		return Redirect{}, fmt.Errorf("Location %q has a query and keep_query is set; Front Door either keeps the client's query or replaces it, it cannot join both", rd.Location)
	case !rd.KeepQuery && u.RawQuery == "":
		return Redirect{}, fmt.Errorf("Location %q has no query and keep_query is off; an empty custom query string keeps the client's query: set keep_query: true", rd.Location)
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	proto := "Http"
	if u.Scheme == "https" {
		proto = "Https"
	}
	return Redirect{Type: typ, Protocol: proto, Host: u.Host, Path: p, Query: u.RawQuery, Fragment: u.EscapedFragment()}, nil
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("render/azure: %w", err)
	}
	return buf.Bytes(), nil
}

func (r *renderer) artifacts() ([]render.Artifact, error) {
	data, err := marshal(Template{Schema: DeploymentTemplateSchema, ContentVersion: "1.0.0.0", Resources: r.resources})
	if err != nil {
		return nil, err
	}
	out := []render.Artifact{{Target: Name, Path: TemplatePath, MediaType: "application/json", Data: data}}
	if r.o.Test && len(r.marks) > 0 {
		m, err := marshal(r.marks)
		if err != nil {
			return nil, err
		}
		out = append(out, render.Artifact{Target: Name, Path: TestMarksPath, MediaType: "application/json", Data: m})
	}
	return out, nil
}
