// Package headers renders the distribution's response headers policy: the manifest's HSTS as a CloudFront
// response headers policy, which the deploy attaches to every cache behavior. CloudFront runs no
// viewer-response function (nor a Lambda@Edge viewer-response trigger) on an origin's answer of 400 or
// more; a response headers policy modifies the headers of every response CloudFront serves from the cache
// or forwards from the origin (AWS, "Add or remove HTTP headers in CloudFront responses with a policy"), so
// it is what puts HSTS on those answers. AWS does not document that it applies to the distribution's own
// answers (a 502 or 504 for an unreachable or timed-out origin), and the target's capabilities say so.
//
// The artifact is the CloudFront API's ResponseHeadersPolicyConfig without Name and Comment, which the
// deploy sets:
//
//	{"SecurityHeadersConfig":{"StrictTransportSecurity":{"AccessControlMaxAgeSec":31536000,"IncludeSubdomains":true,"Preload":true,"Override":true}}}
//
// The package is pure and talks to no AWS API.
package headers

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
)

// File is the artifact path, relative to the target's folder.
const File = "response-headers-policy.json"

// Policy is the part of a ResponseHeadersPolicyConfig edgegw writes, spelled as the API spells it.
type Policy struct {
	SecurityHeadersConfig struct {
		StrictTransportSecurity *HSTS `json:"StrictTransportSecurity,omitempty"`
	} `json:"SecurityHeadersConfig"`
}

// HSTS is the policy's StrictTransportSecurity setting.
type HSTS struct {
	AccessControlMaxAgeSec int64 `json:"AccessControlMaxAgeSec"`
	IncludeSubdomains      bool  `json:"IncludeSubdomains"`
	Preload                bool  `json:"Preload"`
	// Override replaces the origin's own Strict-Transport-Security, as the reference gateway does.
	Override bool `json:"Override"`
}

// Render returns the policy artifact of g, or false when g sends no HSTS (then the deploy attaches no
// policy). target names the artifact's target.
func Render(g *ir.Gateway, target string) (render.Artifact, bool, error) {
	if g == nil || g.HSTS == nil {
		return render.Artifact{}, false, nil
	}
	if g.HSTS.MaxAge < 0 || g.HSTS.MaxAge > math.MaxInt32 {
		return render.Artifact{}, false, fmt.Errorf("render/%s: %s: tls.hsts max_age %d is outside what a CloudFront response headers policy takes (0 to %d seconds): lower it", target, g.SectionPos("tls.hsts"), g.HSTS.MaxAge, math.MaxInt32)
	}
	var p Policy
	p.SecurityHeadersConfig.StrictTransportSecurity = &HSTS{AccessControlMaxAgeSec: g.HSTS.MaxAge,
		IncludeSubdomains: g.HSTS.IncludeSubdomains, Preload: g.HSTS.Preload, Override: true}
	data, err := json.Marshal(p)
	if err != nil {
		return render.Artifact{}, false, err
	}
	return render.Artifact{Target: target, Path: File, MediaType: "application/json", Data: append(data, '\n')}, true, nil
}

// Parse reads an artifact written by Render.
func Parse(data []byte) (*Policy, error) {
	var p Policy
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", File, err)
	}
	return &p, nil
}

// Apply sets on h what CloudFront adds to a response the policy covers (one served from the cache or
// forwarded from the origin): the Strict-Transport-Security header CloudFront writes for the setting
// (spelled as the reference spells the manifest's), replacing the origin's when Override is set.
// A test runtime uses it to play the distribution.
func (p *Policy) Apply(h http.Header) {
	s := p.SecurityHeadersConfig.StrictTransportSecurity
	if s == nil || (!s.Override && h.Get("Strict-Transport-Security") != "") {
		return
	}
	h.Set("Strict-Transport-Security", ir.HSTS{MaxAge: s.AccessControlMaxAgeSec, IncludeSubdomains: s.IncludeSubdomains, Preload: s.Preload}.Header())
}
