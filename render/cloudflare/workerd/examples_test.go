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

// runOnWorkerd runs cases on the workerd engine against the reference; a case for which known(tc) holds is
// expected to fail (it is counted in knownFailed, and an error if it passes).
func runOnWorkerd(t *testing.T, g *ir.Gateway, cases []ir.TestCase, known func(ir.TestCase) bool) (passed, total, knownFailed int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	now := caseClock
	res := testrun.Run(ctx, g, cases, testrun.Options{Target: "cloudflare", Engine: engine, Reference: testrun.RefEngine{},
		Env: testrun.Env{Getenv: func(string) string { return "" }, Now: func() time.Time { return now }}})
	for _, r := range res {
		total++
		isKnown := known != nil && r.Index >= 0 && known(g.Tests[r.Index])
		switch {
		case isKnown && r.Pass:
			t.Errorf("%s passes on workerd but is listed as decided by workerd before the Worker runs: update workerdRewrites and the README", r.Where())
		case isKnown:
			knownFailed++
			t.Logf("known: %s: workerd resolves raw dot segments before the Worker runs", r.Where())
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
	return passed, total, knownFailed
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
		p, n, _ := runOnWorkerd(t, g, g.Tests, nil)
		t.Logf("%s: %d/%d cases pass on workerd, differentially against the reference", filepath.Base(f), p, n)
		passed, total = passed+p, total+n
	}
	t.Logf("examples on workerd: %d/%d cases pass", passed, total)
}

// TestConformanceDifferential runs the whole conformance corpus (gateway/testrun/conformance: the tagged
// manifests, every paths.tsv row as cases on two routes, the Wycheproof JWS cases) through the Worker in
// workerd against the reference. The rows workerd rewrites before the Worker runs (workerdRewrites) are the
// only cases allowed to differ, and they must.
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
	known := func(tc ir.TestCase) bool { return slices.Contains(workerdRewrites, tc.Request.Target) }
	passed, total, knownFailed := 0, 0, 0
	for _, m := range ms {
		p, n, k := runOnWorkerd(t, m.Gateway, m.Cases, known)
		t.Logf("%s: %d/%d cases", m.File, p, n)
		passed, total, knownFailed = passed+p, total+n, knownFailed+k
	}
	t.Logf("conformance corpus on workerd: %d/%d cases pass differentially against the reference; %d fail as listed (raw dot segments workerd resolves: %v)",
		passed, total, knownFailed, workerdRewrites)
	if knownFailed != 2*len(workerdRewrites) {
		t.Errorf("%d cases of the raw-dot-segment rows failed, want %d (each row runs on two hosts)", knownFailed, 2*len(workerdRewrites))
	}
}
