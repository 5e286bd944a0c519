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
	_ "embed"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
	"github.com/edgegw/edgegw/render/cloudfront/lambdaedge"
	"github.com/edgegw/edgegw/render/jsruntime"
)

// Name is the target name of this renderer.
const Name = "cloudfront"

// Artifact paths, relative to the target's folder.
const (
	RequestFile  = "viewer-request.js"
	ResponseFile = "viewer-response.js"
)

// MaxFunctionBytes is CloudFront Functions' limit on a function's code.
const MaxFunctionBytes = 10240

// KVSName is the placeholder the function names its KeyValueStore by until the deploy associates the
// distribution's store (its ARN is written in at deploy time).
const KVSName = "edgegw"

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
	Size     int // minified
	Plain    int
	Routes   int
	Position string // where in the generated code the limit falls (line:col of byte MaxFunctionBytes)
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("render/cloudfront: %s is %d bytes minified (%d plain) with %d routes, over CloudFront Functions' %d-byte limit (byte %d is at %s): most of a function is the shared runtime (an auth policy's JWS checks alone are about 10,000 bytes), so leave out features for this target, or use fewer or shorter routes",
		e.File, e.Size, e.Plain, e.Routes, MaxFunctionBytes, MaxFunctionBytes, e.Position)
}

// Sizes are the byte sizes of the rendered production functions, for plan's budget report.
type Sizes struct {
	Request, Response int
	Minified          bool
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
	if err := refuseUnbuilt(g); err != nil {
		return nil, sz, err
	}
	if lambdaedge.Needed(g) {
		// The lambda-edge-auth companion runs the whole gateway: no CloudFront Function beside it.
		arts, err := lambdaedge.Render(g, lambdaedge.Options{Test: opts.Test, OriginURLs: opts.OriginURLs})
		return arts, sz, err
	}
	t, routes, err := buildTables(g, opts.OriginURLs)
	if err != nil {
		return nil, sz, err
	}
	testHead, err := tableSource(t, routes, g)
	if err != nil {
		return nil, sz, err
	}
	// Names serve only the test build's decision header: the production build leaves them out (the route
	// comments of a plain build still name every route).
	t.Name = ""
	for k, p := range t.Pools {
		p.Name = ""
		t.Pools[k] = p
	}
	for k, p := range t.Policies {
		p.Name = ""
		t.Policies[k] = p
	}
	named := make([]routeT, len(routes))
	copy(named, routes)
	for i := range routes {
		routes[i].Name = ""
	}
	head, err := tableSourceNamed(t, routes, named, g)
	if err != nil {
		return nil, sz, err
	}
	// The limit applies to the production build; a test build (a few hundred bytes of test-mode code more)
	// is checked through it and minified when it is.
	prodReq, minReq, err := function(RequestFile, fmt.Sprintf("const KVS_ID = %q;\n", KVSName)+head+prelude+requestGlue, len(routes), defines(g, false), opts, nil)
	if err != nil {
		return nil, sz, err
	}
	prodResp, minResp, err := function(ResponseFile, head+prelude+responseGlue, len(routes), defines(g, false), opts, nil)
	if err != nil {
		return nil, sz, err
	}
	reqJS, respJS := prodReq, prodResp
	if opts.Test {
		if reqJS, _, err = function(RequestFile, fmt.Sprintf("const KVS_ID = %q;\n", KVSName)+testHead+prelude+requestGlue, len(routes), defines(g, true), opts, &minReq); err != nil {
			return nil, sz, err
		}
		if respJS, _, err = function(ResponseFile, testHead+prelude+responseGlue, len(routes), defines(g, true), opts, &minResp); err != nil {
			return nil, sz, err
		}
	}
	sz = Sizes{Request: len(prodReq), Response: len(prodResp), Minified: minReq || minResp}
	sz = Sizes{Request: len(reqJS), Response: len(respJS), Minified: minReq || minResp}
	return []render.Artifact{
		{Target: Name, Path: RequestFile, MediaType: "application/javascript", Data: reqJS},
		{Target: Name, Path: ResponseFile, MediaType: "application/javascript", Data: respJS},
	}, sz, nil
}

