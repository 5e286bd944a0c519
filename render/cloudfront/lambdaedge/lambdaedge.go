// Package lambdaedge renders the lambda-edge-auth companion of the cloudfront target: one Lambda@Edge
// handler (Node.js 20, CommonJS `exports.handler`) that runs the whole gateway for the distribution on the
// viewer-request, origin-request and viewer-response events.
//
// CloudFront does not combine CloudFront Functions and Lambda@Edge on viewer events of a cache behavior
// (viewer request and viewer response; AWS, "Restrictions on all edge functions"), and a Lambda@Edge
// viewer-request event cannot pick the origin. So with the companion there is no CloudFront Function: the
// handler normalizes, routes, verifies bearer tokens with WebCrypto (the Workers verification, verify.js,
// over the shared runtime's JWS checks), answers edge errors, and names the route's origin for its own
// origin-request event, which points the request there.
//
// The handler is the shared JavaScript runtime (render/jsruntime), the tables the Worker renderer generates
// from the IR and this package's glue, bundled by esbuild's Go API. The package is pure: the same IR gives
// the same bytes. It must not talk to AWS.
package lambdaedge

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
	"github.com/edgegw/edgegw/render/cloudflare"
	"github.com/edgegw/edgegw/render/jsruntime"
)

// Companion is the companion's name in targets.cloudfront.companions.
const Companion = "lambda-edge-auth"

// File is the handler's artifact path, relative to the target's folder.
const File = "lambda-edge-auth.js"

// Events are the CloudFront event types the handler is associated with, in the distribution's order.
var Events = []string{"viewer-request", "origin-request", "viewer-response"}

// Target is the target whose companion this is.
const Target = "cloudfront"

//go:embed handler.js
var glue string

// Options change what Render produces. The zero value is the production build.
type Options struct {
	// Test builds the handler for the test engine: it reads the clock and the client's scheme from test
	// request headers and reports its decision in x-edgegw-test-decision.
	Test bool
	// OriginURLs replace origin URLs by origin name (loopback origins in tests).
	OriginURLs map[string]string
	// LimitsAtWAF says an AWS WAF rule in front of the distribution enforces the rate limits (the
	// waf-rate-limit companion): the handler lets rate-limited routes through. Otherwise it refuses them
	// with RATE_LIMIT (fail closed), never unlimited.
	LimitsAtWAF bool
}

// Needed reports whether the gateway renders as the companion: the manifest lists it for the cloudfront
// target and an auth policy allows an algorithm a CloudFront Function cannot verify (anything but HS256).
// An HS256-only gateway stays in CloudFront Functions.
func Needed(g *ir.Gateway) bool {
	t, ok := g.Targets.Lookup(Target)
	if !ok || !slices.Contains(t.Companions, Companion) {
		return false
	}
	for _, p := range g.AuthPolicies {
		if p.JWT == nil {
			continue
		}
		for _, a := range p.JWT.Algorithms {
			if a != "HS256" {
				return true
			}
		}
	}
	return false
}

// Render renders the handler.
func Render(g *ir.Gateway, opts Options) ([]render.Artifact, error) {
	if g == nil {
		return nil, fmt.Errorf("render/cloudfront/lambdaedge: no gateway IR")
	}
	if err := refuse(g); err != nil {
		return nil, err
	}
	gen, err := cloudflare.GeneratedSource(g, opts.OriginURLs, opts.Test)
	if err != nil {
		return nil, err
	}
	head := fmt.Sprintf("// Gateway %q, rendered by edgegw for Lambda@Edge (Node.js 20; viewer-request, origin-request, viewer-response). Generated: edit the manifest, not this file.", g.Name)
	js, err := bundle(gen+fmt.Sprintf("const LIMITS_AT_WAF = %t;\n", opts.LimitsAtWAF)+glue, head)
	if err != nil {
		return nil, err
	}
	return []render.Artifact{{Target: Target, Path: File, MediaType: "application/javascript", Data: js}}, nil
}

// refuse refuses, at the route's line, what the handler cannot do: an HMAC secret (Lambda@Edge has no
// environment variables, and edgegw writes no secret into code), and a pool of more than one origin (a
// Lambda@Edge function cannot choose a CloudFront origin group, and picking one origin would drop the
// failover the manifest asks for).
func refuse(g *ir.Gateway) error {
	for _, r := range g.Routes {
		if p := g.AuthPolicy(r.Auth); p != nil && p.JWT != nil && p.JWT.Secret != nil {
			return &render.RouteError{Route: r.Name, Err: fmt.Errorf("render/cloudfront/lambdaedge: auth policy %q has an HMAC secret, and Lambda@Edge has no environment variables to hold it: use keys or a JWKS for this policy, or a separate HS256-only gateway without the %s companion", p.Name, Companion)}
		}
		if p := g.Pool(r.Pool); p != nil && len(p.Origins) > 1 {
			return &render.RouteError{Route: r.Name, Err: fmt.Errorf("render/cloudfront/lambdaedge: pool %q has %d origins, and a Lambda@Edge function cannot choose a CloudFront origin group: with the %s companion give this route a one-origin pool", p.Name, len(p.Origins), Companion)}
		}
	}
	return nil
}

// bundle runs esbuild over the entry source for Node.js 20 as CommonJS, resolving edgegw-runtime/* to the
// embedded library and edgegw-workers/verify.js to the Workers verification.
func bundle(src, banner string) ([]byte, error) {
	verify := cloudflare.VerifyModule()
	plugin := api.Plugin{Name: "edgegw-runtime", Setup: func(pb api.PluginBuild) {
		jsruntime.Resolve(pb)
		pb.OnResolve(api.OnResolveOptions{Filter: `^edgegw-workers/verify\.js$`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			return api.OnResolveResult{Path: "verify.js", Namespace: "verify"}, nil
		})
		pb.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "verify"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			return api.OnLoadResult{Contents: &verify, Loader: api.LoaderJS}, nil
		})
	}}
	res := api.Build(api.BuildOptions{
		Stdin:         &api.StdinOptions{Contents: src, Sourcefile: File, Loader: api.LoaderJS},
		Bundle:        true,
		Format:        api.FormatCommonJS,
		Platform:      api.PlatformNode,
		Target:        api.ES2022,
		Engines:       []api.Engine{{Name: api.EngineNode, Version: "20"}},
		Charset:       api.CharsetUTF8,
		LegalComments: api.LegalCommentsInline,
		Banner:        map[string]string{"js": banner},
		LogLevel:      api.LogLevelSilent,
		Write:         false,
		Outfile:       File,
		Plugins:       []api.Plugin{plugin},
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
		return nil, fmt.Errorf("render/cloudfront/lambdaedge: bundle %s: %s", File, strings.Join(msgs, "; "))
	}
	if len(res.OutputFiles) != 1 {
		return nil, fmt.Errorf("render/cloudfront/lambdaedge: bundle %s: %d output files, want 1", File, len(res.OutputFiles))
	}
	return res.OutputFiles[0].Contents, nil
}
