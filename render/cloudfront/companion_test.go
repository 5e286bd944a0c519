package cloudfront_test

import (
	"testing"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render/cloudfront"
	"github.com/edgegw/edgegw/render/cloudfront/lambdaedge"
)

// With the lambda-edge-auth companion and an ES256 policy the target renders the Lambda@Edge handler and no
// CloudFront Function (CloudFront runs no CloudFront Function beside Lambda@Edge on viewer events).
func TestCompanionRendersTheHandlerOnly(t *testing.T) {
	g := &ir.Gateway{
		Name:         "gw",
		Domains:      []ir.Domain{{Host: "api.example.com", Zone: "example.com"}},
		Origins:      []ir.Origin{{Name: "app", URL: "https://app.example.com"}},
		Pools:        []ir.Pool{{Name: "app", Origins: []string{"app"}}},
		AuthPolicies: []ir.AuthPolicy{{Name: "bearer", JWT: &ir.JWT{Algorithms: []string{"ES256"}, JWKS: &ir.JWKS{URL: "https://auth.example.com/jwks.json"}}}},
		Routes:       []ir.Route{{Name: "api", Match: ir.Match{Kind: ir.PathPrefix, Path: "/api"}, Pool: "app", Auth: "bearer"}},
		Targets:      ir.Targets{{Name: "cloudfront", Companions: []string{lambdaedge.Companion}}},
	}
	arts, err := cloudfront.Renderer{}.Render(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(arts) != 1 || arts[0].Path != lambdaedge.File || arts[0].Target != cloudfront.Name {
		t.Fatalf("artifacts: %v", arts)
	}
	// Without the companion the same gateway is the functions' (which fail such a token closed).
	g.Targets = nil
	if arts, err := cloudfront.RenderWith(g, cloudfront.Options{IgnoreSizeLimit: true}); err != nil || len(arts) != 2 || arts[0].Path != cloudfront.RequestFile {
		t.Fatalf("without the companion: %v, %v", arts, err)
	}
}
