package regexsafe

import (
	"fmt"
	"regexp/syntax"
)

// The overlapping-optionals rule bounds what the other rules leave alone because it is bounded: the choices
// that optional or variable-length parts next to each other make over the same text. `a?a?a?` divides "a"
// three ways and "aa" three ways; a backtracking engine that fails after them tries every division, so the
// work multiplies with each such part. `(a?){25}` is 25 of them in a row (a counted repeat runs its minimum
// iterations one after another, empty or not), and `(a?){25}a{25}` takes JavaScript seconds on 51 characters.
// The analysis expands counted repeats of nullable or variable-length bodies into their required copies,
// estimates for each sequence how many ways its parts can divide one text, and rejects more than maxSplits.

// maxSplits is how many ways a part of a pattern may divide the same text among its optional or
// variable-length pieces. A backtracking engine may try each of them at every start position, so this is
// kept to what costs microseconds: eight `a?` in a row (128 ways), `\d{1,3}\d{1,3}` (3 ways).
const maxSplits = 256

// infSplits stands for more ways than anything is compared with; arithmetic saturates there.
const infSplits = 1 << 40

func mulSat(x, y int) int {
	if x == 0 || y == 0 {
		return 0
	}
	if x >= infSplits/y {
		return infSplits
	}
	return x * y
}

// maxLen is the cap on lengths; a longer or unbounded match counts as unbounded (-1).
const maxLen = 1 << 20

// lengths returns the shortest and longest match of re; hi is -1 when there is no bound.
func (a *analyzer) lengths(re *syntax.Regexp) (lo, hi int) {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune), len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1, 1
	case syntax.OpCapture:
		return a.lengths(re.Sub[0])
	case syntax.OpConcat:
		return a.concatLengths(re.Sub)
	case syntax.OpAlternate:
		lo, hi = maxLen, 0
		for _, sub := range re.Sub {
			l, h := a.lengths(sub)
			lo = min(lo, l)
			if hi >= 0 && (h < 0 || h > hi) {
				hi = h
			}
		}
		return lo, hi
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		rlo, rhi := bounds(re)
		if rhi == 0 {
			return 0, 0
		}
		l, h := a.lengths(re.Sub[0])
		lo = min(rlo*l, maxLen)
		switch {
		case h == 0:
			hi = 0
		case h < 0 || rhi < 0 || rhi*h >= maxLen:
			hi = -1
		default:
			hi = rhi * h
		}
		return lo, hi
	case syntax.OpNoMatch:
		return 0, 0
	}
	return 0, 0 // empty matches and anchors
}

func addLen(x, y int) int { return min(x+y, maxLen) }

func (a *analyzer) concatLengths(subs []*syntax.Regexp) (lo, hi int) {
	for _, sub := range subs {
		l, h := a.lengths(sub)
		lo = addLen(lo, l)
		switch {
		case hi < 0 || h < 0:
			hi = -1
		case hi+h >= maxLen:
			hi = -1
		default:
			hi += h
		}
	}
	return lo, hi
}

// choices is how many lengths a match of re can have, counting a part without a bound as one: how long such a
// part runs is the business of the adjacent-repeat and repeat-chain rules, and counting it here would reject
// `^/(.+)/(.+)$`, which they accept.
func (a *analyzer) choices(re *syntax.Regexp) int {
	lo, hi := a.lengths(re)
	if hi < 0 {
		return 1
	}
	return hi - lo + 1
}

// variable reports whether a repeat's body can match empty or match strings of different lengths: then its
// iterations can trade text with each other and with their neighbors.
func (a *analyzer) variable(body *syntax.Regexp) bool {
	lo, hi := a.lengths(body)
	return lo == 0 || lo != hi
}

// piece is one item of a sequence after expansion: a node of the pattern, or one iteration of a counted
// repeat, or the optional iterations after a counted repeat's minimum.
type piece struct {
	f       *facts
	choices int            // how many lengths it can match
	splits  int            // ways it can itself divide one text
	origin  *syntax.Regexp // what to quote: the outermost expanded repeat it comes from, or the node itself
}

