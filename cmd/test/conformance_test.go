package test_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/cmd/test"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/gateway/testrun/conformance"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
)

// knownDivergence are, per engine, the corpus cases a target decides differently from the reference by
// its vendor's documented behaviour, with why; each must still fail.
var knownDivergence = map[string]map[string]string{}

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
			opts := testrun.Options{Target: name, Engine: e, Keys: &testrun.KeyCache{}}
			if name != testrun.RefTarget {
				opts.Reference = testrun.RefEngine{}
			}
			ran, unexecutable := 0, 0
			for _, m := range ms {
				opts.Cannot = test.CannotFor(name, m.Gateway)
				opts.Env = testrun.Env{Getenv: m.Getenv(nil)}
				for _, r := range testrun.Run(context.Background(), m.Gateway, m.Cases, opts) {
					if r.RuntimeMissing && os.Getenv("CI") == "" {
						t.Skipf("%s: %s (CI unset)", name, r.Error)
					}
					known := knownDivergence[name][r.Name]
					switch {
					case known != "" && r.Failed():
						t.Logf("known: %s %s: %s", r.Where(), r.Target, known)
					case known != "" && r.Skipped == "" && !r.Unexecutable:
						t.Errorf("%s passes on %s but is listed as a known divergence: update knownDivergence and the README", r.Where(), name)
					case r.Failed():
						t.Errorf("%s %s: %s %v", r.Where(), r.Target, r.Error, r.Lines())
					}
					switch {
					case r.Unexecutable:
						unexecutable++
					case r.Skipped == "":
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
			t.Logf("%s: %d cases ran, %d skipped because its test runtime cannot execute them", name, ran, unexecutable)
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
	named, tagged := breakerCases(t)
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
		if v.Type == "feature_summary" && v.Feature == "failover.breaker" && v.Run != tagged {
			t.Errorf("breaker cases run: %d, want %d", v.Run, tagged)
		}
	}
	if types["test"] != named || types["feature_summary"] == 0 || types["test_summary"] != 1 {
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
	registerOnce(providers.Registration{Name: name, Capabilities: caps})
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
	if _, tagged := breakerCases(t); skipped != tagged || checks != 1 {
		t.Errorf("%d cases skipped (want the %d breaker cases), %d refusal checks (want 1)", skipped, tagged, checks)
	}
}

// breakerCases counts the corpus cases named for the breaker (what --run breaker selects) and those tagged
// failover.breaker; the corpus has at least two of each.
func breakerCases(t *testing.T) (named, tagged int) {
	t.Helper()
	ms, _, err := conformance.Load(conformance.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		for _, tc := range m.Gateway.Tests {
			if strings.Contains(tc.Name, "breaker") {
				named++
			}
			if slices.Contains(tc.Features, "failover.breaker") {
				tagged++
			}
		}
	}
	if named < 2 || tagged < 2 {
		t.Fatalf("the corpus has %d cases named for the breaker and %d tagged failover.breaker; want at least 2 of each", named, tagged)
	}
	return named, tagged
}

// TestLimitedConstraintSkipsAndChecksTheRefusal registers a provider that enforces rate limits by client
// address only with 17s windows: the corpus's ip-limited cases (60s windows) are skipped with the broken
// constraint as the reason, and validate must refuse each manifest that has them at a line of it.
func TestLimitedConstraintSkipsAndChecksTheRefusal(t *testing.T) {
	const name = "suite-limited-windows"
	caps := providers.Capabilities{}
	for _, f := range providers.AllFeatures {
		caps[f] = providers.Can("test")
	}
	caps[providers.RateLimitIP] = providers.Limited("test buckets", providers.RateLimitWindows(17*time.Second))
	registerOnce(providers.Registration{Name: name, Capabilities: caps})
	ms, _, err := conformance.Load(conformance.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	skipped, checks, ipManifests := 0, 0, 0
	for _, m := range ms {
		for _, tc := range m.Cases {
			if slices.Contains(tc.Features, "rate_limit.ip") {
				ipManifests++
				break
			}
		}
		opts := testrun.Options{Target: name, Engine: testrun.RefEngine{}, Cannot: test.CannotFor(name, m.Gateway), Env: testrun.Env{Getenv: m.Getenv(nil)}}
		for _, r := range testrun.Run(context.Background(), m.Gateway, m.Cases, opts) {
			ip := slices.Contains(r.Features, "rate_limit.ip")
			switch {
			case r.Skipped != "":
				skipped++
				if !ip || !strings.Contains(r.Skipped, "windows of 17s only: rate limit") {
					t.Errorf("%s: skipped %q", r.Where(), r.Skipped)
				}
			case ip:
				t.Errorf("%s: a rate_limit.ip case ran on a target whose constraint its manifest breaks", r.Where())
			case r.Failed():
				t.Errorf("%s: %v %s", r.Where(), r.Lines(), r.Error)
			}
		}
		for _, c := range test.CheckRefusals(m.Gateway, m.Cases, name) {
			checks++
			if !c.Pass || c.Feature != "rate_limit.ip" || !regexp.MustCompile(`^`+regexp.QuoteMeta(c.File)+`:[0-9]+:[0-9]+$`).MatchString(c.Pos) ||
				!strings.Contains(c.Detail, "windows of 17s only") {
				t.Errorf("refusal check %+v", c)
			}
		}
	}
	if skipped == 0 || ipManifests < 2 || checks != ipManifests {
		t.Errorf("%d cases skipped, %d refusal checks (want one per manifest with rate_limit.ip cases: %d)", skipped, checks, ipManifests)
	}
}

// unexecutableEngine is the reference gateway declaring that its runtime cannot execute the breaker cases.
type unexecutableEngine struct{ testrun.RefEngine }

func (unexecutableEngine) Unexecutable(_ *ir.Gateway, tc ir.TestCase) string {
	if strings.Contains(tc.Name, "breaker") {
		return "this runtime keeps no state between requests"
	}
	return ""
}

// TestUnexecutableIsCountedApart runs the suite on an engine that cannot execute the breaker cases: they
// are printed as SKIP with the reason, counted apart in the summary (human and json) and per feature, and
// the exit status is 0.
func TestUnexecutableIsCountedApart(t *testing.T) {
	const name = "suite-unexecutable"
	caps := providers.Capabilities{}
	for _, f := range providers.AllFeatures {
		caps[f] = providers.Can("test")
	}
	registerOnce(providers.Registration{Name: name, Capabilities: caps})
	if _, ok := testrun.LookupEngine(name); !ok {
		testrun.RegisterEngine(name, unexecutableEngine{})
	}
	args := []string{"test", "--suite", "conformance", "--target", name, "--run", "breaker|^no token is 401$", "--vectors", "../../" + conformance.DefaultVectors}
	named, _ := breakerCases(t)
	ms, _, err := conformance.Load(conformance.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	plain, breakerRow := 0, 0 // the cases that run, and the breaker-named cases tagged failover.breaker
	for _, m := range ms {
		for _, tc := range m.Gateway.Tests {
			if tc.Name == "no token is 401" {
				plain++
			}
			if strings.Contains(tc.Name, "breaker") && slices.Contains(tc.Features, "failover.breaker") {
				breakerRow++
			}
		}
	}
	out, errOut, code := run(t, nil, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "SKIP  "+name+" a success resets the breaker count\n      "+name+"'s test runtime cannot execute this case: this runtime keeps no state between requests") {
		t.Errorf("no SKIP line with the reason:\n%s", out)
	}
	if want := fmt.Sprintf("%d passed, 0 failed, 0 skipped, %d skipped: runtime cannot execute", plain, named); !strings.Contains(errOut, want) {
		t.Errorf("summary: %q, want %q", errOut, want)
	}
	if !regexp.MustCompile(fmt.Sprintf(name+` +failover.breaker +0 +0 +0 +0 +%d\n`, breakerRow)).MatchString(out) {
		t.Errorf("no feature row counting the %d breaker cases as unexecutable:\n%s", breakerRow, out)
	}
	out, _, code = run(t, nil, append(args, "--format", "json")...)
	if code != 0 {
		t.Fatalf("json: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, fmt.Sprintf(`"type":"test_summary","targets":["%s"],"passed":%d,"failed":0,"skipped":0,"unexecutable":%d`, name, plain, named)) {
		t.Errorf("json summary:\n%s", out)
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

// registerOnce registers a test target the first time a test asks for it, so the tests can run with -count=N
// (the registry panics on a second registration of a name).
func registerOnce(r providers.Registration) {
	if _, ok := providers.Lookup(r.Name); !ok {
		providers.Register(r)
	}
}
