// Package gcp is the `gcp` target: a URL map of the global external Application Load Balancer. It owns the
// target's registration (its `targets.gcp` block, edge identity, capability table and size limit) and the
// `gcp` test engine (providers/gcp/evaluate), and the deploy through compute/v1 (deploy.go): plan reads the
// live map's fingerprint and validates the planned map on GCP, apply creates or updates what the map
// references (NEGs, Cloud Armor policies, health checks, backend services and buckets) and then the map,
// and rollback returns the map to the one kept in a standby map. It ships the artifacts render/gcp
// produced and never derives gateway semantics.
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
	// Project is the GCP project id; GOOGLE_CLOUD_PROJECT when it is empty.
	Project    string   `yaml:"project,omitempty"`
	URLMap     string   `yaml:"url_map" jsonschema:"required"`
	Companions []string `yaml:"companions,omitempty"`
}

// CompanionList implements ir.Companioned.
func (s *Settings) CompanionList() []string { return s.Companions }

func checkSettings(cfg any) []manifest.BlockProblem {
	s := cfg.(*Settings)
	var out []manifest.BlockProblem
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
		Companions:    []string{OriginAuth, CloudArmorThrottle, OriginNormalize, PlatformErrors},
		EdgeHeaders:   []string{"Via"},
		Credentials:   "Google Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's application-default login, the metadata server); project from the manifest or GOOGLE_CLOUD_PROJECT",
		PublicDNS:     true,
		NotReverted: []string{"backend services and health checks (a rollback puts the URL map back, not their settings)",
			"Cloud Armor policy rules", "DNS records"},
		New: New,
	})
}
