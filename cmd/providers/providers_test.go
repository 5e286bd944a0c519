package providers_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	_ "github.com/edgegw/edgegw/cmd" // the providers linked into the binary
	"github.com/edgegw/edgegw/cmd/cmdutil"
	cmdproviders "github.com/edgegw/edgegw/cmd/providers"
	"github.com/edgegw/edgegw/providers"
)

const begin, end = "<!-- providers:begin -->", "<!-- providers:end -->"

// TestREADMETableIsCurrent fails when the README's capability table differs from the registry.
func TestREADMETableIsCurrent(t *testing.T) {
	fix := "regenerate the section between " + begin + " and " + end + " in README.md with `go run . providers --format markdown`"
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatalf("README.md at the repository root: %v; create it and %s", err, fix)
	}
	readme := string(b)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %s … %s section: add the markers and %s", begin, end, fix)
	}
	got := strings.TrimSpace(readme[i+len(begin) : j])
	want := strings.TrimSpace(cmdproviders.Markdown(providers.Registrations()))
	if got != want {
		t.Fatalf("the README's capability table is stale: %s\nwant:\n%s", fix, want)
	}
}

func TestMarkdownFormat(t *testing.T) {
	var out bytes.Buffer
	err := cmdproviders.Run(&cmdproviders.Options{IO: cmdutil.TestIO(nil, &out, &out), Format: cmdproviders.FormatMarkdown})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "| feature | azure | cloudflare |") || !strings.Contains(out.String(), "| ✅ every version is kept") ||
		!strings.Contains(out.String(), "| built | ✅ | ✅ |") {
		t.Errorf("markdown:\n%s", out.String())
	}
}
