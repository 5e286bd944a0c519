package regexsafe

import (
	"fmt"
	"strings"
)

// The pre-scan reads the pattern once, left to right, as a flat list of tokens. It exists because Go's parser
// either fails with a generic message on constructs other engines support (backreferences, lookaround,
// possessive quantifiers) or silently accepts ones that mean something else elsewhere (`\z`, `(?i)`, `[[:alpha:]]`),
// and because the token boundaries let wrap map the parsed tree back to byte offsets. It does not work out
// nesting or precedence: that is regexp/syntax's job.

type tokenKind uint8

const (
	tokAtom   tokenKind = iota // one character: a literal, an escape, a class or `.`
	tokAssert                  // zero-width: `^`, `$`, `\b`, `\B`
	tokOpen                    // `(` or `(?:`
	tokClose                   // `)`
	tokAlt                     // `|`
	tokQuant                   // a quantifier with its lazy `?`, if any
)

type token struct {
	kind       tokenKind
	start, end int // byte offsets in the pattern
}

func scan(p string) ([]token, *Problem) {
	var toks []token
	for i := 0; i < len(p); {
		kind, n := tokAtom, 1
		var prob *Problem
		switch p[i] {
		case '\\':
			var e escape
			e, n, prob = scanEscape(p, i, false)
			if e == escBoundary {
				kind = tokAssert
			}
		case '[':
			n, prob = scanClass(p, i)
		case '(':
			kind = tokOpen
			n, prob = scanGroup(p, i)
		case ')':
			kind = tokClose
		case '|':
			kind = tokAlt
		case '^', '$':
			kind = tokAssert
		case '*', '+', '?', '{':
			kind = tokQuant
			n, prob = scanQuantifier(p, i, toks)
		}
		if prob != nil {
			return nil, prob
		}
		toks = append(toks, token{kind: kind, start: i, end: i + n})
		i += n
	}
	return toks, nil
}

type escape uint8

const (
	escChar     escape = iota // stands for one character
	escClass                  // \d \D \w \W \s \S
	escBoundary               // \b \B outside a class
)

