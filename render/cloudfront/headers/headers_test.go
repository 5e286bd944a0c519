package headers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render/cloudfront/headers"
)

// TestPolicy: the artifact is the API's ResponseHeadersPolicyConfig shape (it unmarshals into the SDK's
// type with every value), Apply writes what the reference gateway sends, and no tls.hsts is no policy.
func TestPolicy(t *testing.T) {
	g := &ir.Gateway{HSTS: &ir.HSTS{MaxAge: 63072000, IncludeSubdomains: true, Preload: true}}
	a, ok, err := headers.Render(g, "cloudfront")
	if err != nil || !ok || a.Path != headers.File {
		t.Fatalf("Render: %+v %v %v", a, ok, err)
	}
	var cfg types.ResponseHeadersPolicyConfig
	if err := json.Unmarshal(a.Data, &cfg); err != nil {
		t.Fatal(err)
	}
	sts := cfg.SecurityHeadersConfig.StrictTransportSecurity
	if sts == nil || *sts.AccessControlMaxAgeSec != 63072000 || !*sts.IncludeSubdomains || !*sts.Preload || !*sts.Override {
		t.Fatalf("the SDK reads %s as %+v", a.Data, sts)
	}
	p, err := headers.Parse(a.Data)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Strict-Transport-Security": {"max-age=0"}}
	p.Apply(h)
	if got, want := h.Values("Strict-Transport-Security"), []string{g.HSTS.Header()}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Apply: %q, want %q (the origin's replaced)", got, want)
	}
	if _, ok, err := headers.Render(&ir.Gateway{}, "cloudfront"); ok || err != nil {
		t.Errorf("a gateway without tls.hsts renders a policy (%v, %v)", ok, err)
	}
	if _, _, err := headers.Render(&ir.Gateway{HSTS: &ir.HSTS{MaxAge: 1 << 31}}, "cloudfront"); err == nil || !strings.Contains(err.Error(), "max_age") {
		t.Errorf("a max_age over the API's int32: %v", err)
	}
}
