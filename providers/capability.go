package providers

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
)

// Feature is something a route or the gateway may need a target to enforce.
type Feature string

// Features, in the order the capability matrix prints them.
const (
	MatchExact     Feature = "match.exact"
	MatchPrefix    Feature = "match.prefix"
	MatchTemplate  Feature = "match.template"
	MatchRegex     Feature = "match.regex"
	MatchHeader    Feature = "match.header"
	MatchMethod    Feature = "match.method"
	MatchHost      Feature = "match.host"
	Respond        Feature = "respond"
	Redirect       Feature = "redirect"
	Rewrite        Feature = "rewrite"
	JWTHS256       Feature = "auth.jwt.hs256"
	JWTRS256       Feature = "auth.jwt.rs256"
	JWTES256       Feature = "auth.jwt.es256"
	JWTOther       Feature = "auth.jwt.other"
	RateLimitSub   Feature = "rate_limit.jwt_sub"
	RateLimitIP    Feature = "rate_limit.ip"
	RateLimitHdr   Feature = "rate_limit.header"
	Failover       Feature = "failover"
	Breaker        Feature = "failover.breaker"
	CORS           Feature = "cors"
	HSTS           Feature = "hsts"
	Transform      Feature = "transform"
	NativeRollback Feature = "rollback.native"
	// Behaviour every manifest gets, whatever it says: a target must provide these to deploy any manifest.
	PathNormalize   Feature = "path.normalize"   // fail-closed normalization before matching (400 on attack paths)
	SyntheticErrors Feature = "errors.synthetic" // the IR's edge error responses, byte for byte
	HSTSOnErrors    Feature = "hsts.errors"      // HSTS on the edge's own answers too, not only proxied ones
	// HSTSOnUpstreamErrors is HSTS on the edge's 502 and 504 for an origin it could not reach or that timed
	// out: needed by every manifest with tls.hsts, since any origin may fail.
	HSTSOnUpstreamErrors Feature = "hsts.upstream_errors"
	// ResponseOnOriginErrors is the response side on an origin's answer of 400 or more: the response
	// transform, the CORS headers and the Location mapping of a rewrite, as on any other answer. Needed
	// by a gateway with CORS or a response transform, and by a route that rewrites or transforms the
	// response, when the answer comes from an origin.
	ResponseOnOriginErrors Feature = "response.origin_errors"
)

// Always lists the features every manifest needs.
var Always = []Feature{PathNormalize, SyntheticErrors, HSTSOnErrors}

// AllFeatures lists every feature in matrix order.
var AllFeatures = []Feature{
	MatchExact, MatchPrefix, MatchTemplate, MatchRegex, MatchHeader, MatchMethod, MatchHost,
	Respond, Redirect, Rewrite, JWTHS256, JWTRS256, JWTES256, JWTOther,
	RateLimitSub, RateLimitIP, RateLimitHdr, Failover, Breaker, CORS, HSTS, Transform, NativeRollback,
	PathNormalize, SyntheticErrors, HSTSOnErrors, HSTSOnUpstreamErrors, ResponseOnOriginErrors,
}

// Support says whether a target enforces a feature natively, and why. Every entry carries a reason. A
// supported feature may be limited: each Constraint must hold for every use of it in the manifest.
type Support struct {
	Supported   bool         `json:"supported"`
	Reason      string       `json:"reason"`
	Constraints []Constraint `json:"constraints,omitempty"`
	// Companion names an opt-in companion (listed under the target's `companions:`) that lifts a Cannot,
	// e.g. "lambda-edge-jwt" on CloudFront.
	Companion       string `json:"companion,omitempty"`
	CompanionReason string `json:"companion_reason,omitempty"`
	// CompanionConstraints limit what the companion enforces: with the companion opted in, each must hold
	// for every use of the feature (an AWS WAF rate-based rule takes some windows only).
	CompanionConstraints []Constraint `json:"companion_constraints,omitempty"`
}

// Can declares native support, with the reason (how the target does it).
func Can(why string) Support { return Support{Supported: true, Reason: why} }

// Cannot declares that the target cannot enforce the feature natively, with the reason.
func Cannot(why string) Support { return Support{Reason: why} }

// Limited declares support within constraints (at most N conditions, some keys or windows only, …).
func Limited(why string, cs ...Constraint) Support {
	return Support{Supported: true, Reason: why, Constraints: cs}
}

