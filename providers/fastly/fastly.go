// Package fastly is the `fastly` target: a VCL service. It owns the target's registration (its
// `targets.fastly` block and edge identity).
package fastly

import (
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	render "github.com/edgegw/edgegw/render/fastly"
)

// Name is the target name.
const Name = "fastly"

// Settings is the manifest's `targets.fastly` block.
type Settings struct {
	ServiceID  ir.Value `yaml:"service_id" jsonschema:"required"`
	Companions []string `yaml:"companions,omitempty"`
}

// CompanionList implements ir.Companioned.
func (s *Settings) CompanionList() []string { return s.Companions }

func checkSettings(cfg any) []manifest.BlockProblem {
	if cfg.(*Settings).ServiceID.IsZero() {
		return []manifest.BlockProblem{manifest.MissingField("service_id", "write the service id, or {env: NAME}")}
	}
	return nil
}

// The deploy lands with its own change; until then plan and apply skip the target and say so.
func init() {
	providers.Register(providers.Registration{
		Name:          Name,
		Renderer:      render.Name,
		Capabilities:  capabilities,
		Limits:        []providers.Limit{{Path: "main.vcl", MaxBytes: 1 << 20, Reason: "Fastly: 1 MiB of VCL per service"}},
		Settings:      func() any { return &Settings{} },
		CheckSettings: checkSettings,
		EdgeHeaders:   []string{"X-Served-By", "Fastly-Debug-Digest"},
		Credentials:   "FASTLY_API_TOKEN (or FASTLY_API_KEY)",
		PublicDNS:     true,
		NotReverted:   []string{"dictionary items not in the deploy record", "DNS records"},
	})
}
