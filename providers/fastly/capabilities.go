package fastly

import (
	"time"

	"github.com/edgegw/edgegw/providers"
)

// capabilities is what the rendered VCL enforces (render/fastly), as the falco engine proves it against the
// reference gateway; where falco cannot execute a construct, the reason says so.
var capabilities = func() providers.Capabilities {
	const vcl = "VCL in vcl_recv"
	var windows []time.Duration
	for s := 10; s <= 60; s += 10 {
		windows = append(windows, time.Duration(s)*time.Second)
	}
	rl := func(key string) providers.Support {
		return providers.Limited("rate-counter buckets per "+key+"; Edge Rate Limiting must be enabled on the account; counts are Fastly's per-POP estimates (refused requests count) and Retry-After is the whole window; falco's simulator keeps no counts between requests, so the limit itself is tested with falco test",
			providers.RateLimitWindows(windows...))
	}
	return providers.Capabilities{
		providers.MatchExact:             providers.Can(vcl + "; VCL tables above 16 plain routes"),
		providers.MatchPrefix:            providers.Can(vcl + ", on segment boundaries"),
		providers.MatchTemplate:          providers.Can("an anchored PCRE per template, variables from its captures"),
		providers.MatchRegex:             providers.Can("PCRE over the portable subset"),
		providers.MatchHeader:            providers.Can(vcl),
		providers.MatchMethod:            providers.Can(vcl),
		providers.MatchHost:              providers.Can(vcl),
		providers.Respond:                providers.Can("synthetic responses from vcl_error"),
		providers.Redirect:               providers.Can("synthetic responses from vcl_error"),
		providers.Rewrite:                providers.Can("regsub on req.url"),
		providers.JWTHS256:               providers.Can("digest.hmac_sha256_base64 compared with digest.secure_is_equal; the secret in an edge dictionary"),
		providers.JWTRS256:               providers.Can("digest.rsa_verify; keys in an edge dictionary"),
		providers.JWTES256:               providers.Can("digest.ecdsa_verify; keys in an edge dictionary"),
		providers.JWTOther:               providers.Limited("digest.rsa_verify for RS384 and RS512; VCL verifies no PS*, ES384/512, EdDSA or HS384/512", providers.JWTAlgorithms("RS384", "RS512")),
		providers.RateLimitSub:           rl("verified subject"),
		providers.RateLimitIP:            rl("client address"),
		providers.RateLimitHdr:           rl("header value"),
		providers.Failover:               providers.Limited("restart over backend.F_<origin>.healthy chains on the listed statuses; health probes per origin; falco's simulator ends a fetch that cannot connect or times out with an error, so that failover is tested by lint and golden files", providers.MaxPoolOrigins(4)),
		providers.Breaker:                providers.Cannot("VCL keeps no per-origin state between requests; health probes take a failing origin out instead"),
		providers.CORS:                   providers.Can("vcl_recv answers preflights, vcl_deliver adds the headers"),
		providers.HSTS:                   providers.Can("vcl_deliver, on every response"),
		providers.Transform:              providers.Can(vcl + " and vcl_deliver; request ids from uuid.version4()"),
		providers.NativeRollback:         providers.Can("activate the previous service version"),
		providers.PathNormalize:          providers.Can("the normalization written out in VCL on the raw req.url, failing closed; more than 16 `..` segments or raw non-ASCII bytes are refused with 400"),
		providers.SyntheticErrors:        providers.Can("the IR's error table as synthetic heredocs in vcl_error"),
		providers.HSTSOnErrors:           providers.Can("vcl_error's responses pass vcl_deliver"),
		providers.HSTSOnUpstreamErrors:   providers.Can("a backend failure goes through vcl_error to vcl_deliver, which sets HSTS"),
		providers.ResponseOnOriginErrors: providers.Can("vcl_deliver runs on every answer, whatever the backend's status"),
	}
}()