// pieces appends the items of re, looking through groups and sequences and expanding each counted repeat of
// a nullable or variable-length body into its required iterations and one item for the optional rest.
func (a *analyzer) pieces(re *syntax.Regexp, origin *syntax.Regexp, out []piece) []piece {
	at := func(n *syntax.Regexp) *syntax.Regexp {
		if origin != nil {
			return origin
		}
		return n
	}
	switch re.Op {
	case syntax.OpCapture:
		if origin == nil && isRepeat(re.Sub[0]) {
			// wrap groups every repeat; quote the repeat with its quantifier.
			return a.pieces(re.Sub[0], nil, out)
		}
		return a.pieces(re.Sub[0], origin, out)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			out = a.pieces(sub, origin, out)
		}
		return out
	case syntax.OpRepeat:
		lo, hi := bounds(re)
		body := re.Sub[0]
		if hi != 0 && lo >= 1 && a.variable(body) {
			for i := 0; i < lo; i++ {
				out = a.pieces(body, at(re), out)
			}
			if hi == lo {
				return out
			}
			// The optional iterations only ever run as a prefix (the loop stops at the first one that does not
			// run), so they are one variable item, like a star bounded by the count.
			g := a.facts(body)
			f := &facts{nullable: true, first: g.first, follow: g.follow, chars: g.chars}
			if hi < 0 || hi-lo >= 2 {
				f.follow = union(f.follow, g.first)
			}
			rest := piece{f: f, splits: a.splits(body), origin: at(re)}
			_, bh := a.lengths(body)
			switch {
			case hi < 0 || bh < 0:
				rest.choices = 1
				if rest.splits > 1 {
					rest.splits = infSplits
				}
			default:
				rest.choices = min((hi-lo)*bh+1, maxLen)
				for i := 1; i < hi-lo; i++ {
					rest.splits = mulSat(rest.splits, a.splits(body))
				}
			}
			return append(out, rest)
		}
	}
	return append(out, piece{f: a.facts(re), choices: a.choices(re), splits: a.splits(re), origin: at(re)})
}

// splits estimates how many ways re can divide one text among its parts, saturating at infSplits. The first
// node found to exceed maxSplits, innermost first, is recorded in a.split.
func (a *analyzer) splits(re *syntax.Regexp) int {
	if n, ok := a.splitMemo[re]; ok {
		return n
	}
	n := a.computeSplits(re)
	a.splitMemo[re] = n
	return n
}

func (a *analyzer) computeSplits(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpCapture:
		return a.splits(re.Sub[0])
	case syntax.OpAlternate:
		// Alternatives that cannot match the same text exclude each other; others add up.
		total, most := 0, 1
		overlap := false
		for i, sub := range re.Sub {
			n := a.splits(sub)
			total = min(total+n, infSplits)
			most = max(most, n)
			g := a.facts(sub)
			for _, h := range re.Sub[:i] {
				hf := a.facts(h)
				if !hf.first.intersect(g.first).empty() || hf.nullable && g.nullable {
					overlap = true
				}
			}
		}
		if overlap {
			return total
		}
		return most
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := bounds(re)
		if hi == 0 {
			return 1
		}
		if re.Op == syntax.OpRepeat && lo >= 1 && a.variable(re.Sub[0]) {
			return a.sequenceSplits(re, a.pieces(re, nil, nil))
		}
		n := a.splits(re.Sub[0])
		if n <= 1 {
			return 1
		}
		if hi < 0 {
			// Every iteration multiplies: exponential in the path length.
			a.noteSplits(re, nil, infSplits)
			return infSplits
		}
		total := 1
		for i := 0; i < hi; i++ {
			total = mulSat(total, n)
		}
		if total > maxSplits {
			a.noteSplits(re, nil, total)
		}
		return total
	case syntax.OpConcat:
		return a.sequenceSplits(re, a.pieces(re, nil, nil))
	}
	return 1
}

// sequenceSplits multiplies the ways of each piece with the ways runs of overlapping pieces can divide text
// among themselves. A run is pieces that each can start with a character the run so far can end or go on
// with; within a run, text can move between its variable pieces, so the run divides a text in up to the
// product of their choices over the largest one. An optional piece that overlaps nothing joins the run
// without adding choices (it can match empty between two that do) once the run has a variable piece; any
// other breaks it.
func (a *analyzer) sequenceSplits(re *syntax.Regexp, ps []piece) int {
	total := 1
	var acc *facts
	var run []piece
	var ambiguous []piece // pieces that divide text themselves, or with others in their run
	flush := func() {
		prod, most := 1, 1
		var parts []piece
		for _, p := range run {
			if p.choices > 1 {
				prod = mulSat(prod, p.choices)
				most = max(most, p.choices)
				parts = append(parts, p)
			}
		}
		n := prod / most
		if prod >= infSplits {
			n = infSplits
		}
		total = mulSat(total, n)
		if n > 1 {
			ambiguous = append(ambiguous, parts...)
		}
		if n > maxSplits {
			a.noteSplits(re, parts, n)
		}
		run = run[:0]
	}
	for _, p := range ps {
		total = mulSat(total, p.splits)
		if p.splits > 1 {
			ambiguous = append(ambiguous, p)
		}
		switch {
		case acc != nil && !acc.continuation().intersect(p.f.first).empty():
			acc = concatFacts(acc, p.f)
			run = append(run, p)
		case acc != nil && p.f.nullable && hasVariable(run):
			acc = concatFacts(acc, p.f)
			q := p
			q.choices = 1
			run = append(run, q)
		default:
			flush()
			acc = p.f
			run = append(run, p)
		}
	}
	flush()
	if total > maxSplits {
		// No run is too ambiguous on its own: name the pieces whose ways multiply.
		parts := ambiguous
		if len(parts) > 0 && isRepeat(parts[0].origin) && parts[0].origin == parts[len(parts)-1].origin {
			re, parts = parts[0].origin, nil
		}
		a.noteSplits(re, parts, total)
	}
	return total
}