// refuseUnbuilt refuses, at the route's line, what validate lets through because the manifest lists a
// companion that edgegw does not render yet: a rate limit (waf-rate-limit). (A token the function cannot
// verify renders as the lambda-edge-auth companion, render/cloudfront/lambdaedge.) Without the companion validate refuses such a route, and the function fails it
// closed: a token it holds no key for is JWT_KEY, a rate-limited route answers RATE_LIMIT to every request.
// A breaker, which validate refuses too, is left out: the pool fails over as an origin group.
func refuseUnbuilt(g *ir.Gateway) error {
	for _, r := range g.Routes {
		t, _ := g.Targets.Lookup(Name)
		if r.RateLimit != "" && slices.Contains(t.Companions, "waf-rate-limit") {
			return &render.RouteError{Route: r.Name, Err: fmt.Errorf("render/cloudfront: rate limit %q: the waf-rate-limit companion (an AWS WAF rate-based rule) would enforce it, and edgegw does not render it yet: remove the limit for this target", r.RateLimit)}
		}
	}
	return nil
}

// defines are the build-time constants of the glue: test mode, and which features the gateway uses, so the
// bundle leaves out the runtime code of the others (the size limit is tight).
func defines(g *ir.Gateway, test bool) map[string]string {
	var auth, respond, redirect, failover, limited bool
	for _, r := range g.Routes {
		limited = limited || r.RateLimit != ""
		auth = auth || r.Auth != ""
		respond = respond || r.Respond != nil
		redirect = redirect || r.Redirect != nil
		if p := g.Pool(r.Pool); p != nil && len(p.Origins) > 1 {
			failover = true
		}
	}
	return map[string]string{"TEST_MODE": fmt.Sprint(test), "HAS_AUTH": fmt.Sprint(auth), "HAS_CORS": fmt.Sprint(g.CORS != nil),
		"HAS_RESPOND": fmt.Sprint(respond), "HAS_REDIRECT": fmt.Sprint(redirect), "HAS_FAILOVER": fmt.Sprint(failover), "HAS_LIMITED": fmt.Sprint(limited)}
}

// tableSource is the generated part of both functions: the tables, one statement per route commented with
// its manifest name (esbuild keeps legal comments, "//!", in a plain build and drops them when minifying).
func tableSource(t *tables, routes []routeT, g *ir.Gateway) (string, error) {
	return tableSourceNamed(t, routes, routes, g)
}

func tableSourceNamed(t *tables, routes, named []routeT, g *ir.Gateway) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "//! Gateway %q, rendered by edgegw for CloudFront Functions (cloudfront-js-2.0). Generated: edit the manifest, not this file.\n", g.Name)
	tj, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("render/cloudfront: tables: %w", err)
	}
	fmt.Fprintf(&b, "const GATEWAY = %s;\n", tj)
	names := make([]string, 0, len(routes))
	for i, r := range routes {
		rj, err := json.Marshal(r)
		if err != nil {
			return "", fmt.Errorf("render/cloudfront: route %q: %w", named[i].Name, err)
		}
		v := fmt.Sprintf("route_%d", i)
		fmt.Fprintf(&b, "//! route %q\n", named[i].Name)
		if r.Kind == string(ir.PathRegex) {
			re, _ := json.Marshal("^(?:" + r.Path + ")$")
			fmt.Fprintf(&b, "const %s = Object.assign(%s, { re: new RegExp(%s) });\n", v, rj, re)
		} else {
			fmt.Fprintf(&b, "const %s = %s;\n", v, rj)
		}
		names = append(names, v)
	}
	fmt.Fprintf(&b, "const ROUTES = [%s];\n", strings.Join(names, ", "))
	return b.String(), nil
}

const runtimePrefix = "edgegw-runtime/"

