// Package cloudfront renders the IR as two CloudFront Functions (cloudfront-js-2.0): a viewer-request
// function that normalizes the path, routes in IR order, resolves tenants, verifies HS256 bearer tokens,
// answers redirects, synthetic responses, CORS preflights and edge errors, and otherwise rewrites the request
// and picks the distribution's origin (or origin group); and a viewer-response function that maps Location
// headers back and writes the response transform, HSTS and CORS headers on the origin's answers.
//
// Both are the shared JavaScript runtime (render/jsruntime), the tables generated from the IR and this
// package's glue, bundled by esbuild's Go API, which also checks the syntax at render time. A function's code
// is limited to MaxFunctionBytes: the renderer minifies only when the plain bundle is over it, and refuses,
// with the size, when even the minified one is. HS256 secrets are KeyValueStore keys, never values. The
// package is pure: the same IR gives the same bytes. It must not talk to AWS.
package cloudfront

import (
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
	"github.com/edgegw/edgegw/render/cloudfront/headers"
	"github.com/edgegw/edgegw/render/cloudfront/lambdaedge"
	"github.com/edgegw/edgegw/render/jsruntime"
)

// Name is the target name of this renderer.
const Name = "cloudfront"

// Artifact paths, relative to the target's folder.
const (
	RequestFile  = "viewer-request.js"
	ResponseFile = "viewer-response.js"
	// HeadersPolicyFile is the response headers policy that carries HSTS (render/cloudfront/headers).
	HeadersPolicyFile = headers.File
)

// MaxFunctionBytes is CloudFront Functions' limit on a function's code.
const MaxFunctionBytes = 10240

// library holds this target's own modules, imported as edgegw-cloudfront/NAME.
//
//go:embed hs256.js pathnorm.js kvsroutes.js
var library embed.FS

var (
	//go:embed prelude.js
	prelude string
	//go:embed request.js
	requestGlue string
	//go:embed response.js
	responseGlue string
)

// Renderer renders the functions.
type Renderer struct{}

var _ render.Renderer = Renderer{}

func init() { render.Register(Renderer{}) }

// Name implements render.Renderer.
func (Renderer) Name() string { return Name }

// Render implements render.Renderer: the production functions.
func (Renderer) Render(g *ir.Gateway) ([]render.Artifact, error) { return RenderWith(g, Options{}) }

// Options change what RenderWith produces. The zero value is the production build.
type Options struct {
	// Test builds the functions for the test engine: they read the clock and the client's scheme from test
	// request headers (x-edgegw-test-now, x-edgegw-test-scheme) and report the decision in a header
	// (x-edgegw-test-decision). A production build has none of that.
	Test bool
	// OriginURLs replace origin URLs by origin name (loopback origins in tests); they decide which hosts'
	// Location headers are mapped back.
	OriginURLs map[string]string
	// IgnoreSizeLimit skips the MaxFunctionBytes check, for the test engine to check the semantics of
	// gateways whose functions are over it. Never set in production: such functions do not deploy.
	IgnoreSizeLimit bool
	// NoMinify keeps the plain bundle even when it is over MaxFunctionBytes (to measure it); the size check
	// still applies.
	NoMinify bool
}

// SecretKey is the KeyValueStore key that holds an auth policy's HMAC secret: the variable its {env: NAME}
// reference names, or, for a secret the IR holds as a value (test corpora do), a name derived from the
// policy's (EDGEGW_SECRET_<POLICY>). The value never enters the function's code. "" when the policy has no
// secret.
func SecretKey(p ir.AuthPolicy) string {
	if p.JWT == nil || p.JWT.Secret == nil {
		return ""
	}
	if p.JWT.Secret.Env != "" {
		return p.JWT.Secret.Env
	}
	return "EDGEGW_SECRET_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(p.Name))
}

