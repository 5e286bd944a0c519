package gcp

import (
	"fmt"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	gcprender "github.com/edgegw/edgegw/render/gcp"
)

// Companions the target offers.
const (
	// OriginNormalize leaves path normalization to the origin: the load balancer routes on the path as the client sent
	// it and forwards it unchanged, so the origin must refuse what the reference refuses (%2F, %5C, %00,
	// double encodings, ';') and resolve dot segments itself. Without it every manifest is refused.
	OriginNormalize = "origin-normalize"
	// PlatformErrors accepts the load balancer's own answers where the reference writes the IR's error table: an
	// unknown host, a path no route matches, an unreachable origin, each without HSTS. Without it every
	// manifest is refused.
	PlatformErrors = "platform-errors"
	// OriginAuth delegates token verification to the origin: the load balancer forwards Authorization as
	// the client sent it.
	OriginAuth = "origin-auth"
	// CloudArmorThrottle accepts a Cloud Armor throttle rule in place of the IR's exact sliding window.
	CloudArmorThrottle = "cloud-armor-throttle"
)

// MaxTemplateVariables is the most variables one pathTemplateMatch may hold (compute/v1 UrlMap docs:
// at most 5 operators).
const MaxTemplateVariables = 5

// capabilities is what the global external Application Load Balancer (EXTERNAL_MANAGED) enforces with a
// URL map, backend services, health checks and Cloud Armor, and what it cannot. A Cannot is given where a
// part of the IR's behaviour has no native equivalent, even when the rest renders (the reason says which
// part): the conformance suite skips a case only on a Cannot, so a Limited entry must reproduce every case
// of its feature exactly.
var capabilities = providers.Capabilities{
	providers.MatchExact:  providers.Can("routeRules matchRules fullPathMatch"),
	providers.MatchPrefix: providers.Can("one routeRule with two matchRules, fullPathMatch P or prefixMatch P/, so a prefix keeps segment boundaries"),
	providers.MatchTemplate: providers.Limited("pathTemplateMatch, a {name} segment as {name=*}, rewritten with pathTemplateRewrite",
		templateVariables(MaxTemplateVariables)),
	providers.MatchRegex:  providers.Cannot("the global external Application Load Balancer has no path regex (regexMatch is for other load-balancing schemes); write the route as a template when its segments are literals or [^/]+"),
	providers.MatchHeader: providers.Can("headerMatches exactMatch, every header of the route in the same matchRule"),
	providers.MatchMethod: providers.Can("headerMatches on the :method pseudo-header, one matchRule per method"),
	providers.MatchHost:   providers.Cannot("hostRules send exact hosts to their own path matcher, but a `*.` host covers any number of labels where the IR's wildcard covers one, and no host label can be sent upstream as the tenant header"),
	providers.Respond:     providers.Cannot("a URL map cannot write a response body of its own: the nearest is an object of a backend bucket, served with the bucket's headers"),
	providers.Redirect: providers.Limited("urlRedirect with hostRedirect, pathRedirect, httpsRedirect, stripQuery and redirectResponseCode",
		redirectForm()),
	providers.Rewrite:                providers.Cannot("urlRewrite.pathPrefixRewrite and pathTemplateRewrite change the upstream path, but the load balancer does not map an origin's Location header back to the public path"),
	providers.JWTHS256:               noJWT,
	providers.JWTRS256:               noJWT,
	providers.JWTES256:               noJWT,
	providers.JWTOther:               noJWT,
	providers.RateLimitSub:           providers.Cannot("the load balancer verifies no token, so it has no verified subject to count by"),
	providers.RateLimitIP:            noThrottle,
	providers.RateLimitHdr:           noThrottle,
	providers.Failover:               providers.Cannot("routeAction.retryPolicy retries among a backend service's endpoints in no set order and on status classes (5xx, gateway-error, connect-failure), not on the pool's listed statuses to its next origin"),
	providers.Breaker:                providers.Cannot("outlierDetection (consecutiveGatewayFailure, enforcingConsecutiveGatewayFailure: 100) ejects an endpoint after N gateway errors, 502, 503 and 504 together, for a base ejection time that grows with each ejection, and without ordered failover the request is not sent on"),
	providers.CORS:                   providers.Cannot("corsPolicy answers an allowed preflight with 200 and without Cache-Control: no-cache, and passes a refused origin's preflight on to the backend"),
	providers.HSTS:                   providers.Can("the URL map's headerAction adds Strict-Transport-Security to every response a backend answers"),
	providers.Transform:              providers.Cannot("headerAction removes and sets request and response headers, but the load balancer cannot put a fresh request id in a named header (it sends its own X-Cloud-Trace-Context)"),
	providers.NativeRollback:         providers.Cannot("URL maps keep no versions: a rollback updates the map back to the previous one stored in the deploy record"),
	providers.PathNormalize:          providers.Cannot("the load balancer matches the URL map on the path as the client sent it: it neither refuses %2F, %5C, %00, double encodings or ';' with 400 nor resolves encoded dot segments before matching and forwarding").Unless(OriginNormalize, "the origin normalizes the path and refuses what the reference refuses; the load balancer routes on the path as sent"),
	providers.SyntheticErrors:        providers.Cannot("only NO_ROUTE and HOST_UNKNOWN can be served byte for byte (a bucket's notFoundPage); the load balancer's own 502 and 504 bodies are Google's, and custom error responses would replace an origin's own errors of the same status too").Unless(PlatformErrors, "the load balancer's own pages answer an unknown host, a path no route matches and an unreachable origin"),
	providers.HSTSOnErrors:           providers.Cannot("responses the load balancer writes itself (no backend reachable, a timeout, a Cloud Armor denial) carry no headerAction header").Unless(PlatformErrors, "the load balancer's own answers go out without Strict-Transport-Security"),
	providers.HSTSOnUpstreamErrors:   providers.Cannot("the load balancer's own 502 and 504 for an unreachable or timed-out backend carry no headerAction header").Unless(PlatformErrors, "the load balancer's own answers go out without Strict-Transport-Security"),
	providers.ResponseOnOriginErrors: providers.Can("headerAction's response headers apply to every answer a backend gives, as HSTS does"),
}

