package cloudfront

import "github.com/edgegw/edgegw/providers"

// capabilities is what the rendered CloudFront Functions enforce (render/cloudfront, with the runtime in
// render/jsruntime, under cloudfront-js-2.0, checked in njs by the conformance suite), and what the
// distribution itself does. What a function cannot
// do (asymmetric signatures, counters, state) is Cannot, with the companion that would lift it; neither
// companion is rendered yet, so listing one does not make edgegw enforce the feature today.
var capabilities = func() providers.Capabilities {
	const code = "CloudFront Function code generated from the routes in IR order"
	const auth = "lambda-edge-auth"
	const authHow = "a Lambda@Edge viewer-request handler verifies the token with Node's WebCrypto"
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
		providers.JWTHS256:      providers.Can("crypto.createHmac('sha256') in a compact HS256-only verifier (the reference's checks in its order), in the function only for a gateway with an auth policy; the secret read from a KeyValueStore by key; a two-route HS256 gateway with issuer, audience and a forwarded claim is about 9,970 of the 10,240 bytes (minified)"),
		providers.JWTRS256:      providers.Cannot("CloudFront Functions' crypto has hashes and HMACs only, no signature verification").Unless(auth, authHow),
		providers.JWTES256:      providers.Cannot("CloudFront Functions' crypto has hashes and HMACs only, no signature verification").Unless(auth, authHow),
		providers.JWTOther:      providers.Cannot("CloudFront Functions' HMAC is SHA-256 only (no HS384/HS512) and it verifies no signatures; JWKS would need the network").Unless(auth, authHow),
		providers.RateLimitSub:  providers.Cannot("a CloudFront Function keeps no counters, and an AWS WAF rate-based rule cannot key on a verified jwt.sub"),
		providers.RateLimitIP: providers.Cannot("a CloudFront Function keeps no counters").Unless("waf-rate-limit",
			"an AWS WAF rate-based rule keyed by IP, scoped down to the route, windows 60/120/300/600 s, limit at least 10"),
		providers.RateLimitHdr: providers.Cannot("a CloudFront Function keeps no counters").Unless("waf-rate-limit",
			"an AWS WAF rate-based rule keyed by the header, scoped down to the route, windows 60/120/300/600 s, limit at least 10"),
		providers.Failover: providers.Limited("an origin group (primary, secondary, the pool's status codes) chosen by the viewer-request function; CloudFront fails over GET, HEAD and OPTIONS only, keeps no breaker state and bounds each attempt by the origin's timeouts",
			providers.FailoverMethods("GET", "HEAD", "OPTIONS"), providers.MaxPoolOrigins(2)),
		providers.Breaker:         providers.Cannot("CloudFront keeps no state between requests: origin groups retry per request and never open a breaker"),
		providers.CORS:            providers.Can(code + ": preflights answered by the viewer-request function, headers by the viewer-response function"),
		providers.HSTS:            providers.Can("written by both functions"),
		providers.Transform:       providers.Can(code + "; request ids are CloudFront's own request id (event.context.requestId)"),
		providers.NativeRollback:  providers.Cannot("CloudFront keeps no function history: a rollback republishes the previous code from the deploy record"),
		providers.PathNormalize:   providers.Can("a compact normalizer, checked against the reference's on every paths.tsv row, runs in the viewer-request function before matching and fails closed"),
		providers.SyntheticErrors: providers.Can("the IR's error table, written by the viewer-request function; upstream errors as the distribution's custom error responses"),
		providers.HSTSOnErrors:    providers.Can("the viewer-request function sets HSTS on every answer it writes"),
	}
}()
