package manifest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest"
)

// FuzzLoad checks that loading never panics on any input, and that whatever loads gives the same IR twice.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"../testdata/examples/*.yaml", "../testdata/invalid/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("version: 1\nroutes: [{name: a, match: {path: {regex: \"(a|b)*c\"}}}]"))
	f.Add([]byte("a: &x [*x]"))
	// Small versions of the shapes the pre-scan bounds, and text it must not read as structure.
	f.Add([]byte("version: 1\nname: " + strings.Repeat("[", 70) + strings.Repeat("]", 70)))
	f.Add([]byte("version: 1\nroutes:\n" + strings.Repeat("- ", 70) + "x\n"))
	f.Add([]byte("version: 1\norigins: {" + strings.Repeat("o: x, ", 50) + "}\n"))
	f.Add([]byte("version: 1\nroutes: [" + strings.Repeat("1,", 200) + "1]\n"))
	f.Add([]byte("version: 1\nroutes:\n" + strings.Repeat("- 1\n", 200)))
	f.Add([]byte("a: \"[[{\" # [[[\nb: |\n  [[[[\n  - - -\nc: 'it''s [' \n"))
	// The line limit; the other limits' shapes are in testdata/fuzz/FuzzLoad (limit-*).
	f.Add([]byte("version: 1\n" + strings.Repeat("\n", 1_000_000)))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, diags := manifest.LoadBytes("f.yaml", data, manifest.LoadOptions{})
		for _, d := range diags {
			if d.Code == "" || d.Summary == "" || d.Range.File != "f.yaml" {
				t.Fatalf("malformed diagnostic %+v", d)
			}
		}
		if g == nil {
			if !diags.HasErrors() {
				t.Fatal("no IR and no error")
			}
			return
		}
		a, err := g.JSON()
		if err != nil {
			t.Fatal(err)
		}
		g2, _ := manifest.LoadBytes("f.yaml", data, manifest.LoadOptions{})
		b, _ := g2.JSON()
		if !bytes.Equal(a, b) {
			t.Fatal("IR differs between two loads")
		}
	})
}
