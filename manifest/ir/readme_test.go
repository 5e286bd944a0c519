package ir_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest/ir"
)

var updateReadme = flag.Bool("update", false, "rewrite the README's generated sections")

// edgeErrorTable is the README's table of the answers the edge writes itself, from the IR's own table.
func edgeErrorTable() string {
	var b strings.Builder
	b.WriteString("| code | status | headers besides `Content-Type: application/json`, `Cache-Control: no-store`, `X-Content-Type-Options: nosniff` |\n|---|---|---|\n")
	for _, e := range ir.EdgeErrors("NAME") {
		var hs []string
		for _, h := range e.Headers {
			switch h.Name {
			case "Content-Type", "Cache-Control", "X-Content-Type-Options":
				continue
			}
			hs = append(hs, fmt.Sprintf("`%s: %s`", h.Name, h.Value))
		}
		if e.Status == 429 {
			hs = append(hs, "`Retry-After` (added at run time)")
		}
		fmt.Fprintf(&b, "| `%s` | %d | %s |\n", e.Code, e.Status, strings.Join(hs, ", "))
	}
	return b.String()
}

// The README's semantics section states the edge responses from the same table every target serves.
func TestREADMEEdgeErrorTableIsCurrent(t *testing.T) {
	const file, begin, end = "../../README.md", "<!-- edge-errors:begin -->", "<!-- edge-errors:end -->"
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %s … %s section", begin, end)
	}
	want := edgeErrorTable()
	if *updateReadme {
		readme = readme[:i+len(begin)] + "\n" + want + readme[j:]
		if err := os.WriteFile(file, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := strings.TrimSpace(readme[i+len(begin) : j]); got != strings.TrimSpace(want) {
		t.Fatalf("the README's edge error table is stale: run go test ./manifest/ir -run TestREADMEEdgeErrorTableIsCurrent -update\nwant:\n%s", want)
	}
}
