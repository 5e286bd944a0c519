package njs_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/cmd/test"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/gateway/testrun/conformance"
	"github.com/edgegw/edgegw/internal/testenv"
	"github.com/edgegw/edgegw/manifest"
	_ "github.com/edgegw/edgegw/providers/all" // the targets the examples configure
	"github.com/edgegw/edgegw/render/cloudfront"
	"github.com/edgegw/edgegw/render/cloudfront/njs"
)

func requireNJS(t testing.TB) {
	t.Helper()
	_, err := exec.LookPath("njs")
	testenv.Require(t, "njs (Debian njs)", err)
}

// knownCase are the corpus cases CloudFront decides differently from the reference, by its documented
// behaviour, with why; each must still fail.
var knownCase = map[string]string{
	"a POST with a body fails over too": "CloudFront origin groups fail over GET, HEAD and OPTIONS only (the capability table's failover limit)",
}

const noViewerResponse = "CloudFront runs no viewer-response function when the origin answers 400 or more or is unreachable (AWS, Restrictions on all edge functions): the answer keeps the origin's (or the custom error response's) headers, without HSTS or the CORS Vary"

// semantics is the engine as `edgegw test` runs it, with the size limit in force: every corpus manifest
// fits (TestCorpusSizes), so TestConformance checks the functions CloudFront would take.
var semantics = &njs.Engine{}

// TestConformance runs the whole conformance corpus (paths.tsv, the HS256 Wycheproof cases included) on
// the njs engine, differentially against the reference gateway, skipping the cases whose features the
// cloudfront capability table says Cannot (validate must refuse their manifests). It logs the counts.
func TestConformance(t *testing.T) {
	requireNJS(t)
	ms, notes, err := conformance.Load(conformance.LoadOptions{Vectors: "../../../" + conformance.DefaultVectors, RequireVectors: os.Getenv("CI") != ""})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		t.Log(n)
	}
	opts := testrun.Options{Target: "cloudfront", Engine: semantics, Reference: testrun.RefEngine{}, Cannot: test.Cannot("cloudfront"), Keys: &testrun.KeyCache{}}
	passed, skipped, failed := 0, 0, 0
	perFile := map[string][4]int{}
	for _, m := range ms {
		c := perFile[m.File]
		for _, r := range testrun.Run(context.Background(), m.Gateway, m.Cases, opts) {
			switch {
			case r.Skipped != "":
				skipped++
				c[1]++
			case knownCase[r.Name] != "" && r.Failed():
				c[3]++
				t.Logf("known: %s: %s", r.Where(), knownCase[r.Name])
			case knownCase[r.Name] != "":
				t.Errorf("%s passes on cloudfront but is listed as a known divergence: update knownCase and the README", r.Where())
			case r.Failed():
				failed++
				c[2]++
				t.Errorf("%s: %s %v", r.Where(), r.Error, r.Lines())
			default:
				passed++
				c[0]++
			}
		}
		perFile[m.File] = c
		for _, rc := range test.CheckRefusals(m.Gateway, m.Cases, "cloudfront") {
			switch {
			case !rc.Pass && strings.Contains(rc.File, "wycheproof"):
				t.Logf("known: %s: %s (the generated Wycheproof routes carry no manifest position, so no finding can cite one)", rc.File, rc.Detail)
			case !rc.Pass:
				t.Errorf("%s: %s", rc.File, rc.Detail)
			}
		}
	}
	for f, c := range perFile {
		t.Logf("%s: %d passed, %d skipped, %d failed, %d known", f, c[0], c[1], c[2], c[3])
	}
	t.Logf("conformance on cloudfront (njs): %d passed, %d skipped (Cannot), %d failed", passed, skipped, failed)
}

// TestExamplesDifferential runs the quickstart example's own tests through the rendered functions in njs
// against the reference gateway.
func TestExamplesDifferential(t *testing.T) {
	requireNJS(t)
	g, diags := manifest.Load(filepath.Join("..", "..", "..", "testdata", "examples", "quickstart.yaml"))
	if g == nil {
		t.Fatalf("quickstart does not load: %v", diags)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	res := testrun.Run(context.Background(), g, g.Tests, testrun.Options{Target: "cloudfront", Engine: njs.Default, Reference: testrun.RefEngine{},
		Env: testrun.Env{Getenv: func(string) string { return "" }, Now: func() time.Time { return now }}})
	if len(res) == 0 {
		t.Fatal("no case ran")
	}
	for _, r := range res {
		if !r.Pass {
			t.Errorf("%s: %s %s", r.Where(), r.Error, strings.Join(r.Lines(), "; "))
		}
	}
}

// TestCorpusSizes renders every corpus manifest as production would: each fits CloudFront Functions' code
// limit (so the engine runs every case it does not skip by capability, with the limit in force), and a
// function that renders is never over it.
func TestCorpusSizes(t *testing.T) {
	ms, _, err := conformance.Load(conformance.LoadOptions{Vectors: "../../../" + conformance.DefaultVectors})
	if err != nil {
		t.Fatal(err)
	}
	fit := 0
	for _, m := range ms {
		s, err := cloudfront.Measure(m.Gateway, cloudfront.Options{})
		var se *cloudfront.SizeError
		switch {
		case errors.As(err, &se):
			t.Errorf("%s: over the limit: %v", m.File, se)
		case err != nil:
			t.Errorf("%s: %v", m.File, err)
		default:
			fit++
			if s.Request > cloudfront.MaxFunctionBytes || s.Response > cloudfront.MaxFunctionBytes {
				t.Errorf("%s rendered over the limit: %+v", m.File, s)
			}
			t.Logf("%s: fits: viewer-request %d, viewer-response %d bytes (minified %t)", m.File, s.Request, s.Response, s.Minified)
		}
	}
	t.Logf("%d of %d corpus manifests fit the %d-byte limit", fit, len(ms), cloudfront.MaxFunctionBytes)
}
