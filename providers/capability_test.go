package providers_test

import (
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
)

func TestCheckCapabilities(t *testing.T) {
	providers.Register(providers.Registration{Name: "test-nohs", Renderer: "ir", Capabilities: providers.Capabilities{
		providers.MatchPrefix:     providers.Can("if-chain"),
		providers.PathNormalize:   providers.Can("normalizer"),
		providers.SyntheticErrors: providers.Can("synthetic"),
		providers.HSTSOnErrors:    providers.Can("hsts"),
		providers.JWTHS256:        providers.Cannot("no HMAC in the rules engine").Unless("origin-auth", "the origin verifies the token"),
	}})
	g := &ir.Gateway{
		AuthPolicies: []ir.AuthPolicy{{Name: "b", JWT: &ir.JWT{Algorithms: []string{"HS256"}}}},
		Routes: []ir.Route{{Name: "v2", Match: ir.Match{Kind: ir.PathPrefix, Path: "/v2"}, Auth: "b",
			Pos: ir.Pos{File: "edgegw.yaml", Line: 30, Col: 5}}},
	}
	fs := providers.CheckCapabilities(g, "test-nohs")
	if len(fs) != 1 || fs[0].Route != "v2" || fs[0].Pos.Line != 30 || fs[0].Feature != providers.JWTHS256 || fs[0].Companion != "origin-auth" {
		t.Fatalf("findings = %+v", fs)
	}
	if !strings.Contains(fs[0].String(), "edgegw.yaml:30:5: route v2 needs auth.jwt.hs256") {
		t.Errorf("finding text %q", fs[0])
	}
	if got := providers.CheckCapabilities(g, "no-such-target"); len(got) != 1 || !strings.Contains(got[0].Reason, "no provider named") {
		t.Errorf("unknown target: %+v", got)
	}
}

func TestRegisterRefusesEntryWithoutReason(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a capability without a reason was accepted")
		}
	}()
	providers.Register(providers.Registration{Name: "test-noreason", Capabilities: providers.Capabilities{providers.CORS: {Supported: true}}})
}
