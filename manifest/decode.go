package manifest

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/edgegw/edgegw/manifest/ir"
)

// decoder fills Go values from the YAML syntax tree, strictly, and records where every value was written.
// It does the decoding itself (rather than yaml.Unmarshal) so that it can report every unknown key, wrong
// type and duplicate key in one pass, each at its own line:col, and keep positions for validation.
type decoder struct {
	file    string
	diags   Diagnostics
	pos     map[string]Range // path → range of the value
	keyPos  map[string]Range // path → range of the key that introduced the value
	anchors map[string]ast.Node
	depth   int
	// aliases counts alias expansions: nested aliases can expand exponentially ("billion laughs"), so
	// their number is bounded.
	aliases int
	// failed holds the paths whose value could not be decoded, so validation does not report the zero
	// value left there as a second, misleading problem.
	failed map[string]bool
}

const (
	maxDepth   = 64
	maxAliases = 1000
)

// sectionLimits are the manifest's list limits, by path, checked before a list is decoded.
var sectionLimits = map[string]int{"routes": MaxRoutes, "domains": MaxDomains, "tests": MaxTests}

var (
	durationType  = reflect.TypeOf(Duration{})
	valueType     = reflect.TypeOf(ir.Value{})
	secretRefType = reflect.TypeOf(SecretRef{})
)

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[string]Range{}, keyPos: map[string]Range{}, anchors: map[string]ast.Node{}, failed: map[string]bool{}}
}

// rangeOf returns the range of a node's first token.
func (d *decoder) rangeOf(n ast.Node) Range {
	if n == nil {
		return Range{File: d.file}
	}
	// A block mapping's own token is not where a reader sees it start: point at its first key.
	switch t := n.(type) {
	case *ast.MappingNode:
		if len(t.Values) > 0 && !t.IsFlowStyle {
			return d.rangeOf(t.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return d.rangeOf(t.Key)
	case *ast.MappingKeyNode:
		if t.Value != nil {
			return d.rangeOf(t.Value)
		}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Range{File: d.file}
	}
	r := Range{File: d.file, Start: Point{Line: tk.Position.Line, Col: tk.Position.Column}}
	if sn, ok := n.(ast.ScalarNode); ok && sn != nil {
		w := len([]rune(strings.TrimSpace(tk.Origin)))
		if w == 0 {
			w = len([]rune(tk.Value))
		}
		if tk.Type == token.DoubleQuoteType || tk.Type == token.SingleQuoteType {
			w = len([]rune(tk.Value)) + 2
		}
		r.End = Point{Line: r.Start.Line, Col: r.Start.Col + w}
	}
	return r
}

// At returns where the value at path was written; the nearest recorded parent when the path itself was not
// written (a missing field is reported at its parent).
func (d *decoder) At(path string) Range {
	for p := path; ; {
		if r, ok := d.pos[p]; ok {
			return r
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			if r, ok := d.pos[""]; ok {
				return r
			}
			return Range{File: d.file, Start: Point{Line: 1, Col: 1}}
		}
		p = p[:i]
	}
}

// KeyAt returns where the key of path was written, falling back to At.
func (d *decoder) KeyAt(path string) Range {
	if r, ok := d.keyPos[path]; ok {
		return r
	}
	return d.At(path)
}

func (d *decoder) errorf(r Range, code, detail, format string, args ...any) {
	d.diags = append(d.diags, Diagnostic{Severity: SeverityError, Code: code, Summary: fmt.Sprintf(format, args...), Detail: detail, Range: r})
}

// anchorCollector records every anchor of the document, so an alias resolves even when its anchor sits
// under a key that is not decoded (an unknown key is reported, and its anchors still count).
type anchorCollector struct{ anchors map[string]ast.Node }

func (a anchorCollector) Visit(n ast.Node) ast.Visitor {
	if an, ok := n.(*ast.AnchorNode); ok && an.Name != nil {
		if _, seen := a.anchors[an.Name.String()]; !seen {
			a.anchors[an.Name.String()] = an.Value
		}
	}
	return a
}

// collectAnchors walks the document once before decoding.
func (d *decoder) collectAnchors(n ast.Node) {
	if n != nil {
		ast.Walk(anchorCollector{d.anchors}, n)
	}
}

// resolve strips anchors, tags and aliases.
func (d *decoder) resolve(n ast.Node) ast.Node {
	for i := 0; i < 16 && n != nil; i++ {
		switch t := n.(type) {
		case *ast.AnchorNode:
			if t.Name != nil {
				d.anchors[t.Name.String()] = t.Value
			}
			n = t.Value
		case *ast.TagNode:
			n = t.Value
		case *ast.AliasNode:
			d.aliases++
			if d.aliases > maxAliases {
				if d.aliases == maxAliases+1 {
					d.errorf(d.rangeOf(t), CodeLimit, "write the values out; aliases are for a few shared blocks", "more than %d alias expansions", maxAliases)
				}
				return nil
			}
			name := ""
			if t.Value != nil {
				name = t.Value.String()
			}
			target, ok := d.anchors[name]
			if !ok {
				d.errorf(d.rangeOf(t), CodeYAML, "define the anchor (&"+name+") before this alias", "unknown alias *%s", name)
				return nil
			}
			n = target
		default:
			return n
		}
	}
	return n
}

func kindName(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode:
		return "a number"
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	case *ast.NullNode, nil:
		return "nothing (null)"
	default:
		return "a " + strings.ToLower(n.Type().String())
	}
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration (e.g. 30s, 5m) or whole seconds"
	case t == valueType:
		return "a string or {env: NAME}"
	case t == secretRefType:
		return "{env: NAME}"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	case reflect.Pointer:
		return typeName(t.Elem())
	}
	return t.String()
}

