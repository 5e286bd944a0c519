package test_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/internal/clitest"

	_ "github.com/edgegw/edgegw/cmd" // every command and target, as in the binary
)

func run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	r := clitest.Run(env, args...)
	return r.Stdout, r.Stderr, r.Code
}

const full = "../../testdata/examples/full.yaml"

func TestExamplesPass(t *testing.T) {
	out, errOut, code := run(t, nil, "test", "-f", full)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "PASS  local canary header steers to the canary pool") {
		t.Errorf("no PASS line for the canary case:\n%s", out)
	}
	// full.yaml verifies RS256/ES256 against a JWKS: its jwt: cases are signed with a generated key, and
	// the output says so.
	if !strings.Contains(out, "generated for this run, which the target was given as a key") {
		t.Errorf("the generated-key note is missing:\n%s", out)
	}
	if !strings.Contains(errOut, "0 failed") {
		t.Errorf("summary: %q", errOut)
	}
}

func TestJSONIsOneLinePerCase(t *testing.T) {
	out, _, code := run(t, nil, "test", "-f", full, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 5 {
		t.Fatalf("%d lines", len(lines))
	}
	if !strings.Contains(lines[0], `"type":"version"`) {
		t.Errorf("first line %q is not the version line", lines[0])
	}
	var sum struct {
		Type   string `json:"type"`
		Passed int    `json:"passed"`
		Pos    any    `json:"pos"`
	}
	cases := 0
	for _, l := range lines[1 : len(lines)-1] {
		var v struct {
			Type   string          `json:"type"`
			Target string          `json:"target"`
			Name   string          `json:"name"`
			Pass   *bool           `json:"pass"`
			Pos    json.RawMessage `json:"pos"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Errorf("bad NDJSON line %q (%v)", l, err)
			continue
		}
		if v.Type == "test_summary" {
			continue
		}
		cases++
		if v.Type != "test" || v.Target != "local" || v.Name == "" || v.Pass == nil || !strings.HasPrefix(string(v.Pos), `{"file"`) {
			t.Errorf("bad case line %q", l)
		}
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Type != "summary" || sum.Passed != cases || cases == 0 {
		t.Errorf("last line %q is not the summary of %d cases (%v)", lines[len(lines)-1], cases, err)
	}
}

func TestFailingCaseExits1WithTheDifference(t *testing.T) {
	data, err := os.ReadFile("../../testdata/examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(data), "expect: {status: 200, body: ok}", "expect: {status: 204, body: ok}", 1)
	if broken == string(data) {
		t.Fatal("quickstart.yaml changed; update this test")
	}
	p := filepath.Join(t.TempDir(), "edgegw.yaml")
	if err := os.WriteFile(p, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, nil, "test", "-f", p)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(out, "FAIL  local health answered at the edge") || !strings.Contains(out, "status: want 204, got 200") {
		t.Errorf("failure report:\n%s", out)
	}
	if !strings.Contains(errOut, "1 passed, 1 failed") {
		t.Errorf("summary %q", errOut)
	}
	out, _, code = run(t, map[string]string{"GITHUB_ACTIONS": "true"}, "test", "-f", p)
	if code != 1 || !strings.Contains(out, "::error file="+p+",line=") {
		t.Errorf("github annotation missing (exit %d):\n%s", code, out)
	}
}

func TestUnknownAndRenamedTargets(t *testing.T) {
	_, errOut, code := run(t, nil, "test", "-f", full, "--target", "akamai")
	if code != 1 || !strings.Contains(errOut, `no such target "akamai"`) || !strings.Contains(errOut, "local") {
		t.Errorf("unknown target: exit %d %q", code, errOut)
	}
	for old, now := range map[string]string{"ref": "local", "workers": "cloudflare"} {
		_, errOut, code = run(t, nil, "test", "-f", full, "--target", old)
		if code != 1 || !strings.Contains(errOut, `is now called "`+now+`"`) {
			t.Errorf("--target %s: exit %d %q, want the new name %s", old, code, errOut, now)
		}
	}
	if _, errOut, code = run(t, nil, "test", "-f", full, "--target", "local"); code != 0 {
		t.Errorf("--target local: exit %d %q", code, errOut)
	}
}

func TestInvalidManifestPrintsDiagnostics(t *testing.T) {
	p := filepath.Join(t.TempDir(), "edgegw.yaml")
	_ = os.WriteFile(p, []byte("version: 1\nname: x\nroutez: []\n"), 0o644)
	_, errOut, code := run(t, nil, "test", "-f", p)
	if code != 1 || !strings.Contains(errOut, p+":3:1: error[") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
