package azure

import (
	"fmt"
	"slices"
	"strings"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	azrender "github.com/edgegw/edgegw/render/azure"
)

// Companions the target offers.
const (
	// OriginNormalize leaves path normalization to the origin: Front Door routes on the path as the client sent
	// it and forwards it unchanged, so the origin must refuse what the reference refuses (%2F, %5C, %00,
	// double encodings, ';') and resolve dot segments itself. Without it every manifest is refused.
	OriginNormalize = "origin-normalize"
	// PlatformErrors accepts Front Door's own answers where the reference writes the IR's error table: an
	// unknown host, a path no route matches, an unreachable origin, each without HSTS. Without it every
	// manifest is refused.
	PlatformErrors = "platform-errors"
	// OriginAuth delegates token verification to the origin: Front Door forwards Authorization as the
	// client sent it and forwards no claims. `plan` states it.
	OriginAuth = "origin-auth"
)

// Methods are the values the rules engine's RequestMethod condition takes (no PATCH, no CONNECT).
var Methods = azrender.Methods

// capabilities is what Azure Front Door (Standard/Premium) enforces with routes, one rule set per
// release and origin groups with health probes, and what it cannot. The conformance suite skips a case
// only on a Cannot or a broken constraint, so every Can and Limited entry must reproduce the reference
// gateway's behaviour for each case of its feature; where Front Door's own behaviour differs, the entry
// says Cannot and why.
var capabilities = providers.Capabilities{
	providers.MatchExact: providers.Limited("a route pattern without a wildcard, and a rule whose UrlPath condition is Equal to the path without its leading slash",
		fallbackRoute()),
	providers.MatchPrefix: providers.Limited("route patterns P and P/*, and a rule whose UrlPath condition is the RegEx ^P(?:/.*)?$ on the path without its leading slash (BeginsWith for a prefix ending in /), so a prefix keeps segment boundaries",
		fallbackRoute()),
	providers.MatchTemplate: providers.Limited("a /* route and a rule whose UrlPath condition is a RegEx of the template, one [^/]+ per {name}",
		fallbackRoute()),
	providers.MatchRegex: providers.Limited("a /* route and a rule whose UrlPath condition is the anchored RegEx, matched on the path without its leading slash",
		regexForm(), fallbackRoute()),
	providers.MatchHeader: providers.Limited("a RequestHeader condition (operator Equal) per header, in the route's rule; the canary's rule carries a RouteConfigurationOverride to its pool's origin group",
		fallbackRoute()),
	providers.MatchMethod: providers.Limited("a RequestMethod condition with the route's methods as its values (OR)",
		methodValues(), fallbackRoute()),
	providers.MatchHost: providers.Cannot("a HostName condition can select exact hosts, but a wildcard custom domain covers any number of labels where the IR's covers one, no host label can be set as the tenant header, and a host Front Door does not serve is answered with its own 400 page"),
	providers.Respond:   providers.Cannot("the rules engine cannot write a response body of its own; synthetic responses need compute (a function behind Front Door)"),
	providers.Redirect: providers.Limited("a UrlRedirect action: redirectType Moved (301), Found (302), TemporaryRedirect (307) or PermanentRedirect (308), with the Location's protocol, host, path and query",
		redirectForm()),
	providers.Rewrite:      providers.Cannot("a UrlRewrite action replaces the path prefix sent to the origin, but Front Door does not map an origin's Location or Content-Location header back to the public path"),
	providers.JWTHS256:     noJWT,
	providers.JWTRS256:     noJWT,
	providers.JWTES256:     noJWT,
	providers.JWTOther:     noJWT,
	providers.RateLimitSub: providers.Cannot("Front Door verifies no token, so it has no verified subject to count by"),
	providers.RateLimitHdr: providers.Cannot("a WAF custom rate-limit rule counts by client IP (socket address) only, not by a header"),
	providers.RateLimitIP:  providers.Cannot("a WAF custom rate-limit rule (by client IP, windows of 1 or 5 minutes) is not the IR's sliding window: it counts in fixed windows, each Front Door edge location counts on its own, and the block answer carries no Retry-After"),
	providers.Failover:     providers.Cannot("origin group priorities send each request to the highest-priority origin the health probes find healthy; a listed 5xx from it is returned to the client, not retried on the next origin"),
	providers.Breaker:      providers.Cannot("Front Door has no circuit breaker: an origin leaves rotation only when its health probes fail, not after N listed statuses from client requests, and it returns when the probes succeed, not after a cooldown"),
	providers.CORS:         providers.Cannot("the rules engine cannot answer a preflight itself (no synthetic response); ModifyResponseHeader can only add headers to what the origin answers"),
	providers.HSTS:         providers.Can("a ModifyResponseHeader action (Overwrite Strict-Transport-Security) in every route's rule, on every response an origin answers"),
	providers.Transform: providers.Limited("ModifyRequestHeader and ModifyResponseHeader actions (Delete, then Overwrite) in the route's rules",
		noRequestID()),
	providers.NativeRollback:         providers.Can("blue/green rule sets: each release is a new rule set and the previous one is kept, so a rollback switches the routes back to it"),
	providers.PathNormalize:          providers.Cannot("Front Door matches routes and rules on the path as the client sent it: it neither refuses %2F, %5C, %00, double encodings or ';' with 400 nor resolves encoded dot segments before matching and forwarding").Unless(OriginNormalize, "the origin normalizes the path and refuses what the reference refuses; Front Door routes on the path as sent"),
	providers.SyntheticErrors:        providers.Cannot("a request for a host Front Door does not serve, or that matches no route pattern, is answered with Front Door's own 400 page, not the IR's HOST_UNKNOWN or NO_ROUTE body; the rules engine cannot write a body").Unless(PlatformErrors, "Front Door's own pages answer an unknown host, a path no route matches and an unreachable origin"),
	providers.HSTSOnErrors:           providers.Cannot("responses Front Door writes itself (its 400 and 5xx pages, a redirect, a WAF block) carry no rule-set header").Unless(PlatformErrors, "Front Door's own answers go out without Strict-Transport-Security"),
	providers.HSTSOnUpstreamErrors:   providers.Cannot("Front Door's own 502 and 504 for an unreachable or timed-out origin carry no rule-set header").Unless(PlatformErrors, "Front Door's own answers go out without Strict-Transport-Security"),
	providers.ResponseOnOriginErrors: providers.Can("the route's ModifyResponseHeader actions apply to every answer an origin gives, as the HSTS action does"),
}

