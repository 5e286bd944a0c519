package regexsafe

import (
	"regexp"
	"strings"
	"testing"
)

// FuzzCheck holds Check to its contract on any input: it never panics, every problem is well formed, and
// everything it accepts compiles in Go and survives the rewrite the analysis runs on unchanged in meaning.
func FuzzCheck(f *testing.F) {
	for _, p := range safePatterns {
		f.Add(p)
	}
	for _, tc := range rejected {
		f.Add(tc.pattern)
	}
	for _, p := range []string{
		strings.Repeat("(", 300), strings.Repeat("(a|", 60) + strings.Repeat(")", 60),
		strings.Repeat("[a-z]+/", 30), `((((((((((a))))))))))*`, `(?:(?:(?:a{10}){10}){10})`, `[\]\[\-\\^]+`,
		`^/(a|(b|(c|d+)+)*)?$`, "\\", "(?", "[", "{", "a{1,", "[[:", `\k`, `(?P`, `(*`, `\b\B^$`,
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		prob := Check(pattern)
		if prob != nil {
			checkProblemShape(t, pattern, prob)
			return
		}
		if _, err := regexp.Compile(pattern); err != nil {
			t.Fatalf("Check(%q) = nil, but Go does not compile it: %v", pattern, err)
		}
		checkWrap(t, pattern, append(samplePaths(pattern, 12), pattern))
	})
}
