// Package azure is the `azure` target: Azure Front Door (Standard/Premium) routes, rule sets and origin
// groups. It owns the target's registration (its `targets.azure` block, edge identity, capability table and
// the renderer's settings). The `azure` test engine, an evaluator of Front Door's documented route and rule
// semantics, is providers/azure/evaluate. The deploy (deploy.go, release.go) ships render/azure's template
// through armcdn: a rule set per release, the routes switched to it, the previous set kept for rollback.
package azure

import (
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	azrender "github.com/edgegw/edgegw/render/azure"
)

// Name is the target name.
const Name = "azure"

// Settings is the manifest's `targets.azure` block.
type Settings struct {
	SubscriptionID ir.Value `yaml:"subscription_id" jsonschema:"required"`
	ResourceGroup  string   `yaml:"resource_group" jsonschema:"required"`
	Profile        string   `yaml:"profile" jsonschema:"required"`
	Endpoint       string   `yaml:"endpoint" jsonschema:"required"`
	Companions     []string `yaml:"companions,omitempty"`
}

// CompanionList implements ir.Companioned.
func (s *Settings) CompanionList() []string { return s.Companions }

func checkSettings(cfg any) []manifest.BlockProblem {
	s := cfg.(*Settings)
	var out []manifest.BlockProblem
	if s.SubscriptionID.IsZero() {
		out = append(out, manifest.MissingField("subscription_id", "write the subscription id, or {env: AZURE_SUBSCRIPTION_ID}"))
	}
	for _, f := range []struct{ key, v, fix string }{
		{"resource_group", s.ResourceGroup, "write the resource group that holds the Front Door profile"},
		{"profile", s.Profile, "write the Front Door profile's name"},
		{"endpoint", s.Endpoint, "write the Front Door endpoint's name"},
	} {
		if f.v == "" {
			out = append(out, manifest.MissingField(f.key, f.fix))
		}
	}
	return out
}

// settingsOf hands the renderer the manifest's targets.azure block.
func settingsOf(g *ir.Gateway) azrender.Settings {
	t, ok := g.Targets.Lookup(Name)
	if !ok {
		return azrender.Settings{}
	}
	s, _ := t.Config.(*Settings)
	if s == nil {
		return azrender.Settings{Companions: t.Companions}
	}
	return azrender.Settings{Profile: s.Profile, Endpoint: s.Endpoint, Companions: s.Companions}
}

func init() {
	azrender.SettingsOf = settingsOf
	providers.Register(providers.Registration{
		Name:          Name,
		Renderer:      azrender.Name,
		Capabilities:  capabilities,
		Settings:      func() any { return &Settings{} },
		CheckSettings: checkSettings,
		Companions:    []string{OriginAuth, OriginNormalize, PlatformErrors},
		EdgeHeaders:   []string{"X-Azure-Ref"},
		Credentials:   "DefaultAzureCredential (environment, workload identity, managed identity, Azure CLI); the subscription from targets.azure or AZURE_SUBSCRIPTION_ID",
		PublicDNS:     true,
		NotReverted: []string{"WAF policy rules", "DNS records",
			"origin groups, origins, custom domains and route settings: an apply changes them in place, a rollback switches rule sets only"},
		New: New,
	})
}
