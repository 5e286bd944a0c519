// Package gcp is the `gcp` target: a URL map of the global external Application Load Balancer. It owns the
// target's registration (its `targets.gcp` block, edge identity, capability table and size limit) and the
// `gcp` test engine, an evaluator of URL-map semantics over the rendered JSON (evaluator.go). Deploying
// through compute/v1 is not built yet.
package gcp

import (
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	gcprender "github.com/edgegw/edgegw/render/gcp"
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

// settingsOf hands the renderer the manifest's targets.gcp block.
func settingsOf(g *ir.Gateway) gcprender.Settings {
	t, ok := g.Targets.Lookup(Name)
	if !ok {
		return gcprender.Settings{}
	}
	s, _ := t.Config.(*Settings)
	if s == nil {
		return gcprender.Settings{Companions: t.Companions}
	}
	return gcprender.Settings{Project: s.Project, URLMap: s.URLMap, Companions: s.Companions}
}

func init() {
	gcprender.SettingsOf = settingsOf
	providers.Register(providers.Registration{
		Name:         Name,
		Renderer:     gcprender.Name,
		Capabilities: capabilities,
		Limits: []providers.Limit{{Path: gcprender.URLMapPath, MaxBytes: gcprender.MaxURLMapBytes,
			Reason: "GCP URL maps: 1 MB per map"}},
		Settings:      func() any { return &Settings{} },
		CheckSettings: checkSettings,
		Companions:    []string{OriginAuth, CloudArmorThrottle},
		EdgeHeaders:   []string{"Via"},
		Credentials:   "Google Application Default Credentials",
		PublicDNS:     true,
		NotReverted:   []string{"Cloud Armor policy rules", "DNS records"},
	})
}
