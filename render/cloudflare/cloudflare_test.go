package cloudflare_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	_ "github.com/edgegw/edgegw/providers/all" // the targets the examples configure
	"github.com/edgegw/edgegw/render"
	. "github.com/edgegw/edgegw/render/cloudflare"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var examples = []string{"full", "quickstart"}

func load(t *testing.T, name string) *ir.Gateway {
	t.Helper()
	g, diags := manifest.Load("../../testdata/examples/" + name + ".yaml")
	if g == nil {
		for _, d := range diags {
			t.Log(d.String())
		}
		t.Fatalf("%s does not load", name)
	}
	return g
}

// TestGolden renders the example manifests and compares every artifact with testdata/<example>/<file>
// (regenerate with -update and review the diff).
func TestGolden(t *testing.T) {
	for _, name := range examples {
		t.Run(name, func(t *testing.T) {
			arts, err := Renderer{}.Render(load(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if len(arts) != 3 {
				t.Fatalf("%d artifacts, want worker.js, metadata.json, wrangler.toml", len(arts))
			}
			for _, a := range arts {
				p := filepath.Join("testdata", name, a.Path)
				if *update {
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, a.Data, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(p)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(a.Data, want) {
					t.Errorf("%s differs from the golden file (go test ./render/cloudflare -update, then review the diff)", p)
				}
			}
		})
	}
}

// TestDeterministic: the same IR gives the same bytes, and so does the IR read back from its deployed,
// position-free JSON form (what the local target stores and digests).
func TestDeterministic(t *testing.T) {
	g := load(t, "full")
	a1, err := Renderer{}.Render(g)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		a2, err := Renderer{}.Render(load(t, "full"))
		if err != nil {
			t.Fatal(err)
		}
		for j := range a1 {
			if !bytes.Equal(a1[j].Data, a2[j].Data) {
				t.Fatalf("render %d: %s differs", i, a1[j].Path)
			}
		}
	}
	js, err := g.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back ir.Gateway
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	back.Targets = g.Targets // target settings are not part of the IR's JSON (ir.Gateway.WithoutPositions keeps them)
	a3, err := Renderer{}.Render(&back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a1[0].Data, a3[0].Data) {
		t.Error("the Worker rendered from the IR's JSON differs from the one rendered from the loaded manifest")
	}
}

// TestReadable: every route's entry carries its manifest route name, the Worker is an ES module with a
// default export, and the production build leaves test mode off.
func TestReadable(t *testing.T) {
	g := load(t, "full")
	arts, err := Renderer{}.Render(g)
	if err != nil {
		t.Fatal(err)
	}
	js := string(arts[0].Data)
	for _, r := range g.Routes {
		if !strings.Contains(js, "//! route \""+r.Name+"\"") {
			t.Errorf("no comment for route %s", r.Name)
		}
	}
	for _, want := range []string{"worker_default as default", "export {\n  EdgegwState,", "var TEST_MODE = false;", "async fetch(request, env)"} {
		if !strings.Contains(js, want) {
			t.Errorf("worker.js lacks %q", want)
		}
	}
	if strings.Contains(js, "eval(") || strings.Contains(js, "new Function") {
		t.Error("worker.js uses eval or new Function, which workerd refuses")
	}
	test, err := RenderWith(g, Options{Test: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(test[0].Data), "var TEST_MODE = true;") {
		t.Error("the test build does not turn test mode on")
	}
}

// testSettings stands for providers/cloudflare's settings type.
type testSettings struct{ script, zone, date string }

func (s testSettings) WorkerScript() string            { return s.script }
func (s testSettings) WorkerZone() string              { return s.zone }
func (s testSettings) WorkerCompatibilityDate() string { return s.date }

func TestMetadataAndWrangler(t *testing.T) {
	g := load(t, "full")
	g.Targets = ir.Targets{{Name: Name, Config: testSettings{script: "edge-api-gateway", zone: "example.com", date: "2024-09-23"}}}
	g.AuthPolicies = append(g.AuthPolicies, ir.AuthPolicy{Name: "hs", JWT: &ir.JWT{Algorithms: []string{"HS256"}, Secret: &ir.Value{Env: "JWT_SECRET_KEY"}}})
	arts, err := Renderer{}.Render(g)
	if err != nil {
		t.Fatal(err)
	}
	var md Metadata
	if err := json.Unmarshal(arts[1].Data, &md); err != nil {
		t.Fatal(err)
	}
	if md.MainModule != WorkerFile || md.CompatibilityDate != "2024-09-23" {
		t.Errorf("metadata %+v", md)
	}
	want := []Binding{{Type: "durable_object_namespace", Name: DurableObjectBinding, ClassName: DurableObjectClass}, {Type: "secret_text", Name: "JWT_SECRET_KEY"}}
	if len(md.Bindings) != 2 || md.Bindings[0] != want[0] || md.Bindings[1] != want[1] {
		t.Errorf("bindings %+v, want %+v", md.Bindings, want)
	}
	if len(md.KeepBindings) != 1 || md.KeepBindings[0] != "secret_text" {
		t.Errorf("keep_bindings %v", md.KeepBindings)
	}
	toml := string(arts[2].Data)
	for _, s := range []string{`name = "edge-api-gateway"`, `main = "worker.js"`, `class_name = "EdgegwState"`, `new_sqlite_classes = ["EdgegwState"]`, "#   JWT_SECRET_KEY", `pattern = "*.api.example.com/*"`} {
		if !strings.Contains(toml, s) {
			t.Errorf("wrangler.toml lacks %s:\n%s", s, toml)
		}
	}
}

func TestRegistered(t *testing.T) {
	r, err := render.Lookup(Name)
	if err != nil || r.Name() != Name {
		t.Fatalf("render.Lookup(%q) = %v, %v", Name, r, err)
	}
}
