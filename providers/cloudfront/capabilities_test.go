package cloudfront

import (
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/providers"
	render "github.com/edgegw/edgegw/render/cloudfront"
)

const rsManifest = `version: 1
name: rs
domains:
  - {host: api.example.com, zone: example.com}
origins:
  app: {url: "http://127.0.0.1:9000"}
pools:
  app: {origins: [app]}
auth:
  users:
    jwt:
      algorithms: [RS256]
      jwks: {url: https://auth.example.com/jwks.json}
routes:
  - name: api
    match: {path: {prefix: /api}}
    pool: app
    auth: users
targets:
  cloudfront: {distribution_id: E2EXAMPLE, function: gw%s}
`

// TestRS256NeedsCompanion: a route verifying RS256 fails validation for this target at the route's line,
// naming the companion that would enforce it; with the companion listed, validation lets it through.
func TestRS256NeedsCompanion(t *testing.T) {
	g, diags := manifest.LoadBytes("rs.yaml", []byte(strings.Replace(rsManifest, "%s", "", 1)), manifest.LoadOptions{})
	if g == nil {
		t.Fatalf("manifest does not load: %v", diags)
	}
	fs := providers.CheckCapabilities(g, Name)
	if len(fs) != 1 {
		t.Fatalf("findings %v, want one for auth.jwt.rs256", fs)
	}
	f := fs[0]
	if f.Feature != providers.JWTRS256 || f.Route != "api" || f.Pos.Line != 15 || f.Companion != "lambda-edge-auth" {
		t.Fatalf("finding %+v, want auth.jwt.rs256 at route api line 15 with the lambda-edge-auth companion", f)
	}
	if !strings.Contains(f.String(), "lambda-edge-auth") {
		t.Errorf("finding text names no fix: %s", f)
	}
	g, _ = manifest.LoadBytes("rs.yaml", []byte(strings.Replace(rsManifest, "%s", ", companions: [lambda-edge-auth], lambda_function: gw-auth", 1)), manifest.LoadOptions{})
	if fs := providers.CheckCapabilities(g, Name); len(fs) != 0 {
		t.Errorf("with the companion: %v", fs)
	}
}

// TestTableHonest: what a CloudFront Function cannot do is Cannot, failover is limited to the methods
// origin groups retry.
func TestTableHonest(t *testing.T) {
	for _, f := range []providers.Feature{providers.JWTRS256, providers.JWTES256, providers.JWTOther, providers.RateLimitSub,
		providers.RateLimitIP, providers.RateLimitHdr, providers.Breaker} {
		if capabilities.Get(f).Supported {
			t.Errorf("%s is declared supported", f)
		}
	}
	fo := capabilities.Get(providers.Failover)
	if !fo.Supported || len(fo.Constraints) == 0 || !strings.Contains(fo.Constraints[0].Limit, "GET/HEAD/OPTIONS") {
		t.Errorf("failover: %+v, want limited to GET/HEAD/OPTIONS", fo)
	}
}

const hsManifest = `version: 1
name: hs
domains:
  - {host: api.example.com, zone: example.com}
tls: {hsts: {max_age: 31536000}}
origins:
  app: {url: "http://127.0.0.1:9000"}
pools:
  app: {origins: [app]}
auth:
  users:
    jwt:
      algorithms: [HS256]
      secret: {env: JWT_SECRET}
      issuer: https://auth.example.com/
      audience: [api]
      clock_skew: 30s
      forward_claims: {sub: X-User}
routes:
  - name: health
    match: {path: {exact: /health}}
    respond: {status: 200, body: ok}
  - name: api
    match: {path: {prefix: /api}}
    pool: app
    auth: users
targets:
  cloudfront: {distribution_id: E2EXAMPLE, function: gw, companions: [platform-errors]}
`

// TestHS256Fits: the table says HS256 is enforced, so a gateway verifying it (issuer, audience, skew,
// a forwarded claim, HSTS) validates for this target and renders within CloudFront Functions' limit.
func TestHS256Fits(t *testing.T) {
	if !capabilities.Get(providers.JWTHS256).Supported {
		t.Fatal("auth.jwt.hs256 is not declared supported")
	}
	g, diags := manifest.LoadBytes("hs.yaml", []byte(hsManifest), manifest.LoadOptions{})
	if g == nil {
		t.Fatalf("manifest does not load: %v", diags)
	}
	if fs := providers.CheckCapabilities(g, Name); len(fs) != 0 {
		t.Fatalf("validate refuses an HS256 gateway for cloudfront: %v", fs)
	}
	s, err := render.Measure(g, render.Options{})
	if err != nil {
		t.Fatalf("an HS256 gateway does not render: %v", err)
	}
	if s.Request > render.MaxFunctionBytes || s.Response > render.MaxFunctionBytes {
		t.Fatalf("rendered over the limit: %+v", s)
	}
	t.Logf("HS256 gateway: viewer-request %d, viewer-response %d of %d bytes", s.Request, s.Response, render.MaxFunctionBytes)
}

// TestHSTSNeedsPlatformErrors: with tls.hsts, the distribution's own 502 and 504 go out without it, so the
// manifest is refused at tls.hsts, naming platform-errors, until it lists the companion; without tls.hsts
// there is nothing to accept.
func TestHSTSNeedsPlatformErrors(t *testing.T) {
	load := func(src string) []providers.Finding {
		t.Helper()
		g, diags := manifest.LoadBytes("hs.yaml", []byte(src), manifest.LoadOptions{})
		if g == nil {
			t.Fatalf("manifest does not load: %v", diags)
		}
		return providers.CheckCapabilities(g, Name)
	}
	without := strings.Replace(hsManifest, ", companions: [platform-errors]", "", 1)
	fs := load(without)
	if len(fs) != 1 || fs[0].Feature != providers.HSTSOnUpstreamErrors || fs[0].Companion != PlatformErrors || fs[0].Section != "tls.hsts" || fs[0].Pos.Line != 5 {
		t.Fatalf("findings %+v, want one hsts.upstream_errors finding at tls.hsts (line 5) naming %s", fs, PlatformErrors)
	}
	noHSTS := strings.Replace(without, "tls: {hsts: {max_age: 31536000}}\n", "", 1)
	if noHSTS == without {
		t.Fatal("the test manifest's tls.hsts was not removed")
	}
	if fs := load(noHSTS); len(fs) != 0 {
		t.Fatalf("a gateway without tls.hsts is refused: %v", fs)
	}
}