// scanEscape reads the escape at p[i] ('\\'). Only escapes that mean the same in Go, JavaScript without the
// u flag and PCRE are accepted; each rejection says why that one differs.
func scanEscape(p string, i int, inClass bool) (escape, int, *Problem) {
	if i+1 >= len(p) {
		return 0, 0, &Problem{Offset: i, Code: CodeSyntax, Summary: "does not parse: trailing backslash at the end of the pattern",
			Fix: "write `\\\\` for a literal backslash"}
	}
	c := p[i+1]
	text := p[i : i+2]
	bad := func(code, what, fix string) (escape, int, *Problem) {
		return 0, 0, &Problem{Offset: i, Code: code, Summary: what, Fix: fix}
	}
	switch {
	case c == 'd' || c == 'D' || c == 'w' || c == 'W' || c == 's' || c == 'S':
		return escClass, 2, nil
	case c == 't' || c == 'n' || c == 'r' || c == 'f':
		return escChar, 2, nil
	case (c == 'b' || c == 'B') && !inClass:
		return escBoundary, 2, nil
	case c == 'b' || c == 'B':
		return bad(CodeUnsupportedEscape,
			fmt.Sprintf("`%s` inside a class is not supported by every target: it is a backspace in JavaScript and PCRE and an error in Go", text),
			"remove it: paths never contain a backspace")
	case c >= '1' && c <= '9' && !inClass:
		return bad(CodeBackreference,
			fmt.Sprintf("backreference `%s` is not supported by every target; Go (RE2) has no backreferences", text),
			"match the repeated text explicitly instead of referring back to a group")
	case c >= '0' && c <= '9':
		return bad(CodeUnsupportedEscape,
			fmt.Sprintf("octal escape `%s` is not supported by every target; the engines read digits after `\\` differently", escapeText(p, i)),
			"write the character itself, escaped with `\\` if it is punctuation")
	case (c == 'k' || c == 'g') && !inClass:
		return bad(CodeBackreference,
			fmt.Sprintf("backreference `%s` is not supported by every target; Go (RE2) has no backreferences", escapeText(p, i)),
			"match the repeated text explicitly instead of referring back to a group")
	case c == 'A' || c == 'G':
		return bad(CodeUnsupportedEscape,
			fmt.Sprintf("anchor `%s` is not supported by every target; JavaScript reads it as the letter %c", text, c),
			"use `^` for the start of the path")
	case c == 'z' || c == 'Z':
		return bad(CodeUnsupportedEscape,
			fmt.Sprintf("anchor `%s` is not supported by every target; JavaScript reads it as the letter %c", text, c),
			"use `$` for the end of the path")
	case c == 'Q' || c == 'E':
		return bad(CodeUnsupportedEscape,
			fmt.Sprintf("quoting `%s` (`\\Q...\\E`) is not supported by every target; JavaScript has no quoting", text),
			"escape each metacharacter with `\\` instead, e.g. `\\.`")
	case c == 'p' || c == 'P':
		return bad(CodeUnsupportedEscape,
			fmt.Sprintf("Unicode class `%s` is not supported by every target; JavaScript without the u flag reads it as the letter %c", escapeText(p, i), c),
			"list the characters in a class instead, e.g. `[A-Za-z]`; paths are ASCII after normalization")
	case c == 'x' || c == 'u':
		return bad(CodeUnsupportedEscape,
			fmt.Sprintf("hex escape `%s` is not supported by every target; the engines accept different forms and differ beyond ASCII", escapeText(p, i)),
			"write the character itself, escaped with `\\` if it is punctuation")
	case c == 'v':
		return bad(CodeUnsupportedEscape,
			"`\\v` is not supported by every target: a vertical tab in Go and JavaScript, any vertical whitespace in PCRE",
			"remove it: paths never contain vertical whitespace")
	case isAlnum(c):
		return bad(CodeUnsupportedEscape,
			fmt.Sprintf("escape `%s` is not supported by every target", text),
			"use a class such as `[a-z]` or one of `\\d \\D \\w \\W \\s \\S`; escape only punctuation")
	}
	// `\` before ASCII punctuation is that punctuation in every engine (checkCharacters ruled out the rest).
	return escChar, 2, nil
}

// escapeText returns an escape with its argument (`\k<name>`, `\p{L}`, `\x41`) for quoting, best effort.
func escapeText(p string, i int) string {
	end := i + 2
	if end >= len(p) {
		return p[i:end]
	}
	if open := p[end]; open == '<' || open == '{' || open == '\'' {
		if k := strings.IndexAny(p[end+1:], ">}'"); k >= 0 && k < 16 {
			return p[i : end+1+k+1]
		}
		return p[i:end]
	}
	digits := 1
	switch p[i+1] {
	case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		digits = 2
	case 'x':
		digits = 2
	case 'u':
		digits = 4
	}
	for k := 0; k < digits && end < len(p) && isAlnum(p[end]); k++ {
		end++
	}
	return p[i:end]
}

