// Package cloudflare is the `cloudflare` target: a Workers script at every Cloudflare PoP. It owns the
// target's registration (its `targets.cloudflare` block, capability table and edge identity); rendering lives
// in render/cloudflare and the deploy through cloudflare-go in this package.
package cloudflare

import (
	"time"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
)

// Name is the target name.
const Name = "cloudflare"

// Settings is the manifest's `targets.cloudflare` block: where the Worker is deployed.
type Settings struct {
	AccountID         ir.Value `yaml:"account_id" jsonschema:"required"`
	Zone              string   `yaml:"zone" jsonschema:"required"`
	Script            string   `yaml:"script" jsonschema:"required"`
	CompatibilityDate string   `yaml:"compatibility_date,omitempty"`
	Companions        []string `yaml:"companions,omitempty"`
}

// CompanionList implements ir.Companioned.
func (s *Settings) CompanionList() []string { return s.Companions }

func checkSettings(cfg any) []manifest.BlockProblem {
	s := cfg.(*Settings)
	var out []manifest.BlockProblem
	if s.AccountID.IsZero() {
		out = append(out, manifest.MissingField("account_id", "write the account id, or {env: CLOUDFLARE_ACCOUNT_ID}"))
	}
	if s.Zone == "" {
		out = append(out, manifest.MissingField("zone", "write the zone that holds the gateway's hosts, e.g. example.com"))
	}
	if s.Script == "" {
		out = append(out, manifest.MissingField("script", "write the Worker script's name"))
	}
	if s.CompatibilityDate != "" {
		if _, err := time.Parse("2006-01-02", s.CompatibilityDate); err != nil {
			out = append(out, manifest.InvalidField("compatibility_date", "write a date such as 2024-09-23", "%q is not a date", s.CompatibilityDate))
		}
	}
	return out
}

// The capability table and renderer land with render/cloudflare; until then the engine skips the target
// (it has no renderer) and every command says it cannot be built. The deploy is New.
func init() {
	providers.Register(providers.Registration{
		Name:          Name,
		OldNames:      []string{"workers"},
		Settings:      func() any { return &Settings{} },
		CheckSettings: checkSettings,
		EdgeHeaders:   []string{"Cf-Ray"},
		Credentials:   "CLOUDFLARE_API_TOKEN (account id from the manifest or CLOUDFLARE_ACCOUNT_ID)",
		PublicDNS:     true,
		NotReverted: []string{"secret values (a rollback that Cloudflare refuses with error 10220 runs, with --force, on the secrets that version was deployed with)",
			"Durable Object state (rate-limit counters, breaker state)", "DNS records", "Workers routes and custom domains"},
		New: New,
	})
}
