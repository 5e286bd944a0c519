package manifest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest"
	_ "github.com/edgegw/edgegw/providers/all" // the manifest reads each target's block as the target registered it
)

const targetBase = `version: 1
name: gw
domains: [{host: api.example.com, zone: example.com}]
origins: {app: {url: "http://127.0.0.1:9000"}}
pools: {app: {origins: [app]}}
routes: [{name: all, match: {fallback: true}, pool: app}]
`

// Each target's block is decoded strictly into the target's own type and checked by the target, at the
// position of the key concerned; the manifest itself names no target.
func TestTargetBlocksAreTheTargetsOwn(t *testing.T) {
	cases := []struct{ name, targets, want string }{
		{"unknown key in a block", "targets: {fastly: {service_id: abc, region: eu}}\n", `:7:37: error[E004]: unknown key "region" in targets.fastly`},
		{"a required key", "targets: {gcp: {project: p}}\n", ":7:16: error[E006]: targets.gcp: url_map is missing"},
		{"a target's own check", "targets:\n  cloudflare: {account_id: a, zone: z, script: s, compatibility_date: soon}\n",
			`:8:71: error[E008]: targets.cloudflare: "soon" is not a date`},
		{"an unknown target", "targets: {akamai: {}}\n", `:7:11: error[E004]: unknown target "akamai" in targets`},
		{"a typo of a target", "targets: {fastyl: {service_id: x}}\n", `did you mean "fastly"?`},
		{"an old name", "targets: {workers: {}}\n", `target "workers" is now called "cloudflare"`},
		{"a companion the target does not offer", "targets: {fastly: {service_id: x, companions: [lambda-edge-auth]}}\n",
			`"lambda-edge-auth" is not a companion of fastly`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := manifest.LoadBytes("m.yaml", []byte(targetBase+tc.targets), manifest.LoadOptions{})
			if !diags.HasErrors() {
				t.Fatal("accepted")
			}
			if got := fmt.Sprint(diags); !strings.Contains(got, tc.want) {
				t.Fatalf("want %q in:\n%s", tc.want, got)
			}
		})
	}
}

func TestTargetBlockSettingsReachTheIR(t *testing.T) {
	g, diags := manifest.LoadBytes("m.yaml", []byte(targetBase+"targets: {cloudfront: {distribution_id: E1, function: f, companions: [waf-rate-limit]}, local: {dir: out}}\n"), manifest.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(fmt.Sprint(diags))
	}
	if got := strings.Join(g.Targets.Names(), ","); got != "cloudfront,local" {
		t.Fatalf("targets %s", got)
	}
	cf, _ := g.Targets.Lookup("cloudfront")
	if strings.Join(cf.Companions, ",") != "waf-rate-limit" || cf.Pos.Line != 7 {
		t.Fatalf("cloudfront %+v", cf)
	}
}

func TestNoTargetsMeansTheLocalTarget(t *testing.T) {
	g, diags := manifest.LoadBytes("m.yaml", []byte(targetBase), manifest.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(fmt.Sprint(diags))
	}
	if got := strings.Join(g.Targets.Names(), ","); got != manifest.DefaultTarget {
		t.Fatalf("targets %s", got)
	}
}
