package jsruntime

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf16"
)

// The route matcher, generated at render time from a route table in IR order. The generated code decides
// exactly as a scan in IR order does (the first route whose path match and conditions hold wins) and picks
// its strategy by the table's shape:
//
//   - exact routes: one hash lookup (a Map keyed by the normalized path); a path shared by several routes
//     keeps its routes' conditions in IR order;
//   - prefix and template routes: up to RegexMaxRoutes of them in one anchored regular expression whose
//     alternatives are in IR order, each ending in an empty capture group, so the index of the empty group
//     is the route (a route whose conditions fail continues the scan after it); more of them in a segment
//     trie emitted as code, one function per node that walks the path by index (no split, no substring
//     but for a Map key), literal children by length and code units or by a Map of functions, variables
//     after literals, every branch skipped when it holds no route earlier than the best found so far;
//   - regex and fallback routes: tested in IR order.
//
// Each group yields its earliest matching route; a group runs only when its earliest route comes before the
// best found so far, so in IR order (exact, prefix, template, regex, fallback) an exact hit ends the match.
// The code needs no eval or new Function (workerd forbids both) and stays in the cloudfront-js-2.0 subset.

// MatchRoute is one route as the matcher sees it.
type MatchRoute struct {
	Name     string
	Kind     string // exact, prefix, template, regex, fallback
	Path     string
	Segments []string // template segments, without the leading empty one
	Methods  []string
	Hosts    []string
	Headers  [][2]string // exact header values
}

// RegexMaxRoutes is the most prefix and template routes the one-regex strategy takes; over it the matcher is
// a segment trie. Measured in workerd (bench/cloudflare, two runs): at 5 prefix and template routes the trie
// already matches faster than the one regex (162 vs 271 ns and 328 vs 361 ns per match on one table, 305 vs
// 414 and 298 vs 368 on the other), and the regex's cost grows with every alternative.
const RegexMaxRoutes = 3

// TrieMapFanout is the fanout from which a trie node looks its literal children up in a Map instead of
// comparing the segment with each.
const TrieMapFanout = 6

// Strategy names the generated matcher's strategies.
type Strategy struct {
	Exact   string `json:"exact"`   // "hash" or "none"
	Dynamic string `json:"dynamic"` // "regex", "trie" or "none" (prefix and template routes)
	Scanned int    `json:"scanned"` // routes tested one by one (regex, fallback, and paths not starting with "/")
}

func (s Strategy) String() string {
	return fmt.Sprintf("exact %s, prefix/template %s, %d scanned", s.Exact, s.Dynamic, s.Scanned)
}

// MatcherOptions change the generated strategy (benchmarks and tests compare them).
type MatcherOptions struct {
	// Dynamic forces "regex" or "trie" for prefix and template routes; "" picks by RegexMaxRoutes.
	Dynamic string
}

// GenerateMatcher returns JavaScript declarations (no imports, no exports) that define
//
//	function matchRoute(host, method, path, headers)
//
// returning the index in routes of the first route, in table order, that matches a normalized path, or -1.
// host is the request host as hostOf returns it; headers has get(name) (null when absent). Every name the
// code declares other than matchRoute starts with "R_".
func GenerateMatcher(routes []MatchRoute, opts MatcherOptions) (string, Strategy, error) {
	g := &gen{routes: routes}
	return g.run(opts)
}

type gen struct {
	routes []MatchRoute
	b      strings.Builder
	nodes  int
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	// U+2028 and U+2029 are line terminators in older JavaScript; json.Marshal escapes them already.
	return string(b)
}

