// Package conformance holds the conformance corpus every target runs (`edgegw test --suite conformance`):
// manifests whose cases are tagged with the capability features they need (corpus/*.yaml), the cases
// generated from the path vectors (corpus/paths.tsv, one case per row on a prefix route and one under a
// rewrite) and from the Wycheproof JWS vectors read from the shared test-vector directory.
//
// It only loads cases; gateway/testrun runs them.
package conformance

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
)

//go:embed corpus
var corpus embed.FS

// Dir is where the corpus lives in the repository, for positions in reports.
const Dir = "gateway/testrun/conformance/corpus"

// DefaultVectors is the shared test-vector directory, relative to the repository root.
const DefaultVectors = "../shared/testvectors"

// Manifest is one corpus manifest; Cases are the ones to run (all of Gateway.Tests unless filtered).
type Manifest struct {
	File    string
	Gateway *ir.Gateway
	Cases   []ir.TestCase
	// Env holds the values of the {env: NAME} references of Gateway the corpus itself defines (the
	// Wycheproof HS keys): a runner resolves them through the targets' environment (Getenv), as real
	// secrets reach a target.
	Env map[string]string
}

// Getenv resolves the manifest's own references (Env) and everything else through outer (nil: unset).
func (m Manifest) Getenv(outer func(string) string) func(string) string {
	return func(name string) string {
		if v, ok := m.Env[name]; ok {
			return v
		}
		if outer == nil {
			return ""
		}
		return outer(name)
	}
}

// LoadOptions say where the vectors are read from.
type LoadOptions struct {
	// Vectors is the shared test-vector directory (wycheproof/json_web_signature_test.json).
	Vectors string
	// RequireVectors makes missing vectors an error (under CI) instead of a note.
	RequireVectors bool
}

// Load reads the corpus. notes say what was left out and why (vectors absent outside CI).
func Load(o LoadOptions) ([]Manifest, []string, error) {
	entries, err := fs.ReadDir(corpus, "corpus")
	if err != nil {
		return nil, nil, fmt.Errorf("conformance: %w", err)
	}
	var out []Manifest
	var notes []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		m, err := loadManifest(e.Name())
		if err != nil {
			return nil, nil, err
		}
		if e.Name() == "paths.yaml" {
			if err := addPathCases(m.Gateway); err != nil {
				return nil, nil, err
			}
		}
		out = append(out, m)
	}
	w, err := wycheproof(o.Vectors)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !o.RequireVectors:
		notes = append(notes, fmt.Sprintf("the Wycheproof JWS cases are skipped: %v (run from the repository root next to ../shared, or set --vectors)", err))
	case err != nil:
		return nil, nil, err
	default:
		out = append(out, w...)
	}
	for i := range out {
		names := map[string]bool{}
		for _, tc := range out[i].Gateway.Tests {
			if names[tc.Name] {
				return nil, nil, fmt.Errorf("conformance: %s: two cases are named %q", out[i].File, tc.Name)
			}
			names[tc.Name] = true
		}
		out[i].Cases = out[i].Gateway.Tests
	}
	return out, notes, nil
}

func loadManifest(name string) (Manifest, error) {
	data, err := corpus.ReadFile("corpus/" + name)
	if err != nil {
		return Manifest{}, fmt.Errorf("conformance: %w", err)
	}
	file := path.Join(Dir, name)
	g, diags := manifest.LoadBytes(file, data, manifest.LoadOptions{ReadFile: func(rel string) ([]byte, error) {
		return corpus.ReadFile(path.Join("corpus", rel))
	}})
	if g == nil || diags.HasErrors() {
		var lines []string
		for _, d := range diags {
			lines = append(lines, d.String())
		}
		return Manifest{}, fmt.Errorf("conformance: %s does not load:\n%s", file, strings.Join(lines, "\n"))
	}
	return Manifest{File: file, Gateway: g}, nil
}

// addPathCases adds one case per row of paths.tsv on the plain prefix route (host plain.example.com) and
// one under its rewrite (host rewrite.example.com, rewrite prefix /internal).
func addPathCases(g *ir.Gateway) error {
	f, err := corpus.Open("corpus/paths.tsv")
	if err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.HasPrefix(text, "#") || strings.TrimSpace(text) == "" {
			continue
		}
		cols := strings.Split(text, "\t")
		if len(cols) < 3 {
			return fmt.Errorf("conformance: %s/paths.tsv:%d: want 3 tab-separated columns", Dir, line)
		}
		raw, want, why := cols[0], cols[1], cols[2]
		pos := ir.Pos{File: Dir + "/paths.tsv", Line: line, Col: 1}
		for _, v := range []struct{ host, prefix string }{{"plain.example.com", ""}, {"rewrite.example.com", "/internal"}} {
			tc := ir.TestCase{Name: fmt.Sprintf("path %s on %s (%s)", raw, v.host, why), Pos: pos,
				Features: []string{"path.normalize", "match.prefix", "match.host"},
				Request:  ir.TestRequest{Method: "GET", URL: "https://" + v.host + "/", Target: raw}}
			hsts := &ir.HeaderExpect{Present: []string{"Strict-Transport-Security"}}
			if want == "400" {
				tc.Expect = ir.TestExpect{Status: 400, NoOrigin: true, Response: hsts}
			} else {
				up := want
				if v.prefix != "" {
					tc.Features = append(tc.Features, "rewrite")
					up = v.prefix + want
				}
				tc.Expect = ir.TestExpect{Status: 200, Origin: "app", UpstreamPath: up, Response: hsts}
			}
			g.Tests = append(g.Tests, tc)
		}
	}
	return sc.Err()
}

// Features lists every feature the corpus tags, sorted.
func Features(ms []Manifest) []string {
	var out []string
	for _, m := range ms {
		for _, tc := range m.Gateway.Tests {
			for _, f := range tc.Features {
				if !slices.Contains(out, f) {
					out = append(out, f)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func readVectors(dir, name string) ([]byte, error) {
	return os.ReadFile(path.Join(dir, name))
}
