package workerd

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/gateway/testrun/conformance"
	"github.com/edgegw/edgegw/internal/testenv"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	_ "github.com/edgegw/edgegw/providers/all" // the targets the examples configure
)

// runOnWorkerd runs cases on the workerd engine against the reference. The cases the engine declares it
// cannot execute (Engine.Unexecutable) are skipped by the loop and returned apart; every other case must pass.
func runOnWorkerd(t *testing.T, g *ir.Gateway, cases []ir.TestCase) (passed, total int, unexecutable []ir.TestCase) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	now := caseClock
	res := testrun.Run(ctx, g, cases, testrun.Options{Target: "cloudflare", Engine: engine, Reference: testrun.RefEngine{},
		Env: testrun.Env{Getenv: func(string) string { return "" }, Now: func() time.Time { return now }}})
	for _, r := range res {
		total++
		switch {
		case r.Unexecutable:
			unexecutable = append(unexecutable, g.Tests[r.Index])
			t.Logf("unexecutable: %s: %s", r.Where(), r.Skipped)
		case r.Pass:
			passed++
		case r.Skipped != "":
			t.Logf("skipped %s: %s", r.Where(), r.Skipped)
		default:
			var lines []string
			for _, d := range r.Diffs {
				lines = append(lines, d.String())
			}
			t.Errorf("%s: %s %s", r.Where(), r.Error, strings.Join(lines, "; "))
		}
	}
	return passed, total, unexecutable
}

// TestExamplesDifferential renders each example manifest (testdata/examples) for Cloudflare and runs its
// own `tests:` through the Worker in workerd with the suite's loop: every expectation must hold, and every
// decision must be the reference gateway's for the same requests (status, route, pool, origins tried,
// upstream path, query and headers, the governed response headers).
func TestExamplesDifferential(t *testing.T) {
	requireEngine(t)
	files, err := filepath.Glob("../../../testdata/examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example manifests: %v", err)
	}
	passed, total := 0, 0
	for _, f := range files {
		g, diags := manifest.Load(f)
		if g == nil {
			t.Fatalf("%s does not load: %v", f, diags)
		}
		p, n, unexec := runOnWorkerd(t, g, g.Tests)
		t.Logf("%s: %d/%d cases pass on workerd, differentially against the reference", filepath.Base(f), p, n)
		for _, tc := range unexec {
			t.Errorf("%s: case %q is declared unexecutable on workerd; an example's own tests must all run", filepath.Base(f), tc.Name)
		}
		passed, total = passed+p, total+n
	}
	t.Logf("examples on workerd: %d/%d cases pass", passed, total)
}

// TestConformanceDifferential runs the whole conformance corpus (gateway/testrun/conformance: the tagged
// manifests, every paths.tsv row as cases on two routes, the Wycheproof JWS cases) through the Worker in
// workerd against the reference. Every case passes except the ones the engine declares unexecutable, and
// those are exactly the paths.tsv rows workerd rewrites before the Worker runs (workerdRewrites, each on
// two hosts); TestPathsTSVInWorkerd shows on workerd itself that those rows are rewritten.
func TestConformanceDifferential(t *testing.T) {
	requireEngine(t)
	vectors := filepath.Dir(testenv.SharedFile(t, "testvectors"))
	ms, notes, err := conformance.Load(conformance.LoadOptions{Vectors: filepath.Join(vectors, "testvectors"), RequireVectors: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		t.Log(n)
	}
	passed, total, unexecutable := 0, 0, 0
	for _, m := range ms {
		p, n, unexec := runOnWorkerd(t, m.Gateway, m.Cases)
		t.Logf("%s: %d/%d cases", m.File, p, n)
		for _, tc := range unexec {
			if !slices.Contains(workerdRewrites, tc.Request.Target) {
				t.Errorf("%s: case %q (target %q) is declared unexecutable, but it is not a row workerd rewrites %v", m.File, tc.Name, tc.Request.Target, workerdRewrites)
			}
		}
		passed, total, unexecutable = passed+p, total+n, unexecutable+len(unexec)
	}
	t.Logf("conformance corpus on workerd: %d/%d cases pass differentially against the reference; %d declared unexecutable (raw dot segments workerd resolves: %v)",
		passed, total, unexecutable, workerdRewrites)
	if unexecutable != 2*len(workerdRewrites) {
		t.Errorf("%d cases declared unexecutable, want %d (the rows %v, each on two hosts)", unexecutable, 2*len(workerdRewrites), workerdRewrites)
	}
}
