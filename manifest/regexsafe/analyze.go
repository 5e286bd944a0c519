package regexsafe

import (
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode"
)

// The analysis walks the tree regexp/syntax parsed from wrap's rewrite. Go's own engine never backtracks, so
// what it looks for is what makes JavaScript and PCRE backtrack: text that a part of the pattern can divide
// between its pieces in more than one way. Inside a repeat each such choice multiplies with every other
// iteration's (exponential time); between two unbounded repeats it multiplies with the path length
// (polynomial time). Everything is judged from first-character sets and can-match-empty, per node: cheap,
// explainable in one sentence, and conservative, so a rejected pattern may occasionally be harmless but an
// accepted one never has these shapes.

// facts are what the analysis knows about one node.
type facts struct {
	nullable bool    // matches the empty string
	first    runeSet // characters a non-empty match can start with
	follow   runeSet // characters that can extend a complete non-empty match into a longer one
	chars    runeSet // characters a match can contain

	unbounded    *syntax.Regexp   // an unbounded repeat in the node (or the node itself); nil if none
	heads, tails []*syntax.Regexp // unbounded repeats a match can start or end in, with only empty matches outside
}

// continuation is every character that can come next, within the node, after any complete match: the empty
// match included. Two pieces in a row divide text ambiguously when the first's continuation meets the second's
// first characters.
func (f *facts) continuation() runeSet {
	if f.nullable {
		return union(f.follow, f.first)
	}
	return f.follow
}

type analyzer struct {
	pattern string
	caps    []capture // from wrap; nil when positions are unknown
	memo    map[*syntax.Regexp]*facts

	splitMemo map[*syntax.Regexp]int // see splits
	split     *Problem               // the first part found to divide text in too many ways
}

func bounds(re *syntax.Regexp) (lo, hi int) {
	switch re.Op {
	case syntax.OpStar:
		return 0, -1
	case syntax.OpPlus:
		return 1, -1
	case syntax.OpQuest:
		return 0, 1
	}
	return re.Min, re.Max
}

func isRepeat(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		return true
	}
	return false
}

func (a *analyzer) facts(re *syntax.Regexp) *facts {
	if f, ok := a.memo[re]; ok {
		return f
	}
	f := a.compute(re)
	a.memo[re] = f
	return f
}

func (a *analyzer) compute(re *syntax.Regexp) *facts {
	switch re.Op {
	case syntax.OpNoMatch:
		return &facts{}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return &facts{nullable: true}
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return &facts{nullable: true}
		}
		f := &facts{first: literalRunes(re, re.Rune[0])}
		for _, r := range re.Rune {
			f.chars = union(f.chars, literalRunes(re, r))
		}
		return f
	case syntax.OpCharClass:
		s := append(runeSet{}, re.Rune...).normalize()
		return &facts{first: s, chars: s}
	case syntax.OpAnyCharNotNL:
		s := runeSet{0, '\n' - 1, '\n' + 1, unicode.MaxRune}
		return &facts{first: s, chars: s}
	case syntax.OpAnyChar:
		return &facts{first: anyRune, chars: anyRune}
	case syntax.OpCapture:
		return a.facts(re.Sub[0])
	case syntax.OpConcat:
		f := &facts{nullable: true}
		for _, sub := range re.Sub {
			f = concatFacts(f, a.facts(sub))
		}
		return f
	case syntax.OpAlternate:
		f := &facts{}
		for i, sub := range re.Sub {
			g := a.facts(sub)
			f.nullable = f.nullable || g.nullable
			f.first = union(f.first, g.first)
			f.follow = union(f.follow, g.follow)
			f.chars = union(f.chars, g.chars)
			for _, h := range re.Sub[:i] {
				// A match of one alternative may be the start of another's; without tracking which, assume
				// anything either can contain may follow.
				if hf := a.facts(h); !hf.first.intersect(g.first).empty() {
					f.follow = union(f.follow, union(hf.chars, g.chars))
				}
			}
			if f.unbounded == nil {
				f.unbounded = g.unbounded
			}
			f.heads = append(f.heads, g.heads...)
			f.tails = append(f.tails, g.tails...)
		}
		return f
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := bounds(re)
		if hi == 0 {
			return &facts{nullable: true}
		}
		g := a.facts(re.Sub[0])
		f := &facts{nullable: lo == 0 || g.nullable, first: g.first, follow: g.follow, chars: g.chars,
			unbounded: g.unbounded, heads: g.heads, tails: g.tails}
		// A complete match can go on with another iteration when one more is allowed, or when an iteration
		// that matched empty could have matched something instead.
		if hi < 0 || hi >= 2 && (hi > lo || g.nullable) {
			f.follow = union(f.follow, g.first)
		}
		if hi < 0 {
			f.unbounded = re
			f.heads = []*syntax.Regexp{re}
			f.tails = []*syntax.Regexp{re}
		}
		return f
	}
	// Unknown operators cannot come out of syntax.Parse; assume the worst.
	return &facts{nullable: true, first: anyRune, follow: anyRune, chars: anyRune}
}

