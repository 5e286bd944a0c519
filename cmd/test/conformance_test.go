package test_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/cmd/test"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/gateway/testrun/conformance"
	"github.com/edgegw/edgegw/providers"
)

// TestConformanceOnEveryEngine runs the corpus on every registered engine: the reference on its own, every
// other engine differentially against it. A case whose feature the target declares it cannot enforce is
// skipped, and validate --target must refuse its manifest. An engine whose runtime is missing fails under
// CI and is skipped with the message otherwise.
func TestConformanceOnEveryEngine(t *testing.T) {
	ms, notes, err := conformance.Load(conformance.LoadOptions{Vectors: "../../" + conformance.DefaultVectors, RequireVectors: os.Getenv("CI") != ""})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		t.Log(n)
	}
	for _, name := range testrun.Engines() {
		t.Run(name, func(t *testing.T) {
			e, _ := testrun.LookupEngine(name)
			opts := testrun.Options{Target: name, Engine: e, Cannot: test.Cannot(name), Keys: &testrun.KeyCache{}}
			if name != testrun.RefTarget {
				opts.Reference = testrun.RefEngine{}
			}
			ran := 0
			for _, m := range ms {
				for _, r := range testrun.Run(context.Background(), m.Gateway, m.Cases, opts) {
					if r.RuntimeMissing && os.Getenv("CI") == "" {
						t.Skipf("%s: %s (CI unset)", name, r.Error)
					}
					if r.Failed() {
						t.Errorf("%s %s: %s %v", r.Where(), r.Target, r.Error, r.Lines())
					}
					if r.Skipped == "" {
						ran++
					}
				}
				for _, c := range test.CheckRefusals(m.Gateway, m.Cases, name) {
					if !c.Pass {
						t.Errorf("%s: %s", c.File, c.Detail)
					}
				}
			}
			if ran == 0 {
				t.Errorf("%s ran no case", name)
			}
		})
	}
}

// TestSuiteSummaryByFeature runs `edgegw test --suite conformance` as a user does: a table by feature,
// and in json one object per case, per feature and a summary.
func TestSuiteSummaryByFeature(t *testing.T) {
	out, errOut, code := run(t, nil, "test", "--suite", "conformance", "--vectors", "../../"+conformance.DefaultVectors)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"failover.breaker", "rate_limit.ip", "auth.jwt.rs256", "path.normalize", "cors", "hsts.errors"} {
		if !strings.Contains(out, "local      "+want) {
			t.Errorf("no summary row for %s:\n%s", want, out)
		}
	}
	out, _, code = run(t, nil, "test", "--suite", "conformance", "--vectors", "../../"+conformance.DefaultVectors, "--format", "json", "--run", "breaker")
	if code != 0 {
		t.Fatalf("json: exit %d\n%s", code, out)
	}
	types := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var v struct {
			Type     string   `json:"type"`
			Features []string `json:"features"`
			Feature  string   `json:"feature"`
			Run      int      `json:"run"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		types[v.Type]++
		if v.Type == "test" && len(v.Features) == 0 {
			t.Errorf("case line without features: %s", l)
		}
		if v.Type == "feature_summary" && v.Feature == "failover.breaker" && v.Run != 2 {
			t.Errorf("breaker cases run: %d, want 2", v.Run)
		}
	}
	if types["test"] != 2 || types["feature_summary"] == 0 || types["test_summary"] != 1 {
		t.Errorf("json line types %v", types)
	}
}

// TestCannotSkipsAndChecksTheRefusal registers a provider that cannot enforce the breaker: its cases are
// skipped with the reason, and the check that validate refuses the manifest runs and passes.
func TestCannotSkipsAndChecksTheRefusal(t *testing.T) {
	const name = "suite-cannot-breaker"
	caps := providers.Capabilities{}
	for _, f := range providers.AllFeatures {
		caps[f] = providers.Can("test")
	}
	caps[providers.Breaker] = providers.Cannot("no shared state in this test target")
	providers.Register(providers.Registration{Name: name, Capabilities: caps})
	ms, _, err := conformance.Load(conformance.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	skipped, checks := 0, 0
	for _, m := range ms {
		for _, r := range testrun.Run(context.Background(), m.Gateway, m.Cases, testrun.Options{Target: name, Engine: testrun.RefEngine{}, Cannot: test.Cannot(name)}) {
			if r.Skipped != "" {
				skipped++
				if !strings.Contains(r.Skipped, "failover.breaker: no shared state") {
					t.Errorf("skip reason %q", r.Skipped)
				}
			} else if r.Failed() {
				t.Errorf("%s: %v %s", r.Where(), r.Lines(), r.Error)
			}
		}
		for _, c := range test.CheckRefusals(m.Gateway, m.Cases, name) {
			checks++
			if !c.Pass || c.Feature != "failover.breaker" || !strings.Contains(c.Pos, "failover.yaml:") {
				t.Errorf("refusal check %+v", c)
			}
		}
	}
	if skipped != 2 || checks != 1 {
		t.Errorf("%d cases skipped (want the 2 breaker cases), %d refusal checks (want 1)", skipped, checks)
	}
}

// TestCorpusFeaturesAreCapabilityFeatures keeps the corpus tags in step with the capability tables: a tag
// that names no feature would never be skipped by any target.
func TestCorpusFeaturesAreCapabilityFeatures(t *testing.T) {
	ms, _, err := conformance.Load(conformance.LoadOptions{Vectors: "../../" + conformance.DefaultVectors})
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, f := range providers.AllFeatures {
		known[string(f)] = true
	}
	for _, f := range conformance.Features(ms) {
		if !known[f] {
			t.Errorf("corpus feature %q is not one of providers.AllFeatures", f)
		}
	}
	for _, m := range ms {
		for _, tc := range m.Gateway.Tests {
			if len(tc.Features) == 0 {
				t.Errorf("%s: case %q has no features", m.File, tc.Name)
			}
		}
	}
}