// Constraint is one parametric limit of a supported feature, e.g. "windows of 60s or 300s only".
type Constraint struct {
	// Limit says the limit to a reader, as the matrix prints it.
	Limit string `json:"limit"`
	// Check returns why one use breaks the limit, or "". route is nil for a gateway-wide feature.
	Check func(g *ir.Gateway, route *ir.Route) string `json:"-"`
}

// MaxConditions limits the non-path conditions (hosts, headers, methods) of one route.
func MaxConditions(n int) Constraint {
	return Constraint{Limit: fmt.Sprintf("at most %d conditions per route", n), Check: func(_ *ir.Gateway, r *ir.Route) string {
		if r != nil && r.Match.Conditions() > n {
			return fmt.Sprintf("the route has %d conditions (hosts, headers, methods); the limit is %d", r.Match.Conditions(), n)
		}
		return ""
	}}
}

// FailoverMethods limits failover to routes restricted to these methods (CloudFront origin groups fail
// over GET, HEAD and OPTIONS only).
func FailoverMethods(methods ...string) Constraint {
	return Constraint{Limit: "failover for " + strings.Join(methods, "/") + " only", Check: func(_ *ir.Gateway, r *ir.Route) string {
		if r == nil {
			return ""
		}
		if len(r.Match.Methods) == 0 {
			return "the route accepts every method; restrict it with methods: [" + strings.Join(methods, ", ") + "]"
		}
		for _, m := range r.Match.Methods {
			if !slices.Contains(methods, m) {
				return "the route accepts " + m
			}
		}
		return ""
	}}
}

// RateLimitWindows limits rate-limit windows to these durations.
func RateLimitWindows(windows ...time.Duration) Constraint {
	var names []string
	for _, w := range windows {
		names = append(names, w.String())
	}
	return Constraint{Limit: "windows of " + strings.Join(names, ", ") + " only", Check: func(g *ir.Gateway, r *ir.Route) string {
		if r == nil {
			return ""
		}
		if rl := g.RateLimit(r.RateLimit); rl != nil && !slices.Contains(windows, rl.Window.D()) {
			return fmt.Sprintf("rate limit %s has a window of %s; use one of %s", rl.Name, rl.Window, strings.Join(names, ", "))
		}
		return ""
	}}
}

// JWTAlgorithms limits the algorithms a route's auth policy may list to these (for the catch-all
// auth.jwt.other feature: a target may verify RS384 but not EdDSA).
func JWTAlgorithms(algs ...string) Constraint {
	return Constraint{Limit: "algorithms " + strings.Join(algs, ", ") + " only", Check: func(g *ir.Gateway, r *ir.Route) string {
		if r == nil {
			return ""
		}
		if ap := g.AuthPolicy(r.Auth); ap != nil && ap.JWT != nil {
			for _, a := range ap.JWT.Algorithms {
				if a != "HS256" && a != "RS256" && a != "ES256" && !slices.Contains(algs, a) {
					return fmt.Sprintf("auth policy %s allows %s; this target verifies %s", ap.Name, a, strings.Join(algs, ", "))
				}
			}
		}
		return ""
	}}
}

// MaxPoolOrigins limits the origins of a failover pool.
func MaxPoolOrigins(n int) Constraint {
	return Constraint{Limit: fmt.Sprintf("at most %d origins per pool", n), Check: func(g *ir.Gateway, r *ir.Route) string {
		if r == nil {
			return ""
		}
		if p := g.Pool(r.Pool); p != nil && len(p.Origins) > n {
			return fmt.Sprintf("pool %s has %d origins; the limit is %d", p.Name, len(p.Origins), n)
		}
		return ""
	}}
}

// Unless names a companion that, when the manifest opts into it, enforces the feature instead; the
// companion may be limited by constraints, checked like a Limited entry's once the manifest opts in.
func (s Support) Unless(companion, how string, cs ...Constraint) Support {
	s.Companion, s.CompanionReason, s.CompanionConstraints = companion, how, cs
	return s
}

