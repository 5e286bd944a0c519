// Package fastly is the `fastly` target: a VCL service. It owns the target's registration (its
// `targets.fastly` block and edge identity) and its deploy through go-fastly: plan reads the live version,
// apply clones it, changes only what differs from the rendered artifacts (the main VCL, the backends,
// health checks and domains of service.json, see Service, and the edge dictionaries of dictionaries.json,
// see dictionary.go), validates the clone on Fastly's side and activates it; rollback puts back the JWKS
// items and activates the previous version.
//
// It ships the artifacts it is given and never derives gateway semantics; the VCL comes from render/fastly.
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
	ServiceID ir.Value `yaml:"service_id" jsonschema:"required"`
	// ValidatePlan makes plan compile the planned version on Fastly, in a clone of the live version that is
	// never activated: a VCL Fastly refuses fails the plan. It costs the mutating calls of a stage per plan
	// with changes; in the same run, apply activates that clone instead of making another.
	ValidatePlan bool     `yaml:"validate_plan,omitempty" jsonschema_description:"compile the planned version on Fastly at plan time, in a throw-away clone that is never activated (costs mutating API calls)"`
	Companions   []string `yaml:"companions,omitempty"`
}

// CompanionList implements ir.Companioned.
func (s *Settings) CompanionList() []string { return s.Companions }

func checkSettings(cfg any) []manifest.BlockProblem {
	if cfg.(*Settings).ServiceID.IsZero() {
		return []manifest.BlockProblem{manifest.MissingField("service_id", "write the service id, or {env: NAME}")}
	}
	return nil
}

// The fastly target: render/fastly renders the VCL, this package deploys it through go-fastly.
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
		NotReverted: []string{
			"secret values: the items of the write-only edgegw_secrets dictionary are not versioned and Fastly never gives them back, so a rollback keeps the newest",
			"items of edge dictionaries edgegw does not own, ACL entries and other unversioned stores: a version holds a dictionary, not its items",
			"the inactive draft versions failed applies left (Fastly keeps every version)",
		},
		New: New,
	})
}