func literalRunes(re *syntax.Regexp, r rune) runeSet {
	if re.Flags&syntax.FoldCase != 0 {
		return foldedRunes(r)
	}
	return runeSet{r, r}
}

// concatFacts returns the facts of x followed by y.
func concatFacts(x, y *facts) *facts {
	f := &facts{
		nullable:  x.nullable && y.nullable,
		first:     x.first,
		follow:    y.follow,
		chars:     union(x.chars, y.chars),
		unbounded: x.unbounded,
	}
	if x.nullable {
		f.first = union(f.first, y.first)
	}
	// A complete match that ends with y matching empty can go on within x, or start y.
	if y.nullable && !x.first.empty() {
		f.follow = union(f.follow, union(x.follow, y.first))
	}
	if f.unbounded == nil {
		f.unbounded = y.unbounded
	}
	f.heads = append(f.heads, x.heads...)
	if x.nullable {
		f.heads = append(f.heads, y.heads...)
	}
	f.tails = append(f.tails, y.tails...)
	if y.nullable {
		f.tails = append(f.tails, x.tails...)
	}
	return f
}

// nonEmptyWithin reports whether re can match a non-empty string made only of characters in sigma.
func (a *analyzer) nonEmptyWithin(re *syntax.Regexp, sigma runeSet) bool {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if literalRunes(re, r).intersect(sigma).empty() {
				return false
			}
		}
		return len(re.Rune) > 0
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return !a.facts(re).first.intersect(sigma).empty()
	case syntax.OpCapture:
		return a.nonEmptyWithin(re.Sub[0], sigma)
	case syntax.OpConcat:
		some := false
		for _, sub := range re.Sub {
			if a.nonEmptyWithin(sub, sigma) {
				some = true
			} else if !a.facts(sub).nullable {
				return false
			}
		}
		return some
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if a.nonEmptyWithin(sub, sigma) {
				return true
			}
		}
		return false
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		_, hi := bounds(re)
		return hi != 0 && a.nonEmptyWithin(re.Sub[0], sigma)
	}
	return false
}

// walk checks re and everything in it, outermost first, and returns the first problem.
func (a *analyzer) walk(re *syntax.Regexp) *Problem {
	switch re.Op {
	case syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		if _, hi := bounds(re); hi < 0 || hi >= 2 {
			if p := a.checkRepeat(re); p != nil {
				return p
			}
		}
	case syntax.OpConcat:
		if p := a.checkAdjacent(re); p != nil {
			return p
		}
	}
	for _, sub := range re.Sub {
		if p := a.walk(sub); p != nil {
			return p
		}
	}
	return nil
}

// visit calls fn on re and everything in it, outermost first, until fn returns a problem.
func visit(re *syntax.Regexp, fn func(*syntax.Regexp) *Problem) *Problem {
	if p := fn(re); p != nil {
		return p
	}
	for _, sub := range re.Sub {
		if p := visit(sub, fn); p != nil {
			return p
		}
	}
	return nil
}

