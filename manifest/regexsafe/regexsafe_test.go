package regexsafe

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
)

// safePatterns are route regexes that must pass: the ones from the issue, then the shapes real gateways use.
var safePatterns = []string{
	`^/v0/[a-z]+$`,
	`^/users/[0-9]+/orders/[0-9a-f-]{36}$`,
	`^/files/.*\.pdf$`,
	`^/(en|de|fr)/docs(/.*)?$`,
	`^/api/v[0-9]+/.+$`,
	`^/a+b+$`,
	`^/static/[^/]+\.(css|js)$`,

	`^/$`,
	`/api/.*`,
	`^/v[12]/users/[0-9]+$`,
	`^/users/[^/]+/?$`,
	`^/admin(/.*)?$`,
	`^/health(z)?$`,
	`^/assets/.+\.(png|jpe?g|gif|svg|webp)$`,
	`^/.*\.(?:js|css|map)$`,
	`^/api/(v1|v2)/.*$`,
	`^/(?:en|de)(?:/.*)?$`,
	`^/[a-z]{2}(-[A-Z]{2})?/products/[0-9]+$`,
	`^/(?:[a-z]{2}|[a-z]{2}-[a-z]{2})/home$`,
	`^/blog/[0-9]{4}/[0-9]{2}/[a-z0-9-]+/?$`,
	`^/files(/[^/]+)*/?$`,
	`^/(?:api|web)/v[0-9]+(?:/[a-z0-9_-]+)+$`,
	`^/uuid/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`,
	`^/ip/(\d{1,3}\.){3}\d{1,3}$`,
	`^/v1/users/\d+/avatar\.(png|jpg)$`,
	`^/v1/(users|orgs)/[^/]+/(members|repos)(/[0-9]+)?$`,
	`^/api/v1/[^/]+/[^/]+/?$`,
	`^/search\b`,
	`^/\.well-known/.*$`,
	`^/tenants/[a-z0-9][a-z0-9-]{0,61}[a-z0-9]/`,
	`^/~[a-z_][a-z0-9_]*/`,
	`^/[^/]+\.html$`,
	`^/downloads/[\w.-]+\.tar\.gz$`,
	`^/a/.*/b$`,
	`^/(.+)/(.+)$`,
	`^/[a-z]+(-[a-z]+)*$`,
	`^/docs/(?:[a-z0-9-]+/)*[a-z0-9-]+\.html$`,
	`^/x/(?:[a-z]+/)*[a-z]*$`,
	`^/v[0-9]+(\.[0-9]+)*/status$`,
	`^/images/[0-9]+x[0-9]+/.+\.(jpg|png)$`,
	`^/orders/[A-Z]{3}-\d{6}$`,
	`^/user/@[a-z0-9_.]+$`,
	`^/p/[A-Za-z0-9_-]{11}$`,
	`^/static/.+?\.css$`,
	`^/(%[0-9A-F]{2}|[a-z])+$`,
	`^/\(legacy\)/[a-z]+$`,
	`^/files/[^/]+$|^/f/[^/]+$`,
	`^/v1/things/[0-9]+:(start|stop)$`,
	`^/a\/b$`,
	`^/x{2}y{1,3}z{2,}$`,
	`^/[\d\-]+$`,
	`^/[-a-z]+$`,
	`^/[a-z-]+/\S+$`,
	`^/[^\s/]+$`,
	`^/sitemap(-[0-9]+)?\.xml$`,
	`^/v1/(?:users|groups)/[0-9]+(?:/members(?:/[0-9]+)?)?$`,
	`^/item/[0-9]{1,100}$`,
	`^/(a|b)*c$`,
	`^/[a-z]*?/x$`,
	`^/files/[^/]+(/[^/]+){0,5}$`,
	`^/a]b}c$`,
	`^/\{id\}$`,
	`^/\++$`,
	`^/[+]+$`,
	`^/(?:[a-z0-9]+(?:-[a-z0-9]+)*\.)+[a-z]{2,}/favicon\.ico$`,
	`^/api/v1(?:/(?:[a-z]+|\d+))*$`,
	`^/[a-z]{2}(?:-[a-z]{2})?(?:/[a-z0-9-]+){1,5}/?$`,
	`^/(?:[^/]+/)*[^/]+\.json$`,
	`(?:)`,

	// Near misses of overlapping-optionals: fixed counts, optional parts that need a character the others
	// cannot take, IP-style counts with separators, at most 256 ways, and optional iterations past a minimum.
	`^/a{25}$`,
	`^/(ab?){25}$`,
	`^/(?:(ab)?c){25}$`,
	`^/(a?b){25}a{25}$`,
	`^/ip/[0-9]{1,3}(\.[0-9]{1,3}){3}$`,
	`^/x(a?){9}a{9}$`,
	`^/a?a?a?a?a?a?a?a?a?a{9}$`,
	`^/(a?){0,25}a{25}$`,
	`^/[a-z]{0,10}[a-z0-9]{0,10}[a-z]{0,10}$`,
	`^/(-[a-z]{0,3}){30}$`,
}

