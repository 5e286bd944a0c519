package fastly_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/internal/falco"
	"github.com/edgegw/edgegw/internal/testenv"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
	"github.com/edgegw/edgegw/render/fastly"

	_ "github.com/edgegw/edgegw/providers/all" // the manifest reads each target's block as its target registered it
)

var update = flag.Bool("update", false, "rewrite the golden files")

// separator divides a case file: the manifest above, the expected VCL (or "error: …") below.
const separator = "----- main.vcl -----\n"

type goldenCase struct {
	name   string
	file   string // the golden file
	g      *ir.Gateway
	input  string // for case files: the manifest part, kept on -update
	loaded error
}

func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	var out []goldenCase
	for _, ex := range []string{"full", "quickstart"} {
		g, diags := manifest.Load(filepath.Join("..", "..", "testdata", "examples", ex+".yaml"))
		if g == nil {
			t.Fatalf("%s: %v", ex, diags)
		}
		out = append(out, goldenCase{name: ex, file: filepath.Join("testdata", ex+".vcl"), g: g})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "cases", "*.txt"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		input, _, _ := strings.Cut(string(data), separator)
		g, diags := manifest.LoadBytes(filepath.Base(f), []byte(input), manifest.LoadOptions{})
		if g == nil {
			t.Fatalf("%s: the manifest does not load: %v", f, diags)
		}
		out = append(out, goldenCase{name: strings.TrimSuffix(filepath.Base(f), ".txt"), file: f, g: g, input: input})
	}
	return out
}

// TestGolden renders each example manifest and each case in testdata/cases and compares the VCL (or the
// error) with the golden text; `go test ./render/fastly -update` rewrites them.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			var got string
			b, err := fastly.RenderVCL(c.g, fastly.Options{})
			if err != nil {
				got = "error: " + err.Error() + "\n"
			} else {
				got = string(b)
			}
			if c.input != "" {
				got = c.input + separator + got
			}
			if *update {
				if err := os.WriteFile(c.file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(c.file)
			if err != nil {
				t.Fatalf("%v (run go test ./render/fastly -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the rendered VCL; run go test ./render/fastly -update and review the diff", c.file)
			}
		})
	}
}