const backtracks = "JavaScript and PCRE targets can backtrack exponentially"

// checkRepeat rejects a repeat that can run more than once over a body that can divide the same text in more
// than one way: through overlapping alternatives, through pieces of the body that can take the same
// characters, or at the boundary between iterations. Each choice multiplies with every other iteration's.
func (a *analyzer) checkRepeat(r *syntax.Regexp) *Problem {
	if p := visit(r.Sub[0], func(n *syntax.Regexp) *Problem { return a.overlappingAlternatives(r, n) }); p != nil {
		return p
	}
	if p := visit(r.Sub[0], func(n *syntax.Regexp) *Problem { return a.ambiguousSplit(r, n) }); p != nil {
		return p
	}
	return a.ambiguousIterations(r)
}

// overlappingAlternatives rejects an alternation n inside repeat r whose alternatives can start alike: at
// each iteration the engine tries one, and on failure later, the other.
func (a *analyzer) overlappingAlternatives(r, n *syntax.Regexp) *Problem {
	if n.Op != syntax.OpAlternate {
		return nil
	}
	for j, y := range n.Sub {
		for _, x := range n.Sub[:j] {
			common := a.facts(x).first.intersect(a.facts(y).first)
			if common.empty() {
				continue
			}
			xt, yt := a.text(x), a.text(y)
			fix := "make the alternatives start with different characters, e.g. factor out the common start: `(ab|ac)` becomes `a(?:b|c)`"
			if xt == yt {
				fix = fmt.Sprintf("remove the duplicate alternative `%s`", yt)
			}
			return &Problem{Offset: a.offset(y), Code: CodeOverlappingAlternation,
				Summary: fmt.Sprintf("alternatives `%s` and `%s` in repeat `%s` can both start with %s, so %s trying every combination of them",
					xt, yt, a.text(r), common.example(), backtracks),
				Fix: fix}
		}
	}
	return nil
}

// ambiguousSplit rejects a sequence n inside repeat r where a piece can take a character the next one can
// start with: the same text then divides between them in more than one way, at every iteration.
func (a *analyzer) ambiguousSplit(r, n *syntax.Regexp) *Problem {
	if n.Op != syntax.OpConcat {
		return nil
	}
	acc := &facts{nullable: true}
	for i, sub := range n.Sub {
		g := a.facts(sub)
		if common := acc.continuation().intersect(g.first); i > 0 && !common.empty() {
			// Name the nearest earlier piece that can take the shared character.
			k := i - 1
			for k > 0 && a.facts(n.Sub[k]).continuation().intersect(common).empty() {
				k--
			}
			return &Problem{Offset: a.offset(n.Sub[k]), Code: CodeNestedRepeat,
				Summary: fmt.Sprintf("`%s` and `%s` in repeat `%s` can both match %s, so the same text divides between them in more than one way and %s",
					a.text(n.Sub[k]), a.text(sub), a.text(r), common.example(), backtracks),
				Fix: "make the two parts match different characters, or put a character between them that neither can match"}
		}
		acc = concatFacts(acc, g)
	}
	return nil
}

// ambiguousIterations rejects a repeat r whose body can end or go on at a character that also starts the next
// iteration: the text then divides into iterations in many ways.
func (a *analyzer) ambiguousIterations(r *syntax.Regexp) *Problem {
	f := a.facts(r.Sub[0])
	common := f.follow.intersect(f.first)
	if common.empty() {
		return nil
	}
	_, hi := bounds(r)
	p := &Problem{Offset: a.offset(r), Code: CodeNestedRepeat,
		Fix: fmt.Sprintf("make it unambiguous where one iteration ends: the repeated part must not be able to go on with a character it can also start with (here %s); e.g. `([a-z]+/)*[a-z]*` instead of `([a-z]+/?)*`", common.example())}
	if f.unbounded != nil && hi < 0 {
		p.Summary = fmt.Sprintf("nested unbounded repeat `%s` can backtrack exponentially on JavaScript and PCRE targets: the inner `%s` and the outer repeat can divide the same text in many ways",
			a.text(r), a.text(f.unbounded))
		if fix := a.mergedRepeat(r); fix != "" {
			p.Fix = fmt.Sprintf("remove the inner repeat: `%s` matches the same strings", fix)
		}
	} else {
		p.Summary = fmt.Sprintf("repeat `%s` can backtrack exponentially on JavaScript and PCRE targets: an iteration can end or go on at %s, which also starts the next iteration, so text divides into iterations in many ways",
			a.text(r), common.example())
	}
	return p
}

