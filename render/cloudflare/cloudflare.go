// Package cloudflare renders the IR as one ES-module Cloudflare Worker (`export default { fetch }`), its
// upload metadata and a wrangler.toml beside it.
//
// The Worker is the shared JavaScript runtime (render/jsruntime), the tables generated from the IR and the
// Workers glue (glue.js), bundled by esbuild's Go API, which also checks the syntax at render time. Exact
// sliding-window limits and breaker state live in one Durable Object class (EdgegwState); secrets are
// bindings by name, never values. The package is pure: the same IR gives the same bytes. It must not talk to
// Cloudflare: deploying is providers/cloudflare's job.
package cloudflare

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
	"github.com/edgegw/edgegw/render/jsruntime"
)

// Name is the target name of this renderer.
const Name = "cloudflare"

// Artifact paths, relative to the target's folder.
const (
	WorkerFile   = "worker.js"
	MetadataFile = "metadata.json"
	WranglerFile = "wrangler.toml"
)

// The Durable Object that holds rate-limit windows and breaker state, and its binding name.
const (
	DurableObjectClass   = "EdgegwState"
	DurableObjectBinding = "EDGEGW_STATE"
	// MigrationTag is the tag of the migration that creates DurableObjectClass, on a script's first deploy.
	MigrationTag = "v1"
)

// DefaultCompatibilityDate is used when the manifest's cloudflare target names none. Durable Object RPC,
// which the glue uses, needs 2024-04-03 or later.
const DefaultCompatibilityDate = "2024-09-23"

//go:embed glue.js
var glue string

// verifyModule is the Workers bearer-token verification (edgegw-workers/verify.js), imported by the glue.
//
//go:embed verify.js
var verifyModule string

// Renderer renders the Worker.
type Renderer struct{}

var _ render.Renderer = Renderer{}

func init() { render.Register(Renderer{}) }

// Name implements render.Renderer.
func (Renderer) Name() string { return Name }

// Render implements render.Renderer: the production Worker.
func (Renderer) Render(g *ir.Gateway) ([]render.Artifact, error) { return RenderWith(g, Options{}) }

// Options change what RenderWith produces. The zero value is the production build.
type Options struct {
	// Test builds the Worker for the test engine: it reads the clock and the client's scheme from test
	// request headers (x-edgegw-test-now, x-edgegw-test-scheme) and reports its decision in a response
	// header (x-edgegw-test-decision). A production build has none of that.
	Test bool
	// OriginURLs replace origin URLs by origin name (loopback origins in tests).
	OriginURLs map[string]string
}

// Metadata is the upload metadata of the Worker (the Workers script upload API's "metadata" part). Durable
// Object migrations are not in it: they are sent once, on the script's first deploy (MigrationTag).
type Metadata struct {
	MainModule         string    `json:"main_module"`
	CompatibilityDate  string    `json:"compatibility_date"`
	Bindings           []Binding `json:"bindings"`
	KeepBindings       []string  `json:"keep_bindings,omitempty"`
	DurableObjectClass string    `json:"-"`
}

// Binding is one binding of the Worker. Secret bindings carry only a name: their values go through the
// secrets API.
type Binding struct {
	Type      string `json:"type"`
	Name      string `json:"name"`
	ClassName string `json:"class_name,omitempty"`
}

