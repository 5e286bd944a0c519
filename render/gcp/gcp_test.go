package gcp_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	_ "github.com/edgegw/edgegw/providers/all" // the targets.gcp block, as the gcp target registered it
	"github.com/edgegw/edgegw/render"
	gcprender "github.com/edgegw/edgegw/render/gcp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func load(t *testing.T, path string) *ir.Gateway {
	t.Helper()
	g, diags := manifest.Load(path)
	if g == nil || diags.HasErrors() {
		t.Fatalf("%s: %v", path, diags)
	}
	return g
}

// joined is the artifacts as one text, each after a line naming its path.
func joined(arts []render.Artifact) []byte {
	var b bytes.Buffer
	for _, a := range arts {
		fmt.Fprintf(&b, "==> %s\n", a.Path)
		b.Write(a.Data)
	}
	return b.Bytes()
}

// TestGolden renders every testdata manifest for deploy (not test mode) and compares it with its golden
// file; `go test ./render/gcp -update` rewrites them.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata manifests")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			arts, err := gcprender.Renderer{}.Render(load(t, f))
			if err != nil {
				t.Fatal(err)
			}
			got := joined(arts)
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run with -update and review the diff)", f, golden)
			}
		})
	}
}

// TestDeterministicAndPositionFree renders twice and without positions: the same bytes, so a moved line
// redeploys nothing.
func TestDeterministicAndPositionFree(t *testing.T) {
	g := load(t, "testdata/native.yaml")
	a, err := gcprender.Renderer{}.Render(g)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := gcprender.Renderer{}.Render(g)
	if !bytes.Equal(joined(a), joined(b)) {
		t.Fatal("two renders differ")
	}
	if err := render.Canonicalize(gcprender.Renderer{}, g, a); err != nil {
		t.Fatal(err)
	}
	for _, x := range a {
		if x.Path != gcprender.URLMapPath && x.Canonical != "" {
			t.Errorf("%s changes without positions", x.Path)
		}
	}
}

// TestPrioritiesFollowTheIR checks the priorities (1, then gaps of 10, a prefix rewrite split in two rules)
// and the segment-boundary form of a prefix.
func TestPrioritiesFollowTheIR(t *testing.T) {
	g := load(t, "testdata/native.yaml")
	arts, err := gcprender.Renderer{}.Render(g)
	if err != nil {
		t.Fatal(err)
	}
	b, err := gcprender.Parse(arts)
	if err != nil {
		t.Fatal(err)
	}
	var api []string
	for _, pm := range b.URLMap.PathMatchers {
		if pm.Name != b.URLMap.HostRules[0].PathMatcher {
			continue
		}
		for _, r := range pm.RouteRules {
			m := r.MatchRules[0]
			api = append(api, fmt.Sprintf("%d %s%s%s/%d", r.Priority, m.FullPathMatch, m.PrefixMatch, m.PathTemplateMatch, len(r.MatchRules)))
		}
	}
	want := "1 /status/1 11 /account/2 31 /v2/2 41 /v2/1 42 /v2//1 51 /v1/users/{id=*}/2 61 //1 71 //1"
	if got := strings.Join(api, " "); got != want {
		t.Errorf("api.example.com rules:\n got %s\nwant %s", got, want)
	}
	if n := len(b.URLMap.Tests); n != 8 {
		t.Errorf("%d tests[], want the 8 the manifest states", n)
	}
}

// TestOverOneMegabyteIsARouteError builds a map past GCP's 1 MB limit: the error names the route where
// the map passes it, so validate and render report it at that route's line.
func TestOverOneMegabyteIsARouteError(t *testing.T) {
	g := load(t, "testdata/native.yaml")
	long := strings.Repeat("x", 400)
	var extra []ir.Route
	for i := range 3000 {
		extra = append(extra, ir.Route{Name: fmt.Sprintf("r%d", i), Pool: "api",
			Match: ir.Match{Kind: ir.PathExact, Path: fmt.Sprintf("/%d/%s", i, long)}})
	}
	g.Routes = append(extra, g.Routes...)
	_, err := gcprender.Renderer{}.Render(g)
	var re *render.RouteError
	if !errors.As(err, &re) {
		t.Fatalf("error %v, want a route error", err)
	}
	if !strings.Contains(re.Error(), "1 MB") || re.Route == "" || re.Route == "r0" {
		t.Errorf("error %q at route %q", re.Error(), re.Route)
	}
}

// TestUnrenderableRoutesAreRefusedAtTheRoute: a synthetic response and a JWT without origin-auth cannot
// be written into a URL map.
func TestUnrenderableRoutesAreRefusedAtTheRoute(t *testing.T) {
	g := load(t, "../../testdata/examples/full.yaml")
	_, err := gcprender.Renderer{}.Render(g)
	var re *render.RouteError
	if !errors.As(err, &re) || re.Route != "health" || !strings.Contains(err.Error(), "synthetic response") {
		t.Fatalf("error %v, want route health refused for its synthetic response", err)
	}
	if _, err := gcprender.Render(g, gcprender.Options{Test: true}); err != nil {
		t.Fatalf("test mode: %v", err)
	}
}
