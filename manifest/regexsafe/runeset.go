package regexsafe

import (
	"fmt"
	"slices"
	"unicode"
	"unicode/utf8"
)

// runeSet is a set of characters as sorted, disjoint, non-adjacent inclusive ranges [lo0, hi0, lo1, hi1, ...]:
// the layout syntax.Regexp uses for classes, so a class's Rune slice converts directly.
type runeSet []rune

var anyRune = runeSet{0, unicode.MaxRune}

func (s runeSet) empty() bool { return len(s) == 0 }

// normalize sorts and merges ranges; it reuses s.
func (s runeSet) normalize() runeSet {
	type rng struct{ lo, hi rune }
	rs := make([]rng, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		rs = append(rs, rng{s[i], s[i+1]})
	}
	slices.SortFunc(rs, func(a, b rng) int { return int(a.lo - b.lo) })
	out := s[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && r.lo <= out[n-1]+1 {
			out[n-1] = max(out[n-1], r.hi)
			continue
		}
		out = append(out, r.lo, r.hi)
	}
	return out
}

func union(a, b runeSet) runeSet {
	switch {
	case a.empty():
		return b
	case b.empty():
		return a
	}
	return append(append(runeSet{}, a...), b...).normalize()
}

func (s runeSet) intersect(t runeSet) runeSet {
	var out runeSet
	for i, j := 0, 0; i < len(s) && j < len(t); {
		lo, hi := max(s[i], t[j]), min(s[i+1], t[j+1])
		if lo <= hi {
			out = append(out, lo, hi)
		}
		if s[i+1] < t[j+1] {
			i += 2
		} else {
			j += 2
		}
	}
	return out
}

// contains reports whether r is in s.
func (s runeSet) contains(r rune) bool {
	for i := 0; i+1 < len(s); i += 2 {
		if r < s[i] {
			return false
		}
		if r <= s[i+1] {
			return true
		}
	}
	return false
}

// example returns one character of a non-empty set for messages: a lowercase letter, digit or uppercase letter
// when there is one ("both can match `a`" reads better than "both can match `!`"), else printable ASCII.
func (s runeSet) example() string {
	r := s[0]
	for _, pref := range []runeSet{{'a', 'z'}, {'0', '9'}, {'A', 'Z'}, {'!', '~'}, {' ', ' '}} {
		if in := s.intersect(pref); !in.empty() {
			r = in[0]
			break
		}
	}
	switch {
	case r == '`':
		return "a backtick"
	case r == ' ':
		return "a space"
	case r > ' ' && r < utf8.RuneSelf:
		return fmt.Sprintf("`%c`", r)
	}
	return fmt.Sprintf("%U", r)
}

// foldedRunes returns the characters a literal rune stands for under case folding.
func foldedRunes(r rune) runeSet {
	s := runeSet{r, r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		s = append(s, f, f)
	}
	return s.normalize()
}
