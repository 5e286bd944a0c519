package manifest_test

import (
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest"
)

const dnsRoutes = "routes: [{name: all, match: {fallback: true}, pool: p}]\n"

// dns.expect flattened_to compiles into the IR's DNS expectations, lower-cased and without a trailing dot.
func TestDNSExpectFlattenedTo(t *testing.T) {
	g := mustLoad(t, head+dnsRoutes+"dns: {expect: {example.com: {flattened_to: Edge-Gateway.Provider.NET.}}}\n")
	if g.DNS == nil || len(g.DNS.Expect) != 1 || g.DNS.Expect[0].Host != "example.com" || g.DNS.Expect[0].FlattenedTo != "edge-gateway.provider.net" {
		t.Fatalf("IR DNS expectations: %+v", g.DNS)
	}
}

// flattened_to is one way to state the addresses: with cname, a or aaaa beside it, or a name that is no
// hostname, it is an error at the flattened_to key's value.
func TestDNSExpectFlattenedToErrors(t *testing.T) {
	for _, tc := range []struct{ expect, code, summary string }{
		{"{flattened_to: edge.provider.net, a: [192.0.2.1]}", manifest.CodeInvalidValue, "cannot be combined"},
		{"{flattened_to: \"edge provider\"}", manifest.CodeDomain, "is not a host name"},
		{"{flattened_to: example.com}", manifest.CodeInvalidValue, "flattened to itself"},
	} {
		_, diags := load(t, head+dnsRoutes+"dns:\n  expect:\n    example.com: "+tc.expect+"\n")
		var found bool
		for _, d := range diags {
			if d.Code == tc.code && strings.Contains(d.Summary, tc.summary) {
				found = true
				if d.Range.Start.Line != 14 {
					t.Errorf("%s: reported at line %d, want 14 (the expectation's line)", tc.expect, d.Range.Start.Line)
				}
			}
		}
		if !found {
			t.Errorf("%s: want %s %q, got:\n%v", tc.expect, tc.code, tc.summary, diags)
		}
	}
}
