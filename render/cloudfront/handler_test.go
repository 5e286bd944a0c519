package cloudfront

import "testing"

// TestRenameHandler: the minified handler takes its name back only where its short name occurs nowhere
// else (a call, a property, a string) and nothing is named handler; otherwise the code is left for the
// calling wrapper.
func TestRenameHandler(t *testing.T) {
	cases := []struct {
		js, name, want string
		ok             bool
	}{
		{"var a=1;async function Ge(e){return a}", "Ge", "var a=1;\nasync function handler(e){return a}", true},
		{"async function Ge(e){return 1}", "Ge", "async function handler(e){return 1}", true},
		{"function b(){}function Ge(e){return b()}", "Ge", "function b(){}\nfunction handler(e){return b()}", true},
		{"async function Ge(e){return 1}var x=Ge;", "Ge", "", false},
		{"async function Ge(e){return e.Ge}", "Ge", "", false},
		{`async function Ge(e){return "Ge"}`, "Ge", "", false},
		{"async function Ge(e){return 1}var handler=2;", "Ge", "", false},
		{"async function xGe(e){return 1}", "Ge", "", false},
	}
	for _, c := range cases {
		got, ok := renameHandler([]byte(c.js), c.name)
		if ok != c.ok || (ok && string(got) != c.want) {
			t.Errorf("renameHandler(%q, %q) = %q, %t; want %q, %t", c.js, c.name, got, ok, c.want, c.ok)
		}
	}
}
