package cloudfront

import (
	"fmt"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/providers"
)

const wafManifest = `version: 1
name: rl
domains:
  - {host: api.example.com, zone: example.com}
origins:
  app: {url: "http://127.0.0.1:9000"}
pools:
  app: {origins: [app]}
rate_limits:
  lim: {key: %s, limit: %d, window: %s}
routes:
  - name: api
    match: {path: {prefix: /api}}
    pool: app
    rate_limit: lim
targets:
  cloudfront: {distribution_id: E2EXAMPLE, function: gw%s}
`

// TestWAFRateLimitConstraints: with the waf-rate-limit companion, a rate limit by IP or header within the
// WAF's windows and minimum passes validation; one outside them is a finding at the route's line that names
// the constraint; a jwt.sub key stays refused.
func TestWAFRateLimitConstraints(t *testing.T) {
	const with = ", companions: [waf-rate-limit], web_acl_name: edge, web_acl_id: example-acl-id"
	for _, c := range []struct {
		key, window, companions string
		limit                   int
		want                    []string // "" = no finding
	}{
		{"ip", "60s", with, 100, nil},
		{`"header:X-API-Key"`, "600s", with, 10, nil},
		{"ip", "60s", "", 100, []string{"rate_limit.ip", "waf-rate-limit"}},
		{"ip", "30s", with, 100, []string{"rate_limit.ip", "windows of 1m0s, 2m0s, 5m0s, 10m0s only", "window of 30s"}},
		{`"header:X-API-Key"`, "60s", with, 9, []string{"rate_limit.header", "limits of at least 10 requests", "allows 9 requests"}},
	} {
		src := fmt.Sprintf(wafManifest, c.key, c.limit, c.window, c.companions)
		g, diags := manifest.LoadBytes("rl.yaml", []byte(src), manifest.LoadOptions{})
		if g == nil {
			t.Fatalf("manifest does not load: %v", diags)
		}
		fs := providers.CheckCapabilities(g, Name)
		if c.want == nil {
			if len(fs) != 0 {
				t.Errorf("%s %d/%s%s: findings %v, want none", c.key, c.limit, c.window, c.companions, fs)
			}
			continue
		}
		if len(fs) != 1 || fs[0].Pos.Line != 12 || fs[0].Route != "api" {
			t.Errorf("%s %d/%s%s: findings %v, want one at route api line 12", c.key, c.limit, c.window, c.companions, fs)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(fs[0].String(), w) {
				t.Errorf("finding %q does not say %q", fs[0], w)
			}
		}
	}
}
