package ir

import (
	"encoding/json"
	"strings"
	"testing"
)

// Applying the merged transform must give the same headers as applying both in order, for every header.
func TestMergeHeaderTransformsEqualsSequence(t *testing.T) {
	first := HeaderTransform{RemoveHeaders: []string{"A", "B", "C"}, SetHeaders: []HeaderSet{{"D", "1"}, {"E", "1"}}}
	second := HeaderTransform{RemoveHeaders: []string{"D", "F"}, SetHeaders: []HeaderSet{{"A", "2"}, {"E", "2"}}}
	apply := func(h map[string]string, t HeaderTransform) {
		for _, n := range t.RemoveHeaders {
			delete(h, n)
		}
		for _, s := range t.SetHeaders {
			h[s.Name] = s.Value
		}
	}
	client := func() map[string]string {
		return map[string]string{"A": "c", "B": "c", "C": "c", "D": "c", "E": "c", "F": "c", "G": "c"}
	}
	seq, merged := client(), client()
	apply(seq, first)
	apply(seq, second)
	m := MergeHeaderTransforms(first, second)
	apply(merged, m)
	if len(seq) != len(merged) {
		t.Fatalf("sequence %v, merged %v (%+v)", seq, merged, m)
	}
	for k, v := range seq {
		if merged[k] != v {
			t.Errorf("header %s: sequence %q, merged %q", k, v, merged[k])
		}
	}
	for _, r := range m.RemoveHeaders {
		for _, s := range m.SetHeaders {
			if r == s.Name {
				t.Errorf("%s both removed and set", r)
			}
		}
	}
}

func TestEdgeErrorsTable(t *testing.T) {
	table := EdgeErrors("gw")
	seen := map[string]bool{}
	for i, e := range table {
		if i > 0 && table[i-1].Code >= e.Code {
			t.Errorf("table not sorted at %s", e.Code)
		}
		seen[e.Code] = true
		var body struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
		}
		if err := json.Unmarshal([]byte(e.Body), &body); err != nil || body.Status != e.Status || body.Code != e.Code {
			t.Errorf("%s: body %q does not state its status and code", e.Code, e.Body)
		}
		hasAuth := false
		for _, h := range e.Headers {
			if h.Name == "Www-Authenticate" {
				hasAuth = true
				if e.Status == 403 && !strings.Contains(h.Value, `error="invalid_token"`) {
					t.Errorf("%s: 403 without invalid_token: %s", e.Code, h.Value)
				}
			}
		}
		if hasAuth != strings.HasPrefix(e.Code, "JWT_") {
			t.Errorf("%s: WWW-Authenticate present=%v", e.Code, hasAuth)
		}
	}
	for _, c := range []string{CodeBadPath, CodeNoRoute, CodeHostUnknown, CodeRateLimit, CodeJWTMissing, CodeUpstreamTimeout} {
		if !seen[c] {
			t.Errorf("code %s missing", c)
		}
	}
	g := &Gateway{Name: "gw"}
	if e := g.Error(CodeRateLimit); e.Status != 429 {
		t.Errorf("an IR without the table still answers from it: %+v", e)
	}
}
