package falco

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
)

// falcoTest runs `falco test` on the test-mode VCL of g with the given test subroutines and returns, per
// suite, its error ("" for a pass).
func falcoTest(t *testing.T, g *ir.Gateway, tests string) map[string]string {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	vcl, err := TestVCL(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.vcl"), vcl, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.test.vcl"), []byte(tests), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(context.Background(), bin, "test", "-json", "-I", dir, filepath.Join(dir, "main.vcl"))
	cmd.Dir = dir
	out, runErr := cmd.Output() // falco test exits 1 when a suite fails; the JSON says which
	var res struct {
		Tests []struct {
			Suites []struct {
				Name  string `json:"name"`
				Error string `json:"error"`
			} `json:"suites"`
		} `json:"tests"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("falco test: %v, output: %v\n%s", runErr, err, out)
	}
	got := map[string]string{}
	for _, f := range res.Tests {
		for _, s := range f.Suites {
			got[s.Name] = s.Error
		}
	}
	return got
}

func recvTest(name, setup, asserts string) string {
	return fmt.Sprintf(`// @scope: recv
// @suite: %s
sub test_%s {
  set req.http.Host = "api.example.com";
  set req.http.Edgegw-Test-Now = "1772366400";
  set req.http.Edgegw-Test-Client-Ip = "192.0.2.1";
%s
  testing.call_subroutine("vcl_recv");
%s
}

`, name, strings.ReplaceAll(name, " ", "_"), setup, asserts)
}

// TestHealthChainsInFalco runs the full example's pool choice with falco's testing.set_backend_health,
// which the simulator cannot do (there every backend is healthy): an unhealthy primary is skipped, a pool
// whose origins are all unhealthy fails open in order, as the reference gateway does.
func TestHealthChainsInFalco(t *testing.T) {
	requireFalco(t)
	g, diags := manifest.Load("../../testdata/examples/full.yaml")
	if g == nil {
		t.Fatal(diags)
	}
	tests := recvTest("healthy pool", `  set req.url = "/v1/users/42";`,
		`  assert.equal(req.backend, F_primary);
  assert.equal(req.http.Edgegw-Candidates, "secondary,");`) +
		recvTest("unhealthy primary is skipped", `  set req.url = "/v1/users/42";
  testing.set_backend_health(F_primary, false);`,
			`  assert.equal(req.backend, F_secondary);
  assert.is_notset(req.http.Edgegw-Candidates);`) +
		recvTest("every origin unhealthy fails open", `  set req.url = "/v1/users/42";
  testing.set_backend_health(F_primary, false);
  testing.set_backend_health(F_secondary, false);`,
			`  assert.equal(req.backend, F_primary);
  assert.equal(req.http.Edgegw-Candidates, "secondary,");`)
	got := falcoTest(t, g, tests)
	if len(got) != 3 {
		t.Fatalf("ran %d suites, want 3: %v", len(got), got)
	}
	for name, e := range got {
		if e != "" {
			t.Errorf("%s: %s", name, e)
		}
	}
}

const limitManifest = `version: 1
name: limits
domains: [{host: api.example.com, zone: example.com}]
origins: {app: {url: "http://127.0.0.1:1"}}
pools: {app: {origins: [app]}}
rate_limits:
  per-ip: {key: ip, limit: 100, window: 60s}
  per-key: {key: "header:X-Api-Key", limit: 20, window: 10s}
routes:
  - {name: keyed, match: {path: {prefix: /keyed}}, pool: app, rate_limit: per-key}
  - {name: all, match: {fallback: true}, pool: app, rate_limit: per-ip}
`

// TestRateLimitsInFalco runs the rendered limit checks with falco's testing.fixed_access_rate, which sets
// what the rate counters read (the simulator starts every request with empty counters, so it never limits).
// falco reads bucket.60s over 50 seconds, so a fixed rate r gives a 60s bucket of 50r: rate 3 is 150 > 100,
// rate 1 is 50. This checks the comparison and the 429 path, not Fastly's counting.
func TestRateLimitsInFalco(t *testing.T) {
	requireFalco(t)
	g, diags := manifest.LoadBytes("limits.yaml", []byte(limitManifest), manifest.LoadOptions{})
	if g == nil {
		t.Fatal(diags)
	}
	tests := recvTest("over the per-ip limit", `  set req.url = "/x";
  testing.fixed_access_rate(3);`, `  assert.equal(req.http.Edgegw-Error, "RATE_LIMIT");
  assert.equal(req.http.Edgegw-Retry-After, "60");`) +
		recvTest("under the per-ip limit", `  set req.url = "/x";
  testing.fixed_access_rate(1);`, `  assert.is_notset(req.http.Edgegw-Error);
  assert.equal(req.backend, F_app);`) +
		recvTest("over the per-key limit", `  set req.url = "/keyed";
  set req.http.X-Api-Key = "k1";
  testing.fixed_access_rate(3);`, `  assert.equal(req.http.Edgegw-Error, "RATE_LIMIT");
  assert.equal(req.http.Edgegw-Retry-After, "10");`) +
		recvTest("under the per-key limit", `  set req.url = "/keyed";
  set req.http.X-Api-Key = "k1";
  testing.fixed_access_rate(2);`, `  assert.is_notset(req.http.Edgegw-Error);`)
	got := falcoTest(t, g, tests)
	if len(got) != 4 {
		t.Fatalf("ran %d suites, want 4: %v", len(got), got)
	}
	for name, e := range got {
		if e != "" {
			t.Errorf("%s: %s", name, e)
		}
	}
}
