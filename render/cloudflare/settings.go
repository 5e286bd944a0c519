package cloudflare

import "github.com/edgegw/edgegw/manifest/ir"

// WorkerSettings is what the renderer reads of the manifest's `targets.cloudflare` block, whose type
// belongs to the target's own package (providers/cloudflare), which render must not import: the settings
// provide these methods. Without the block, or from a type without them, the Worker renders with the
// gateway's name as its script, no zone routes in wrangler.toml and DefaultCompatibilityDate.
type WorkerSettings interface {
	WorkerScript() string
	WorkerZone() string
	WorkerCompatibilityDate() string
}

// settings returns the script name, zone and compatibility date the artifacts carry.
func settings(g *ir.Gateway) (script, zone, date string) {
	script, date = g.Name, DefaultCompatibilityDate
	t, ok := g.Targets.Lookup(Name)
	if !ok {
		return script, zone, date
	}
	s, ok := t.Config.(WorkerSettings)
	if !ok {
		return script, zone, date
	}
	if v := s.WorkerScript(); v != "" {
		script = v
	}
	if v := s.WorkerCompatibilityDate(); v != "" {
		date = v
	}
	return script, s.WorkerZone(), date
}
