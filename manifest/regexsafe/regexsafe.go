package regexsafe

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"strings"
)

// Limits. MaxLength keeps patterns readable in every target's config and bounds the analysis; MaxRepeat keeps
// counted repeats from inflating Go's compiled program and PCRE's backtracking depth.
const (
	MaxLength = 256
	MaxRepeat = 100
)

// Problem codes. They are stable: the manifest validator and its users match on them.
const (
	CodeTooLong                = "too-long"
	CodeUnsupportedCharacter   = "unsupported-character"
	CodeBackreference          = "backreference"
	CodeLookaround             = "lookaround"
	CodeNamedGroup             = "named-group"
	CodePossessive             = "possessive"
	CodeAtomicGroup            = "atomic-group"
	CodeInlineFlag             = "inline-flag"
	CodeUnsupportedGroup       = "unsupported-group"
	CodeUnsupportedEscape      = "unsupported-escape"
	CodeUnsupportedClass       = "unsupported-class"
	CodeLiteralBrace           = "literal-brace"
	CodeNestedRepeat           = "nested-repeat"
	CodeOverlappingAlternation = "overlapping-alternation"
	CodeAdjacentRepeat         = "adjacent-repeat"
	CodeRepeatChain            = "repeat-chain"
	CodeOverlappingOptionals   = "overlapping-optionals"
	CodeRepeatTooLarge         = "repeat-too-large"
	CodeSyntax                 = "syntax"
)

// Problem is the first reason a pattern is not allowed.
type Problem struct {
	Offset  int    // byte offset in the pattern where the problem starts (best effort; 0 if unknown)
	Code    string // one of the Code constants
	Summary string // what is wrong, quoting the offending part of the pattern
	Fix     string // what to do instead
}

func (p *Problem) Error() string { return "regexsafe: " + p.Summary }

// Check returns nil when pattern is allowed, otherwise a *Problem describing the first problem found.
//
// Problems are looked for in this order: length, characters, constructs outside the portable subset (left to
// right), Go's own syntax errors, then backtracking hazards.
func Check(pattern string) *Problem {
	if len(pattern) > MaxLength {
		return &Problem{Offset: MaxLength, Code: CodeTooLong,
			Summary: fmt.Sprintf("pattern is %d bytes long; the limit is %d", len(pattern), MaxLength),
			Fix:     "shorten it, or split it into several regex routes (they are tried in manifest order)"}
	}
	if p := checkCharacters(pattern); p != nil {
		return p
	}
	toks, p := scan(pattern)
	if p != nil {
		return p
	}
	if _, err := syntax.Parse(pattern, syntax.Perl); err != nil {
		return syntaxProblem(pattern, toks, err)
	}
	expr, caps := wrap(pattern, toks)
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		// wrap only adds parentheses around complete items, so this means wrap has a bug. Analyzing the
		// pattern as written still catches every hazard except alternatives Go's parser merges (`a|a`),
		// which is better than accepting the pattern unchecked.
		re, _ = syntax.Parse(pattern, syntax.Perl)
		caps = nil
	}
	a := &analyzer{pattern: pattern, caps: caps, memo: map[*syntax.Regexp]*facts{}}
	if p := a.walk(re); p != nil {
		return p
	}
	if p := a.checkChains(re); p != nil {
		return p
	}
	return a.checkSplits(re)
}

// checkCharacters rejects bytes no normalized path contains (manifest/pathnorm encodes or rejects everything
// outside printable ASCII), so a pattern holding one is a mistake; and beyond ASCII the engines do not even
// agree on what one character is (Go: a code point, JavaScript: a UTF-16 unit, PCRE: a byte).
func checkCharacters(pattern string) *Problem {
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c >= 0x80:
			return nonASCIIProblem(pattern, i)
		case c < 0x20 || c == 0x7f:
			return &Problem{Offset: i, Code: CodeUnsupportedCharacter,
				Summary: fmt.Sprintf("control character %#02x in the pattern; normalized paths never contain one", c),
				Fix:     "remove it"}
		}
	}
	return nil
}

