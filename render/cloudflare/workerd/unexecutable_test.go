package workerd

import (
	"strings"
	"testing"

	"github.com/edgegw/edgegw/gateway/testrun/conformance"
	"github.com/edgegw/edgegw/manifest/ir"
)

// TestUnexecutableRawDotSegments: a case is declared unexecutable on workerd only when resolving its raw
// dot segments first changes what the shared normalizer decides, and the reason says what the Worker sees.
// It needs no runtime: TestPathsTSVInWorkerd checks the declaration against workerd itself.
func TestUnexecutableRawDotSegments(t *testing.T) {
	for _, c := range []struct {
		target string
		want   string // a part of the reason; "" means executable
	}{
		{"/../admin", `sees "/admin" and cannot refuse it as the reference does (reject "/../admin": above the root)`},
		{"/public/../../admin", `sees "/admin"`},
		{"/a/%2e%2e/../b", `sees "/a/b" and cannot refuse it`},                                  // encoded and raw mixed, above the root
		{"/a/b/%2e%2e/../c", `sees "/a/b/c", which does not normalize to the reference's "/c"`}, // mixed, inside the root
		{"/p/x/../q/y", ""},             // resolved as the normalizer resolves it
		{"/api/a/../b//c", ""},          // likewise, with an empty segment
		{"/a/./b/.", ""},                // raw "." segments
		{"/public/%2e%2e/%2e%2e/x", ""}, // encoded dot segments reach the Worker as sent
		{"/p/a?x=/../b", ""},            // dots in the query are no segments
		{"/..a/b..", ""},                // dots inside a segment
	} {
		got := (&Engine{}).Unexecutable(nil, ir.TestCase{Request: ir.TestRequest{URL: "https://api.example.com/", Target: c.target}})
		switch {
		case c.want == "" && got != "":
			t.Errorf("%q declared unexecutable: %s", c.target, got)
		case c.want != "" && !strings.Contains(got, c.want):
			t.Errorf("%q: reason %q, want it to hold %q", c.target, got, c.want)
		}
	}
	// A raw target written in the URL counts too.
	if (&Engine{}).Unexecutable(nil, ir.TestCase{Request: ir.TestRequest{URL: "https://api.example.com/../admin"}}) == "" {
		t.Error("a raw .. in the URL's path above the root is not declared")
	}
}

// TestUnexecutableInTheCorpus: of the conformance corpus exactly the paths.tsv rows with a raw ".." above the
// root, each on its two hosts, are declared; every other case runs on workerd.
func TestUnexecutableInTheCorpus(t *testing.T) {
	ms, _, err := conformance.Load(conformance.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, m := range ms {
		for _, tc := range m.Cases {
			if why := (&Engine{}).Unexecutable(m.Gateway, tc); why != "" {
				declared = append(declared, tc.Request.Target)
			}
		}
	}
	want := []string{"/../admin", "/../admin", "/public/../../admin", "/public/../../admin"}
	if strings.Join(declared, " ") != strings.Join(want, " ") {
		t.Errorf("declared unexecutable: %q, want %q", declared, want)
	}
}
