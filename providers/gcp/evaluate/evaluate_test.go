package evaluate_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/gateway/testrun/conformance"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	_ "github.com/edgegw/edgegw/providers/all" // the targets.gcp block, as the gcp target registered it
	"github.com/edgegw/edgegw/providers/gcp/evaluate"
	gcprender "github.com/edgegw/edgegw/render/gcp"
)

func loadBundle(t *testing.T, path string, o gcprender.Options) *gcprender.Bundle {
	t.Helper()
	g, diags := manifest.Load(path)
	if g == nil || diags.HasErrors() {
		t.Fatalf("%s: %v", path, diags)
	}
	arts, err := gcprender.Render(g, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := gcprender.Parse(arts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMapTestsPassOnTheEvaluator runs the map's own tests[] (the manifest's tests, with the reference
// gateway's decisions) through the evaluator, as GCP's validate would before an update, and checks that a
// map whose routes were reordered fails them.
func TestMapTestsPassOnTheEvaluator(t *testing.T) {
	for _, c := range []struct {
		path string
		o    gcprender.Options
	}{
		{"../../../render/gcp/testdata/native.yaml", gcprender.Options{}},
		{"../../../testdata/examples/full.yaml", gcprender.Options{Test: true}},
		{"../../../testdata/examples/quickstart.yaml", gcprender.Options{Test: true}},
	} {
		b := loadBundle(t, c.path, c.o)
		if len(b.URLMap.Tests) == 0 {
			t.Fatalf("%s: no tests[]", c.path)
		}
		for _, f := range evaluate.New(b, nil).RunMapTests() {
			t.Errorf("%s: tests[%q]: %s", c.path, f.Test.Description, f.Why)
		}
	}
	b := loadBundle(t, "../../../render/gcp/testdata/native.yaml", gcprender.Options{})
	for _, pm := range b.URLMap.PathMatchers {
		for _, r := range pm.RouteRules {
			if strings.Contains(r.Description, "route v2-canary") {
				r.Priority = 10000 // below every other rule: the canary header no longer steers
			}
		}
	}
	fails := evaluate.New(b, nil).RunMapTests()
	if len(fails) != 1 || fails[0].Test.Description != "the canary header steers to the canary pool" {
		t.Errorf("a map with the canary last fails %v, want the canary test only", fails)
	}
}

// TestSelectSemantics checks the URL-map rules the evaluator applies: prefix on segment boundaries via
// fullPathMatch + prefixMatch P/, pathTemplateMatch one non-empty segment, :method, exact hosts, and the
// pathTemplateMatch fact that /v1/** does not match /v1.
func TestSelectSemantics(t *testing.T) {
	b := loadBundle(t, "../../../render/gcp/testdata/native.yaml", gcprender.Options{})
	e := evaluate.New(b, nil)
	route := func(method, host, path string, h http.Header) string {
		sel := e.Select(method, host, path, h)
		if sel.Rule == nil {
			return "default:" + sel.Service[strings.LastIndex(sel.Service, "/")+1:]
		}
		return strings.Fields(sel.Rule.Description)[1]
	}
	for _, c := range []struct {
		method, host, path string
		h                  http.Header
		want               string
	}{
		{"GET", "api.example.com", "/v2", nil, "v2"},
		{"GET", "api.example.com", "/v2/x", nil, "v2"},
		{"GET", "api.example.com", "/v20", nil, "default"},
		{"GET", "api.example.com", "/v2/x", http.Header{"X-Canary-Release": {"true"}}, "v2-canary"},
		{"GET", "api.example.com", "/v1/users/7", nil, "v1-user"},
		{"POST", "api.example.com", "/v1/users/7", nil, "default"},
		{"GET", "api.example.com", "/v1/users/", nil, "default"},
		{"GET", "api.example.com", "/v1/users/7/x", nil, "default"},
		{"GET", "API.example.com:443", "/status", nil, "status"},
		{"GET", "example.com", "/docs/a", nil, "docs"},
		{"GET", "api.example.com", "/docs/a", nil, "default"},
		{"GET", "other.example.org", "/status", nil, "default:native-api-host-unknown"},
	} {
		if got := route(c.method, c.host, c.path, c.h); got != c.want {
			t.Errorf("%s %s%s: %s, want %s", c.method, c.host, c.path, got, c.want)
		}
	}
	if _, ok := evaluate.MatchTemplate("/v1/{rest=**}", "/v1"); ok {
		t.Error("/v1/** matched /v1")
	}
	if v, ok := evaluate.MatchTemplate("/v1/{rest=**}", "/v1/a/b"); !ok || v["rest"] != "a/b" {
		t.Errorf("/v1/** on /v1/a/b: %v %v", v, ok)
	}
	_ = ir.PathExact
}

// TestCorpusMapTestsPassOnTheEvaluator renders every conformance manifest (test mode) and runs the tests[]
// emitted from its cases through the evaluator. A test may fail only where its case needs a feature the
// capability table says Cannot: there GCP's validate would refuse the update, as it should. The wildcard
// that covers two labels is one (a `*.` host rule matches any number of labels).
func TestCorpusMapTestsPassOnTheEvaluator(t *testing.T) {
	reg, _ := providers.Lookup("gcp")
	cannot := func(m conformance.Manifest, name string) bool {
		for _, tc := range m.Gateway.Tests {
			if tc.Name == name {
				for _, f := range tc.Features {
					if !reg.Capabilities.Get(providers.Feature(f)).Supported {
						return true
					}
				}
			}
		}
		return false
	}
	refused := map[string]bool{}
	ms, _, err := conformance.Load(conformance.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, m := range ms {
		arts, err := gcprender.Render(m.Gateway, gcprender.Options{Test: true})
		if err != nil {
			t.Fatalf("%s: %v", m.File, err)
		}
		b, err := gcprender.Parse(arts)
		if err != nil {
			t.Fatal(err)
		}
		total += len(b.URLMap.Tests)
		for _, f := range evaluate.New(b, nil).RunMapTests() {
			if cannot(m, f.Test.Description) {
				refused[f.Test.Description] = true
				t.Logf("%s: tests[%q] (a Cannot feature): %s", m.File, f.Test.Description, f.Why)
				continue
			}
			t.Errorf("%s: tests[%q]: %s", m.File, f.Test.Description, f.Why)
		}
	}
	if total == 0 {
		t.Fatal("the corpus emitted no tests[]")
	}
	if !refused["the wildcard covers one label only"] {
		t.Error("the map's test of a two-label host under a one-label wildcard passed; a `*.` host rule covers any number of labels")
	}
	t.Logf("%d tests[] across %d manifests", total, len(ms))
}