// Failed reports whether path, or a value that contains it, could not be decoded.
func (d *decoder) Failed(path string) bool {
	if len(d.failed) == 0 {
		return false
	}
	for p := path; ; {
		if d.failed[p] {
			return true
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

func (d *decoder) typeError(n ast.Node, path string, want reflect.Type) {
	d.failed[path] = true
	detail := ""
	if want.Kind() == reflect.String {
		switch n.(type) {
		case *ast.BoolNode, *ast.IntegerNode, *ast.FloatNode, *ast.NullNode:
			detail = "YAML reads this unquoted value as " + strings.TrimPrefix(kindName(n), "a ") + "; quote it: \"" + n.GetToken().Value + "\""
		}
	}
	d.errorf(d.rangeOf(n), CodeType, detail, "%s: expected %s, got %s", displayPath(path), typeName(want), kindName(n))
}

// mappingPairs returns the key/value pairs of a mapping node (nil when n is not a mapping).
func mappingPairs(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch t := n.(type) {
	case *ast.MappingNode:
		return t.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{t}, true
	}
	return nil, false
}

func (d *decoder) keyString(k ast.Node) (string, bool) {
	k = d.resolve(k)
	if mk, ok := k.(*ast.MappingKeyNode); ok {
		k = d.resolve(mk.Value)
	}
	switch t := k.(type) {
	case *ast.StringNode:
		return t.Value, true
	case *ast.IntegerNode, *ast.BoolNode, *ast.FloatNode:
		return t.GetToken().Value, true
	case *ast.MergeKeyNode:
		d.errorf(d.rangeOf(k), CodeYAML, "write the keys out; YAML merge keys are not supported", "merge key << is not supported")
		return "", false
	}
	d.errorf(d.rangeOf(k), CodeYAML, "", "a key must be a plain string, got %s", kindName(k))
	return "", false
}

// decode fills v (addressable) from n; path names the value for positions and messages.
func (d *decoder) decode(n ast.Node, v reflect.Value, path string) {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxDepth {
		d.errorf(d.rangeOf(n), CodeYAML, "", "nesting deeper than %d levels", maxDepth)
		return
	}
	n = d.resolve(n)
	if n == nil {
		return
	}
	d.pos[path] = d.rangeOf(n)
	if _, isNull := n.(*ast.NullNode); isNull {
		return // leave the zero value; required fields are checked by validation
	}
	t := v.Type()
	switch {
	case t == durationType:
		d.decodeDuration(n, v, path)
		return
	case t == valueType:
		d.decodeValue(n, v, path)
		return
	case t == targetBlocksType:
		d.decodeTargets(n, v, path)
		return
	case t == secretRefType:
		if _, ok := n.(*ast.MappingNode); !ok {
			if _, ok := n.(*ast.MappingValueNode); !ok {
				// Never echo the value: it may be the secret itself.
				d.failed[path] = true
				d.errorf(d.rangeOf(n), CodeSecretLiteral, "put the value in an environment variable and write {env: NAME}; edgegw reads it only at apply time",
					"%s: a secret must be referenced by name, not written in the manifest", displayPath(path))
				return
			}
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			d.typeError(n, path, t)
			return
		}
		if limit, ok := sectionLimits[path]; ok && len(seq.Values) > limit {
			// Reported once here, rather than decoding (and reporting) every item of a list that cannot load.
			d.failed[path] = true
			d.errorf(d.rangeOf(n), CodeLimit, limitFixes[path], "%d %s; the limit is %d", len(seq.Values), path, limit)
			return
		}
		s := reflect.MakeSlice(t, len(seq.Values), len(seq.Values))
		for i, item := range seq.Values {
			p := path + "[" + strconv.Itoa(i) + "]"
			d.keyPos[p] = d.rangeOf(item)
			d.decode(item, s.Index(i), p)
		}
		v.Set(s)
	case reflect.String:
		switch sn := n.(type) {
		case *ast.StringNode:
			v.SetString(sn.Value)
		case *ast.LiteralNode:
			v.SetString(sn.Value.Value)
		default:
			d.typeError(n, path, t)
		}
	case reflect.Int, reflect.Int64:
		in, ok := n.(*ast.IntegerNode)
		if !ok {
			d.typeError(n, path, t)
			return
		}
		var i64 int64
		switch x := in.Value.(type) {
		case int64:
			i64 = x
		case uint64:
			if x > math.MaxInt64 {
				d.errorf(d.rangeOf(n), CodeType, "", "%s: number too large", displayPath(path))
				return
			}
			i64 = int64(x)
		default:
			d.typeError(n, path, t)
			return
		}
		if t.Kind() == reflect.Int && (i64 > math.MaxInt32 || i64 < math.MinInt32) {
			d.errorf(d.rangeOf(n), CodeType, "", "%s: number out of range", displayPath(path))
			return
		}
		v.SetInt(i64)
	case reflect.Bool:
		bn, ok := n.(*ast.BoolNode)
		if !ok {
			d.typeError(n, path, t)
			return
		}
		v.SetBool(bn.Value)
	case reflect.Interface:
		v.Set(reflect.ValueOf(d.anyValue(n, path)))
	default:
		d.errorf(d.rangeOf(n), CodeYAML, "", "%s: cannot decode into %s", displayPath(path), t)
	}
}

func (d *decoder) anyValue(n ast.Node, path string) any {
	n = d.resolve(n)
	switch t := n.(type) {
	case nil, *ast.NullNode:
		return nil
	case *ast.StringNode:
		return t.Value
	case *ast.LiteralNode:
		return t.Value.Value
	case *ast.IntegerNode:
		return t.Value
	case *ast.FloatNode:
		return t.Value
	case *ast.BoolNode:
		return t.Value
	case *ast.SequenceNode:
		out := make([]any, len(t.Values))
		for i, item := range t.Values {
			out[i] = d.anyValue(item, path+"["+strconv.Itoa(i)+"]")
		}
		return out
	}
	if _, ok := mappingPairs(n); ok {
		out := map[string]any{}
		d.eachKey(n, path, reflect.TypeOf(out), func(key string, _ Range, value ast.Node) {
			out[key] = d.anyValue(value, path+"."+key)
		})
		return out
	}
	d.errorf(d.rangeOf(n), CodeYAML, "", "%s: unsupported YAML value", displayPath(path))
	return nil
}

// eachKey calls fn for every key of the mapping n, in order, reporting duplicate keys and keys that are not
// strings. It reports false (after a type error) when n is not a mapping.
func (d *decoder) eachKey(n ast.Node, path string, want reflect.Type, fn func(key string, kr Range, value ast.Node)) bool {
	pairs, ok := mappingPairs(n)
	if !ok {
		d.typeError(n, path, want)
		return false
	}
	seen := make(map[string]bool, len(pairs))
	for _, mv := range pairs {
		key, ok := d.keyString(mv.Key)
		if !ok {
			continue
		}
		kr := d.rangeOf(mv.Key)
		if seen[key] {
			d.errorf(kr, CodeDuplicateKey, "a key may appear once in a mapping; remove or merge the other one", "duplicate key %q in %s", key, displayPathOr(path, "the manifest"))
			continue
		}
		seen[key] = true
		fn(key, kr, mv.Value)
	}
	return true
}

func (d *decoder) decodeStruct(n ast.Node, v reflect.Value, path string) {
	fields := structFields(v.Type())
	var meant []string // keys an unknown key was probably meant to be
	defer func() {
		// A key that was misspelt is missing only because of the typo: mark it undecoded, so that its
		// absence and everything that follows from it are not reported besides the unknown key.
		for _, k := range meant {
			if _, written := d.keyPos[joinPath(path, k)]; !written {
				d.failed[joinPath(path, k)] = true
			}
		}
	}()
	d.eachKey(n, path, v.Type(), func(key string, kr Range, value ast.Node) {
		idx, ok := fields[key]
		if !ok {
			names := make([]string, 0, len(fields))
			for k := range fields {
				names = append(names, k)
			}
			sort.Strings(names)
			detail := "allowed keys: " + strings.Join(names, ", ")
			if s := suggest(key, names); s != "" {
				detail = "did you mean " + strconv.Quote(s) + "? " + detail
				meant = append(meant, s)
			}
			d.errorf(kr, CodeUnknownKey, detail, "unknown key %q in %s", key, displayPathOr(path, "the manifest"))
			return
		}
		p := joinPath(path, key)
		d.keyPos[p] = kr
		d.decode(value, v.Field(idx), p)
	})
}

func (d *decoder) decodeMap(n ast.Node, v reflect.Value, path string) {
	if _, ok := mappingPairs(n); ok && v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	d.eachKey(n, path, v.Type(), func(key string, kr Range, value ast.Node) {
		p := joinPath(path, key)
		d.keyPos[p] = kr
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(value, elem, p)
		v.SetMapIndex(reflect.ValueOf(key), elem)
	})
}

func (d *decoder) decodeDuration(n ast.Node, v reflect.Value, path string) {
	var dur time.Duration
	d.failed[path] = true // cleared below when the value decodes
	switch t := n.(type) {
	case *ast.IntegerNode:
		var s int64
		ok := true
		switch x := t.Value.(type) {
		case int64:
			s = x
		case uint64:
			ok = x <= math.MaxInt64
			s = int64(x)
		default:
			ok = false
		}
		if !ok || s < 0 || s > math.MaxInt64/int64(time.Second) {
			d.errorf(d.rangeOf(n), CodeType, "", "%s: duration out of range", displayPath(path))
			return
		}
		dur = time.Duration(s) * time.Second
	case *ast.StringNode:
		var err error
		dur, err = time.ParseDuration(t.Value)
		if err != nil {
			d.errorf(d.rangeOf(n), CodeType, "write a duration such as 500ms, 30s, 5m or 1h, or whole seconds", "%s: %q is not a duration", displayPath(path), t.Value)
			return
		}
		if dur < 0 {
			d.errorf(d.rangeOf(n), CodeType, "", "%s: duration must not be negative", displayPath(path))
			return
		}
	default:
		d.typeError(n, path, durationType)
		return
	}
	delete(d.failed, path)
	v.Set(reflect.ValueOf(Duration{ir.Duration(dur)}))
}

func (d *decoder) decodeValue(n ast.Node, v reflect.Value, path string) {
	if sn, ok := n.(*ast.StringNode); ok {
		v.Set(reflect.ValueOf(ir.Value{Literal: sn.Value}))
		return
	}
	if _, ok := mappingPairs(n); ok {
		var ref SecretRef
		d.decodeStruct(n, reflect.ValueOf(&ref).Elem(), path)
		v.Set(reflect.ValueOf(ir.Value{Env: ref.Env}))
		return
	}
	d.typeError(n, path, valueType)
}

var fieldCache sync.Map // reflect.Type → map[string]int

// structFields maps yaml keys to field indexes.
func structFields(t reflect.Type) map[string]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]int)
	}
	m := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			continue
		}
		m[name] = i
	}
	fieldCache.Store(t, m)
	return m
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// displayPath shows a path to the user: routes[3].match.path.
func displayPath(path string) string {
	if path == "" {
		return "manifest"
	}
	return path
}

func displayPathOr(path, root string) string {
	if path == "" {
		return root
	}
	return path
}

// suggest returns the candidate closest to s when it is close enough to be a likely typo.
func suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if dd := levenshtein(strings.ToLower(s), strings.ToLower(c)); dd < bestD {
			best, bestD = c, dd
		}
	}
	limit := 2
	if len(s) > 8 {
		limit = 3
	}
	if bestD <= limit && bestD < len(s) {
		return best
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