// rejected lists patterns and the problem they must get: code, and offset where it is worth pinning down.
var rejected = []struct {
	pattern string
	code    string
	offset  int // -1: not checked
}{
	{strings.Repeat("a", 257), CodeTooLong, 256},

	{"/caf\u00e9", CodeUnsupportedCharacter, 4},
	{"/a\tb", CodeUnsupportedCharacter, 2},
	{"/a\x00", CodeUnsupportedCharacter, 2},
	{"\xff", CodeUnsupportedCharacter, 0},

	{`\1`, CodeBackreference, 0},
	{`^/(a)\1$`, CodeBackreference, 5},
	{`(a)\2`, CodeBackreference, 3},
	{`\k<x>`, CodeBackreference, 0},
	{`(?<x>a)\k<x>`, CodeNamedGroup, 0},
	{`(?P=x)`, CodeBackreference, 0},
	{`(a)\g1`, CodeBackreference, 3},

	{`^/(?=a)`, CodeLookaround, 2},
	{`(?!a)`, CodeLookaround, 0},
	{`^/x(?<=a)`, CodeLookaround, 3},
	{`(?<!a)b`, CodeLookaround, 0},

	{`(?P<x>a)`, CodeNamedGroup, 0},
	{`^/(?<id>[0-9]+)$`, CodeNamedGroup, 2},
	{`(?'x'a)`, CodeNamedGroup, 0},

	{`^/a++$`, CodePossessive, 3},
	{`a*+`, CodePossessive, 1},
	{`a?+`, CodePossessive, 1},
	{`a{2}+`, CodePossessive, 1},
	{`(ab)++`, CodePossessive, 4},

	{`(?>a)`, CodeAtomicGroup, 0},
	{`^/(?>a|ab)c`, CodeAtomicGroup, 2},

	{`(?i)/a`, CodeInlineFlag, 0},
	{`/(?i:a)`, CodeInlineFlag, 1},
	{`(?s).`, CodeInlineFlag, 0},
	{`(?-m)a`, CodeInlineFlag, 0},
	{`(?U)a+`, CodeInlineFlag, 0},
	{`(?x) a`, CodeInlineFlag, 0},

	{`(?#comment)a`, CodeUnsupportedGroup, 0},
	{`(?|a)`, CodeUnsupportedGroup, 0},
	{`(?(1)a|b)`, CodeUnsupportedGroup, 0},
	{`(?R)`, CodeUnsupportedGroup, 0},
	{`(a)(?1)`, CodeUnsupportedGroup, 3},
	{`(?-1)`, CodeUnsupportedGroup, 0},
	{`(?&x)`, CodeUnsupportedGroup, 0},
	{`(?P>x)`, CodeUnsupportedGroup, 0},
	{`(*UTF)a`, CodeUnsupportedGroup, 0},
	{`a(*SKIP)b`, CodeUnsupportedGroup, 1},
	{`(?C1)a`, CodeUnsupportedGroup, 0},
	{`(?~a)`, CodeUnsupportedGroup, 0},

	{`^/a\z`, CodeUnsupportedEscape, 3},
	{`\A/a`, CodeUnsupportedEscape, 0},
	{`a\Z`, CodeUnsupportedEscape, 1},
	{`\G`, CodeUnsupportedEscape, 0},
	{`\Q.\E`, CodeUnsupportedEscape, 0},
	{`\p{L}`, CodeUnsupportedEscape, 0},
	{`\pL`, CodeUnsupportedEscape, 0},
	{`[\PL]`, CodeUnsupportedEscape, 1},
	{`\C`, CodeUnsupportedEscape, 0},
	{`\012`, CodeUnsupportedEscape, 0},
	{`\0`, CodeUnsupportedEscape, 0},
	{`[\1]`, CodeUnsupportedEscape, 1},
	{`[\b]`, CodeUnsupportedEscape, 1},
	{`[a\B]`, CodeUnsupportedEscape, 2},
	{`\x41`, CodeUnsupportedEscape, 0},
	{`\x{41}`, CodeUnsupportedEscape, 0},
	{`\u0041`, CodeUnsupportedEscape, 0},
	{`\cA`, CodeUnsupportedEscape, 0},
	{`\v`, CodeUnsupportedEscape, 0},
	{`\h`, CodeUnsupportedEscape, 0},
	{`\R`, CodeUnsupportedEscape, 0},
	{`a\Kb`, CodeUnsupportedEscape, 1},
	{`\e`, CodeUnsupportedEscape, 0},
	{`\a`, CodeUnsupportedEscape, 0},
	{`\N`, CodeUnsupportedEscape, 0},
	{`\X`, CodeUnsupportedEscape, 0},
	{`\y`, CodeUnsupportedEscape, 0},
	{`[\k]`, CodeUnsupportedEscape, 1},

	{`[[:alpha:]]`, CodeUnsupportedClass, 1},
	{`^/[[:digit:]]+$`, CodeUnsupportedClass, 3},
	{`[[.a.]]`, CodeUnsupportedClass, 1},
	{`[[=a=]]`, CodeUnsupportedClass, 1},
	{`[]a]`, CodeUnsupportedClass, 1},
	{`[^]a]`, CodeUnsupportedClass, 2},
	{`[\d-z]`, CodeUnsupportedClass, 1},
	{`[a-\d]`, CodeUnsupportedClass, 1},
	{`[%\w-.]`, CodeUnsupportedClass, 2},

	{`^/users/{id}$`, CodeLiteralBrace, 8},
	{`a{,5}`, CodeLiteralBrace, 1},
	{`a{2`, CodeLiteralBrace, 1},
	{`a{x}`, CodeLiteralBrace, 1},
	{`/{`, CodeLiteralBrace, 1},
	{`a{2,3`, CodeLiteralBrace, 1},
	{`a{ 2}`, CodeLiteralBrace, 1},

	{`(a+)+`, CodeNestedRepeat, 0},
	{`^/(\w+\s?)*$`, CodeNestedRepeat, 2},
	{`(a*)*`, CodeNestedRepeat, 0},
	{`(a+)*`, CodeNestedRepeat, 0},
	{`^/x(?:a*)+`, CodeNestedRepeat, 3},
	{`((a+)+)+`, CodeNestedRepeat, 0},
	{`(a+){2}`, CodeNestedRepeat, 0},
	{`(aa?)*`, CodeNestedRepeat, 0},
	{`(a{1,2})*`, CodeNestedRepeat, 0},
	{`(a?a?b)*`, CodeNestedRepeat, 1},
	{`^/x(/.*)*$`, CodeNestedRepeat, 3},
	{`(x+x+)+y`, CodeNestedRepeat, 1},
	{`^/([a-z0-9]+[-_]?)*$`, CodeNestedRepeat, 2},
	{`(a|b+)*`, CodeNestedRepeat, 0},
	{`^(/.*/){2}$`, CodeNestedRepeat, 3},
	{`^(([a-z])+.)+[A-Z]([a-z])+$`, CodeNestedRepeat, 2},
	{`^/([a-z]+/?)*$`, CodeNestedRepeat, 2},
	{`((a|)a)*`, CodeNestedRepeat, 1},
	{`(\d+\.?)+`, CodeNestedRepeat, 0},

	{`(a|a)*`, CodeOverlappingAlternation, 3},
	{`(a|ab)*`, CodeOverlappingAlternation, 3},
	{`^/(en|es)+$`, CodeOverlappingAlternation, 6},
	{`(\d|[0-9a-f])+`, CodeOverlappingAlternation, 4},
	{`(a?|a)*`, CodeOverlappingAlternation, 4},
	{`^/(.|\s)*$`, CodeOverlappingAlternation, 5},
	{`(x(a|ab)y)+`, CodeOverlappingAlternation, 5},
	{`(?:[a-z]+|[0-9]+|[a-z0-9]+)*`, CodeOverlappingAlternation, 17},

	{`.*.*x`, CodeAdjacentRepeat, 0},
	{`^/\d+\d+$`, CodeAdjacentRepeat, 2},
	{`a*a*`, CodeAdjacentRepeat, 0},
	{`^/[a-z]+-?[a-z]+$`, CodeAdjacentRepeat, 2},
	{`^/files/.*.*\.pdf$`, CodeAdjacentRepeat, 8},
	{`.*(a+)`, CodeAdjacentRepeat, 0},
	{`(a+)?a+`, CodeAdjacentRepeat, 1},
	{`\w+\d+`, CodeAdjacentRepeat, 0},
	{`^/.*[^/]*$`, CodeAdjacentRepeat, 2},
	{`^/(?:a|b+)(?:c|b*)$`, CodeAdjacentRepeat, 7},
	{`^/.+/?.+$`, CodeAdjacentRepeat, 2},

	{`^/(.+)/(.+)/(.+)$`, CodeRepeatChain, 3},
	{`^/a/.*/b/.*/c/.*$`, CodeRepeatChain, 4},
	{`a.*b.*c`, CodeRepeatChain, 1},
	{`/x*?(\s{2,}|\w\d?x*x)x+$`, CodeRepeatChain, 1},
	{`^/(.*/)?(.*/)?.*x$`, CodeRepeatChain, 3},
	{`^/.*?[ab]{1,3}([a-z0-9-]{2,}a{2}[a-z]?[a-z]*?)/$`, CodeRepeatChain, 2},

	{`^(a?){25}a{25}$`, CodeOverlappingOptionals, 1},
	{`(a?){10}`, CodeOverlappingOptionals, 0},
	{`^/a?a?a?a?a?a?a?a?a?a?a{10}$`, CodeOverlappingOptionals, 2},
	{`^/a?a?a?a?a?a?a?a?a?a?$`, CodeOverlappingOptionals, 2},
	{`^/x(a|){25}a{25}$`, CodeOverlappingOptionals, 3},
	{`^/((?:ab)?){7}$`, CodeOverlappingOptionals, 2},
	{`^/x{0,3}x{0,3}x{0,3}x{0,3}x{0,3}x{0,3}$`, CodeOverlappingOptionals, 2},
	{`^/([a-z]?){25}[a-z]{25}$`, CodeOverlappingOptionals, 2},
	{`^/(?:b(a?){2})*$`, CodeOverlappingOptionals, 2},
	{`^/(?:b(a?){2}){9}$`, CodeOverlappingOptionals, 2},
	{`^/(?:x(a?){2}){0,9}$`, CodeOverlappingOptionals, 2},

	{`a{101}`, CodeRepeatTooLarge, 1},
	{`a{1,200}`, CodeRepeatTooLarge, 1},
	{`a{101,}`, CodeRepeatTooLarge, 1},
	{`(ab){0,101}`, CodeRepeatTooLarge, 4},
	{`a{99999999999999999999}`, CodeRepeatTooLarge, 1},
	{`(a{100}){100}`, CodeRepeatTooLarge, 8},
	{`(a{100}){100}?`, CodeRepeatTooLarge, 8},

	{`(a`, CodeSyntax, 0},
	{`a)`, CodeSyntax, 1},
	{`^/(a(b)`, CodeSyntax, 2},
	{`^/(a))(`, CodeSyntax, 5},
	{`[a`, CodeSyntax, -1},
	{`[z-a]`, CodeSyntax, 1},
	{`*a`, CodeSyntax, 0},
	{`a|*`, CodeSyntax, 2},
	{`(*)`, CodeSyntax, 1},
	{`a**`, CodeSyntax, 2},
	{`a+?+`, CodeSyntax, 3},
	{`a{2}{3}`, CodeSyntax, 4},
	{`^*`, CodeSyntax, 1},
	{`$+`, CodeSyntax, 1},
	{`\b*`, CodeSyntax, 2},
	{`a{3,2}`, CodeSyntax, 1},
	{`(?`, CodeSyntax, 0},
	{`a\`, CodeSyntax, 1},
}

func TestCheckAcceptsSafePatterns(t *testing.T) {
	for _, p := range safePatterns {
		if prob := Check(p); prob != nil {
			t.Errorf("Check(%q) = %s [%s at %d]; want nil", p, prob.Error(), prob.Code, prob.Offset)
		}
	}
}

// TestAcceptedPatternsCompileInGo holds the subset to what the reference gateway can run.
func TestAcceptedPatternsCompileInGo(t *testing.T) {
	for _, p := range safePatterns {
		if _, err := regexp.Compile(p); err != nil {
			t.Errorf("accepted pattern %q does not compile in Go: %v", p, err)
		}
	}
}

func TestCheckRejects(t *testing.T) {
	for _, tc := range rejected {
		prob := Check(tc.pattern)
		if prob == nil {
			t.Errorf("Check(%q) = nil; want %s", tc.pattern, tc.code)
			continue
		}
		if prob.Code != tc.code {
			t.Errorf("Check(%q).Code = %s (%s); want %s", tc.pattern, prob.Code, prob.Summary, tc.code)
		}
		if tc.offset >= 0 && prob.Offset != tc.offset {
			t.Errorf("Check(%q).Offset = %d (%s); want %d", tc.pattern, prob.Offset, prob.Summary, tc.offset)
		}
		checkProblemShape(t, tc.pattern, prob)
	}
}

// checkProblemShape holds every problem to what the manifest validator relies on.
func checkProblemShape(t *testing.T, pattern string, prob *Problem) {
	t.Helper()
	if prob.Offset < 0 || prob.Offset > len(pattern) {
		t.Errorf("Check(%q).Offset = %d, outside the pattern", pattern, prob.Offset)
	}
	if !knownCodes[prob.Code] {
		t.Errorf("Check(%q).Code = %q, not a documented code", pattern, prob.Code)
	}
	if prob.Summary == "" || prob.Fix == "" {
		t.Errorf("Check(%q) = %+v: summary and fix must both be set", pattern, prob)
	}
	for _, s := range []string{prob.Summary, prob.Fix} {
		if strings.HasSuffix(s, ".") || s != "" && s[0] >= 'A' && s[0] <= 'Z' && !strings.HasPrefix(s, "PCRE") && !strings.HasPrefix(s, "Unicode") && !strings.HasPrefix(s, "POSIX") {
			t.Errorf("Check(%q): %q should start lowercase and have no trailing period", pattern, s)
		}
	}
	if got := prob.Error(); got != "regexsafe: "+prob.Summary {
		t.Errorf("Error() = %q", got)
	}
}

var knownCodes = map[string]bool{
	CodeTooLong: true, CodeUnsupportedCharacter: true, CodeBackreference: true, CodeLookaround: true,
	CodeNamedGroup: true, CodePossessive: true, CodeAtomicGroup: true, CodeInlineFlag: true,
	CodeUnsupportedGroup: true, CodeUnsupportedEscape: true, CodeUnsupportedClass: true, CodeLiteralBrace: true,
	CodeNestedRepeat: true, CodeOverlappingAlternation: true, CodeAdjacentRepeat: true, CodeRepeatChain: true, CodeRepeatTooLarge: true,
	CodeOverlappingOptionals: true,
	CodeSyntax:               true,
}

// TestMessages pins the wording users see for the examples: the construct quoted as written, and a fix.
func TestMessages(t *testing.T) {
	for _, tc := range []struct{ pattern, summary, fix string }{
		{`^/(?=admin)`, "lookahead `(?=` is not supported by every target; Go (RE2) has no lookaround", "earlier route"},
		{`(a+)+`, "nested unbounded repeat `(a+)+` can backtrack exponentially on JavaScript and PCRE targets", "remove the inner repeat: `a+` matches the same strings"},
		{`^/x(?:[a-z]*)+$`, "nested unbounded repeat `(?:[a-z]*)+`", "`[a-z]*` matches the same strings"},
		{`(\w+\s?)*`, "the inner `\\w+`", "(here `a`)"},
		{`((a+)+)+`, "nested unbounded repeat `((a+)+)+`", "remove the inner repeat: `a+` matches the same strings"},
		{`^(([a-z])+.)+$`, "`([a-z])+` and `.` in repeat `(([a-z])+.)+` can both match `a`", "put a character between them"},
		{`^/(.|\s)*$`, "can both start with a space", "factor out the common start"},
		{`(a|ab)*`, "alternatives `a` and `ab` in repeat `(a|ab)*` can both start with `a`", "factor out the common start"},
		{`(a|a)*`, "alternatives `a` and `a`", "remove the duplicate alternative `a`"},
		{`^/\d+\d+$`, "repeats `\\d+` and `\\d+` next to each other can both match `0`", "merge them into one repeat: `\\d{2,}`"},
		{`.*.*x`, "repeats `.*` and `.*` next to each other", "merge them into one repeat: `.*`"},
		{`^/[a-z]+-?[a-z]+$`, "separated only by optional items", "put a character between them"},
		{`^(a?){25}a{25}$`, "the optional or variable-length parts of `(a?){25}` can each take `a`, so they can divide the same text in 16777216 ways, more than 256", "merge them into one counted repeat: `a{0,25}`"},
		{`^/a?a?a?a?a?a?a?a?a?a?a{10}$`, "the optional or variable-length parts of `a?a?a?a?a?a?a?a?a?a?` can each take `a`", "`a{0,10}`"},
		{`^/((?:ab)?){7}$`, "parts of `((?:ab)?){7}`", "`(?:ab){0,7}`"},
		{`^/(?:b(a?){2})*$`, "repeat `(?:b(a?){2})*` repeats a part that can divide the same text in more than one way, so the ways multiply with every iteration, without bound", "give its optional parts fixed lengths"},
		{`^/x{0,3}x{0,3}x{0,3}x{0,3}x{0,3}x{0,3}$`, "parts of `x{0,3}x{0,3}x{0,3}x{0,3}x{0,3}x{0,3}` can each take `x`, so they can divide the same text in 1024 ways", "make the repeated part non-optional or give it a fixed length"},
		{`a{1,200}`, "counted repeat `a{1,200}` is over the limit of 100", "at most 100"},
		{`^/(.+)/(.+)/(.+)$`, "`.+`, `.+` and `.+` can each take over the text between them", "`[^/]*` instead of `.*`"},
		{`/a.*b.*c`, "the search for where a match starts (the pattern has no `^`), `.*` and `.*`", "anchor the pattern with `^`"},
		{`^/users/{id}$`, "`{id}` is not a counted repeat", "template route"},
		{"/caf\u00e9", "non-ASCII character \"é\"", "`%C3%A9`"},
		{`(?i)/admin`, "inline flag `(?i)`", "`[Aa]`"},
		{`[[:alpha:]]`, "POSIX class `[:alpha:]`", "`[A-Za-z]`"},
		{`(?P<id>[0-9]+)`, "named group `(?P<id>`", "`(?:...)`"},
		{`a++`, "possessive quantifier `a++`", "`+`"},
		{`^/(a`, "does not parse: missing closing ): `^/(a`", "add the missing `)`"},
		{`^/(a{20}){100}$`, "multiply to more than 1000 copies: `(a{20}){100}`", "lower the counts"},
	} {
		prob := Check(tc.pattern)
		if prob == nil {
			t.Errorf("Check(%q) = nil", tc.pattern)
			continue
		}
		if !strings.Contains(prob.Summary, tc.summary) {
			t.Errorf("Check(%q).Summary = %q; want it to contain %q", tc.pattern, prob.Summary, tc.summary)
		}
		if !strings.Contains(prob.Fix, tc.fix) {
			t.Errorf("Check(%q).Fix = %q; want it to contain %q", tc.pattern, prob.Fix, tc.fix)
		}
	}
}

// TestSuggestedFixesAreAccepted checks that the rewrite a fix proposes is itself allowed.
func TestSuggestedFixesAreAccepted(t *testing.T) {
	for _, tc := range []struct{ bad, good string }{
		{`^/(a+)+$`, `^/a+$`},
		{`^/\d+\d+$`, `^/\d{2,}$`},
		{`^/([a-z]+/?)*$`, `^/([a-z]+/)*[a-z]*$`},
		{`^/.*/?.*$`, `^/[^/]*/.*$`},
		{`^/(ab|ac)*$`, `^/(a(?:b|c))*$`},
		{`^/(a?){25}a{25}$`, `^/a{0,25}a{25}$`},
		{`^/a?a?a?a?a?a?a?a?a?a?a{10}$`, `^/a{0,10}a{10}$`},
	} {
		if Check(tc.bad) == nil {
			t.Errorf("Check(%q) = nil; want a problem", tc.bad)
		}
		if prob := Check(tc.good); prob != nil {
			t.Errorf("Check(%q) = %v; want nil", tc.good, prob)
		}
	}
}

// TestWrapKeepsMeaning checks the rewrite the analysis runs on: it must match exactly what the pattern matches,
// and give every group it adds a recorded position.
func TestWrapKeepsMeaning(t *testing.T) {
	for _, p := range safePatterns {
		checkWrap(t, p, samplePaths(p, 40))
	}
}

func checkWrap(t *testing.T, pattern string, subjects []string) {
	t.Helper()
	toks, prob := scan(pattern)
	if prob != nil {
		t.Fatalf("scan(%q): %v", pattern, prob)
	}
	expr, caps := wrap(pattern, toks)
	orig, err := regexp.Compile(pattern)
	if err != nil {
		t.Fatalf("compile %q: %v", pattern, err)
	}
	wrapped, err := regexp.Compile(expr)
	if err != nil {
		t.Fatalf("wrap(%q) = %q does not compile: %v", pattern, expr, err)
	}
	if wrapped.NumSubexp() != len(caps)-1 {
		t.Fatalf("wrap(%q) = %q has %d groups, %d recorded", pattern, expr, wrapped.NumSubexp(), len(caps)-1)
	}
	for _, c := range caps[1:] {
		if c.start < 0 || c.start > c.atomEnd || c.atomEnd > c.end || c.end > len(pattern) {
			t.Fatalf("wrap(%q): bad span %+v", pattern, c)
		}
	}
	for _, s := range subjects {
		if orig.MatchString(s) != wrapped.MatchString(s) {
			t.Fatalf("wrap(%q) = %q decides %q differently", pattern, expr, s)
		}
	}
}

// samplePaths returns paths a pattern matches and near misses: strings generated from the pattern, then
// mutated. They are printable ASCII, like every normalized path.
func samplePaths(pattern string, n int) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	h := uint64(14695981039346656037)
	for i := 0; i < len(pattern); i++ {
		h = (h ^ uint64(pattern[i])) * 1099511628211
	}
	rng := rand.New(rand.NewPCG(h, 1))
	out := []string{"", "/", pattern}
	for len(out) < n {
		var b strings.Builder
		generate(&b, re.Simplify(), rng)
		s := b.String()
		out = append(out, s)
		if s != "" {
			k := rng.IntN(len(s))
			const alphabet = "/aZ0.-_%~x"
			out = append(out, s[:k]+s[k+1:], s[:k]+string(alphabet[rng.IntN(len(alphabet))])+s[k:])
		}
	}
	return out
}

func generate(b *strings.Builder, re *syntax.Regexp, rng *rand.Rand) {
	if b.Len() > 200 {
		return
	}
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass, syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		s := runeSet{'!', '~'}
		if re.Op == syntax.OpCharClass {
			s = append(runeSet{}, re.Rune...).normalize().intersect(runeSet{'!', '~'})
		}
		if s.empty() {
			return
		}
		k := rng.IntN(len(s)/2) * 2
		b.WriteRune(s[k] + rune(rng.IntN(int(s[k+1]-s[k]+1))))
	case syntax.OpCapture:
		generate(b, re.Sub[0], rng)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			generate(b, sub, rng)
		}
	case syntax.OpAlternate:
		generate(b, re.Sub[rng.IntN(len(re.Sub))], rng)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := bounds(re)
		if hi < 0 || hi > lo+3 {
			hi = lo + 3
		}
		for range lo + rng.IntN(hi-lo+1) {
			generate(b, re.Sub[0], rng)
		}
	}
}

// TestExampleRegexesStillPass keeps every regex route of the shipped examples valid.
func TestExampleRegexesStillPass(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	field := regexp.MustCompile(`regex:\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,}]+)`)
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range field.FindAllStringSubmatch(string(data), -1) {
			p := m[1]
			switch p[0] {
			case '"':
				p = strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(p[1 : len(p)-1])
			case '\'':
				p = p[1 : len(p)-1]
			}
			n++
			if prob := Check(p); prob != nil {
				t.Errorf("%s: regex %q: %v", f, p, prob)
			}
		}
	}
	if n == 0 {
		t.Fatal("the examples hold no regex route")
	}
}