// mergedRepeat returns the single repeat equivalent to r when r is a star or plus directly over others
// (`(a+)+` is `a+`, `((a*)+)*` is `a*`), or "" when there is no such simple rewrite.
func (a *analyzer) mergedRepeat(r *syntax.Regexp) string {
	simple := func(n *syntax.Regexp) bool {
		return (n.Op == syntax.OpStar || n.Op == syntax.OpPlus) && n.Flags&syntax.NonGreedy == 0
	}
	if !simple(r) {
		return ""
	}
	allPlus := r.Op == syntax.OpPlus
	n := r
	for {
		inner := n.Sub[0]
		for inner.Op == syntax.OpCapture {
			inner = inner.Sub[0]
		}
		if !simple(inner) {
			break
		}
		allPlus = allPlus && inner.Op == syntax.OpPlus
		n = inner
	}
	if n == r || a.facts(n.Sub[0]).unbounded != nil {
		return ""
	}
	start, end, ok := a.itemSpan(n)
	if !ok {
		return ""
	}
	if allPlus {
		return a.pattern[start:end] + "+"
	}
	return a.pattern[start:end] + "*"
}

// checkAdjacent rejects two unbounded repeats in a row, or with only optional items between them, that can
// each repeat over the same text: JavaScript and PCRE then try every way of dividing it between them.
func (a *analyzer) checkAdjacent(n *syntax.Regexp) *Problem {
	var open []*syntax.Regexp // unbounded repeats that the next piece follows with only empty matches between
	var prev *syntax.Regexp
	for _, sub := range n.Sub {
		g := a.facts(sub)
		for _, t := range open {
			for _, h := range g.heads {
				tb, hb := t.Sub[0], h.Sub[0]
				tf, hf := a.facts(tb), a.facts(hb)
				if !a.nonEmptyWithin(tb, hf.chars) || !a.nonEmptyWithin(hb, tf.chars) {
					continue
				}
				where := "separated only by optional items"
				if t == prev && h == sub {
					where = "next to each other"
				}
				fix := "put a character between them that the first cannot match, e.g. `[^/]*/.*` instead of `.*/?.*`, or merge them into one repeat"
				if m := a.mergedPair(t, h); m != "" && where == "next to each other" {
					fix = fmt.Sprintf("merge them into one repeat: `%s`", m)
				}
				return &Problem{Offset: a.offset(t), Code: CodeAdjacentRepeat,
					Summary: fmt.Sprintf("repeats `%s` and `%s` %s can both match %s, so JavaScript and PCRE targets try every way of dividing the text between them, which is slow on long paths",
						a.text(t), a.text(h), where, tf.chars.intersect(hf.chars).example()),
					Fix: fix}
			}
		}
		if g.nullable {
			open = append(open, g.tails...)
		} else {
			open = append([]*syntax.Regexp(nil), g.tails...)
		}
		prev = sub
	}
	return nil
}

