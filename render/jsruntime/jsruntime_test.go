package jsruntime

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/internal/testenv"
)

// TestNodeUnitTests runs the library's node:test suite (every paths.tsv row, the Wycheproof JWS file through
// WebCrypto, the bearer and claim rules).
func TestNodeUnitTests(t *testing.T) {
	node, err := exec.LookPath("node")
	testenv.Require(t, "node (Debian nodejs)", err)
	shared := filepath.Dir(testenv.SharedFile(t, "testvectors"))
	cmd := exec.Command(node, "--test", "test/")
	cmd.Env = append(os.Environ(), "EDGEGW_SHARED="+shared)
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "# Wycheproof") || strings.HasPrefix(line, "not ok") {
			t.Log(line)
		}
	}
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
}

// TestSubset keeps the library inside what cloudfront-js-2.0 (njs) accepts, so the CloudFront target can
// reuse it: no optional chaining, nullish coalescing, spread, classes or async.
func TestSubset(t *testing.T) {
	forbidden := []struct {
		re   *regexp.Regexp
		what string
	}{
		{regexp.MustCompile(`\?\.[A-Za-z_\[(]`), "optional chaining"},
		{regexp.MustCompile(`\?\?`), "nullish coalescing"},
		{regexp.MustCompile(`\.\.\.[A-Za-z_\[{(]`), "spread or rest"},
		{regexp.MustCompile(`\bclass\s+[A-Za-z_]`), "class"},
		{regexp.MustCompile(`\basync\b|\bawait\b`), "async"},
		{regexp.MustCompile(`\bfunction\s*\*`), "generator"},
	}
	for _, name := range Modules {
		b, err := Files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			code := line
			if j := strings.Index(code, "//"); j >= 0 && !strings.Contains(code[:j], `"`) {
				code = code[:j]
			}
			for _, f := range forbidden {
				if f.re.MatchString(code) {
					t.Errorf("%s:%d: %s is outside the cloudfront-js-2.0 subset: %s", name, i+1, f.what, strings.TrimSpace(line))
				}
			}
		}
	}
}
