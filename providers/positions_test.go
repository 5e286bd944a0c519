package providers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/fake"
	"github.com/edgegw/edgegw/render"
)

// linesRenderer writes one line per route, citing the manifest line as generated code does.
type linesRenderer struct{}

func (linesRenderer) Name() string { return "test-lines" }

func (linesRenderer) Render(g *ir.Gateway) ([]render.Artifact, error) {
	var b strings.Builder
	for _, r := range g.Routes {
		if r.Pos.Line > 0 {
			fmt.Fprintf(&b, "// route %s (edgegw.yaml:%d)\n", r.Name, r.Pos.Line)
		}
		fmt.Fprintf(&b, "route(%q, %q)\n", r.Name, r.Match.Path)
	}
	return []render.Artifact{{Path: "main.js", Data: []byte(b.String())}}, nil
}

func init() { render.Register(linesRenderer{}) }

// A renderer may cite manifest lines in generated code; moving a route's line must still plan no change,
// and plan says why the bytes differ. A real change still plans one.
func TestPositionsInArtifactsAreNoChange(t *testing.T) {
	f := fake.New("a")
	targets := []providers.Target{{Name: "a", Registration: providers.Registration{Name: "a", Renderer: "test-lines"}, Provider: f}}
	makePlan := func(g *ir.Gateway) *providers.Plan {
		t.Helper()
		p, err := providers.MakePlan(context.Background(), g, targets, providers.PlanMeta{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	v1 := gateway("users", "orders")
	if _, err := providers.Apply(context.Background(), makePlan(v1), provs(f), providers.ApplyOptions{Gateway: v1, Getenv: func(string) string { return "" }}); err != nil {
		t.Fatal(err)
	}
	moved := gateway("users", "orders")
	for i := range moved.Routes {
		moved.Routes[i].Pos.Line += 7 // a comment block added above the routes
	}
	p := makePlan(moved)
	if p.HasChanges() {
		t.Fatalf("moving lines planned changes: %+v", p.Targets[0].Changes)
	}
	if !p.PositionsOnly() {
		t.Fatal("the plan does not say that only positions differ")
	}
	if a := p.Targets[0].Artifacts[0]; a.Canonical == "" || a.Canonical == a.Digest {
		t.Fatalf("artifact %s: canonical digest %q, digest %q", a.Path, a.Canonical, a.Digest)
	}
	changed := gateway("users", "orders", "payments")
	if p := makePlan(changed); !p.HasChanges() || p.PositionsOnly() {
		t.Fatalf("a new route: changes %v, positions only %v", p.HasChanges(), p.PositionsOnly())
	}
}

// failingRenderer refuses the route named "bad", as a renderer does for a construct its target cannot hold.
type failingRenderer struct{}

func (failingRenderer) Name() string { return "test-refuses-bad" }

func (failingRenderer) Render(g *ir.Gateway) ([]render.Artifact, error) {
	if g.Route("bad") != nil {
		return nil, &render.RouteError{Route: "bad", Err: fmt.Errorf("a table of 2 entries is over this target's limit of 1")}
	}
	return linesRenderer{}.Render(g)
}

func init() { render.Register(failingRenderer{}) }

// Render and size-limit failures are reported where the manifest asks for what failed.
func TestRenderAndLimitFailuresHavePositions(t *testing.T) {
	g := gateway("ok", "bad")
	g.Sections = map[string]ir.Pos{"targets.a": {File: "edgegw.yaml", Line: 40, Col: 3}}
	reg := providers.Registration{Name: "a", Renderer: "test-refuses-bad"}
	p, err := providers.MakePlan(context.Background(), g, []providers.Target{{Name: "a", Registration: reg, Provider: fake.New("a")}}, providers.PlanMeta{})
	if err == nil || len(p.Problems) != 1 {
		t.Fatalf("err %v, problems %+v", err, p.Problems)
	}
	if got := p.Problems[0].Pos.String(); got != "edgegw.yaml:11:5" {
		t.Errorf("render error at %q, want the route's position edgegw.yaml:11:5", got)
	}
	reg.Renderer, reg.Limits = "test-lines", []providers.Limit{{Path: "main.js", MaxBytes: 10, Reason: "test: 10 bytes"}}
	p, err = providers.MakePlan(context.Background(), g, []providers.Target{{Name: "a", Registration: reg, Provider: fake.New("a")}}, providers.PlanMeta{})
	if err == nil || len(p.Problems) != 1 || !strings.Contains(p.Problems[0].Error, "over the limit of 10") {
		t.Fatalf("err %v, problems %+v", err, p.Problems)
	}
	if got := p.Problems[0].Pos.String(); got != "edgegw.yaml:40:3" {
		t.Errorf("size limit at %q, want the target's block edgegw.yaml:40:3", got)
	}
}