// RenderWith renders the Worker, its metadata and wrangler.toml.
func RenderWith(g *ir.Gateway, opts Options) ([]render.Artifact, error) {
	if g == nil {
		return nil, fmt.Errorf("render/cloudflare: no gateway IR")
	}
	for name := range opts.OriginURLs {
		if g.Origin(name) == nil {
			return nil, fmt.Errorf("render/cloudflare: origin override %q: no such origin", name)
		}
	}
	t, routes, err := buildTables(g, opts.OriginURLs)
	if err != nil {
		return nil, err
	}
	src, err := entrySource(t, routes, g, opts.Test)
	if err != nil {
		return nil, err
	}
	js, err := bundle(src)
	if err != nil {
		return nil, err
	}
	md := metadata(g)
	mdJSON, err := json.MarshalIndent(md, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render/cloudflare: metadata: %w", err)
	}
	return []render.Artifact{
		{Target: Name, Path: WorkerFile, MediaType: "application/javascript+module", Data: js},
		{Target: Name, Path: MetadataFile, MediaType: "application/json", Data: append(mdJSON, '\n')},
		{Target: Name, Path: WranglerFile, MediaType: "application/toml", Data: wrangler(g, md)},
	}, nil
}

// SecretBinding is the name of the secret binding that holds an auth policy's HMAC secret: the variable
// its {env: NAME} reference names, or, for a secret the IR holds as a value (test corpora do), a name
// derived from the policy's (EDGEGW_SECRET_<POLICY>). The value never enters the Worker's code: it is a
// Workers secret (a miniflare binding in tests). "" when the policy has no secret.
func SecretBinding(p ir.AuthPolicy) string {
	if p.JWT == nil || p.JWT.Secret == nil {
		return ""
	}
	if p.JWT.Secret.Env != "" {
		return p.JWT.Secret.Env
	}
	return "EDGEGW_SECRET_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(p.Name))
}

// SecretNames lists the secret bindings the Worker reads, sorted: the HMAC secrets of auth policies.
func SecretNames(g *ir.Gateway) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range g.AuthPolicies {
		if n := SecretBinding(p); n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func metadata(g *ir.Gateway) Metadata {
	_, _, date := settings(g)
	md := Metadata{MainModule: WorkerFile, CompatibilityDate: date,
		Bindings: []Binding{{Type: "durable_object_namespace", Name: DurableObjectBinding, ClassName: DurableObjectClass}}}
	secrets := SecretNames(g)
	for _, s := range secrets {
		md.Bindings = append(md.Bindings, Binding{Type: "secret_text", Name: s})
	}
	if len(secrets) > 0 {
		md.KeepBindings = []string{"secret_text"}
	}
	return md
}

func tomlString(s string) string { return strconv.Quote(s) }

func wrangler(g *ir.Gateway, md Metadata) []byte {
	var b bytes.Buffer
	script, zone, _ := settings(g)
	fmt.Fprintf(&b, "# Rendered by edgegw from the manifest of %s; `wrangler deploy` from this folder deploys it by hand.\n", g.Name)
	fmt.Fprintf(&b, "name = %s\nmain = %s\ncompatibility_date = %s\nno_bundle = true\n", tomlString(script), tomlString(md.MainModule), tomlString(md.CompatibilityDate))
	if zone != "" && len(g.Domains) > 0 {
		b.WriteString("routes = [\n")
		for _, d := range g.Domains {
			fmt.Fprintf(&b, "  { pattern = %s, zone_name = %s },\n", tomlString(d.Host+"/*"), tomlString(zone))
		}
		b.WriteString("]\n")
	}
	fmt.Fprintf(&b, "\n[[durable_objects.bindings]]\nname = %s\nclass_name = %s\n", tomlString(DurableObjectBinding), tomlString(DurableObjectClass))
	fmt.Fprintf(&b, "\n[[migrations]]\ntag = %s\nnew_sqlite_classes = [%s]\n", tomlString(MigrationTag), tomlString(DurableObjectClass))
	if s := SecretNames(g); len(s) > 0 {
		b.WriteString("\n# Secrets, set with `wrangler secret put NAME` (never written here):\n")
		for _, n := range s {
			fmt.Fprintf(&b, "#   %s\n", n)
		}
	}
	return b.Bytes()
}

// entrySource is the module esbuild bundles: the tables, one statement per route commented with its
// manifest name (legal comments, "//!", are the ones esbuild keeps), then the glue.
func entrySource(t *tables, routes []routeT, g *ir.Gateway, test bool) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "//! Gateway %q, rendered by edgegw for Cloudflare Workers. Generated: edit the manifest, not this file.\n", g.Name)
	tj, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return "", fmt.Errorf("render/cloudflare: tables: %w", err)
	}
	fmt.Fprintf(&b, "const TEST_MODE = %t;\n", test)
	fmt.Fprintf(&b, "const GATEWAY = %s;\n", tj)
	names := make([]string, 0, len(routes))
	for i, r := range routes {
		rj, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return "", fmt.Errorf("render/cloudflare: route %q: %w", r.Name, err)
		}
		desc := r.Kind
		if r.Path != "" {
			desc += " " + r.Path
		}
		// The manifest's route name only: positions and manifest indexes are not part of the IR's deployed
		// form, so a moved line never changes the Worker.
		fmt.Fprintf(&b, "//! route %q (%s)\n", r.Name, strings.ReplaceAll(desc, "\n", " "))
		v := fmt.Sprintf("route_%d", i)
		fmt.Fprintf(&b, "const %s = %s;\n", v, rj)
		names = append(names, v)
	}
	fmt.Fprintf(&b, "//! Routes in IR order: the first that matches wins.\nconst ROUTES = [%s];\n", strings.Join(names, ", "))
	matcher, strategy, err := jsruntime.GenerateMatcher(matchRoutes(routes), jsruntime.MatcherOptions{})
	if err != nil {
		return "", fmt.Errorf("render/cloudflare: %w", err)
	}
	// matchRoute(host, method, path, headers) returns the position in ROUTES of the route that wins, or -1.
	fmt.Fprintf(&b, "//! Route matcher (%s), generated from ROUTES.\n%s", strategy, matcher)
	b.WriteString(glue)
	return b.String(), nil
}

