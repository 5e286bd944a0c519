// Package irjson renders the IR itself as JSON (`--target ir`). The local target deploys this artifact and
// the reference gateway serves it, so it is the one artifact every other target is compared against.
package irjson

import (
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
)

// Name is the target name of this renderer.
const Name = "ir"

// FileName is the artifact's path.
const FileName = "gateway.ir.json"

// Renderer renders the IR as indented JSON.
type Renderer struct{}

var _ render.Renderer = Renderer{}

func init() { render.Register(Renderer{}) }

// Name implements render.Renderer.
func (Renderer) Name() string { return Name }

// Render implements render.Renderer.
func (Renderer) Render(g *ir.Gateway) ([]render.Artifact, error) {
	b, err := g.JSON()
	if err != nil {
		return nil, err
	}
	return []render.Artifact{{Target: Name, Path: FileName, MediaType: "application/json", Data: b}}, nil
}
