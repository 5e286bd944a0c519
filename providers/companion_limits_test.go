package providers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
)

// TestCompanionConstraints: a companion that lifts a Cannot may itself be limited; with the companion
// opted in, a use outside its limits is a finding at the route's line that names the limit, and a use
// inside them is none.
func TestCompanionConstraints(t *testing.T) {
	providers.Register(providers.Registration{Name: "test-waf", Renderer: "ir", Capabilities: providers.Capabilities{
		providers.MatchPrefix:     providers.Can("if-chain"),
		providers.PathNormalize:   providers.Can("normalizer"),
		providers.SyntheticErrors: providers.Can("synthetic"),
		providers.HSTSOnErrors:    providers.Can("hsts"),
		providers.RateLimitIP: providers.Cannot("no counters").Unless("waf", "a rate-based rule",
			providers.RateLimitWindows(time.Minute, 5*time.Minute), providers.MinRateLimit(10)),
	}})
	gw := func(limit int, window time.Duration, companions ...string) *ir.Gateway {
		return &ir.Gateway{
			RateLimits: []ir.RateLimit{{Name: "per_ip", Key: "ip", Limit: limit, Window: ir.Duration(window)}},
			Routes: []ir.Route{{Name: "api", Match: ir.Match{Kind: ir.PathPrefix, Path: "/api"}, RateLimit: "per_ip",
				Pos: ir.Pos{File: "edgegw.yaml", Line: 12, Col: 5}}},
			Targets: ir.Targets{{Name: "test-waf", Companions: companions}},
		}
	}
	if fs := providers.CheckCapabilities(gw(100, time.Minute), "test-waf"); len(fs) != 1 || fs[0].Companion != "waf" {
		t.Fatalf("without the companion: %+v, want one finding naming the companion", fs)
	}
	if fs := providers.CheckCapabilities(gw(100, time.Minute, "waf"), "test-waf"); len(fs) != 0 {
		t.Fatalf("within the companion's limits: %+v", fs)
	}
	fs := providers.CheckCapabilities(gw(3, 2*time.Minute, "waf"), "test-waf")
	if len(fs) != 1 || fs[0].Pos.Line != 12 || fs[0].Feature != providers.RateLimitIP || fs[0].Companion != "" {
		t.Fatalf("outside the companion's limits: %+v, want one finding at line 12 and no companion to add", fs)
	}
	for _, want := range []string{"edgegw.yaml:12:5: route api", "windows of 1m0s, 5m0s only", "window of 2m0s", "limits of at least 10 requests", "allows 3 requests"} {
		if !strings.Contains(fs[0].String(), want) {
			t.Errorf("finding %q does not say %q", fs[0], want)
		}
	}
}
