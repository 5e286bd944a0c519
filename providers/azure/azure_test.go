package azure_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/providers"
	_ "github.com/edgegw/edgegw/providers/all"
)

func findings(t *testing.T, yaml string) []providers.Finding {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edgegw.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	g, diags := manifest.Load(p)
	if g == nil || diags.HasErrors() {
		t.Fatalf("%v", diags)
	}
	return providers.CheckCapabilities(g, "azure")
}

const base = `version: 1
name: g
domains: [{host: api.example.com, zone: example.com}]
origins: {app: {url: https://app.example.net}}
pools: {app: {origins: [app]}}
auth: {bearer: {jwt: {algorithms: [RS256], jwks: {url: https://auth.example.com/jwks.json}}}}
rate_limits: {per_key: {key: "header:X-API-Key", limit: 10, window: 60s}}
routes:
  - {name: legacy, match: {path: {regex: "^/v0/([a-z]+)$"}}, pool: app}
  - {name: hello, match: {path: {exact: /hello}}, respond: {status: 200, body: hi}}
  - {name: account, match: {path: {prefix: /account}}, pool: app, auth: bearer}
  - {name: keyed, match: {path: {prefix: /keyed}, methods: [PATCH]}, pool: app, rate_limit: per_key}
  - {name: default, match: {fallback: true}, pool: app}
targets:
  azure: {subscription_id: s, resource_group: rg, profile: p, endpoint: e%s}
`

// TestValidateRefusesWhatFrontDoorCannotDo: a regex with a capture, a synthetic response, a JWT, a per-key
// limit and PATCH are refused at their routes' lines, naming the feature and the fix; the Always features
// at the targets.azure block; origin-auth lifts the JWT and nothing else.
func TestValidateRefusesWhatFrontDoorCannotDo(t *testing.T) {
	got := map[string]providers.Finding{}
	for _, f := range findings(t, strings.Replace(base, "%s", "", 1)) {
		got[string(f.Feature)] = f
	}
	for feature, c := range map[string]struct{ line, why string }{
		"match.regex":       {":9:5", "capturing group"},
		"respond":           {":10:5", "cannot write a response body"},
		"auth.jwt.rs256":    {":11:5", "cannot verify a JWT"},
		"rate_limit.header": {":12:5", "client IP"},
		"match.method":      {":12:5", "PATCH"},
		"path.normalize":    {":15:3", "as the client sent it"},
		"errors.synthetic":  {":15:3", "400 page"},
		"hsts.errors":       {":15:3", "carry no rule-set header"},
	} {
		f, ok := got[feature]
		if !ok || !strings.HasSuffix(f.Pos.String(), c.line) || !strings.Contains(f.Reason, c.why) {
			t.Errorf("%s: refused at %q with %q, want line:col %s and %q", feature, f.Pos, f.Reason, c.line, c.why)
		}
	}
	if got["auth.jwt.rs256"].Companion != "origin-auth" {
		t.Errorf("the JWT finding names companion %q, want origin-auth", got["auth.jwt.rs256"].Companion)
	}
	for _, f := range findings(t, strings.Replace(base, "%s", ", companions: [origin-auth]", 1)) {
		if strings.HasPrefix(string(f.Feature), "auth.jwt") {
			t.Errorf("origin-auth did not lift %s", f.Feature)
		}
		if f.Feature == "rate_limit.header" && f.Companion != "" {
			t.Errorf("a per-key limit names companion %q; nothing lifts it", f.Companion)
		}
	}
}

// TestPathMatchesNeedAFallback: without a fallback route every path match is refused (Front Door answers
// an unmatched request itself), with the fix; a fallback with a host condition does not count.
func TestPathMatchesNeedAFallback(t *testing.T) {
	y := strings.Replace(base, "  - {name: default, match: {fallback: true}, pool: app}\n", "  - {name: default, match: {fallback: true, hosts: [api.example.com]}, pool: app}\n", 1)
	y = strings.Replace(y, "%s", "", 1)
	found := false
	for _, f := range findings(t, y) {
		if f.Feature == "match.exact" && f.Route == "hello" {
			found = strings.Contains(f.Reason, "match: {fallback: true}") && strings.HasSuffix(f.Pos.String(), ":10:5")
		}
	}
	if !found {
		t.Error("match.exact without an unconditional fallback is not refused at the route with the fix")
	}
	for _, f := range findings(t, strings.Replace(base, "%s", "", 1)) {
		if f.Feature == "match.exact" || f.Feature == "match.prefix" {
			t.Errorf("with a fallback route: %s", f)
		}
	}
}
