package local

import (
	"strings"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
)

// Settings is the manifest's `targets.local` block.
type Settings struct {
	// Dir holds the versions, relative to the manifest's directory. Default ".edgegw/local".
	Dir string `yaml:"dir,omitempty" jsonschema_description:"where versions are kept, relative to the manifest's directory (default .edgegw/local)"`
}

func checkSettings(cfg any) []manifest.BlockProblem {
	if s := cfg.(*Settings); strings.ContainsRune(s.Dir, 0) {
		return []manifest.BlockProblem{manifest.InvalidField("dir", "write a directory path", "invalid directory")}
	}
	return nil
}

// DirOf is the directory the manifest's local target deploys to, as written ("" for the default).
func DirOf(g *ir.Gateway) string {
	if t, ok := g.Targets.Lookup(Name); ok {
		if s, ok := t.Config.(*Settings); ok {
			return s.Dir
		}
	}
	return ""
}

// Location implements providers.Locator: the directory the versions live in.
func (p *Provider) Location() string { return p.dir }