// matchRoutes is the routes as the matcher generator reads them.
func matchRoutes(routes []routeT) []jsruntime.MatchRoute {
	out := make([]jsruntime.MatchRoute, len(routes))
	for i, r := range routes {
		out[i] = jsruntime.MatchRoute{Name: r.Name, Kind: r.Kind, Path: r.Path, Segments: r.Segments, Methods: r.Methods, Hosts: r.Hosts, Headers: r.Headers}
	}
	return out
}

// bundle runs esbuild over the entry source, resolving edgegw-runtime/* to the embedded library.
func bundle(src string) ([]byte, error) {
	plugin := api.Plugin{Name: "edgegw-runtime", Setup: func(pb api.PluginBuild) {
		jsruntime.Resolve(pb)
		pb.OnResolve(api.OnResolveOptions{Filter: `^edgegw-workers/verify\.js$`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			return api.OnResolveResult{Path: "verify.js", Namespace: "workers"}, nil
		})
		pb.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "workers"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			return api.OnLoadResult{Contents: &verifyModule, Loader: api.LoaderJS}, nil
		})
	}}
	res := api.Build(api.BuildOptions{
		Stdin:         &api.StdinOptions{Contents: src, Sourcefile: "worker.js", Loader: api.LoaderJS},
		Bundle:        true,
		Format:        api.FormatESModule,
		Platform:      api.PlatformNeutral,
		Target:        api.ES2022,
		External:      []string{"cloudflare:*"},
		Charset:       api.CharsetUTF8,
		LegalComments: api.LegalCommentsInline,
		LogLevel:      api.LogLevelSilent,
		Write:         false,
		Outfile:       WorkerFile,
		Plugins:       []api.Plugin{plugin},
	})
	if len(res.Errors) > 0 {
		return nil, fmt.Errorf("render/cloudflare: bundle the Worker: %s", jsruntime.BuildErrors(res.Errors))
	}
	if len(res.OutputFiles) != 1 {
		return nil, fmt.Errorf("render/cloudflare: bundle the Worker: %d output files, want 1", len(res.OutputFiles))
	}
	return res.OutputFiles[0].Contents, nil
}