var noJWT = providers.Cannot("Front Door's rules engine cannot verify a JWT").Unless(OriginAuth,
	"the origin verifies the token: Front Door forwards Authorization unchanged and forwards no claims")

// fallbackRoute is the constraint of every path match: a request that no rule of the release matches goes
// to the matched route pattern's own origin group, and one that matches no route pattern is answered by
// Front Door with its 400 page; neither is the IR's NO_ROUTE. A fallback route without conditions, the
// rule set's last rule, catches every request instead.
func fallbackRoute() providers.Constraint {
	return providers.Constraint{Limit: "the manifest has a fallback route without conditions", Check: func(g *ir.Gateway, r *ir.Route) string {
		if r == nil || HasFallback(g) {
			return ""
		}
		return "a request that matches no route would go to a route pattern's origin group, or get Front Door's own 400 page, not NO_ROUTE: add a route with match: {fallback: true} and no hosts, headers or methods"
	}}
}

// HasFallback reports whether g has a fallback route without conditions.
func HasFallback(g *ir.Gateway) bool {
	for _, r := range g.Routes {
		if r.Match.Kind == ir.PathFallback && r.Match.Conditions() == 0 {
			return true
		}
	}
	return false
}

func methodValues() providers.Constraint {
	return providers.Constraint{Limit: "methods " + strings.Join(Methods, ", ") + " only", Check: func(_ *ir.Gateway, r *ir.Route) string {
		if r == nil {
			return ""
		}
		for _, m := range r.Match.Methods {
			if !slices.Contains(Methods, m) {
				return fmt.Sprintf("the route matches %s; the RequestMethod condition takes %s only", m, strings.Join(Methods, ", "))
			}
		}
		return ""
	}}
}

func regexForm() providers.Constraint {
	return providers.Constraint{Limit: "a regex that starts with / and has no capturing groups", Check: func(_ *ir.Gateway, r *ir.Route) string {
		if r == nil || r.Match.Kind != ir.PathRegex {
			return ""
		}
		if _, err := azrender.RegexWithoutSlash(r.Match.Path); err != nil {
			return err.Error()
		}
		return ""
	}}
}

func noRequestID() providers.Constraint {
	return providers.Constraint{Limit: "no request_id header", Check: func(g *ir.Gateway, r *ir.Route) string {
		if r == nil {
			if g.Transform.RequestIDHeader != "" {
				return "transform.request_id asks for a fresh request id in " + g.Transform.RequestIDHeader + "; Front Door has no server variable that holds a fresh id (it sends its own X-Azure-Ref)"
			}
			return ""
		}
		if r.Transform != nil && r.Transform.RequestIDHeader != "" {
			return "the route asks for a fresh request id in " + r.Transform.RequestIDHeader + "; Front Door has no server variable that holds a fresh id (it sends its own X-Azure-Ref)"
		}
		return ""
	}}
}

func redirectForm() providers.Constraint {
	return providers.Constraint{Limit: "status 301, 302, 307 or 308; an absolute http(s) Location; keep_query only without a query in the Location, and a query in the Location without keep_query; no tls.hsts", Check: func(g *ir.Gateway, r *ir.Route) string {
		if r == nil || r.Redirect == nil {
			return ""
		}
		if _, err := azrender.ParseRedirect(r.Redirect); err != nil {
			return err.Error()
		}
		if g.HSTS != nil {
			return "Front Door answers the redirect itself, without the rule set's Strict-Transport-Security header; drop tls.hsts or redirect at the origin"
		}
		return ""
	}}
}
