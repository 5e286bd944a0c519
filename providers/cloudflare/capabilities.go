package cloudflare

import "github.com/edgegw/edgegw/providers"

// capabilities is what the generated Worker enforces (render/cloudflare, the runtime in render/jsruntime), as
// the workerd engine shows it against the reference gateway; where the platform decides before the Worker
// runs, the reason says so.
var capabilities = func() providers.Capabilities {
	const code = "generated Worker code"
	return providers.Capabilities{
		providers.MatchExact:             providers.Can(code + ": a table index built once per isolate"),
		providers.MatchPrefix:            providers.Can(code + ", on segment boundaries"),
		providers.MatchTemplate:          providers.Can(code),
		providers.MatchRegex:             providers.Can("JavaScript RegExp over the portable subset"),
		providers.MatchHeader:            providers.Can(code + "; several lines of one header arrive joined, so a condition compares the joined value"),
		providers.MatchMethod:            providers.Can(code),
		providers.MatchHost:              providers.Can(code),
		providers.Respond:                providers.Can("new Response in the Worker"),
		providers.Redirect:               providers.Can(code),
		providers.Rewrite:                providers.Can(code),
		providers.JWTHS256:               providers.Can("WebCrypto HMAC; the secret through the Workers secrets API"),
		providers.JWTRS256:               providers.Can("WebCrypto RSASSA-PKCS1-v1_5, keys imported once per isolate and kid"),
		providers.JWTES256:               providers.Can("WebCrypto ECDSA P-256"),
		providers.JWTOther:               providers.Can("WebCrypto: RS/PS/ES 384 and 512, EdDSA, HS384/512"),
		providers.RateLimitSub:           providers.Can("a Durable Object per key: an exact sliding window"),
		providers.RateLimitIP:            providers.Can("a Durable Object keyed by CF-Connecting-IP"),
		providers.RateLimitHdr:           providers.Can("a Durable Object per header value (several lines arrive joined)"),
		providers.Failover:               providers.Can("fetch bounded by the origin's timeout, then the next origin; no active health probes, and host_header is not sent (Workers cannot set Host)"),
		providers.Breaker:                providers.Can("breaker state in the Durable Object"),
		providers.CORS:                   providers.Can(code),
		providers.HSTS:                   providers.Can(code),
		providers.Transform:              providers.Can(code + "; request ids from crypto.randomUUID()"),
		providers.NativeRollback:         providers.Can("Workers versions and deployments: the previous version at 100 % in one call"),
		providers.PathNormalize:          providers.Can("the shared normalizer runs before matching and fails closed; raw `.` and `..` segments are resolved by the platform before the Worker runs (`/../admin` arrives as `/admin`, which the reference refuses with 400); encoded ones are refused as everywhere"),
		providers.SyntheticErrors:        providers.Can("the IR's error table, written by the Worker"),
		providers.HSTSOnErrors:           providers.Can("the Worker sets HSTS on every response it writes"),
		providers.HSTSOnUpstreamErrors:   providers.Can("the Worker catches a failed or timed-out fetch and writes the 502 or 504 itself, with HSTS"),
		providers.ResponseOnOriginErrors: providers.Can("the Worker writes the response side on every answer it returns, whatever the origin's status"),
	}
}()

// WorkerScript, WorkerZone and WorkerCompatibilityDate give the renderer the block's addressing
// (render/cloudflare.WorkerSettings).
func (s *Settings) WorkerScript() string            { return s.Script }
func (s *Settings) WorkerZone() string              { return s.Zone }
func (s *Settings) WorkerCompatibilityDate() string { return s.CompatibilityDate }