// TestDeterministic renders the full example twice and through the registry: same bytes.
func TestDeterministic(t *testing.T) {
	g, diags := manifest.Load("../../testdata/examples/full.yaml")
	if g == nil {
		t.Fatal(diags)
	}
	r, err := render.Lookup("fastly")
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.Render(g)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fastly.RenderVCL(g, fastly.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 3 || a[0].Path != "main.vcl" || !bytes.Equal(a[0].Data, b) {
		t.Fatalf("the registered renderer and RenderVCL disagree or are not deterministic")
	}
	if a[1].Path != fastly.ServiceFile || !bytes.Contains(a[1].Data, []byte(`"name": "*.api.example.com"`)) || !bytes.Contains(a[1].Data, []byte(`"backends": []`)) {
		t.Fatalf("service.json lists the domains and no API backends (they are in main.vcl):\n%s", a[1].Data)
	}
}

// TestLint runs `falco lint` on every VCL this package renders for the golden cases and the examples, in
// production and in test mode. Fastly declares a service's edge dictionaries as tables ahead of the custom
// VCL; the linted file carries the same declarations.
func TestLint(t *testing.T) {
	_, err := falco.Binary()
	testenv.Require(t, "falco (tools/falco, built by scripts/install-test-deps.sh)", err)
	dir := t.TempDir()
	linted := 0
	for _, c := range goldenCases(t) {
		for _, test := range []bool{false, true} {
			b, err := fastly.RenderVCL(c.g, fastly.Options{Test: test})
			if err != nil {
				continue // an expected render error (a golden "error:" case)
			}
			name := c.name
			if test {
				name += ".test"
			}
			p := filepath.Join(dir, name+".vcl")
			if err := os.WriteFile(p, append([]byte(fastly.DictionaryDeclarations(c.g)), b...), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := falco.Lint(context.Background(), p)
			if err != nil {
				t.Errorf("%s: %v\n%s", name, err, out)
				continue
			}
			if strings.Contains(out, "[ERROR]") || strings.Contains(out, "[WARNING]") {
				t.Errorf("%s: falco lint reports problems:\n%s", name, out)
			}
			linted++
		}
	}
	t.Logf("falco lint: %d rendered VCL files clean", linted)
	if linted < 6 {
		t.Fatalf("linted %d files, want the examples and cases in both modes", linted)
	}
}

// TestSizeLimit checks the 1 MB limit at render time with an error that names the size and the limit.
func TestSizeLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nname: huge\ndomains: [{host: api.example.com, zone: example.com}]\norigins: {a: {url: \"http://127.0.0.1:1\"}}\npools: {a: {origins: [a]}}\nroutes:\n")
	long := strings.Repeat("x", 200)
	for i := 0; i < 6000; i++ {
		b.WriteString("  - {name: r" + strconv.Itoa(i) + ", match: {path: {prefix: /p" + strconv.Itoa(i) + "/" + long + "}}, pool: a}\n")
	}
	g, diags := manifest.LoadBytes("huge.yaml", []byte(b.String()), manifest.LoadOptions{})
	if g == nil {
		t.Fatal(diags)
	}
	_, err := fastly.RenderVCL(g, fastly.Options{})
	if err == nil || !strings.Contains(err.Error(), "over Fastly's limit of 1048576 bytes") || !strings.Contains(err.Error(), "6000 routes") {
		t.Fatalf("want the size error naming the routes and the limit, got %v", err)
	}
}

// TestDictionariesArtifact: the VCL's dictionaries are listed with what fills them, a secret by the name of
// its environment variable only (the renderer never sees a value), and a VCL without dictionaries gets no
// such artifact.
func TestDictionariesArtifact(t *testing.T) {
	const src = `version: 1
name: dicts
domains: [{host: api.example.com, zone: example.com}]
origins: {a: {url: "https://a.internal"}}
pools: {a: {origins: [a]}}
auth:
  hs: {jwt: {algorithms: [HS256], secret: {env: JWT_SECRET_KEY}}}
  idp: {jwt: {algorithms: [RS256, ES256], jwks: {url: "https://auth.example.com/jwks.json"}}}
routes:
  - {name: one, match: {path: {prefix: /one}}, pool: a, auth: hs}
  - {name: two, match: {path: {prefix: /two}}, pool: a, auth: idp}
`
	t.Setenv("JWT_SECRET_KEY", "a-secret-that-must-never-reach-an-artifact-0123456789")
	g, diags := manifest.LoadBytes("dicts.yaml", []byte(src), manifest.LoadOptions{})
	if g == nil || diags.HasErrors() {
		t.Fatal(diags)
	}
	arts, err := fastly.Renderer{}.Render(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(arts) != 3 || arts[2].Path != fastly.DictionariesFile {
		t.Fatalf("artifacts %d, want main.vcl, service.json and %s", len(arts), fastly.DictionariesFile)
	}
	want := `{
  "dictionaries": [
    {
      "name": "edgegw_jwks_idp",
      "jwks": {
        "url": "https://auth.example.com/jwks.json",
        "algorithms": [
          "RS256",
          "ES256"
        ]
      }
    },
    {
      "name": "edgegw_secrets",
      "write_only": true,
      "secrets": {
        "JWT_SECRET_KEY": "JWT_SECRET_KEY"
      }
    }
  ]
}
`
	if got := string(arts[2].Data); got != want {
		t.Errorf("%s:\n%s\nwant:\n%s", fastly.DictionariesFile, got, want)
	}
	for _, a := range arts {
		if bytes.Contains(a.Data, []byte(os.Getenv("JWT_SECRET_KEY"))) {
			t.Errorf("%s holds the secret value", a.Path)
		}
	}
	plain, diags := manifest.Load("../../testdata/examples/quickstart.yaml")
	if plain == nil {
		t.Fatal(diags)
	}
	if arts, err := (fastly.Renderer{}).Render(plain); err != nil || len(arts) != 2 {
		t.Errorf("a VCL without dictionaries: %d artifacts (%v), want main.vcl and service.json only", len(arts), err)
	}
}
