// Package regexsafe decides whether a route's path regular expression may be used in a manifest: whether it
// means the same on every target, and whether it runs in reasonable time on every target. Check answers with
// nil or with the first Problem, which carries a byte offset into the pattern, a stable code, and a summary and
// fix written for the manifest's author.
//
// The package owns that decision only. It must not rewrite patterns, know how a renderer quotes them (a JS
// regex literal, a VCL string), or compile anything for a target; it has no I/O and no configuration.
//
// # Engines
//
// One pattern runs in three regex dialects: Go's RE2 syntax (the reference gateway, Azure Front Door, GCP URL
// maps), JavaScript ES2018 compiled without the u or v flag (Cloudflare Workers, CloudFront Functions) and PCRE
// (Fastly VCL). RE2 runs in linear time; JavaScript and PCRE backtrack, and some patterns make them take
// exponential time on a short path.
//
// # Accepted subset
//
// A pattern is at most MaxLength (256) bytes of printable ASCII, built from:
//
//	a, /, -, ...        a literal character: anything not listed below; "]" and "}" on their own are
//	                    literal, "{" only starts a count
//	\. \/ \- \\ ...     a backslash before ASCII punctuation: that punctuation
//	.                   any character except a newline
//	[a-z0-9_] [^/]      a class or negated class of characters, ranges and the escapes here;
//	                    "-" first or last is literal, "]" must be escaped
//	\d \D \w \W \s \S   ASCII digit, word character, whitespace, and their complements
//	\t \n \r \f         tab, newline, carriage return, form feed
//	^ $                 start and end of the path
//	\b \B               ASCII word boundary, and its complement
//	(x) (?:x)           a group
//	x|y                 alternation
//	x* x+ x? x{n} x{n,} x{n,m}
//	                    repeats, n and m at most MaxRepeat (100); each may be lazy: x*? x+? x?? x{n,m}?
//
// Rejected, with a specific problem each, because at least one engine lacks it or reads it differently:
// backreferences (\1, \k<x>, (?P=x)), lookaround ((?=, (?!, (?<=, (?<!), named groups ((?P<x>, (?<x>), atomic
// groups ((?>), possessive quantifiers (a++, a*+), inline flags ((?i), (?s:...)), other (? and (* groups
// (comments, conditionals, recursion, PCRE verbs), \A \z \Z \G, \Q...\E, \p{..}, \x.., \u...., octal escapes
// (\0, \12), \v (PCRE: any vertical whitespace), other backslash-letter escapes, POSIX classes ([[:alpha:]]),
// \b inside a class, a range with a class escape at one end ([\d-z]), "]" first in a class ([]a] and [^]a]
// mean different things), a "{" that is not a complete count (PCRE reads {,n} as a repeat; JavaScript and Go
// read it literally), a quantifier on an anchor (^*), and non-ASCII or control characters.
//
// The dialects still differ in corners of the subset, none of which a route can observe, because routes
// match the normalized path (manifest/pathnorm), which is printable ASCII without spaces: JavaScript's \s
// and . treat non-ASCII and \v, \r characters differently, and PCRE's $ also matches before a final newline.
//
// # Backtracking
//
// Rejected, because JavaScript or PCRE can take exponential or steep polynomial time on them:
//
//   - a repeat that can run more than once (*, +, {n,} or a count of 2 or more) whose body can divide the
//     same text in more than one way: iterations that can end or go on at a character that also starts the
//     next iteration ((a+)+, (a*)*, (\w+\s?)*, (aa?)*), or two pieces inside it that can take the same
//     character ((a?a?b)*), code nested-repeat;
//   - such a repeat over an alternation whose alternatives can start with the same character ((a|a)*,
//     (a|ab)*), code overlapping-alternation;
//   - two unbounded repeats in a row, or with only optional items between them, that can each repeat over the
//     same text (.*.*x, \d+\d+, a*a*, [a-z]+-?[a-z]+), code adjacent-repeat; [a-z]+(-[a-z]+)* is fine,
//     because the second repeat needs a "-" the first cannot match;
//   - three or more unbounded repeats on one path through the pattern where each can take over the text
//     between it and the next (^/(.+)/(.+)/(.+)$, ^/a/.*/b/.*/c/.*$), code repeat-chain: the time grows with
//     the path length to the power of their number. Without a leading ^ the engine also retries at every
//     start position, which counts as one more (a.*b.*c). Two such repeats (^/(.+)/(.+)$) are accepted: a
//     request path is at most a few KB, and quadratic time on that stays in milliseconds;
//   - optional or variable-length parts next to each other that can take the same characters, when together
//     they can divide one text in more than 256 ways: a counted repeat of a nullable or variable-length body
//     runs its minimum iterations one after another, so ^(a?){25}a{25}$ is 25 such parts (about 2^24 ways),
//     and so is a?a?a?...a{25} written out; a{0,25}a{25} says the same with one part. The estimate multiplies,
//     along each sequence, the numbers of lengths the parts of a run that can trade text can match, leaving
//     out the largest (one part alone divides nothing) and parts without a bound (the rules above judge
//     those); a repeat that can run more than once over a part that divides text in more than one way
//     multiplies again with every iteration ((?:b(a?){2})*), code overlapping-optionals;
//     [0-9]{1,3}(\.[0-9]{1,3}){3}, (ab?){25} and [a-z0-9][a-z0-9-]{0,61}[a-z0-9] are fine: each part needs a
//     character the next cannot take, or only one part varies;
//   - a count over MaxRepeat, or nested counts multiplying to more than 1000, code repeat-too-large.
//
// The rules look at sets of characters and at whether a part can match empty, not at whole strings, so they
// are conservative: a few unambiguous patterns are rejected too, such as ([a-z]+/?)*, where ([a-z]+/)*[a-z]*
// says the same, or ^/(.+)/(.+)/(.+)$, where [^/]+ says what is meant. The repeat-chain rule follows
// sequences, optional parts and alternatives but not the way around a loop, so a chain that only forms
// across the iterations of an outer repeat is left to the nested-repeat rules.
package regexsafe
