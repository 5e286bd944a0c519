package cloudfront

import (
	"encoding/json"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/internal/testenv"
	"github.com/edgegw/edgegw/manifest/pathnorm"
)

// TestPathnormDifferential runs the function's compact normalizer (pathnorm.js) in njs on every row of
// paths.tsv and on random paths built from the pieces the algorithm cares about, and compares each answer
// with the reference's manifest/pathnorm: the normalized path, or a refusal.
func TestPathnormDifferential(t *testing.T) {
	_, err := exec.LookPath("njs")
	testenv.Require(t, "njs (Debian njs)", err)
	var paths []string
	tsv, err := os.ReadFile(testenv.SharedFile(t, "testvectors/paths.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(tsv), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			paths = append(paths, strings.Split(line, "\t")[0])
		}
	}
	rows := len(paths)
	pieces := []string{"/", "/", "/", ".", "..", "%2E", "%2e", "%2F", "%2f", "%5C", "%25", "%41", "%7e", "%3A", "%3a", "%00", "%C0", "%c1",
		"%C3%A9", "%4", "%G1", "%", "a", "Z", "0", "4", "1", "~", "-", "_", "!", "$", "&", "'", "(", "*", "+", ",", "=", ":", "@", ";",
		"\\", " ", "\"", "<", "\x01", "\x1f", "\x7f", "\xc0", "\xc1", "\xc3\xa9", "\xff", "%20", "%2525", "%252", "x"}
	rnd := rand.New(rand.NewSource(1))
	for n := 0; n < 10000; n++ {
		var b strings.Builder
		b.WriteString("/")
		for k := rnd.Intn(8); k >= 0; k-- {
			b.WriteString(pieces[rnd.Intn(len(pieces))])
		}
		paths = append(paths, b.String())
	}
	paths = append(paths, "", "a", "/..", "/a/b/..", "/a/./b/../../c/")
	// Each path goes to njs as its bytes (one character per byte), as the CloudFront event's uri holds it.
	codes := make([][]int, len(paths))
	for i, p := range paths {
		codes[i] = []int{}
		for j := 0; j < len(p); j++ {
			codes[i] = append(codes[i], int(p[j]))
		}
	}
	cj, _ := json.Marshal(codes)
	src := strings.Replace(mustRead(t, "pathnorm.js"), "export function", "function", 1) + `
var cases = ` + string(cj) + `;
for (var i = 0; i < cases.length; i++) console.log(JSON.stringify(normalize(String.fromCharCode.apply(null, cases[i]))));
console.log(JSON.stringify(normalize("/caf\u00e9/\u00e9t\u00e9")));
console.log(JSON.stringify(normalize("/\u4e16\u754c")));
`
	file := filepath.Join(t.TempDir(), "norm.js")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, err := exec.Command("njs", file).Output()
	if err != nil {
		t.Fatalf("njs: %v", err)
	}
	var got []*string
	for _, line := range strings.Split(strings.TrimSuffix(string(stdout), "\n"), "\n") {
		var s *string
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("njs output: %v: %s", err, line)
		}
		got = append(got, s)
	}
	// The same paths as bytes: characters up to 0xFF are one byte each, a string with a wider one is UTF-8.
	paths = append(paths, "/caf\xe9/\xe9t\xe9", "/\u4e16\u754c")
	if len(got) != len(paths) {
		t.Fatalf("njs answered %d paths, want %d", len(got), len(paths))
	}
	refused := 0
	for i, p := range paths {
		want, err := pathnorm.Normalize(p)
		switch {
		case err != nil && got[i] != nil:
			t.Errorf("%q: reference refuses (%v), the function gives %q", p, err, *got[i])
		case err == nil && got[i] == nil:
			t.Errorf("%q: reference gives %q, the function refuses", p, want)
		case err == nil && *got[i] != want:
			t.Errorf("%q: reference gives %q, the function %q", p, want, *got[i])
		case err != nil:
			refused++
		}
	}
	t.Logf("%d paths (%d rows of paths.tsv) decided as the reference: %d normalized, %d refused", len(paths), rows, len(paths)-refused, refused)
}

func mustRead(t *testing.T, name string) string {
	b, err := library.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