// MinRateLimit limits rate limits to at least n requests per window.
func MinRateLimit(n int) Constraint {
	return Constraint{Limit: fmt.Sprintf("limits of at least %d requests", n), Check: func(g *ir.Gateway, r *ir.Route) string {
		if r == nil {
			return ""
		}
		if rl := g.RateLimit(r.RateLimit); rl != nil && rl.Limit < n {
			return fmt.Sprintf("rate limit %s allows %d requests per %s; raise it to %d or more", rl.Name, rl.Limit, rl.Window, n)
		}
		return ""
	}}
}

// broken returns the limits of cs that one use breaks, each with why.
func broken(cs []Constraint, g *ir.Gateway, r *ir.Route) []string {
	var out []string
	for _, c := range cs {
		if why := c.Check(g, r); why != "" {
			out = append(out, c.Limit+": "+why)
		}
	}
	return out
}

// Capabilities is a target's table. A feature missing from the table is treated as Cannot("not declared").
type Capabilities map[Feature]Support

// Get returns the entry for f.
func (c Capabilities) Get(f Feature) Support {
	if s, ok := c[f]; ok {
		return s
	}
	return Cannot("not declared by the provider")
}

// Finding is a feature the manifest needs and the target cannot enforce. validate prints it at Pos.
type Finding struct {
	Target string `json:"target"`
	Route  string `json:"route,omitempty"` // empty for a gateway-wide feature
	// Section is the manifest section a gateway-wide feature comes from ("cors", "tls.hsts", "transform").
	Section string  `json:"section,omitempty"`
	Pos     ir.Pos  `json:"pos"`
	Feature Feature `json:"feature"`
	Reason  string  `json:"reason"`
	// Companion, when set, is the companion the manifest can opt into to fix the finding.
	Companion string `json:"companion,omitempty"`
}

func (f Finding) String() string {
	where := "gateway"
	if f.Route != "" {
		where = "route " + f.Route
	}
	msg := fmt.Sprintf("%s: %s needs %s, which %s cannot enforce: %s", f.Pos, where, f.Feature, f.Target, f.Reason)
	if f.Companion != "" {
		msg += fmt.Sprintf(" (add %q to targets.%s.companions to use the documented companion)", f.Companion, f.Target)
	}
	return msg
}

// CheckCapabilities returns what g needs that target cannot enforce, in route order. It needs no
// credentials and no network: `edgegw validate --target X` calls it. An unknown target is one finding.
func CheckCapabilities(g *ir.Gateway, target string) []Finding {
	reg, ok := Lookup(target)
	if !ok {
		return []Finding{{Target: target, Feature: "target", Reason: fmt.Sprintf(
			"no provider named %q is built into this edgegw (known: %s)", target, strings.Join(Names(), ", "))}}
	}
	if reg.Capabilities == nil {
		return []Finding{{Target: target, Feature: "target", Pos: g.SectionPos("targets." + target), Reason: reg.NotBuiltError("be checked").Error()}}
	}
	companions := TargetCompanions(g, target)
	var out []Finding
	sections := map[Feature]string{HSTS: "tls.hsts", HSTSOnUpstreamErrors: "tls.hsts", CORS: "cors", Transform: "transform"}
	if g.CORS != nil {
		sections[ResponseOnOriginErrors] = "cors"
	} else {
		sections[ResponseOnOriginErrors] = "transform"
	}
	for _, f := range Always {
		sections[f] = "targets." + target
	}
	check := func(route string, pos ir.Pos, f Feature) {
		s := reg.Capabilities.Get(f)
		reason, companion := s.Reason, s.Companion
		switch {
		case s.Companion != "" && slices.Contains(companions, s.Companion):
			bad := broken(s.CompanionConstraints, g, g.Route(route))
			if len(bad) == 0 {
				return
			}
			// Opted in already: the fix is within the companion's limits, not another companion.
			reason, companion = "the "+s.Companion+" companion is limited to "+strings.Join(bad, "; "), ""
		case s.Supported:
			bad := broken(s.Constraints, g, g.Route(route))
			if len(bad) == 0 {
				return
			}
			reason = s.Reason + ", limited to " + strings.Join(bad, "; ")
		}
		fd := Finding{Target: target, Route: route, Pos: pos, Feature: f, Reason: reason, Companion: companion}
		if route == "" {
			fd.Section = sections[f]
		}
		out = append(out, fd)
	}
	// A manifest that does not name the target still gets the finding at a line: its targets, or its routes.
	always := g.SectionPos("targets." + target)
	for _, sec := range []string{"targets", "routes"} {
		if always.Line == 0 {
			always = g.SectionPos(sec)
		}
	}
	for _, f := range Always {
		check("", always, f)
	}
	// A gateway-wide feature is found at the section that asks for it.
	if g.HSTS != nil {
		check("", g.SectionPos("tls.hsts"), HSTS)
		check("", g.SectionPos("tls.hsts"), HSTSOnUpstreamErrors)
	}
	if g.CORS != nil {
		check("", g.SectionPos("cors"), CORS)
	}
	if len(g.Transform.Request.RemoveHeaders)+len(g.Transform.Request.SetHeaders)+
		len(g.Transform.Response.RemoveHeaders)+len(g.Transform.Response.SetHeaders) > 0 || g.Transform.RequestIDHeader != "" {
		check("", g.SectionPos("transform"), Transform)
	}
	if proxies(g) {
		switch {
		case g.CORS != nil:
			check("", g.SectionPos("cors"), ResponseOnOriginErrors)
		case responseEdits(g.Transform):
			check("", g.SectionPos("transform"), ResponseOnOriginErrors)
		}
	}
	for _, r := range g.Routes {
		for _, f := range RouteFeatures(g, r) {
			check(r.Name, r.Pos, f)
		}
	}
	return out
}

