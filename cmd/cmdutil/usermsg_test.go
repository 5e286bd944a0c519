package cmdutil

import "testing"

// What the user reads names the command and the target, never the package that produced the error.
func TestUserText(t *testing.T) {
	for in, want := range map[string]string{
		"providers/local: nothing to roll back to: version 1 is the first deploy of this target": "local: nothing to roll back to: version 1 is the first deploy of this target",
		"test: target local: testrun: ref: request GET https://x/: boom":                         "test: target local: request GET https://x/: boom",
		"providers: --target nosuch: no such target":                                             "--target nosuch: no such target",
		"providers/edge-b: activate: vendor API answered 500 (edge-a restored, edge-b failed)":   "edge-b: activate: vendor API answered 500 (edge-a restored, edge-b failed)",
		"verify-dns: dnscheck/config: host \"x\": bad":                                           "verify-dns: host \"x\": bad",
		"apply: providers: providers/local: lock held by bob":                                    "apply: local: lock held by bob",
		"manifest: 2 errors": "manifest: 2 errors",
	} {
		if got := UserText(in); got != want {
			t.Errorf("UserText(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}