// scanClass reads the class at p[i] ('['). Go, JavaScript and PCRE agree on classes of single characters,
// ranges and the escapes scanEscape accepts, as long as nothing can be read as a POSIX class, an empty class or
// a range with a class escape at one end.
func scanClass(p string, i int) (int, *Problem) {
	j := i + 1
	if j < len(p) && p[j] == '^' {
		j++
	}
	if j < len(p) && p[j] == ']' {
		return 0, &Problem{Offset: j, Code: CodeUnsupportedClass,
			Summary: fmt.Sprintf("`]` first in class `%s` is not supported by every target: JavaScript reads `[]` as an empty class and `[^]` as any character", p[i:j+1]),
			Fix:     "escape it: `\\]`"}
	}
	// item reads one class item at p[j]: a character or a class escape.
	item := func(j int) (end int, isClass bool, prob *Problem) {
		switch p[j] {
		case '\\':
			e, n, prob := scanEscape(p, j, true)
			return j + n, e == escClass, prob
		case '[':
			if j+1 < len(p) && (p[j+1] == ':' || p[j+1] == '.' || p[j+1] == '=') {
				text := p[j:]
				if k := strings.Index(text[2:], string(p[j+1])+"]"); k >= 0 {
					text = text[:k+4]
				}
				return 0, false, &Problem{Offset: j, Code: CodeUnsupportedClass,
					Summary: fmt.Sprintf("POSIX class `%s` is not supported by every target; JavaScript reads it as a set of single characters", text),
					Fix:     "list the characters instead, e.g. `[A-Za-z]` for `[[:alpha:]]` or `[0-9]` for `[[:digit:]]`"}
			}
		}
		return j + 1, false, nil
	}
	for j < len(p) && p[j] != ']' {
		start := j
		end, isClass, prob := item(j)
		if prob != nil {
			return 0, prob
		}
		j = end
		if j+1 < len(p) && p[j] == '-' && p[j+1] != ']' {
			hiEnd, hiClass, prob := item(j + 1)
			if prob != nil {
				return 0, prob
			}
			if isClass || hiClass {
				return 0, &Problem{Offset: start, Code: CodeUnsupportedClass,
					Summary: fmt.Sprintf("range `%s` has a class escape at one end; Go rejects it and JavaScript reads `-` as a literal hyphen", p[start:hiEnd]),
					Fix:     "put `-` last in the class for a literal hyphen, e.g. `[\\d.-]`"}
			}
			j = hiEnd
		}
	}
	if j < len(p) {
		j++ // the closing ']'
	}
	// A class missing its ']' runs to the end; Go's parser reports it.
	return j - i, nil
}