// checkChains rejects three or more unbounded repeats on one path through the pattern where each can take
// over the text between it and the next: a backtracking engine tries every way of dividing the text among
// them, so its time grows with the path length to the power of their number. Two are tolerated (see the
// package doc). A pattern without a leading `^` counts one more, because the engine also tries every start
// position.
func (a *analyzer) checkChains(root *syntax.Regexp) *Problem {
	parent := map[*syntax.Regexp]*syntax.Regexp{}
	var reps []*syntax.Regexp // unbounded repeats, in the order they are written
	var index func(*syntax.Regexp)
	index = func(n *syntax.Regexp) {
		if isUnbounded(n) {
			reps = append(reps, n)
		}
		for _, sub := range n.Sub {
			parent[sub] = n
			index(sub)
		}
	}
	index(root)
	length := map[*syntax.Regexp]int{}
	prev := map[*syntax.Regexp]*syntax.Regexp{} // the chain's previous member; nil for none
	fromStart := map[*syntax.Regexp]bool{}      // the chain begins with the search for a start position
	for i, h := range reps {
		length[h] = 1
		if a.reachableFromStart(root, h, parent) {
			length[h], fromStart[h] = 2, true
		}
		for _, t := range reps[:i] {
			if length[t]+1 > length[h] && a.linked(t, h, parent) {
				length[h], prev[h], fromStart[h] = length[t]+1, t, false
			}
		}
		if length[h] < 3 {
			continue
		}
		var members []string
		first := h
		for m := h; m != nil; m = prev[m] {
			members = append([]string{"`" + a.text(m) + "`"}, members...)
			first = m
		}
		fix := "use classes that cannot match what lies between the repeats, e.g. `[^/]*` instead of `.*` within one segment"
		if fromStart[first] {
			members = append([]string{"the search for where a match starts (the pattern has no `^`)"}, members...)
			fix = "anchor the pattern with `^`, or " + fix
		}
		list := strings.Join(members[:len(members)-1], ", ") + " and " + members[len(members)-1]
		return &Problem{Offset: a.offset(first), Code: CodeRepeatChain,
			Summary: fmt.Sprintf("%s can each take over the text between them, so JavaScript and PCRE targets try every way of dividing a path among them: time grows with the path length to the power %d",
				list, length[h]),
			Fix: fix}
	}
	return nil
}

// step is one level on the way from a node up to the root: the ancestor and which of its subexpressions
// leads back down.
type step struct {
	node  *syntax.Regexp
	child int
}

func ancestors(n *syntax.Regexp, parent map[*syntax.Regexp]*syntax.Regexp) []step {
	var out []step
	for p := parent[n]; p != nil; n, p = p, parent[p] {
		for i, sub := range p.Sub {
			if sub == n {
				out = append(out, step{p, i})
				break
			}
		}
	}
	return out
}

// linked reports whether unbounded repeats t and h, t written first, can exchange text: both can repeat over
// characters they share, and everything a match must cross between them can be made of those characters.
func (a *analyzer) linked(t, h *syntax.Regexp, parent map[*syntax.Regexp]*syntax.Regexp) bool {
	sigma := a.facts(t.Sub[0]).chars.intersect(a.facts(h.Sub[0]).chars)
	if !a.nonEmptyWithin(t.Sub[0], sigma) || !a.nonEmptyWithin(h.Sub[0], sigma) {
		return false
	}
	up, down := ancestors(t, parent), ancestors(h, parent)
	// Find the lowest common ancestor. Only a sequence puts t before h; under an alternation they exclude
	// each other, and when one contains the other they are a nested repeat, which checkRepeat judges.
	for i, u := range up {
		for j, d := range down {
			if u.node != d.node {
				continue
			}
			if u.node.Op != syntax.OpConcat || u.child >= d.child {
				return false
			}
			return a.crossable(sigma, up[:i], true) && a.crossable(sigma, down[:j], false) &&
				a.separable(sigma, u.node.Sub[u.child+1:d.child])
		}
	}
	return false
}

// crossable reports whether a match can leave (after) or reach (before) a node through the given ancestors
// using only characters in sigma: what the enclosing sequences require after (or before) it must fit sigma.
func (a *analyzer) crossable(sigma runeSet, steps []step, after bool) bool {
	for _, s := range steps {
		if s.node.Op != syntax.OpConcat {
			continue
		}
		rest := s.node.Sub[:s.child]
		if after {
			rest = s.node.Sub[s.child+1:]
		}
		if !a.separable(sigma, rest) {
			return false
		}
	}
	return true
}