func hasVariable(run []piece) bool {
	for _, p := range run {
		if p.choices > 1 {
			return true
		}
	}
	return false
}

// noteSplits records the first part found to divide text in too many ways: parts are the run's variable
// pieces when known, else re as a whole.
func (a *analyzer) noteSplits(re *syntax.Regexp, parts []piece, n int) {
	if a.split != nil {
		return
	}
	start, end, ok := a.span(re)
	quote := re.String()
	if ok {
		quote = a.pattern[start:end]
	}
	var example string
	if len(parts) > 0 {
		s0, e1, known := len(a.pattern), 0, true
		for _, p := range parts {
			s, e, ok := a.span(p.origin)
			known = known && ok
			s0, e1 = min(s0, s), max(e1, e)
		}
		if known && s0 < e1 {
			start, quote = s0, a.pattern[s0:e1]
		}
		common := parts[0].f.first
		for _, p := range parts[1:] {
			if c := common.intersect(p.f.first); !c.empty() {
				common = c
			}
		}
		example = common.example()
	}
	if !ok && len(parts) == 0 {
		start = 0
	}
	count, total := fmt.Sprintf("%d", n), fmt.Sprintf("to %d ways", n)
	if n >= infSplits {
		count, total = "unboundedly many", "without bound"
	}
	p := &Problem{Offset: start, Code: CodeOverlappingOptionals}
	if re.Op == syntax.OpStar || re.Op == syntax.OpPlus || re.Op == syntax.OpRepeat && len(parts) == 0 {
		p.Summary = fmt.Sprintf("repeat `%s` repeats a part that can divide the same text in more than one way, so the ways multiply with every iteration, %s, and %s",
			quote, total, backtracks)
		p.Fix = "make the repeated part divide text one way only: give its optional parts fixed lengths or put a character between them that neither can match"
	} else {
		what := "the optional or variable-length parts of"
		if example != "" {
			what = fmt.Sprintf("the optional or variable-length parts of `%s` can each take %s, so they", quote, example)
		} else {
			what = fmt.Sprintf("the optional or variable-length parts of `%s`", quote)
		}
		p.Summary = fmt.Sprintf("%s can divide the same text in %s ways, more than %d, and %s trying them all",
			what, count, maxSplits, backtracks)
		p.Fix = "make the repeated part non-optional or give it a fixed length, or merge the optional parts into one counted repeat: e.g. `a{0,25}` instead of `(a?){25}` or `a?a?a?`"
		if m := a.mergedOptionals(parts); m != "" {
			p.Fix = fmt.Sprintf("merge them into one counted repeat: `%s`", m)
		}
	}
	a.split = p
}

// mergedOptionals returns one counted repeat equivalent to a run of copies of the same `x?` of fixed length
// (written out, or as `(x?){n}`), or "".
func (a *analyzer) mergedOptionals(parts []piece) string {
	var item string
	total := 0
	seen := map[*syntax.Regexp]bool{}
	for _, p := range parts {
		q := p.origin
		if seen[q] {
			continue
		}
		seen[q] = true
		count := 1
		if q.Op == syntax.OpRepeat && q.Min == q.Max {
			count = q.Min
			q = q.Sub[0]
			for q.Op == syntax.OpCapture && !isRepeat(q.Sub[0]) && q.Sub[0].Op == syntax.OpCapture {
				q = q.Sub[0]
			}
			if q.Op == syntax.OpCapture && isRepeat(q.Sub[0]) {
				q = q.Sub[0]
			}
		}
		if q.Op != syntax.OpQuest || q.Flags&syntax.NonGreedy != 0 {
			return ""
		}
		if l, h := a.lengths(q.Sub[0]); l != h || l == 0 {
			return ""
		}
		s, e, ok := a.itemSpan(q)
		if !ok || item != "" && a.pattern[s:e] != item {
			return ""
		}
		item = a.pattern[s:e]
		total += count
	}
	if total < 2 {
		return ""
	}
	return fmt.Sprintf("%s{0,%d}", item, total)
}

// checkSplits rejects the first part of the pattern that divides one text in more than maxSplits ways.
func (a *analyzer) checkSplits(root *syntax.Regexp) *Problem {
	a.splitMemo = map[*syntax.Regexp]int{}
	a.splits(root)
	return a.split
}
