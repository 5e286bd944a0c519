package manifest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest"
)

// A UTF-8 byte order mark before the first comment is skipped: the manifest loads as without it.
func TestLeadingBOMSkipped(t *testing.T) {
	doc := "\xEF\xBB\xBF# yaml-language-server: $schema=./edgegw.schema.json\n" + head + dnsRoutes
	if _, diags := load(t, doc); len(diags) != 0 {
		t.Fatalf("a manifest with a BOM: %v", diags)
	}
}

// Text problems the YAML parser reports badly are reported by their cause, at the place to fix.
func TestTextProblems(t *testing.T) {
	for _, tc := range []struct {
		name, doc, code, summary string
		line, col                int
	}{
		{"tab in indentation", "version: 1\nname: t\norigins:\n  o:\n  \turl: https://o.internal\n", manifest.CodeYAML, "use spaces", 5, 3},
		{"tab on a blank line", "version: 1\nname: t\norigins:\n  o:\n    url: https://o.internal\n \t\n", manifest.CodeYAML, "use spaces", 6, 2},
		{"tab at the start of a line", "version: 1\nname: t\norigins:\n\to: {url: https://o.internal}\n", manifest.CodeYAML, "use spaces", 4, 1},
		{"unclosed brace", "version: 1\nname: t\norigins: {o: {url: https://o.internal}\npools: {}\nroutes: []\n", manifest.CodeYAML, "the { opened at line 3, column 10 is never closed", 3, 10},
		{"unclosed bracket", "version: 1\nname: t\ndomains: [\n  {host: a.example.com, zone: example.com}\nroutes: x\n", manifest.CodeYAML, "the [ opened at line 3, column 10 is never closed", 3, 10},
		{"NUL bytes", "version: 1\nname: \x00\x01\x02\n", manifest.CodeReadFile, "the manifest is not a text file", 2, 7},
		{"invalid UTF-8", "version: 1\nname: t\xff\xfe\n", manifest.CodeReadFile, "the manifest is not a text file", 2, 8},
		{"UTF-16", "\xFF\xFEv\x00e\x00r\x00", manifest.CodeReadFile, "UTF-16", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := load(t, tc.doc)
			if len(diags) != 1 {
				t.Fatalf("want one diagnostic, got %d:\n%v", len(diags), diags)
			}
			d := diags[0]
			if d.Code != tc.code || !strings.Contains(d.Summary, tc.summary) || d.Range.Start.Line != tc.line || d.Range.Start.Col != tc.col {
				t.Errorf("got %v\nwant %s %q at %d:%d", d, tc.code, tc.summary, tc.line, tc.col)
			}
		})
	}
}

// A diagnostic's JSON range carries start and end only when known: never line 0.
func TestDiagnosticJSONNoLineZero(t *testing.T) {
	_, parseErr := load(t, "version: 1\nname: [\n") // a parser error: start known, end not
	diags := append(manifest.Diagnostics{{Severity: manifest.SeverityError, Code: manifest.CodeReadFile, Summary: "x", Range: manifest.Range{File: "m.yaml"}}}, parseErr...)
	for _, d := range diags {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), `"line":0`) || strings.Contains(string(b), `"col":0`) {
			t.Errorf("line 0 in %s", b)
		}
	}
	b, _ := json.Marshal(parseErr[0])
	if !strings.Contains(string(b), `"start":{"line":`) {
		t.Errorf("a known start is still written: %s", b)
	}
}