// function bundles one function: plain when it fits, else minified; over the limit either way is a
// *SizeError.
// With minified set (a test build), it minifies as the production build did and checks no size.
func function(file, src string, routes int, defs map[string]string, opts Options, minified *bool) ([]byte, bool, error) {
	noMinify := opts.NoMinify
	src += "\nexport { handler };\n"
	if minified != nil {
		b, err := bundle(file, src, defs, *minified)
		return b, *minified, err
	}
	plain, err := bundle(file, src, defs, false)
	if err != nil {
		return nil, false, err
	}
	if len(plain) <= MaxFunctionBytes || noMinify {
		if len(plain) > MaxFunctionBytes && !opts.IgnoreSizeLimit {
			return nil, false, &SizeError{File: file, Size: len(plain), Plain: len(plain), Routes: routes, Position: position(plain, MaxFunctionBytes)}
		}
		return plain, false, nil
	}
	min, err := bundle(file, src, defs, true)
	if err != nil {
		return nil, false, err
	}
	if len(min) > MaxFunctionBytes && !opts.IgnoreSizeLimit {
		return nil, true, &SizeError{File: file, Size: len(min), Plain: len(plain), Routes: routes, Position: position(min, MaxFunctionBytes)}
	}
	return min, true, nil
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
var exportLine = regexp.MustCompile(`(?s)\n?export\s*\{\s*(\w+)(?:\s+as\s+handler)?\s*\};?\s*$`)

// bundle runs esbuild over the entry source, resolving edgegw-runtime/* to the embedded library; cloudfront
// and crypto are cloudfront-js-2.0's own modules.
func bundle(file, src string, defs map[string]string, minify bool) ([]byte, error) {
	plugin := api.Plugin{Name: "edgegw-runtime", Setup: func(pb api.PluginBuild) {
		pb.OnResolve(api.OnResolveOptions{Filter: `^edgegw-runtime/`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			return api.OnResolveResult{Path: strings.TrimPrefix(a.Path, runtimePrefix), Namespace: "jsruntime"}, nil
		})
		pb.OnResolve(api.OnResolveOptions{Filter: `^\./`, Namespace: "jsruntime"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			return api.OnResolveResult{Path: path.Clean(path.Join(path.Dir(a.Importer), a.Path)), Namespace: "jsruntime"}, nil
		})
		pb.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "jsruntime"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			b, err := jsruntime.Files.ReadFile(a.Path)
			if err != nil {
				return api.OnLoadResult{}, fmt.Errorf("no runtime module %s", a.Path)
			}
			s := string(b)
			return api.OnLoadResult{Contents: &s, Loader: api.LoaderJS}, nil
		})
	}}
	legal := api.LegalCommentsInline
	if minify {
		legal = api.LegalCommentsNone
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
	})
	if len(res.Errors) > 0 {
		var msgs []string
		for _, m := range res.Errors {
			loc := ""
			if m.Location != nil {
				loc = fmt.Sprintf("%s:%d:%d: ", m.Location.File, m.Location.Line, m.Location.Column+1)
			}
			msgs = append(msgs, loc+m.Text)
		}
		return nil, fmt.Errorf("render/cloudfront: bundle %s: %s", file, strings.Join(msgs, "; "))
	}
	if len(res.OutputFiles) != 1 {
		return nil, fmt.Errorf("render/cloudfront: bundle %s: %d output files, want 1", file, len(res.OutputFiles))
	}
	out := res.OutputFiles[0].Contents
	m := exportLine.FindSubmatchIndex(out)
	if m == nil {
		return nil, fmt.Errorf("render/cloudfront: bundle %s: no handler export in esbuild's output", file)
	}
	name := string(out[m[2]:m[3]])
	js := append([]byte{}, out[:m[0]]...)
	if name != "handler" {
		// Minified: the handler was renamed; name it back at the top level.
		js = append(js, fmt.Sprintf("\nfunction handler(e){return %s(e)}", name)...)
	}
	return append(js, '\n'), nil
}
