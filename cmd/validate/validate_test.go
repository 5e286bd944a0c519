package validate_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/internal/clitest"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	_ "github.com/edgegw/edgegw/cmd/validate"
)

var update = flag.Bool("update", false, "rewrite the expected diagnostics in testdata/invalid")

// marker separates a golden case's manifest from the diagnostics `edgegw validate` must print for it. The
// expected lines are YAML comments, so the file stays a manifest a user can run validate on.
const marker = "# --- expected output of edgegw validate (regenerate: go test ./cmd/validate -update) ---"

func run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	r := clitest.Run(env, args...)
	return r.Stdout, r.Stderr, r.Code
}

func TestInvalidGolden(t *testing.T) {
	t.Chdir("../..")
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) < 10 {
		t.Fatalf("expected the golden cases in testdata/invalid, found %d (%v)", len(files), err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			manifestPart, expectedPart, found := strings.Cut(string(data), marker+"\n")
			_, stderr, code := run(t, nil, "validate", "-f", file)
			if code != cmdutil.ExitError {
				t.Errorf("exit code %d, want %d", code, cmdutil.ExitError)
			}
			if *update {
				var b strings.Builder
				b.WriteString(strings.TrimRight(manifestPart, "\n") + "\n\n" + marker + "\n")
				for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
					b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
				}
				if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !found {
				t.Fatalf("%s has no expected output; run go test ./cmd/validate -update and review the diff", file)
			}
			var want strings.Builder
			for _, l := range strings.Split(strings.TrimRight(expectedPart, "\n"), "\n") {
				l = strings.TrimPrefix(strings.TrimPrefix(l, "#"), " ")
				want.WriteString(l + "\n")
			}
			if got := stderr; got != want.String() {
				t.Errorf("diagnostics differ\n--- got\n%s--- want\n%s", got, want.String())
			}
		})
	}
}

func TestExamplesValid(t *testing.T) {
	t.Chdir("../..")
	files, _ := filepath.Glob("testdata/examples/*.yaml")
	if len(files) < 2 {
		t.Fatalf("expected the example manifests, found %d", len(files))
	}
	for _, file := range files {
		stdout, stderr, code := run(t, nil, "validate", "-f", file)
		if code != 0 {
			t.Errorf("%s: exit %d\n%s%s", file, code, stdout, stderr)
		}
		if !strings.Contains(stderr, "valid (") {
			t.Errorf("%s: no confirmation printed: %q", file, stderr)
		}
	}
}

func TestFormats(t *testing.T) {
	t.Chdir("../..")
	file := "testdata/invalid/unknown-reference.yaml"

	stdout, _, code := run(t, nil, "validate", "-f", file, "--format", "json")
	if code != 1 {
		t.Fatalf("json: exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 6 {
		t.Fatalf("json: want the version line, one line per diagnostic (4) and the summary, got %q", stdout)
	}
	errorsSeen := 0
	for _, l := range lines[1 : len(lines)-1] {
		var d struct {
			Type, Severity, Code, Summary string
			Range                         struct{ File string }
		}
		if err := json.Unmarshal([]byte(l), &d); err != nil || d.Type != "diagnostic" || d.Range.File != file {
			t.Errorf("json line %q: %v", l, err)
		}
		if d.Severity == "error" && d.Code == "E101" {
			errorsSeen++
		}
	}
	if errorsSeen != 4 {
		t.Errorf("json: want 4 E101 errors, got %d", errorsSeen)
	}

	stdout, _, code = run(t, map[string]string{"GITHUB_ACTIONS": "true"}, "validate", "-f", file)
	if code != 1 {
		t.Fatalf("github: exit %d", code)
	}
	if !strings.Contains(stdout, "::error file=testdata/invalid/unknown-reference.yaml,line=10,col=28,endLine=10,endColumn=37,title=E101::unknown origin \"secundary\"%0A") {
		t.Errorf("github annotations:\n%s", stdout)
	}

	_, stderr, code := run(t, nil, "validate", "-f", "testdata/does-not-exist.yaml")
	if code != 1 || !strings.Contains(stderr, "error[E001]: cannot read the manifest") {
		t.Errorf("missing file: exit %d, %q", code, stderr)
	}

	_, stderr, code = run(t, nil, "validate", "--format", "xml")
	if code != 1 || !strings.Contains(stderr, `--format "xml": use human, json or github`) {
		t.Errorf("bad format: exit %d, %q", code, stderr)
	}
}

// A secret written in the manifest must be reported without the value appearing in any output.
func TestSecretValuesNeverPrinted(t *testing.T) {
	t.Chdir("../..")
	file := "testdata/invalid/secrets-in-manifest.yaml"
	for _, format := range []string{"human", "json", "github"} {
		stdout, stderr, code := run(t, nil, "validate", "-f", file, "--format", format)
		if code != 1 {
			t.Fatalf("%s: exit %d", format, code)
		}
		for _, secret := range []string{"hunter2", "c2VjcmV0LXZhbHVl", "k-29d8f7e6", "AKIAIOSFODNN7EXAMPLE"} {
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("%s output contains the secret %q", format, secret)
			}
		}
		if !strings.Contains(stdout+stderr, "E301") {
			t.Errorf("%s: secret not reported", format)
		}
	}
}

// TestDiagnosticsCapped checks that a manifest with many problems prints a bounded number of them, then
// how many were left out, in every format.
func TestDiagnosticsCapped(t *testing.T) {
	const printed = 50
	var b strings.Builder
	b.WriteString("version: 1\nname: capped\nroutes:\n")
	for i := 0; i < 200; i++ {
		b.WriteString("  - 1\n")
	}
	file := filepath.Join(t.TempDir(), "edgegw.yaml")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, nil, "validate", "-f", file)
	if code != cmdutil.ExitError || strings.Count(stderr, "error[") != printed {
		t.Fatalf("human: exit %d, want %d errors printed, got %d", code, printed, strings.Count(stderr, "error["))
	}
	if !regexp.MustCompile(`(?m)^… and [0-9]+ more diagnostics$`).MatchString(stderr) {
		t.Errorf("human: no line saying how many more diagnostics there are in %q", stderr[len(stderr)-200:])
	}
	stdout, _, _ := run(t, nil, "validate", "-f", file, "--format", "json")
	jl := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(jl) != printed+3 {
		t.Fatalf("json: want %d lines (version, diagnostics, how many more, summary), got %d", printed+3, len(jl))
	}
	var sum struct {
		Type                 string
		Diagnostics, Omitted int
	}
	if err := json.Unmarshal([]byte(jl[len(jl)-2]), &sum); err != nil || sum.Type != "diagnostics_summary" || sum.Omitted != sum.Diagnostics-printed || sum.Omitted <= 0 {
		t.Errorf("json summary %q: %v", jl[len(jl)-2], err)
	}
	stdout, _, _ = run(t, nil, "validate", "-f", file, "--format", "github")
	if n := strings.Count(stdout, "::error "); n != printed || !strings.Contains(stdout, "more diagnostics") {
		t.Errorf("github: %d annotations, summary present %v", n, strings.Contains(stdout, "more diagnostics"))
	}
}
