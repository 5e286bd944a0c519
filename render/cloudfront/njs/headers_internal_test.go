package njs

import (
	"strings"
	"testing"
)

// TestInvalidHeaders checks the header rules CloudFront applies to a function's result: adding a
// disallowed header or changing a read-only one fails validation; keeping them as they came does not.
func TestInvalidHeaders(t *testing.T) {
	viewer := map[string]Value{"host": {Value: "api.example.com"}, "accept": {Value: "*/*"}}
	for _, c := range []struct {
		name  string
		after map[string]Value
		want  string
	}{
		{"unchanged", map[string]Value{"host": {Value: "api.example.com"}, "accept": {Value: "*/*"}}, ""},
		{"an allowed header added", map[string]Value{"host": {Value: "api.example.com"}, "x-request-id": {Value: "1"}}, ""},
		{"x-forwarded-proto added", map[string]Value{"host": {Value: "api.example.com"}, "x-forwarded-proto": {Value: "https"}}, "disallowed header x-forwarded-proto"},
		{"an x-edge- header added", map[string]Value{"host": {Value: "api.example.com"}, "x-edge-location": {Value: "a"}}, "disallowed header x-edge-location"},
		{"host removed", map[string]Value{"accept": {Value: "*/*"}}, "read-only header host"},
		{"host changed", map[string]Value{"host": {Value: "origin.internal"}}, "read-only header host"},
		{"via added", map[string]Value{"host": {Value: "api.example.com"}, "via": {Value: "1.1 x"}}, "read-only header via"},
	} {
		got := invalidHeaders(viewer, c.after, readOnlyRequest)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// A viewer-response function may not change Content-Encoding, which a viewer-request one may.
	origin := map[string]Value{"content-encoding": {Value: "gzip"}}
	if got := invalidHeaders(origin, map[string]Value{}, readOnlyResponse); !strings.Contains(got, "content-encoding") {
		t.Errorf("viewer-response removing content-encoding: %q, want a read-only finding", got)
	}
	if got := invalidHeaders(origin, map[string]Value{}, readOnlyRequest); got != "" {
		t.Errorf("viewer-request removing content-encoding: %q, want none", got)
	}
}
