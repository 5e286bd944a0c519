package gateway

import (
	"net/http"
	"testing"

	"github.com/edgegw/edgegw/manifest/ir"
)

// A regex route matches the whole path: "/admin" must not match "/public/admin" or "/admin/x".
func TestRegexMatchesWholePath(t *testing.T) {
	g := &ir.Gateway{
		Domains: []ir.Domain{{Host: "api.example.com", Zone: "example.com"}},
		Routes: []ir.Route{
			{Name: "admin", Match: ir.Match{Kind: ir.PathRegex, Path: "/admin"}, Respond: &ir.Respond{Status: 200}},
			{Name: "alt", Match: ir.Match{Kind: ir.PathRegex, Path: "/a|/b"}, Respond: &ir.Respond{Status: 200}},
		},
	}
	gw, err := New(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/admin": "admin", "/public/admin": "", "/admin/x": "", "/a": "alt", "/b": "alt", "/ab": ""} {
		r, _ := gw.routes.match("api.example.com", http.MethodGet, path, http.Header{})
		got := ""
		if r != nil {
			got = r.ir.Name
		}
		if got != want {
			t.Errorf("%s: route %q, want %q", path, got, want)
		}
	}
}
