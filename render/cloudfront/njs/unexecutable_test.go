package njs_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/gateway/testrun/conformance"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render/cloudfront/njs"
)

// TestUnexecutableOnlyWhatCannotLoad: the engine declares the cases of a gateway unexecutable only when
// validate refuses it for cloudfront and render refuses it for its size; a gateway that validates but is
// over the limit, and one that fits, are run (the first fails with the size error, as a user must see).
func TestUnexecutableOnlyWhatCannotLoad(t *testing.T) {
	ms, _, err := conformance.Load(conformance.LoadOptions{Vectors: "../../../" + conformance.DefaultVectors})
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, m := range ms {
		if len(m.Cases) == 0 {
			continue
		}
		if r := (&njs.Engine{}).Unexecutable(m.Gateway, m.Cases[0]); r != "" {
			declared[filepath.Base(m.File)] = true
			if !strings.Contains(r, "validate refuses") || !strings.Contains(r, "10240-byte limit") {
				t.Errorf("%s: reason does not say why: %s", m.File, r)
			}
		}
		if r := (&njs.Engine{IgnoreSizeLimit: true}).Unexecutable(m.Gateway, m.Cases[0]); r != "" {
			t.Errorf("%s: declared unexecutable with the limit lifted: %s", m.File, r)
		}
	}
	if len(declared) != 1 || !declared["edge.yaml"] {
		t.Errorf("declared %v, want edge.yaml only (refused by validate and over the limit)", declared)
	}

	g, diags := manifest.Load(filepath.Join("..", "..", "..", "testdata", "examples", "quickstart.yaml"))
	if g == nil {
		t.Fatalf("quickstart does not load: %v", diags)
	}
	tc := g.Tests[0]
	if r := (&njs.Engine{}).Unexecutable(g, tc); r != "" {
		t.Errorf("quickstart declared unexecutable: %s", r)
	}
	// Valid for cloudfront, but 200 routes are over the limit: run, so the size error is the result.
	base := *g.Route("api")
	g.Routes = nil
	for i := 0; i < 200; i++ {
		r := base
		r.Name = fmt.Sprintf("route-%03d", i)
		r.Match.Kind = ir.PathPrefix
		r.Match.Path = fmt.Sprintf("/service-%03d", i)
		g.Routes = append(g.Routes, r)
	}
	if r := (&njs.Engine{}).Unexecutable(g, tc); r != "" {
		t.Errorf("a gateway validate accepts is declared unexecutable for its size: %s", r)
	}
}
