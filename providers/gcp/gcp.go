// Package gcp is the `gcp` target: a URL map of the global external Application Load Balancer. It owns the
// target's registration (its `targets.gcp` block and edge identity).
package gcp

import (
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/providers"
)

// Name is the target name.
const Name = "gcp"

// Settings is the manifest's `targets.gcp` block.
type Settings struct {
	Project    string   `yaml:"project" jsonschema:"required"`
	URLMap     string   `yaml:"url_map" jsonschema:"required"`
	Companions []string `yaml:"companions,omitempty"`
}

// CompanionList implements ir.Companioned.
func (s *Settings) CompanionList() []string { return s.Companions }

func checkSettings(cfg any) []manifest.BlockProblem {
	s := cfg.(*Settings)
	var out []manifest.BlockProblem
	if s.Project == "" {
		out = append(out, manifest.MissingField("project", "write the GCP project id"))
	}
	if s.URLMap == "" {
		out = append(out, manifest.MissingField("url_map", "write the URL map's name"))
	}
	return out
}

// The capability table, renderer and deploy land with the target itself.
func init() {
	providers.Register(providers.Registration{
		Name:          Name,
		Settings:      func() any { return &Settings{} },
		CheckSettings: checkSettings,
		Companions:    []string{"origin-auth"},
		EdgeHeaders:   []string{"Via"},
		Credentials:   "Google Application Default Credentials",
		PublicDNS:     true,
		NotReverted:   []string{"Cloud Armor policy rules", "DNS records"},
	})
}