func nonASCIIProblem(pattern string, i int) *Problem {
	// Show the whole UTF-8 sequence when there is one, and its percent-encoded form: that is what the
	// normalized path holds, so that is what the pattern must say.
	j := i + 1
	for j < len(pattern) && j-i < 4 && pattern[j]&0xc0 == 0x80 {
		j++
	}
	var enc strings.Builder
	for k := i; k < j; k++ {
		fmt.Fprintf(&enc, "%%%02X", pattern[k])
	}
	return &Problem{Offset: i, Code: CodeUnsupportedCharacter,
		Summary: fmt.Sprintf("non-ASCII character %q: paths are matched in their percent-encoded form, and the engines disagree about what one non-ASCII character is", pattern[i:j]),
		Fix:     fmt.Sprintf("write the percent-encoded bytes instead: `%s`", enc.String())}
}

// syntaxProblem turns Go's parse error into a Problem. The pre-scan has already caught everything that is
// specific to one engine, so what is left is a plain mistake that every engine rejects.
func syntaxProblem(pattern string, toks []token, err error) *Problem {
	var se *syntax.Error
	if !errors.As(err, &se) {
		return &Problem{Code: CodeSyntax, Summary: "does not parse: " + err.Error(), Fix: "check the pattern's syntax"}
	}
	off, quote := syntaxOffset(pattern, toks, se)
	p := &Problem{Offset: off, Code: CodeSyntax, Summary: fmt.Sprintf("does not parse: %s: `%s`", se.Code, se.Expr)}
	switch se.Code {
	case syntax.ErrMissingParen:
		p.Fix = "add the missing `)`, or write `\\(` for a literal parenthesis"
	case syntax.ErrUnexpectedParen:
		p.Fix = "remove the extra `)`, or write `\\)` for a literal parenthesis"
	case syntax.ErrMissingBracket:
		p.Fix = "add the missing `]`, or write `\\[` for a literal bracket"
	case syntax.ErrInvalidCharRange:
		p.Fix = "write each range low to high, e.g. `[a-z]`; put `-` last in the class for a literal hyphen"
	case syntax.ErrInvalidRepeatSize:
		// Each count is at most MaxRepeat (the pre-scan checked), so the product of nested counts is too big.
		p.Code = CodeRepeatTooLarge
		p.Summary = fmt.Sprintf("counted repeats nested in each other multiply to more than 1000 copies: `%s`", quote)
		p.Fix = "use `+` or `*` for the inner or outer repeat, or lower the counts"
	default:
		p.Fix = "check the pattern's syntax"
	}
	return p
}

// syntaxOffset finds where a parse error is, and the text to quote for it. Go quotes the whole pattern for
// unbalanced parentheses and only the operator for a repeat count; the tokens know where those are.
func syntaxOffset(pattern string, toks []token, se *syntax.Error) (int, string) {
	switch se.Code {
	case syntax.ErrMissingParen, syntax.ErrUnexpectedParen:
		var open []int
		for _, t := range toks {
			switch {
			case t.kind == tokOpen:
				open = append(open, t.start)
			case t.kind == tokClose && len(open) == 0:
				return t.start, se.Expr
			case t.kind == tokClose:
				open = open[:len(open)-1]
			}
		}
		if len(open) > 0 {
			return open[len(open)-1], se.Expr
		}
	case syntax.ErrInvalidRepeatSize:
		// The product of nested counts overflows at an outer repeat, which follows a group.
		for k, t := range toks {
			if t.kind == tokQuant && k > 0 && toks[k-1].kind == tokClose && pattern[t.start:t.end] == se.Expr {
				return t.start, pattern[prevItemStart(toks[:k]):t.end]
			}
		}
	}
	if se.Expr == "" || se.Expr == pattern {
		return 0, se.Expr
	}
	return max(strings.Index(pattern, se.Expr), 0), se.Expr
}
