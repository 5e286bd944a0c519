package cloudfront

import (
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
	"github.com/edgegw/edgegw/render/cloudfront/waf"
)

// WAFFile is the waf-rate-limit companion's artifact: the AWS WAF rules that enforce the gateway's rate
// limits (render/cloudfront/waf).
const WAFFile = waf.File

// functionLimited reports whether the function itself must refuse r's requests for a rate limit: the route
// has one and no WAF rule enforces it (the manifest does not list the waf-rate-limit companion), so the
// function fails closed rather than let the route go unlimited.
func functionLimited(g *ir.Gateway, r ir.Route) bool { return r.RateLimit != "" && !waf.Enabled(g) }

// wafArtifacts are the companion's artifacts: waf.json when the manifest lists the companion and a route
// is rate limited, else none.
func wafArtifacts(g *ir.Gateway) ([]render.Artifact, error) {
	a, err := waf.Artifact(g, Name, waf.Options{})
	if err != nil || a == nil {
		return nil, err
	}
	return []render.Artifact{*a}, nil
}

// wafEnabled reports whether an AWS WAF rule enforces the gateway's rate limits (the waf-rate-limit
// companion), so the function or the Lambda@Edge handler lets rate-limited routes through.
func wafEnabled(g *ir.Gateway) bool { return waf.Enabled(g) }
