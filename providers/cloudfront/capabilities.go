package cloudfront

import (
	"time"

	"github.com/edgegw/edgegw/providers"
)

// capabilities is what the rendered CloudFront Functions enforce (render/cloudfront, the runtime in
// render/jsruntime under cloudfront-js-2.0, checked in njs by the conformance suite), and what the
// distribution itself does. What a function cannot do (asymmetric signatures, counters, state) is Cannot,
// with the companion that lifts it: lambda-edge-auth is rendered (render/cloudfront/lambdaedge) and deployed
// (lambda.go); waf-rate-limit is rendered (render/cloudfront/waf) and deployed (waf.go) within the WAF's limits.
// PlatformErrors is the companion that accepts CloudFront's error path as it is: the distribution's own
// 502 and 504 (an unreachable or timed-out origin) without HSTS, since AWS documents the response headers
// policy on answers served from the cache or forwarded from the origin, not on those; and an origin's
// answers of 400 or more without what the viewer-response function writes, since CloudFront does not run it.
const PlatformErrors = "platform-errors"

var capabilities = func() providers.Capabilities {
	const code = "CloudFront Function code generated from the routes in IR order"
	const auth = "lambda-edge-auth"
	const authHow = "the gateway runs as one Lambda@Edge handler (viewer-request, origin-request, viewer-response; Node.js 20) that verifies the token with WebCrypto against keys or a JWKS cached per container; no HMAC secrets and one-origin pools only with it"
	const waf = "waf-rate-limit"
	// Where the WAF differs from the IR's exact sliding window, said once for both keys.
	const wafHow = "; WAF counts every matching request over the trailing window and checks the rate about every 10 s, so it blocks near the limit, not exactly at it, lifts the block only at a later check, counts the requests it blocks, and sends a fixed Retry-After of the window"
	wafLimits := []providers.Constraint{providers.RateLimitWindows(60*time.Second, 120*time.Second, 300*time.Second, 600*time.Second), providers.MinRateLimit(10)}
	return providers.Capabilities{
		providers.MatchExact:    providers.Can(code + ": a run of exact routes is one property lookup"),
		providers.MatchPrefix:   providers.Can(code + ", on segment boundaries"),
		providers.MatchTemplate: providers.Can(code),
		providers.MatchRegex:    providers.Can("njs RegExp over the portable subset"),
		providers.MatchHeader:   providers.Can(code + "; a condition compares a header's first value"),
		providers.MatchMethod:   providers.Can(code),
		providers.MatchHost:     providers.Can(code),
		providers.Respond:       providers.Can("a response object returned by the viewer-request function"),
		providers.Redirect:      providers.Can(code + "; the kept query is rebuilt from the event's querystring object"),
		providers.Rewrite:       providers.Can("the viewer-request function rewrites request.uri"),
		providers.JWTHS256:      providers.Can("crypto.createHmac('sha256') in a compact HS256-only verifier (the reference's checks in its order), in the function only for a gateway with an auth policy; the secret read from a KeyValueStore by key; a two-route HS256 gateway with issuer, audience and a forwarded claim is about 9,250 of the 10,240 bytes (minified)"),
		providers.JWTRS256:      providers.Cannot("CloudFront Functions' crypto has hashes and HMACs only, no signature verification").Unless(auth, authHow),
		providers.JWTES256:      providers.Cannot("CloudFront Functions' crypto has hashes and HMACs only, no signature verification").Unless(auth, authHow),
		providers.JWTOther:      providers.Cannot("CloudFront Functions' HMAC is SHA-256 only (no HS384/HS512) and it verifies no signatures; JWKS would need the network").Unless(auth, authHow),
		providers.RateLimitSub:  providers.Cannot("a CloudFront Function keeps no counters, and an AWS WAF rate-based rule cannot key on a verified jwt.sub"),
		providers.RateLimitIP: providers.Cannot("a CloudFront Function keeps no counters").Unless(waf,
			"an AWS WAF rate-based rule keyed by IP, scoped down to the limit's routes, blocking with the IR's 429"+wafHow, wafLimits...),
		providers.RateLimitHdr: providers.Cannot("a CloudFront Function keeps no counters").Unless(waf,
			"an AWS WAF rate-based rule keyed by the header (a request without it by IP), scoped down to the limit's routes, blocking with the IR's 429"+wafHow, wafLimits...),
		providers.Failover: providers.Limited("an origin group (primary, secondary, the pool's status codes) chosen by the viewer-request function; CloudFront fails over GET, HEAD and OPTIONS only, keeps no breaker state and bounds each attempt by the origin's timeouts",
			providers.FailoverMethods("GET", "HEAD", "OPTIONS"), providers.MaxPoolOrigins(2)),
		providers.Breaker:         providers.Cannot("CloudFront keeps no state between requests: origin groups retry per request and never open a breaker"),
		providers.CORS:            providers.Can(code + ": preflights answered by the viewer-request function, headers by the viewer-response function, which CloudFront runs on answers below 400 only"),
		providers.HSTS:            providers.Can("written by the viewer-request function on its own answers and, on every answer of the origin (of 400 or more too, where CloudFront runs no viewer-response function), by the distribution's response headers policy (Strict-Transport-Security, overriding the origin's), which apply attaches to every cache behavior"),
		providers.Transform:       providers.Can(code + "; request ids are CloudFront's own request id (event.context.requestId); the response transform runs on answers below 400 only"),
		providers.NativeRollback:  providers.Cannot("CloudFront keeps no function history: a rollback republishes the previous code from the deploy record"),
		providers.PathNormalize:   providers.Can("a compact normalizer, checked against the reference's on every paths.tsv row, runs in the viewer-request function before matching and fails closed"),
		providers.SyntheticErrors: providers.Can("the IR's error table, written by the viewer-request function; upstream errors as the distribution's custom error responses"),
		providers.HSTSOnErrors:    providers.Can("the viewer-request function sets HSTS on every answer it writes"),
		providers.HSTSOnUpstreamErrors: providers.Cannot("the distribution writes the 502 or 504 for an unreachable or timed-out origin itself, where no function runs, and AWS documents the response headers policy only on answers served from the cache or forwarded from the origin").Unless(PlatformErrors,
			"the distribution's own 502 and 504 go out without Strict-Transport-Security; every other answer carries it"),
		providers.ResponseOnOriginErrors: providers.Cannot("CloudFront runs no viewer-response function on an origin's answer of 400 or more, so the response transform, the CORS headers and the Location mapping that function writes are not applied to it").Unless(PlatformErrors,
			"an origin's answers of 400 or more go out with the origin's own headers and the response headers policy's HSTS only"),
	}
}()