func isVar(seg string) bool { return len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' }

// cond is the JavaScript condition of route k's methods, hosts and headers ("" when it has none).
func (g *gen) cond(k int) string {
	r := g.routes[k]
	var parts []string
	if len(r.Methods) > 0 {
		var ms []string
		for _, m := range r.Methods {
			ms = append(ms, "method === "+jsString(m))
		}
		parts = append(parts, "("+strings.Join(ms, " || ")+")")
	}
	if len(r.Hosts) > 0 {
		var hs []string
		for _, h := range r.Hosts {
			hs = append(hs, "R_host("+jsString(h)+", host)")
		}
		parts = append(parts, "("+strings.Join(hs, " || ")+")")
	}
	for _, h := range r.Headers {
		parts = append(parts, "headers.get("+jsString(h[0])+") === "+jsString(h[1]))
	}
	return strings.Join(parts, " && ")
}

func and(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " && " + b
}

// pathTest is the JavaScript test of route k's path, over path and segs (path.split("/"), n = segs.length - 1).
func (g *gen) pathTest(k int) string {
	r := g.routes[k]
	switch r.Kind {
	case "exact":
		return "path === " + jsString(r.Path)
	case "prefix":
		return "R_prefix(" + jsString(r.Path) + ", path)"
	case "template":
		parts := []string{fmt.Sprintf("n === %d", len(r.Segments))}
		for i, s := range r.Segments {
			if isVar(s) {
				parts = append(parts, fmt.Sprintf("segs[%d] !== \"\"", i+1))
			} else {
				parts = append(parts, fmt.Sprintf("segs[%d] === %s", i+1, jsString(s)))
			}
		}
		return strings.Join(parts, " && ")
	case "regex":
		return fmt.Sprintf("R_RE_%d.test(path)", k)
	case "fallback":
		return ""
	}
	return "false"
}

// segmentable reports whether a prefix or template route can live in the trie or the regex: a path (or
// pattern) starting with "/".
func segmentable(r MatchRoute) bool {
	switch r.Kind {
	case "prefix":
		return strings.HasPrefix(r.Path, "/")
	case "template":
		return true
	}
	return false
}

func (g *gen) run(opts MatcherOptions) (string, Strategy, error) {
	var st Strategy
	none := len(g.routes)
	var exact, dyn, scanned []int
	for k, r := range g.routes {
		switch {
		case r.Kind == "exact":
			exact = append(exact, k)
		case segmentable(r):
			dyn = append(dyn, k)
		case r.Kind == "prefix" || r.Kind == "regex" || r.Kind == "fallback":
			scanned = append(scanned, k)
		default:
			return "", st, fmt.Errorf("jsruntime: route %q: unknown match kind %q", r.Name, r.Kind)
		}
	}
	b := &g.b
	fmt.Fprintf(b, "// The route matcher, generated from %d routes in IR order.\n", len(g.routes))
	b.WriteString(hostHelper)
	for k, r := range g.routes {
		if r.Kind == "regex" {
			if _, err := regexp.Compile(`^(?:` + r.Path + `)$`); err != nil {
				return "", st, fmt.Errorf("jsruntime: route %q: regex: %w", r.Name, err)
			}
			fmt.Fprintf(b, "var R_RE_%d = new RegExp(%s); // route %s\n", k, jsString("^(?:"+r.Path+")$"), jsString(r.Name))
		}
	}
	// R_T: every route's whole test, for the scans (a regex alternative whose conditions fail, a path that
	// does not start with "/").
	b.WriteString("var R_T = [\n")
	for k, r := range g.routes {
		t := and(g.pathTest(k), g.cond(k))
		if t == "" {
			t = "true"
		}
		fmt.Fprintf(b, "  function (path, segs, n, host, method, headers) { return %s; }, // %d %s\n", t, k, jsString(r.Name))
	}
	b.WriteString("];\n")
	b.WriteString(`function R_scan(list, from, path, segs, n, host, method, headers) {
  for (var i = from; i < list.length; i++) if (R_T[list[i]](path, segs, n, host, method, headers)) return list[i];
  return -1;
}
`)
	fmt.Fprintf(b, "var R_ALL = %s;\n", intList(seq(len(g.routes))))

	// Exact routes: one Map lookup.
	var exactCode string
	if len(exact) > 0 {
		st.Exact = "hash"
		exactCode = g.exactGroup(exact)
	} else {
		st.Exact = "none"
	}
	var dynCode string
	switch {
	case len(dyn) == 0:
		st.Dynamic = "none"
	case opts.Dynamic == "regex" || (opts.Dynamic == "" && len(dyn) <= RegexMaxRoutes):
		st.Dynamic = "regex"
		dynCode = g.regexGroup(dyn)
	case opts.Dynamic == "trie" || opts.Dynamic == "":
		st.Dynamic = "trie"
		dynCode = g.trieGroup(dyn)
	default:
		return "", st, fmt.Errorf("jsruntime: unknown matcher strategy %q", opts.Dynamic)
	}
	st.Scanned = len(scanned)
	if len(scanned) > 0 {
		fmt.Fprintf(b, "var R_SCANNED = %s;\n", intList(scanned))
	}

	type group struct {
		min  int
		code string
	}
	var groups []group
	if exactCode != "" {
		groups = append(groups, group{exact[0], exactCode})
	}
	if dynCode != "" {
		groups = append(groups, group{dyn[0], dynCode})
	}
	if len(scanned) > 0 {
		groups = append(groups, group{scanned[0], fmt.Sprintf("  k = R_scan(R_SCANNED, 0, path, null, 0, host, method, headers);\n  if (k >= 0 && k < b) b = k;\n")})
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].min < groups[j].min })

	b.WriteString("function matchRoute(host, method, path, headers) {\n")
	fmt.Fprintf(b, "  var b = %d, k;\n", none)
	b.WriteString("  var segs = null, n = 0;\n")
	b.WriteString("  if (path.charCodeAt(0) !== 47) {\n    segs = [\"\"].concat(path.slice(1).split(\"/\"));\n    return R_scan(R_ALL, 0, path, segs, segs.length - 1, host, method, headers);\n  }\n")
	for i, gr := range groups {
		if i == 0 && gr.code == exactCode {
			// An exact hit before every other route ends the match.
			b.WriteString(indent(gr.code, "  "))
			if len(groups) > 1 {
				fmt.Fprintf(b, "  if (b < %d) return b;\n", groups[1].min)
			}
			continue
		}
		fmt.Fprintf(b, "  if (b > %d) {\n", gr.min)
		b.WriteString(indent(gr.code, "    "))
		b.WriteString("  }\n")
	}
	fmt.Fprintf(b, "  return b === %d ? -1 : b;\n}\n", none)
	return b.String(), st, nil
}

