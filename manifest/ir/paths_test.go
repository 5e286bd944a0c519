package ir_test

import (
	"testing"

	"github.com/edgegw/edgegw/manifest/ir"
)

func TestPrefixMatchesOnSegmentBoundaries(t *testing.T) {
	for _, c := range []struct {
		prefix, path string
		want         bool
	}{
		{"/v1", "/v1", true}, {"/v1", "/v1/", true}, {"/v1", "/v1/users", true},
		{"/v1", "/v10", false}, {"/v1", "/v1x", false}, {"/v1/", "/v1/a", true}, {"/v1/", "/v1", false},
		{"/", "/anything", true},
	} {
		if got := ir.PrefixMatches(c.prefix, c.path); got != c.want {
			t.Errorf("PrefixMatches(%q, %q) = %v", c.prefix, c.path, got)
		}
	}
}

func TestTemplateRewriteAndItsInverse(t *testing.T) {
	tmpl := ir.Route{Match: ir.Match{Kind: ir.PathTemplate, Path: "/users/{id}/orders/{order}"},
		Rewrite: &ir.Rewrite{Path: "/internal/{order}/{id}"}}
	vars, ok := tmpl.Match.MatchTemplate([]string{"users", "42", "orders", "7"})
	if !ok || vars["id"] != "42" || vars["order"] != "7" {
		t.Fatalf("MatchTemplate = %v, %v", vars, ok)
	}
	for _, segs := range [][]string{{"users", "", "orders", "7"}, {"users", "42", "order", "7"}, {"users", "42", "orders"}} {
		if _, ok := tmpl.Match.MatchTemplate(segs); ok {
			t.Errorf("MatchTemplate(%q) matched", segs)
		}
	}
	if got := tmpl.UpstreamPath("/users/42/orders/7", vars); got != "/internal/7/42" {
		t.Errorf("UpstreamPath = %q", got)
	}
	if got, ok := tmpl.PublicPath("/internal/7/42", "/users/42/orders/7", "/internal/7/42"); !ok || got != "/users/42/orders/7" {
		t.Errorf("PublicPath of the sent path = %q, %v", got, ok)
	}
	if _, ok := tmpl.PublicPath("/elsewhere", "/users/42/orders/7", "/internal/7/42"); ok {
		t.Error("PublicPath mapped a path the rewrite did not produce")
	}

	prefix := ir.Route{Match: ir.Match{Kind: ir.PathPrefix, Path: "/v2"}, Rewrite: &ir.Rewrite{Prefix: "/internal/v2/"}}
	if got := prefix.UpstreamPath("/v2/users", nil); got != "/internal/v2/users" {
		t.Errorf("prefix UpstreamPath = %q", got)
	}
	if got := prefix.UpstreamPath("/v2", nil); got != "/internal/v2/" {
		t.Errorf("prefix UpstreamPath of the prefix itself = %q", got)
	}
	if got, ok := prefix.PublicPath("/internal/v2/users/9", "", ""); !ok || got != "/v2/users/9" {
		t.Errorf("prefix PublicPath = %q, %v", got, ok)
	}
	if _, ok := prefix.PublicPath("/internal/v20", "", ""); ok {
		t.Error("PublicPath crossed a segment boundary")
	}
}
