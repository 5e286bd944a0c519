package gcp_test

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
	return providers.CheckCapabilities(g, "gcp")
}

const base = `version: 1
name: g
domains: [{host: api.example.com, zone: example.com}]
origins: {app: {url: https://app.example.net}}
pools: {app: {origins: [app]}}
auth: {bearer: {jwt: {algorithms: [RS256], jwks: {url: https://auth.example.com/jwks.json}}}}
routes:
  - {name: legacy, match: {path: {regex: "^/v0/[a-z]+$"}}, pool: app}
  - {name: hello, match: {path: {exact: /hello}}, respond: {status: 200, body: hi}}
  - {name: account, match: {path: {prefix: /account}}, pool: app, auth: bearer}
  - {name: default, match: {fallback: true}, pool: app}
targets:
  gcp: {project: p, url_map: m%s}
`

// TestValidateRefusesWhatTheMapCannotDo: a regex, a synthetic response and a JWT are refused at their
// routes' lines, naming the feature; the Always features at the targets.gcp block; origin-auth lifts the JWT.
func TestValidateRefusesWhatTheMapCannotDo(t *testing.T) {
	got := map[string]string{}
	for _, f := range findings(t, strings.Replace(base, "%s", "", 1)) {
		got[string(f.Feature)] = f.Pos.String()
	}
	for feature, line := range map[string]string{
		"match.regex": ":8:5", "respond": ":9:5", "auth.jwt.rs256": ":10:5",
		"path.normalize": ":13:3", "errors.synthetic": ":13:3", "hsts.errors": ":13:3",
	} {
		if !strings.HasSuffix(got[feature], line) {
			t.Errorf("%s refused at %q, want line:col %s (all: %v)", feature, got[feature], line, got)
		}
	}
	for _, f := range findings(t, strings.Replace(base, "%s", ", companions: [origin-auth]", 1)) {
		if strings.HasPrefix(string(f.Feature), "auth.jwt") {
			t.Errorf("origin-auth did not lift %s", f.Feature)
		}
	}
}