// SecretKeys lists the KeyValueStore keys the viewer-request function reads, sorted.
func SecretKeys(g *ir.Gateway) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range g.AuthPolicies {
		if n := SecretKey(p); n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// SizeError is a function over MaxFunctionBytes.
type SizeError struct {
	File     string
	Size     int // at the smallest build (minified, internal property names mangled)
	Plain    int
	Routes   int
	Position string // where in the generated code the limit falls (line:col of byte MaxFunctionBytes)
	// Parts are the bytes each source part takes in that build, largest first.
	Parts []Part
}

// Part is one source part of a function and the bytes it takes in the output.
type Part struct {
	Name  string
	Bytes int
}

func (e *SizeError) Error() string {
	var parts []string
	for _, p := range e.Parts {
		parts = append(parts, fmt.Sprintf("%s %d", p.Name, p.Bytes))
	}
	return fmt.Sprintf("render/cloudfront: %s is %d bytes minified (%d plain) with %d routes, over CloudFront Functions' %d-byte limit (byte %d is at %s); bytes by part: %s: leave out features for this target (the HS256 verifier is only there for an auth policy), or use fewer or shorter routes",
		e.File, e.Size, e.Plain, e.Routes, MaxFunctionBytes, MaxFunctionBytes, e.Position, strings.Join(parts, ", "))
}

// Sizes are the byte sizes of the rendered functions, for plan's budget report.
type Sizes struct {
	Request, Response int
	Minified          bool // either function is minified
	Mangled           bool // either function's internal property names are shortened too
	// KVSKeys and KVSBytes: the route table's KeyValueStore entries (KVSFile), when it is there.
	KVSKeys, KVSBytes int
}

// RenderWith renders the two functions.
func RenderWith(g *ir.Gateway, opts Options) ([]render.Artifact, error) {
	arts, _, err := renderSized(g, opts)
	return arts, err
}

// Measure renders g and returns the functions' sizes.
func Measure(g *ir.Gateway, opts Options) (Sizes, error) {
	_, s, err := renderSized(g, opts)
	return s, err
}

func renderSized(g *ir.Gateway, opts Options) ([]render.Artifact, Sizes, error) {
	var sz Sizes
	if g == nil {
		return nil, sz, fmt.Errorf("render/cloudfront: no gateway IR")
	}
	for name := range opts.OriginURLs {
		if g.Origin(name) == nil {
			return nil, sz, fmt.Errorf("render/cloudfront: origin override %q: no such origin", name)
		}
	}
	if lambdaedge.Needed(g) {
		// The lambda-edge-auth companion runs the whole gateway: no CloudFront Function beside it.
		arts, err := lambdaedge.Render(g, lambdaedge.Options{Test: opts.Test, OriginURLs: opts.OriginURLs, LimitsAtWAF: wafEnabled(g)})
		if err != nil {
			return nil, sz, err
		}
		side, err := sideArtifacts(g)
		if err != nil {
			return nil, sz, err
		}
		return append(arts, side...), sz, nil
	}
	t, routes, err := buildTables(g, opts.OriginURLs)
	if err != nil {
		return nil, sz, err
	}
	// Names serve only the test build's decision header: the production build leaves them out (the route
	// comments of a plain build still name every route).
	pt := *t
	pt.Name = ""
	pt.Pools, pt.Policies = names[poolT]{}, names[policyT]{}
	for k, p := range t.Pools {
		p.Name = ""
		pt.Pools[k] = p
	}
	for k, p := range t.Policies {
		p.Name = ""
		pt.Policies[k] = p
	}
	prodRoutes := make([]routeT, len(routes))
	copy(prodRoutes, routes)
	for i := range prodRoutes {
		prodRoutes[i].Name = ""
	}
	sourceOf := func(t *tables, rs []routeT, fn int) source {
		return func(level int) (string, int, []kvsCandidate, error) {
			head, cands, err := tableSourceNamed(t, rs, routes, g, fn, level)
			if err != nil {
				return "", 0, nil, err
			}
			if fn == forResponse {
				return head + prelude + responseGlue, len(head), cands, nil
			}
			return head + prelude + requestGlue, len(head), cands, nil
		}
	}
	// The functions of a KeyValueStore build share one set of shortened property names, which the store's
	// entries are written with.
	var cache map[string]any
	var prodKVS, testKVS []kvsCandidate
	// The limit applies to the production build; a test build (a few hundred bytes of test-mode code more)
	// is checked through it and built at the same level.
	prodReq, reqLevel, err := function(RequestFile, sourceOf(&pt, prodRoutes, forRequest), len(routes), defines(g, false), opts, -1, &cache, &prodKVS)
	if err != nil {
		return nil, sz, err
	}
	prodResp, respLevel, err := function(ResponseFile, sourceOf(&pt, prodRoutes, forResponse), len(routes), defines(g, false), opts, -1, &cache, &prodKVS)
	if err != nil {
		return nil, sz, err
	}
	reqJS, respJS := prodReq, prodResp
	if opts.Test {
		if reqJS, _, err = function(RequestFile, sourceOf(t, routes, forRequest), len(routes), defines(g, true), opts, reqLevel, &cache, &testKVS); err != nil {
			return nil, sz, err
		}
		if respJS, _, err = function(ResponseFile, sourceOf(t, routes, forResponse), len(routes), defines(g, true), opts, respLevel, &cache, &testKVS); err != nil {
			return nil, sz, err
		}
	}
	kvsCands := prodKVS
	if opts.Test {
		kvsCands = testKVS
	}
	// The limit plan reports against; a test build (its test-mode code) and a build over the limit for
	// the semantics checks are not what deploys, so they carry none.
	limit := MaxFunctionBytes
	if opts.Test || opts.IgnoreSizeLimit {
		limit = 0
	}
	sz = Sizes{Request: len(prodReq), Response: len(prodResp), Minified: reqLevel > levelPlain || respLevel > levelPlain,
		Mangled: reqLevel >= levelMangled || respLevel >= levelMangled}
	arts := []render.Artifact{
		{Target: Name, Path: RequestFile, MediaType: "application/javascript", Data: reqJS, MaxBytes: limit},
		{Target: Name, Path: ResponseFile, MediaType: "application/javascript", Data: respJS, MaxBytes: limit},
	}
	if kvsCands != nil {
		data, version, keys, err := kvsFile(kvsCands, cache)
		if err != nil {
			return nil, sz, err
		}
		// The code reads the keys of this table's version only: write it in (as long as the placeholder,
		// so no size changes).
		for i := range arts {
			if arts[i].Data, err = withRouteVersion(arts[i].Data, version); err != nil {
				return nil, sz, err
			}
		}
		sz.KVSKeys, sz.KVSBytes = keys, len(data)
		arts = append(arts, render.Artifact{Target: Name, Path: KVSFile, MediaType: "application/json", Data: data})
	}
	side, err := sideArtifacts(g)
	if err != nil {
		return nil, sz, err
	}
	return append(arts, side...), sz, nil
}

// sideArtifacts are what the distribution carries beside the code: the response headers policy (with
// tls.hsts) and the waf-rate-limit companion's web ACL rules.
func sideArtifacts(g *ir.Gateway) ([]render.Artifact, error) {
	var out []render.Artifact
	if a, ok, err := headers.Render(g, Name); err != nil {
		return nil, err
	} else if ok {
		out = append(out, a)
	}
	wafArts, err := wafArtifacts(g)
	if err != nil {
		return nil, err
	}
	return append(out, wafArts...), nil
}

// defines are the build-time constants of the glue: test mode, and which features the gateway uses, so the
// bundle leaves out the runtime code of the others (the size limit is tight).
func defines(g *ir.Gateway, test bool) map[string]string {
	var auth, respond, redirect, failover, limited, forward bool
	for _, p := range g.AuthPolicies {
		forward = forward || (p.JWT != nil && len(p.JWT.ForwardClaims) > 0)
	}
	for _, r := range g.Routes {
		limited = limited || functionLimited(g, r)
		auth = auth || r.Auth != ""
		respond = respond || r.Respond != nil
		redirect = redirect || r.Redirect != nil
		if p := g.Pool(r.Pool); p != nil && len(p.Origins) > 1 {
			failover = true
		}
	}
	return map[string]string{"TEST_MODE": fmt.Sprint(test), "HAS_AUTH": fmt.Sprint(auth), "HAS_CORS": fmt.Sprint(g.CORS != nil),
		"HAS_RESPOND": fmt.Sprint(respond), "HAS_REDIRECT": fmt.Sprint(redirect), "HAS_FAILOVER": fmt.Sprint(failover), "HAS_LIMITED": fmt.Sprint(limited),
		"HAS_FORWARD": fmt.Sprint(auth && forward)}
}

// tableSourceNamed is the generated part of a function (fn: forRequest or forResponse): the tables as that
// function reads them, the routes, the matchers. In a plain build each route is one statement commented
// with its manifest name (named: the routes with their names; esbuild keeps legal comments, "//!", in a plain build and drops them when
// minifying); a compact one (a minified build) writes the routes straight into the ROUTES array.
func tableSourceNamed(t *tables, routes, named []routeT, g *ir.Gateway, fn int, level int) (string, []kvsCandidate, error) {
	compact := level > levelPlain
	// At levelKVS the exact and prefix routes, which come first in IR order, are in the KeyValueStore.
	nk := 0
	if level == levelKVS {
		for nk < len(routes) && kvsRoute(routes[nk]) {
			nk++
		}
		for _, r := range named[nk:] {
			if kvsRoute(r) {
				return "", nil, fmt.Errorf("render/cloudfront: route %q: an exact or prefix route after a template, regex or fallback route: the routes are not in IR order", r.Name)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "//! Gateway %q, rendered by edgegw for CloudFront Functions (cloudfront-js-2.0). Generated: edit the manifest, not this file.\n", g.Name)
	// Routes share their effective transform (the gateway's, usually), and transforms their header edits:
	// each distinct one used more than once is written once, as a constant.
	trs := newShared("R_TRANSFORM_")
	hts := newShared("R_HEADERS_")
	transformOf := func(tr *routeTransformT) string {
		if fn == forResponse {
			tr = &routeTransformT{Response: tr.Response}
		}
		x := map[string]string{"request": hts.ref(tr.Request), "response": hts.ref(tr.Response)}
		if fn == forResponse {
			delete(x, "request")
		}
		if tr.RequestID != "" {
			x["requestId"] = jsString(tr.RequestID)
		}
		if tr.KeepClientRequestID {
			x["keepClientRequestId"] = "true"
		}
		return literalOf(x)
	}
	var transforms []*routeTransformT
	gwTransform := t.Transform
	transforms = append(transforms, &gwTransform)
	none := routeTransform(ir.RouteTransform{})
	for _, r := range routes {
		if r.Transform == nil {
			r.Transform = &none // every route carries one: the runtime reads it unconditionally
		}
		transforms = append(transforms, r.Transform)
	}
	// The header edits are counted first, so that a transform is counted as it is then written.
	for _, tr := range transforms {
		transformOf(tr)
	}
	hts.named()
	for _, tr := range transforms {
		trs.use(transformOf(tr))
	}
	trs.named()
	refs := make([]string, len(transforms))
	for i, tr := range transforms {
		refs[i] = trs.use(transformOf(tr))
	}
	hts.write(&b)
	trs.write(&b)
	if tv := t.view(fn); len(tv.Errors) > 0 {
		var imports []string
		for _, c := range slices.Sorted(maps.Keys(tv.Errors)) {
			if strings.HasPrefix(c, "JWT_") {
				imports = append(imports, strings.TrimPrefix(c, "JWT_")+" as "+jwtConst(c))
			}
		}
		if imports != nil {
			fmt.Fprintf(&b, "import { %s } from \"edgegw-cloudfront/hs256.js\";\n", strings.Join(imports, ", "))
		}
	}
	tj, err := jsLiteral(t.view(fn))
	if err != nil {
		return "", nil, fmt.Errorf("render/cloudfront: tables: %w", err)
	}
	fmt.Fprintf(&b, "const GATEWAY = %s;\n", withField(tj, "transform", refs[0]))
	var names []string
	var cands []kvsCandidate
	var kvsTransforms, kvsKeys []string
	maxLen := 0
	k := 1
	for i, r := range routes {
		if i < nk {
			// Both functions read the same entries: the index is of the whole transform.
			full, _ := jsLiteral(r.Transform)
			tr := slices.Index(kvsKeys, full)
			if tr < 0 {
				tr = len(kvsKeys)
				kvsKeys = append(kvsKeys, full)
				kvsTransforms = append(kvsTransforms, refs[k])
			}
			k++
			c, err := candidate(r, tr)
			if err != nil {
				return "", nil, &render.RouteError{Route: named[i].Name, Err: err}
			}
			maxLen = max(maxLen, len(c.stem))
			cands = append(cands, c)
			continue
		}
		r.Transform = nil
		if fn == forResponse {
			r.Respond, r.Redirect, r.Auth, r.Limited = nil, nil, "", false
		}
		rj, err := jsLiteral(r)
		if err != nil {
			return "", nil, fmt.Errorf("render/cloudfront: route %q: %w", named[i].Name, err)
		}
		rj = withField(rj, "transform", refs[k])
		k++
		if compact {
			names = append(names, rj)
			continue
		}
		v := fmt.Sprintf("route_%d", i)
		fmt.Fprintf(&b, "//! route %q\n", named[i].Name)
		fmt.Fprintf(&b, "const %s = %s;\n", v, rj)
		names = append(names, v)
	}
	fmt.Fprintf(&b, "const ROUTES = [%s];\n", strings.Join(names, ", "))
	if level == levelKVS {
		fmt.Fprintf(&b, "//! The exact and prefix routes are in the KeyValueStore (%s): their transforms.\nconst R_TRANSFORMS = [%s];\n", KVSFile, strings.Join(kvsTransforms, ", "))
	}
	m, err := matcherSource(named[nk:], level == levelKVS, maxLen)
	if err != nil {
		return "", nil, err
	}
	b.WriteString(m)
	b.WriteString(hostSource(t.Domains))
	if level == levelKVS && cands == nil {
		cands = []kvsCandidate{}
	}
	return b.String(), cands, nil
}

// withField adds "name: value" to the object literal lit.
func withField(lit, name, value string) string {
	sep := ", "
	if lit == "{}" {
		sep = ""
	}
	return strings.TrimSuffix(lit, "}") + sep + name + ": " + value + "}"
}

// literalOf writes an object literal from already written values, keys sorted (all internal names).
func literalOf(x map[string]string) string {
	keys := make([]string, 0, len(x))
	for k := range x {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+": "+x[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// shared names the literals used more than once: the first pass counts, the second names them in order
// of first use.
type shared struct {
	prefix string
	pass   int
	count  map[string]int
	name   map[string]string
	order  []string
}

func newShared(prefix string) *shared {
	return &shared{prefix: prefix, count: map[string]int{}, name: map[string]string{}}
}

// named ends the counting: from now on use names the literals used more than once.
func (s *shared) named() { s.pass = 1 }

// use counts lit (first pass) or names it (second pass), and returns what to write for it.
func (s *shared) use(lit string) string {
	if s.pass == 0 {
		s.count[lit]++
		return lit
	}
	if s.count[lit] < 2 {
		return lit
	}
	if n, ok := s.name[lit]; ok {
		return n
	}
	n := fmt.Sprintf("%s%d", s.prefix, len(s.order))
	s.name[lit] = n
	s.order = append(s.order, lit)
	return n
}

// ref is use for a value to be written as a literal first.
func (s *shared) ref(v any) string {
	lit, _ := jsLiteral(v)
	return s.use(lit)
}

func (s *shared) write(b *strings.Builder) {
	for _, lit := range s.order {
		fmt.Fprintf(b, "const %s = %s;\n", s.name[lit], lit)
	}
}

// Build levels, smallest last: each is used only when the one before is over the limit.
const (
	levelPlain   = iota // readable: indented, with the route comments
	levelMinify         // esbuild's minifier
	levelMangled        // minified, and the functions' internal property names shortened (internalNames)
	levelKVS            // mangled, and the exact and prefix routes in the KeyValueStore (KVSFile)
)

// source returns a function's entry source for a build level (a minified one writes the routes without a
// statement and comment each; levelKVS leaves the exact and prefix routes out, as KeyValueStore
// candidates), the length of its generated head, and those candidates.
type source func(level int) (src string, generated int, kvs []kvsCandidate, err error)

// function bundles one function at the first level whose output fits; over the limit at every level is a
// *SizeError that names the bytes of each source part (the generated head measured apart, for that part's
// share). With level >= 0 (a test build) it builds at that level and checks no size. cache holds the
// shortened property names, shared by the builds that shorten them; a levelKVS build sets *kvs.
func function(file string, srcOf source, routes int, defs map[string]string, opts Options, level int, cache *map[string]any, kvs *[]kvsCandidate) ([]byte, int, error) {
	build := func(l int) ([]byte, []Part, string, int, error) {
		src, gen, cands, err := srcOf(l)
		if err != nil {
			return nil, nil, "", 0, err
		}
		src += "\nexport { handler };\n"
		d := maps.Clone(defs)
		d["HAS_KVS"] = fmt.Sprint(l == levelKVS)
		d["ROUTE_KEY_PREFIX"] = jsString(routeKeyPlaceholder)
		out, parts, err := bundle(file, src, d, l, cache)
		if err == nil && l == levelKVS {
			*kvs = cands
		}
		return out, parts, src, gen, err
	}
	if level >= 0 {
		b, _, _, _, err := build(level)
		return b, level, err
	}
	var plain []byte
	type attempt struct {
		out       []byte
		parts     []Part
		src       string
		generated int
		defs      map[string]string
	}
	var best *attempt // the smallest build, for the size error
	for l := levelPlain; l <= levelKVS; l++ {
		out, parts, src, generated, err := build(l)
		if err != nil {
			return nil, l, err
		}
		if l == levelPlain {
			plain = out
		}
		if best == nil || len(out) < len(best.out) {
			dd := defs
			if l == levelKVS {
				dd = d(defs)
			}
			best = &attempt{out, parts, src, generated, dd}
		}
		if len(out) <= MaxFunctionBytes || (l == levelPlain && opts.NoMinify) || (l == levelKVS && opts.IgnoreSizeLimit) {
			if len(out) > MaxFunctionBytes && !opts.IgnoreSizeLimit {
				return nil, l, &SizeError{File: file, Size: len(out), Plain: len(out), Routes: routes, Position: position(out, MaxFunctionBytes), Parts: parts}
			}
			return out, l, nil
		}
		if l == levelKVS {
			return nil, l, &SizeError{File: file, Size: len(best.out), Plain: len(plain), Routes: routes, Position: position(best.out, MaxFunctionBytes), Parts: splitGenerated(best.parts, best.src, best.generated, best.defs)}
		}
	}
	panic("unreachable")
}

// d is defs as a levelKVS build sees them.
func d(defs map[string]string) map[string]string {
	x := maps.Clone(defs)
	x["HAS_KVS"] = "true"
	x["ROUTE_KEY_PREFIX"] = jsString(routeKeyPlaceholder)
	return x
}

// splitGenerated splits the entry's share of parts into the code generated from the manifest (its first
// generated bytes, measured minified on their own) and the glue.
func splitGenerated(parts []Part, src string, generated int, defs map[string]string) []Part {
	if generated <= 0 {
		return parts
	}
	// Kept alive by one assignment (a few bytes), as the bundle keeps them.
	keep := "\nglobalThis.k = [GATEWAY, ROUTES, matchRoute];\n"
	if defs["HAS_KVS"] == "true" {
		keep = "\nglobalThis.k = [GATEWAY, ROUTES, R_TRANSFORMS, matchRoute];\n"
	}
	res := api.Transform(src[:generated]+keep, api.TransformOptions{Loader: api.LoaderJS, MinifyWhitespace: true, MinifySyntax: true, MinifyIdentifiers: true, Target: api.ES2017, Define: defs, MangleProps: mangleProps(), LegalComments: api.LegalCommentsNone, Format: api.FormatIIFE})
	if len(res.Errors) > 0 {
		return parts
	}
	gen := len(res.Code)
	var out []Part
	for _, p := range parts {
		if p.Name == entryPart {
			g := min(gen, p.Bytes)
			out = append(out, Part{Name: "the tables and route matcher generated from the manifest", Bytes: g}, Part{Name: "the function's glue (prelude and handler)", Bytes: p.Bytes - g})
			continue
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Bytes > out[j].Bytes })
	return out
}

const entryPart = "the entry"

// partName names an esbuild input for the size error.
func partName(file, input string) string {
	switch {
	case input == file || input == "<stdin>":
		return entryPart
	case strings.HasPrefix(input, "jsruntime:"):
		return "the shared runtime's " + strings.TrimPrefix(input, "jsruntime:")
	case input == "cloudfront:hs256.js":
		return "the HS256 verifier (hs256.js)"
	case input == "cloudfront:pathnorm.js":
		return "the path normalizer (pathnorm.js)"
	}
	return input
}

// position returns line:col of byte offset n in b.
func position(b []byte, n int) string {
	if n > len(b) {
		n = len(b)
	}
	line, col := 1, 1
	for _, c := range b[:n] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("%d:%d", line, col)
}

// exportLine is esbuild's export of the handler, which CloudFront does not take: the function is named
// handler at the top level instead.
var exportLine = regexp.MustCompile(`(?s)\n?export\s*\{\s*([\w$]+)(?:\s+as\s+handler)?\s*\};?\s*$`)

// bundle runs esbuild over the entry source, resolving edgegw-runtime/* to the embedded library; cloudfront
// and crypto are cloudfront-js-2.0's own modules.
func bundle(file, src string, defs map[string]string, level int, cache *map[string]any) ([]byte, []Part, error) {
	minify := level >= levelMinify
	plugin := api.Plugin{Name: "edgegw-runtime", Setup: func(pb api.PluginBuild) {
		jsruntime.Resolve(pb)
		// cloudfront-js-2.0's own modules, external; importing them does nothing else, so an import the
		// function does not use is dropped.
		pb.OnResolve(api.OnResolveOptions{Filter: `^(cloudfront|crypto)$`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			return api.OnResolveResult{Path: a.Path, External: true, SideEffects: api.SideEffectsFalse}, nil
		})
		pb.OnResolve(api.OnResolveOptions{Filter: `^edgegw-cloudfront/`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			return api.OnResolveResult{Path: strings.TrimPrefix(a.Path, "edgegw-cloudfront/"), Namespace: "cloudfront"}, nil
		})
		pb.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "cloudfront"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			b, err := library.ReadFile(a.Path)
			if err != nil {
				return api.OnLoadResult{}, fmt.Errorf("no module %s", a.Path)
			}
			s := string(b)
			return api.OnLoadResult{Contents: &s, Loader: api.LoaderJS}, nil
		})
	}}
	legal := api.LegalCommentsInline
	if minify {
		legal = api.LegalCommentsNone
	}
	mangle := ""
	var mcache map[string]any
	if level >= levelMangled {
		mangle = mangleProps()
		mcache = maps.Clone(*cache)
		if mcache == nil {
			mcache = map[string]any{}
		}
	}
	res := api.Build(api.BuildOptions{
		Stdin:             &api.StdinOptions{Contents: src, Sourcefile: file, Loader: api.LoaderJS},
		Bundle:            true,
		Format:            api.FormatESModule,
		Platform:          api.PlatformNeutral,
		Target:            api.ES2017,
		External:          []string{"cloudfront", "crypto"},
		Charset:           api.CharsetUTF8,
		LegalComments:     legal,
		MinifyWhitespace:  minify,
		MinifySyntax:      minify,
		MinifyIdentifiers: minify,
		Define:            defs,
		LogLevel:          api.LogLevelSilent,
		Write:             false,
		Outfile:           file,
		Plugins:           []api.Plugin{plugin},
		Metafile:          true,
		MangleProps:       mangle,
		MangleCache:       mcache,
	})
	if mangle != "" && len(res.Errors) == 0 && level == levelKVS {
		*cache = res.MangleCache
	}
	if len(res.Errors) > 0 {
		return nil, nil, fmt.Errorf("render/cloudfront: bundle %s: %s", file, jsruntime.BuildErrors(res.Errors))
	}
	if len(res.OutputFiles) != 1 {
		return nil, nil, fmt.Errorf("render/cloudfront: bundle %s: %d output files, want 1", file, len(res.OutputFiles))
	}
	var meta struct {
		Outputs map[string]struct {
			Inputs map[string]struct {
				BytesInOutput int `json:"bytesInOutput"`
			} `json:"inputs"`
		} `json:"outputs"`
	}
	var parts []Part
	if json.Unmarshal([]byte(res.Metafile), &meta) == nil {
		for _, o := range meta.Outputs {
			for in, st := range o.Inputs {
				parts = append(parts, Part{Name: partName(file, in), Bytes: st.BytesInOutput})
			}
		}
		sort.Slice(parts, func(i, j int) bool {
			if parts[i].Bytes != parts[j].Bytes {
				return parts[i].Bytes > parts[j].Bytes
			}
			return parts[i].Name < parts[j].Name
		})
	}
	out := res.OutputFiles[0].Contents
	m := exportLine.FindSubmatchIndex(out)
	if m == nil {
		return nil, nil, fmt.Errorf("render/cloudfront: bundle %s: no handler export in esbuild's output", file)
	}
	name := string(out[m[2]:m[3]])
	js := append([]byte{}, out[:m[0]]...)
	if name != "handler" {
		// Minified: the handler was renamed. When its short name is nowhere else in the code (the export
		// was its only use), the declaration takes the name back; else a function of that name calls it.
		if renamed, ok := renameHandler(js, name); ok {
			js = renamed
		} else {
			js = append(js, fmt.Sprintf("\nfunction handler(e){return %s(e)}", name)...)
		}
	}
	return append(js, '\n'), parts, nil
}

// renameHandler renames the top-level declaration "function name(" (async or not) of minified code js to
// handler, on a line of its own, when that is the only place the identifier name occurs at all (in code,
// strings or property names alike: anything else, and the code is left as it is) and handler occurs
// nowhere.
func renameHandler(js []byte, name string) ([]byte, bool) {
	word := regexp.MustCompile(`(^|[^\w$])` + regexp.QuoteMeta(name) + `($|[^\w$])`)
	decl := regexp.MustCompile(`(^|[;}\n])((?:async )?function )` + regexp.QuoteMeta(name) + `\(`)
	m := decl.FindAllSubmatchIndex(js, 2)
	if len(m) != 1 || len(word.FindAllIndex(js, 2)) != 1 || regexp.MustCompile(`\bhandler\b`).Match(js) {
		return nil, false
	}
	var out []byte
	out = append(out, js[:m[0][3]]...)
	if m[0][3] > 0 && js[m[0][3]-1] != '\n' {
		out = append(out, '\n')
	}
	out = append(out, js[m[0][4]:m[0][5]]...)
	out = append(out, "handler("...)
	return append(out, js[m[0][1]:]...), true
}