// scanGroup reads the opening of the group at p[i] ('(') and returns its length: 1 for `(`, 3 for `(?:`.
func scanGroup(p string, i int) (int, *Problem) {
	rest := p[i+1:]
	bad := func(code, what, fix string) (int, *Problem) {
		return 0, &Problem{Offset: i, Code: code, Summary: what, Fix: fix}
	}
	const unsupported = "is not supported by every target"
	if strings.HasPrefix(rest, "*") && len(rest) > 1 && (rest[1] >= 'A' && rest[1] <= 'Z' || rest[1] == ':') {
		return bad(CodeUnsupportedGroup,
			fmt.Sprintf("PCRE control verb `%s` %s; only PCRE has control verbs", groupText(p, i), unsupported),
			"remove it")
	}
	if !strings.HasPrefix(rest, "?") {
		return 1, nil
	}
	rest = rest[1:]
	if rest == "" {
		return bad(CodeSyntax, "does not parse: `(?` at the end of the pattern", "write `\\(` for a literal parenthesis, `(?:` for a group")
	}
	lookaroundFix := "match the excluded paths with an earlier route instead (regex routes are tried in manifest order), or spell out the allowed characters with classes"
	switch c := rest[0]; {
	case c == ':':
		return 3, nil
	case c == '=':
		return bad(CodeLookaround, "lookahead `(?=` "+unsupported+"; Go (RE2) has no lookaround", lookaroundFix)
	case c == '!':
		return bad(CodeLookaround, "negative lookahead `(?!` "+unsupported+"; Go (RE2) has no lookaround", lookaroundFix)
	case strings.HasPrefix(rest, "<="):
		return bad(CodeLookaround, "lookbehind `(?<=` "+unsupported+"; Go (RE2) has no lookaround", lookaroundFix)
	case strings.HasPrefix(rest, "<!"):
		return bad(CodeLookaround, "negative lookbehind `(?<!` "+unsupported+"; Go (RE2) has no lookaround", lookaroundFix)
	case c == '<' || c == '\'' || strings.HasPrefix(rest, "P<"):
		return bad(CodeNamedGroup,
			fmt.Sprintf("named group `%s` %s; the engines spell names differently and some targets cannot use captures", groupText(p, i), unsupported),
			"use a plain group `(...)` or `(?:...)`")
	case strings.HasPrefix(rest, "P="):
		return bad(CodeBackreference,
			fmt.Sprintf("backreference `%s` %s; Go (RE2) has no backreferences", groupText(p, i), unsupported),
			"match the repeated text explicitly instead of referring back to a group")
	case c == '>':
		return bad(CodeAtomicGroup, "atomic group `(?>` "+unsupported+"; Go and JavaScript have no atomic groups",
			"use a plain group `(?:...)`, and make the alternatives or repeats inside unambiguous instead")
	case c == '#':
		return bad(CodeUnsupportedGroup, "comment group `(?#` "+unsupported+"; Go and JavaScript have no comment groups",
			"remove it, and put the comment in the manifest as a YAML comment")
	case c == '|':
		return bad(CodeUnsupportedGroup, "branch reset group `(?|` "+unsupported+"; only PCRE has it", "use a plain group `(?:...)`")
	case c == '(':
		return bad(CodeUnsupportedGroup, "conditional group `(?(` "+unsupported+"; only PCRE has it",
			"split the pattern into separate regex routes, one per condition")
	case c == '&' || c == 'R' || c == 'P' || c >= '0' && c <= '9' ||
		(c == '+' || c == '-') && len(rest) > 1 && rest[1] >= '0' && rest[1] <= '9':
		return bad(CodeUnsupportedGroup,
			fmt.Sprintf("recursion or subroutine call `%s` %s; only PCRE has it", groupText(p, i), unsupported),
			"write the repeated part out, with a counted repeat such as `{2}` if needed")
	case c == 'C':
		return bad(CodeUnsupportedGroup, "callout `(?C` "+unsupported+"; only PCRE has it", "remove it")
	case isAlnum(c) || c == '-' || c == '^':
		text := groupText(p, i)
		fix := "remove it: paths are one line and matched case-sensitively on every target"
		if strings.ContainsRune(text, 'i') {
			fix = "list both cases in a class instead, e.g. `[Aa]`; or match the lowercase form only"
		}
		return bad(CodeInlineFlag,
			fmt.Sprintf("inline flag `%s` %s: JavaScript has no inline flags, and the flags mean different things in each engine", text, unsupported),
			fix)
	}
	return bad(CodeUnsupportedGroup, fmt.Sprintf("group syntax `%s` %s", p[i:i+3], unsupported), "use `(...)` or `(?:...)`, or write `\\(` for a literal parenthesis")
}

// groupText returns a group's opening up to its first `)`, `:`, `>` or `'` for quoting (`(?P<id>`, `(?i)`,
// `(*UTF)`).
func groupText(p string, i int) string {
	if i+3 > len(p) {
		return p[i:]
	}
	if k := strings.IndexAny(p[i+3:], ":)>'"); k >= 0 && k < 24 {
		return p[i : i+3+k+1]
	}
	return p[i : i+3]
}