// reachableFromStart reports whether an unanchored search can reach unbounded repeat h after skipping only
// characters h can also match: then the engine's retries at every start position multiply with h's work.
func (a *analyzer) reachableFromStart(root, h *syntax.Regexp, parent map[*syntax.Regexp]*syntax.Regexp) bool {
	steps := ancestors(h, parent)
	// The sequence the match starts with: the whole pattern, or one top-level alternative.
	top := root
	if root.Op == syntax.OpAlternate && len(steps) > 0 {
		top = root.Sub[steps[len(steps)-1].child]
		steps = steps[:len(steps)-1]
	}
	if items := flatten(top, nil); len(items) > 0 && (items[0].Op == syntax.OpBeginText || items[0].Op == syntax.OpBeginLine) {
		return false
	}
	return a.crossable(a.facts(h.Sub[0]).chars, steps, false)
}

// separable reports whether every item can match using only characters in sigma, so that a repeat over sigma
// on either side could take over what they match.
func (a *analyzer) separable(sigma runeSet, items []*syntax.Regexp) bool {
	for _, it := range items {
		if !a.facts(it).nullable && !a.nonEmptyWithin(it, sigma) {
			return false
		}
	}
	return true
}

// flatten appends the pieces of a sequence to out, looking through groups and nested sequences.
func flatten(re *syntax.Regexp, out []*syntax.Regexp) []*syntax.Regexp {
	switch re.Op {
	case syntax.OpCapture:
		return flatten(re.Sub[0], out)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			out = flatten(sub, out)
		}
		return out
	}
	return append(out, re)
}

func isUnbounded(re *syntax.Regexp) bool {
	_, hi := bounds(re)
	return isRepeat(re) && hi < 0
}

// mergedPair returns one repeat equivalent to t followed by h when both repeat the same item (`\d+\d+` is
// `\d{2,}`), or "".
func (a *analyzer) mergedPair(t, h *syntax.Regexp) string {
	ts, te, ok1 := a.itemSpan(t)
	hs, he, ok2 := a.itemSpan(h)
	if !ok1 || !ok2 || a.pattern[ts:te] != a.pattern[hs:he] ||
		t.Flags&syntax.NonGreedy != 0 || h.Flags&syntax.NonGreedy != 0 {
		return ""
	}
	tlo, _ := bounds(t)
	hlo, _ := bounds(h)
	item := a.pattern[ts:te]
	switch lo := tlo + hlo; lo {
	case 0:
		return item + "*"
	case 1:
		return item + "+"
	default:
		return fmt.Sprintf("%s{%d,}", item, lo)
	}
}

// capOf returns what wrap recorded for a capture group of the rewritten pattern.
func (a *analyzer) capOf(re *syntax.Regexp) (capture, bool) {
	if re.Op != syntax.OpCapture || re.Cap <= 0 || re.Cap >= len(a.caps) {
		return capture{}, false
	}
	return a.caps[re.Cap], true
}

// itemSpan returns where the item a repeat repeats is written, without the quantifier.
func (a *analyzer) itemSpan(r *syntax.Regexp) (start, end int, ok bool) {
	if !isRepeat(r) {
		return 0, 0, false
	}
	c, ok := a.capOf(r.Sub[0])
	return c.start, c.atomEnd, ok
}

// span returns where re is written in the pattern: a repeat with its quantifier, a group or an alternative.
func (a *analyzer) span(re *syntax.Regexp) (start, end int, ok bool) {
	if isRepeat(re) {
		c, ok := a.capOf(re.Sub[0])
		return c.start, c.end, ok
	}
	c, ok := a.capOf(re)
	return c.start, c.atomEnd, ok
}

// text returns re as written in the pattern, or as Go prints it when its position is unknown.
func (a *analyzer) text(re *syntax.Regexp) string {
	if start, end, ok := a.span(re); ok {
		return a.pattern[start:end]
	}
	return re.String()
}

func (a *analyzer) offset(re *syntax.Regexp) int {
	start, _, _ := a.span(re)
	return start
}