var noJWT = providers.Cannot("a URL map cannot verify a JWT").Unless(OriginAuth,
	"the origin verifies the token: the load balancer forwards Authorization unchanged and forwards no claims")

var noThrottle = providers.Cannot("a Cloud Armor throttle rule is not the IR's exact sliding window: it counts per backend service, answers deny(429) without Retry-After, and a request without the key header is counted with every other such request").Unless(CloudArmorThrottle,
	"a Cloud Armor throttle rule per route (deny(429), keyed by IP or by the header), with the window as one of Cloud Armor's intervals")

func templateVariables(n int) providers.Constraint {
	return providers.Constraint{Limit: fmt.Sprintf("at most %d variables per template", n), Check: func(_ *ir.Gateway, r *ir.Route) string {
		if r == nil || r.Match.Kind != ir.PathTemplate {
			return ""
		}
		if v := templateVarCount(r.Match); v > n {
			return fmt.Sprintf("the template has %d variables; pathTemplateMatch takes at most %d", v, n)
		}
		return ""
	}}
}

func templateVarCount(m ir.Match) int {
	n := 0
	for _, s := range m.TemplateSegments() {
		if ir.IsTemplateVar(s) {
			n++
		}
	}
	return n
}

func redirectForm() providers.Constraint {
	return providers.Constraint{Limit: "an absolute http(s) Location without a query or fragment", Check: func(_ *ir.Gateway, r *ir.Route) string {
		if r == nil || r.Redirect == nil {
			return ""
		}
		if _, err := gcprender.ParseRedirect(r.Redirect.Location); err != nil {
			return err.Error()
		}
		return ""
	}}
}