// scanQuantifier reads the quantifier at p[i] and its lazy `?`. It rejects what would change meaning across
// engines: a possessive `+`, a quantifier on an anchor or on nothing, and a `{` that is not a complete count.
func scanQuantifier(p string, i int, toks []token) (int, *Problem) {
	n, lo, hi := 1, 0, 0
	if p[i] == '{' {
		var ok bool
		n, lo, hi, ok = parseCount(p[i:])
		if !ok {
			return 0, braceProblem(p, i)
		}
	}
	q := p[i : i+n]
	if len(toks) == 0 || toks[len(toks)-1].kind == tokOpen || toks[len(toks)-1].kind == tokAlt {
		return 0, &Problem{Offset: i, Code: CodeSyntax,
			Summary: fmt.Sprintf("does not parse: quantifier `%s` has nothing to repeat", q),
			Fix:     fmt.Sprintf("put it after the character or group it repeats, or write `\\%c` for the literal character", p[i])}
	}
	prev := toks[len(toks)-1]
	switch prev.kind {
	case tokAssert:
		return 0, &Problem{Offset: i, Code: CodeSyntax,
			Summary: fmt.Sprintf("quantifier `%s` on anchor `%s` is not supported by every target; JavaScript and PCRE reject it", q, p[prev.start:prev.end]),
			Fix:     "remove the quantifier: an anchor matches no characters, so repeating it changes nothing"}
	case tokQuant:
		return 0, &Problem{Offset: i, Code: CodeSyntax,
			Summary: fmt.Sprintf("does not parse: quantifier `%s` follows another quantifier `%s`", q, p[prev.start:prev.end]),
			Fix:     "use one quantifier per item, or put the item in a group first: `(?:a+)?`"}
	}
	item := prevItemStart(toks)
	if hi >= 0 && lo > hi {
		return 0, &Problem{Offset: i, Code: CodeSyntax,
			Summary: fmt.Sprintf("does not parse: counted repeat `%s` has its minimum above its maximum", p[item:i+n]),
			Fix:     fmt.Sprintf("write it as `{%d,%d}`", hi, lo)}
	}
	if lo > MaxRepeat || hi > MaxRepeat {
		return 0, &Problem{Offset: i, Code: CodeRepeatTooLarge,
			Summary: fmt.Sprintf("counted repeat `%s` is over the limit of %d", p[item:i+n], MaxRepeat),
			Fix:     fmt.Sprintf("use `+` or `*` when the exact count does not matter, or a count of at most %d", MaxRepeat)}
	}
	lazy := i+n < len(p) && p[i+n] == '?'
	if lazy {
		n++
	}
	if !lazy && i+n < len(p) && p[i+n] == '+' {
		return 0, &Problem{Offset: i, Code: CodePossessive,
			Summary: fmt.Sprintf("possessive quantifier `%s` is not supported by every target; Go and JavaScript have no possessive quantifiers", p[item:i+n+1]),
			Fix:     fmt.Sprintf("use the plain quantifier `%s`, and make what follows it unable to match the same characters", q)}
	}
	return n, nil
}

// prevItemStart returns where the item ending the token list starts: the token itself, or for `)` its `(`.
func prevItemStart(toks []token) int {
	last := len(toks) - 1
	if toks[last].kind != tokClose {
		return toks[last].start
	}
	depth := 0
	for k := last; k >= 0; k-- {
		switch toks[k].kind {
		case tokClose:
			depth++
		case tokOpen:
			depth--
			if depth == 0 {
				return toks[k].start
			}
		}
	}
	return toks[last].start
}

// parseCount reads `{n}`, `{n,}` or `{n,m}` at the start of s. It returns the length read and the bounds,
// hi = -1 for no upper bound; ok is false when s does not start with one.
func parseCount(s string) (n, lo, hi int, ok bool) {
	num := func(k int) (int, int) {
		v, start := 0, k
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			v = min(v*10+int(s[k]-'0'), 1_000_000) // capped: any value over MaxRepeat is rejected anyway
			k++
		}
		if k == start {
			return -1, k
		}
		return v, k
	}
	lo, k := num(1)
	if lo < 0 || k >= len(s) {
		return 0, 0, 0, false
	}
	hi = lo
	if s[k] == ',' {
		hi, k = num(k + 1)
		if k >= len(s) {
			return 0, 0, 0, false
		}
	}
	if s[k] != '}' {
		return 0, 0, 0, false
	}
	return k + 1, lo, hi, true
}

