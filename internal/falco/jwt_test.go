package falco

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest"
)

const jwtManifest = `version: 1
name: claims
domains: [{host: api.example.com, zone: example.com}]
origins: {app: {url: "http://127.0.0.1:1"}}
pools: {app: {origins: [app]}}
auth:
  hs:
    jwt:
      algorithms: [HS256]
      secret: {env: CLAIMS_SECRET}
      issuer: https://auth.example.com/
      audience: [api, admin]
      clock_skew: 30s
      required_claims: [sub, tenant]
      forward_claims: {sub: X-User-ID, tenant: X-Tenant}
routes:
  - {name: api, match: {path: {prefix: /api}}, pool: app, auth: hs}
  - {name: open, match: {fallback: true}, pool: app}
`

const claimsSecret = "0123456789abcdef0123456789abcdef-claims-test-secret"

func hsToken(header, payload string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	signed := b64([]byte(header)) + "." + b64([]byte(payload))
	m := hmac.New(sha256.New, []byte(claimsSecret))
	m.Write([]byte(signed))
	return signed + "." + b64(m.Sum(nil))
}

// TestJWTClaimsDifferential sends tokens that exercise each check jwtverify makes after the signature, and
// the Authorization forms it distinguishes, through the VCL and the reference: same status, same body
// (the error code), same upstream request with the forwarded claims. Two Authorization lines (refused as
// malformed by jwtverify) are not sent: the VCL joins them with std.collect, a no-op in falco v1.21.1.
func TestJWTClaimsDifferential(t *testing.T) {
	requireFalco(t)
	g, diags := manifest.LoadBytes("claims.yaml", []byte(jwtManifest), manifest.LoadOptions{})
	if g == nil {
		t.Fatal(diags)
	}
	now := caseNow.Unix()
	hdr := `{"alg":"HS256","typ":"JWT"}`
	claims := func(extra string) string {
		return fmt.Sprintf(`{"iss":"https://auth.example.com/","aud":"api","sub":"alice","tenant":"acme","exp":%d%s}`, now+600, extra)
	}
	cases := map[string]string{
		"valid":                "Bearer " + hsToken(hdr, claims("")),
		"lower-case scheme":    "bearer " + hsToken(hdr, claims("")),
		"two spaces":           "Bearer  " + hsToken(hdr, claims("")),
		"empty bearer":         "Bearer ",
		"basic":                "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
		"two parts":            "Bearer abc.def",
		"padding":              "Bearer " + hsToken(hdr, claims("")) + "=",
		"header not object":    "Bearer " + hsToken(`["HS256"]`, claims("")),
		"alg none":             "Bearer " + hsToken(`{"alg":"none"}`, claims("")),
		"alg HS512":            "Bearer " + hsToken(`{"alg":"HS512"}`, claims("")),
		"no alg":               "Bearer " + hsToken(`{"typ":"JWT"}`, claims("")),
		"crit":                 "Bearer " + hsToken(`{"alg":"HS256","crit":["exp"]}`, claims("")),
		"jwk header":           "Bearer " + hsToken(`{"alg":"HS256","jwk":{"kty":"oct","k":"AA"}}`, claims("")),
		"duplicate alg":        "Bearer " + hsToken(`{"alg":"HS256","alg":"HS256"}`, claims("")),
		"bad signature":        "Bearer " + hsToken(hdr, claims("")) + "A",
		"expired":              "Bearer " + hsToken(hdr, strings.Replace(claims(""), fmt.Sprint(now+600), fmt.Sprint(now-31), 1)),
		"expired within skew":  "Bearer " + hsToken(hdr, strings.Replace(claims(""), fmt.Sprint(now+600), fmt.Sprint(now-29), 1)),
		"no exp":               "Bearer " + hsToken(hdr, `{"iss":"https://auth.example.com/","aud":"api","sub":"alice","tenant":"acme"}`),
		"exp a string":         "Bearer " + hsToken(hdr, strings.Replace(claims(""), fmt.Sprint(now+600), `"soon"`, 1)),
		"nbf future":           "Bearer " + hsToken(hdr, claims(fmt.Sprintf(`,"nbf":%d`, now+31))),
		"nbf within skew":      "Bearer " + hsToken(hdr, claims(fmt.Sprintf(`,"nbf":%d`, now+29))),
		"iat future":           "Bearer " + hsToken(hdr, claims(fmt.Sprintf(`,"iat":%d`, now+120))),
		"wrong issuer":         "Bearer " + hsToken(hdr, strings.Replace(claims(""), "auth.example.com", "evil.example.com", 1)),
		"audience array":       "Bearer " + hsToken(hdr, strings.Replace(claims(""), `"aud":"api"`, `"aud":["x","admin"]`, 1)),
		"wrong audience":       "Bearer " + hsToken(hdr, strings.Replace(claims(""), `"aud":"api"`, `"aud":"apix"`, 1)),
		"missing tenant claim": "Bearer " + hsToken(hdr, strings.Replace(claims(""), `"tenant":"acme",`, "", 1)),
		"null tenant claim":    "Bearer " + hsToken(hdr, strings.Replace(claims(""), `"tenant":"acme"`, `"tenant":null`, 1)),
		"numeric sub":          "Bearer " + hsToken(hdr, strings.Replace(claims(""), `"sub":"alice"`, `"sub":42`, 1)),
		"payload not object":   "Bearer " + hsToken(hdr, `[1,2]`),
		"duplicate exp":        "Bearer " + hsToken(hdr, claims(fmt.Sprintf(`,"exp":%d`, now+600))),
		"too large":            "Bearer " + hsToken(hdr, claims(`,"pad":"`+strings.Repeat("x", 9000)+`"`)),
	}
	env := testrun.Env{Getenv: func(n string) string {
		if n == "CLAIMS_SECRET" {
			return claimsSecret
		}
		return ""
	}}
	o := newOrigins(t, g)
	in, err := NewEngine().Open(context.Background(), g, o.urls(), env)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	refG := *g
	passed := 0
	for name, auth := range cases {
		h := http.Header{}
		h.Set("Authorization", auth)
		h.Set("X-User-ID", "spoofed")
		req := requestTo("api.example.com", "/api/x", h)
		ref := refDoEnv(t, &refG, o, req, env)
		got, err := falcoDo(t, in, o, req)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d := diff(ref, got, ""); len(d) > 0 {
			t.Errorf("%s:\n  %s", name, strings.Join(d, "\n  "))
			continue
		}
		passed++
	}
	t.Logf("JWT checks: %d/%d tokens decided as the reference decides", passed, len(cases))
}