func indent(code, by string) string {
	lines := strings.Split(strings.TrimSuffix(code, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = by + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func intList(l []int) string {
	s := make([]string, len(l))
	for i, v := range l {
		s[i] = fmt.Sprint(v)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// hostHelper decides a route's host pattern as the runtime's wildcardLabel does (non-null label).
const hostHelper = `function R_host(pattern, host) {
  var p = pattern.toLowerCase();
  if (p.indexOf("*.") !== 0) return p === host.toLowerCase();
  var dot = host.indexOf(".");
  return dot > 0 && host.slice(dot + 1) === p.slice(2);
}
function R_prefix(prefix, path) {
  if (path.indexOf(prefix) !== 0) return false;
  return path.length === prefix.length || prefix.charCodeAt(prefix.length - 1) === 47 || path.charCodeAt(prefix.length) === 47;
}
`

// exactGroup: the Map holds, by path, the route when the path's first route has no conditions, else the
// (negative) number of a candidate list checked in IR order.
func (g *gen) exactGroup(exact []int) string {
	b := &g.b
	byPath := map[string][]int{}
	var order []string
	for _, k := range exact {
		p := g.routes[k].Path
		if _, ok := byPath[p]; !ok {
			order = append(order, p)
		}
		byPath[p] = append(byPath[p], k)
	}
	var lists [][]int
	b.WriteString("var R_EXACT = new Map([\n")
	for _, p := range order {
		ks := byPath[p]
		if g.cond(ks[0]) == "" {
			fmt.Fprintf(b, "  [%s, %d],\n", jsString(p), ks[0])
			continue
		}
		// Candidates up to the first one without conditions: it always matches.
		var l []int
		for _, k := range ks {
			l = append(l, k)
			if g.cond(k) == "" {
				break
			}
		}
		lists = append(lists, l)
		fmt.Fprintf(b, "  [%s, %d],\n", jsString(p), -len(lists))
	}
	b.WriteString("]);\n")
	if len(lists) > 0 {
		b.WriteString("var R_EXACT_LISTS = [\n")
		for _, l := range lists {
			fmt.Fprintf(b, "  %s,\n", intList(l))
		}
		b.WriteString("];\n")
	}
	code := "k = R_EXACT.get(path);\nif (k !== undefined) {\n"
	if len(lists) > 0 {
		code += "  if (k < 0) k = R_scan(R_EXACT_LISTS[-k - 1], 0, path, null, 0, host, method, headers);\n"
	}
	code += "  if (k >= 0 && k < b) b = k;\n}\n"
	return code
}

// regexAlternative is route k's path as a JavaScript regex alternative (without anchors).
func (g *gen) regexAlternative(k int) string {
	r := g.routes[k]
	if r.Kind == "prefix" {
		p := r.Path
		if strings.HasSuffix(p, "/") {
			return jsRegexQuote(p) + `[\s\S]*`
		}
		return jsRegexQuote(p) + `(?:/[\s\S]*)?`
	}
	var parts []string
	for _, s := range r.Segments {
		if isVar(s) {
			parts = append(parts, "[^/]+")
		} else {
			parts = append(parts, jsRegexQuote(s))
		}
	}
	return "/" + strings.Join(parts, "/")
}

// jsRegexQuote escapes every character that is special in a JavaScript regular expression (u flag off).
func jsRegexQuote(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`\^$.*+?()[]{}|/-`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (g *gen) regexGroup(dyn []int) string {
	b := &g.b
	var alts []string
	for _, k := range dyn {
		alts = append(alts, g.regexAlternative(k)+"()")
	}
	fmt.Fprintf(b, "var R_DYN = %s;\n", intList(dyn))
	fmt.Fprintf(b, "var R_DYN_RE = new RegExp(%s);\n", jsString("^(?:"+strings.Join(alts, "|")+")$"))
	var conditional []string
	for i, k := range dyn {
		if g.cond(k) != "" {
			conditional = append(conditional, fmt.Sprint(i))
		}
	}
	code := "var m = R_DYN_RE.exec(path);\nif (m !== null) {\n  var i = m.indexOf(\"\", 1) - 1;\n"
	if len(conditional) == 0 {
		code += "  k = R_DYN[i];\n"
	} else {
		// A route whose conditions fail: scan the alternatives after it.
		code += "  segs = path.split(\"/\");\n  n = segs.length - 1;\n"
		code += "  k = R_T[R_DYN[i]](path, segs, n, host, method, headers) ? R_DYN[i] : R_scan(R_DYN, i + 1, path, segs, n, host, method, headers);\n"
	}
	code += "  if (k >= 0 && k < b) b = k;\n}\n"
	return code
}

// trie nodes: routes attached where their pattern ends, literal and variable children.
type node struct {
	id      int
	depth   int
	min     int   // earliest route in the subtree
	prefix  []int // prefix routes ending here without "/": match at any length ≥ depth
	slash   []int // prefix routes ending here with "/": match when a segment follows (n > depth)
	tmpl    []int // template routes ending here: match when n == depth
	lits    map[string]*node
	litKeys []string
	varc    *node
}

func newNode(depth int) *node { return &node{depth: depth, min: -1, lits: map[string]*node{}} }

func (n *node) note(k int) {
	if n.min < 0 || k < n.min {
		n.min = k
	}
}

func (n *node) lit(s string) *node {
	c, ok := n.lits[s]
	if !ok {
		c = newNode(n.depth + 1)
		n.lits[s] = c
		n.litKeys = append(n.litKeys, s)
	}
	return c
}

func (g *gen) trieGroup(dyn []int) string {
	root := newNode(0)
	for _, k := range dyn {
		r := g.routes[k]
		cur := root
		cur.note(k)
		if r.Kind == "prefix" {
			p := r.Path[1:]
			slash := strings.HasSuffix(r.Path, "/")
			if slash {
				p = strings.TrimSuffix(p, "/")
			}
			if r.Path == "/" {
				cur.slash = append(cur.slash, k)
				continue
			}
			for _, s := range strings.Split(p, "/") {
				cur = cur.lit(s)
				cur.note(k)
			}
			if slash {
				cur.slash = append(cur.slash, k)
			} else {
				cur.prefix = append(cur.prefix, k)
			}
			continue
		}
		for _, s := range r.Segments {
			if isVar(s) {
				if cur.varc == nil {
					cur.varc = newNode(cur.depth + 1)
				}
				cur = cur.varc
			} else {
				cur = cur.lit(s)
			}
			cur.note(k)
		}
		cur.tmpl = append(cur.tmpl, k)
	}
	g.emitNode(root)
	return fmt.Sprintf("b = R_N%d(path, 0, host, method, headers, b);\n", root.id)
}

// trieCharCompare is the longest literal segment a trie node compares code unit by code unit (charCodeAt,
// which the JIT inlines); a longer one is compared with startsWith.
const trieCharCompare = 8

// litTest is the JavaScript test that the segment starting at path index "p + 1" (whose length is known
// to be the literal's) is s.
func litTest(s string) string {
	units := utf16.Encode([]rune(s))
	if len(units) == 0 {
		return "true"
	}
	if len(units) > trieCharCompare {
		return fmt.Sprintf("path.startsWith(%s, p + 1)", jsString(s))
	}
	var parts []string
	for i, u := range units {
		parts = append(parts, fmt.Sprintf("path.charCodeAt(p + %d) === %d", i+1, u))
	}
	return strings.Join(parts, " && ")
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// emitNode writes the function of n (children first). A node's function walks the path itself, with no
// split: p is the index in path of the "/" that ends the node's last segment, or path.length when the path
// ends there (so n > depth is p < path.length, and n === depth is p === path.length); the next segment runs
// from p + 1 to e, the next "/" or the end.
func (g *gen) emitNode(n *node) {
	for _, s := range n.litKeys {
		g.emitNode(n.lits[s])
	}
	if n.varc != nil {
		g.emitNode(n.varc)
	}
	n.id = g.nodes
	g.nodes++
	b := &g.b
	// Attachments and children in the order of their earliest route.
	type item struct {
		min  int
		code string
	}
	var items []item
	attach := func(ks []int, check string) {
		for _, k := range ks {
			c := and(check, g.cond(k))
			line := fmt.Sprintf("if (b > %d", k)
			if c != "" {
				line += " && " + c
			}
			line += fmt.Sprintf(") b = %d; // %s\n", k, jsString(g.routes[k].Name))
			items = append(items, item{k, line})
		}
	}
	attach(n.prefix, "")
	attach(n.slash, "p < len")
	attach(n.tmpl, "p === len")
	call := func(c *node) string {
		return fmt.Sprintf("R_N%d(path, e, host, method, headers, b)", c.id)
	}
	if len(n.litKeys) > 0 {
		lmin := -1
		for _, s := range n.litKeys {
			if c := n.lits[s]; lmin < 0 || c.min < lmin {
				lmin = c.min
			}
		}
		var code string
		if len(n.litKeys) >= TrieMapFanout {
			fmt.Fprintf(b, "var R_M%d = new Map([", n.id)
			for i, s := range n.litKeys {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(b, "[%s, R_N%d]", jsString(s), n.lits[s].id)
			}
			b.WriteString("]);\n")
			code = fmt.Sprintf("if (b > %d && p < len) {\n  var f = R_M%d.get(path.slice(p + 1, e));\n  if (f !== undefined) b = f(path, e, host, method, headers, b);\n}\n", lmin, n.id)
		} else {
			// Literal children by segment length, then code unit by code unit.
			byLen := map[int][]string{}
			var lens []int
			for _, s := range n.litKeys {
				l := utf16Len(s)
				if _, ok := byLen[l]; !ok {
					lens = append(lens, l)
				}
				byLen[l] = append(byLen[l], s)
			}
			code = fmt.Sprintf("if (b > %d && p < len) {\n  switch (e - p - 1) {\n", lmin)
			for _, l := range lens {
				code += fmt.Sprintf("    case %d:\n", l)
				for i, s := range byLen[l] {
					c := n.lits[s]
					kw := "if"
					if i > 0 {
						kw = "else if"
					}
					code += fmt.Sprintf("      %s (%s) { if (b > %d) b = %s; }\n", kw, litTest(s), c.min, call(c))
				}
				code += "      break;\n"
			}
			code += "  }\n}\n"
		}
		items = append(items, item{lmin, code})
	}
	if n.varc != nil {
		items = append(items, item{n.varc.min, fmt.Sprintf("if (b > %d && e > p + 1) b = %s;\n", n.varc.min, call(n.varc))})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].min < items[j].min })
	fmt.Fprintf(b, "function R_N%d(path, p, host, method, headers, b) {\n", n.id)
	if len(n.litKeys) > 0 || len(n.slash) > 0 || len(n.tmpl) > 0 || n.varc != nil {
		b.WriteString("  var len = path.length;\n")
	}
	if len(n.litKeys) > 0 || n.varc != nil {
		b.WriteString("  var e = len;\n  if (p < len) {\n    e = path.indexOf(\"/\", p + 1);\n    if (e < 0) e = len;\n  }\n")
	}
	for _, it := range items {
		b.WriteString(indent(it.code, "  "))
	}
	b.WriteString("  return b;\n}\n")
}