func braceProblem(p string, i int) *Problem {
	text := p[i:]
	if k := strings.IndexByte(text, '}'); k >= 0 && k < 16 {
		text = text[:k+1]
	} else {
		text = text[:1]
	}
	fix := "write `\\{` for a literal brace"
	if len(text) > 2 && isAlnum(text[1]) && !(text[1] >= '0' && text[1] <= '9') {
		fix += "; to match any segment at a variable, use a class such as `[^/]+`, or a template route `{name}`"
	}
	return &Problem{Offset: i, Code: CodeLiteralBrace,
		Summary: fmt.Sprintf("`%s` is not a counted repeat, and engines disagree about a brace that is not one (PCRE reads `{,n}` as a repeat)", text),
		Fix:     fix}
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// capture records what wrap wrapped in capture group number i (caps[i]; caps[0] is unused).
type capture struct {
	start, atomEnd, end int // the item is pattern[start:atomEnd]; with its quantifier, pattern[start:end]
}

// wrap rewrites the pattern so that regexp/syntax keeps, and can be traced back to, the structure a
// backtracking engine sees. Every group becomes a capturing group, and every alternative of an alternation and
// every single item gets its own capturing group; caps maps each group number to the source span.
// The rewrite matches exactly the same strings. Two reasons for it: Go's parser merges alternatives (`a|a`
// becomes `a`, `a|ab` becomes `a(?:b)?`), hiding exactly the overlap that makes JavaScript and PCRE backtrack,
// and it does not merge or factor across capturing groups; and syntax.Regexp has no positions, while a capture
// index leads back to a byte offset.
func wrap(p string, toks []token) (string, []capture) {
	// Which groups (by index of their tokOpen; -1 is the whole pattern) hold a `|` of their own, and where each
	// group closes.
	hasAlt := map[int]bool{}
	closeOf := map[int]int{}
	stack := []int{-1}
	for k, t := range toks {
		switch t.kind {
		case tokOpen:
			stack = append(stack, k)
		case tokClose:
			if len(stack) > 1 {
				closeOf[stack[len(stack)-1]] = k
				stack = stack[:len(stack)-1]
			}
		case tokAlt:
			hasAlt[stack[len(stack)-1]] = true
		}
	}
	quantified := func(k int) bool { return k+1 < len(toks) && toks[k+1].kind == tokQuant }

	var b strings.Builder
	caps := []capture{{}}
	type frame struct{ open, alt int } // alt: the capture of the current alternative, 0 if none
	frames := []frame{{open: -1}}
	startAlt := func(at int) {
		f := &frames[len(frames)-1]
		if hasAlt[f.open] {
			b.WriteByte('(')
			caps = append(caps, capture{start: at})
			f.alt = len(caps) - 1
		}
	}
	endAlt := func(at int) {
		f := frames[len(frames)-1]
		if f.alt != 0 {
			caps[f.alt].atomEnd, caps[f.alt].end = at, at
			b.WriteByte(')')
		}
	}
	startAlt(0)
	for k, t := range toks {
		switch t.kind {
		case tokOpen:
			c := capture{start: t.start, atomEnd: len(p), end: len(p)}
			if cl, ok := closeOf[k]; ok {
				c.atomEnd, c.end = toks[cl].end, toks[cl].end
				if quantified(cl) {
					c.end = toks[cl+1].end
				}
			}
			b.WriteByte('(')
			caps = append(caps, c)
			frames = append(frames, frame{open: k})
			startAlt(t.end)
		case tokAlt:
			endAlt(t.start)
			b.WriteByte('|')
			startAlt(t.end)
		case tokClose:
			endAlt(t.start)
			b.WriteByte(')')
			if len(frames) > 1 {
				frames = frames[:len(frames)-1]
			}
		case tokAtom, tokAssert:
			// Every item gets a group, quantified or not, so that every piece of the parsed tree has a position.
			c := capture{start: t.start, atomEnd: t.end, end: t.end}
			if quantified(k) {
				c.end = toks[k+1].end
			}
			caps = append(caps, c)
			b.WriteString("(" + p[t.start:t.end] + ")")
		case tokQuant:
			b.WriteString(p[t.start:t.end])
		}
	}
	endAlt(len(p))
	return b.String(), caps
}