// RouteFeatures lists what one route needs a target to enforce.
func RouteFeatures(g *ir.Gateway, r ir.Route) []Feature {
	var fs []Feature
	switch r.Match.Kind {
	case ir.PathExact:
		fs = append(fs, MatchExact)
	case ir.PathPrefix:
		fs = append(fs, MatchPrefix)
	case ir.PathTemplate:
		fs = append(fs, MatchTemplate)
	case ir.PathRegex:
		fs = append(fs, MatchRegex)
	}
	if len(r.Match.Headers) > 0 {
		fs = append(fs, MatchHeader)
	}
	if len(r.Match.Methods) > 0 {
		fs = append(fs, MatchMethod)
	}
	if len(r.Match.Hosts) > 0 {
		fs = append(fs, MatchHost)
	}
	if r.Respond != nil {
		fs = append(fs, Respond)
	}
	if r.Redirect != nil {
		fs = append(fs, Redirect)
	}
	if r.Rewrite != nil {
		fs = append(fs, Rewrite)
	}
	if r.Transform != nil {
		fs = append(fs, Transform)
	}
	if r.Pool != "" && (r.Rewrite != nil || (r.Transform != nil && responseEdits(*r.Transform))) {
		fs = append(fs, ResponseOnOriginErrors)
	}
	if ap := g.AuthPolicy(r.Auth); ap != nil && ap.JWT != nil {
		for _, alg := range ap.JWT.Algorithms {
			switch alg {
			case "HS256":
				fs = append(fs, JWTHS256)
			case "RS256":
				fs = append(fs, JWTRS256)
			case "ES256":
				fs = append(fs, JWTES256)
			default:
				fs = append(fs, JWTOther)
			}
		}
	}
	if rl := g.RateLimit(r.RateLimit); rl != nil {
		switch kind, _ := rl.KeyKind(); kind {
		case "jwt.sub":
			fs = append(fs, RateLimitSub)
		case "ip":
			fs = append(fs, RateLimitIP)
		default:
			fs = append(fs, RateLimitHdr)
		}
	}
	if p := g.Pool(r.Pool); p != nil && p.Failover != nil {
		fs = append(fs, Failover)
		if p.Failover.Breaker != nil {
			fs = append(fs, Breaker)
		}
	}
	return dedupe(fs)
}

// proxies reports whether any route of g sends requests to an origin.
func proxies(g *ir.Gateway) bool {
	for _, r := range g.Routes {
		if r.Pool != "" {
			return true
		}
	}
	return false
}

// responseEdits reports whether t changes response headers.
func responseEdits(t ir.Transform) bool {
	return len(t.Response.RemoveHeaders)+len(t.Response.SetHeaders) > 0
}

func dedupe(fs []Feature) []Feature {
	var out []Feature
	for _, f := range fs {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// TargetCompanions returns the companions the manifest opted target into.
func TargetCompanions(g *ir.Gateway, target string) []string {
	t, _ := g.Targets.Lookup(target)
	return t.Companions
}
