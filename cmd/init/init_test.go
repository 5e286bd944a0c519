package initcmd_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "github.com/edgegw/edgegw/cmd" // every command, as in the binary
	initcmd "github.com/edgegw/edgegw/cmd/init"
	"github.com/edgegw/edgegw/internal/clitest"
	"github.com/edgegw/edgegw/manifest"
)

// From any folder: init, then validate and test pass, the manifest's $schema line names a file that holds
// the schema, and .gitignore keeps the local target's versions out of git.
func TestInitStartsAProjectAnywhere(t *testing.T) {
	t.Chdir(t.TempDir())
	r := clitest.Run(nil, "init")
	if r.Code != 0 {
		t.Fatalf("init: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, args := range [][]string{{"validate"}, {"test"}} {
		if r := clitest.Run(nil, args...); r.Code != 0 {
			t.Errorf("%s after init: exit %d\n%s%s", args[0], r.Code, r.Stdout, r.Stderr)
		}
	}
	m, err := os.ReadFile("edgegw.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ref := regexp.MustCompile(`^# yaml-language-server: \$schema=(\S+)\n`).FindSubmatch(m)
	if ref == nil {
		t.Fatalf("edgegw.yaml does not start with a $schema line:\n%s", m)
	}
	got, err := os.ReadFile(string(ref[1]))
	if err != nil {
		t.Fatalf("the $schema line points at %s: %v", ref[1], err)
	}
	want, _ := manifest.JSONSchema()
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not the manifest's schema", ref[1])
	}
	if gi, _ := os.ReadFile(".gitignore"); !strings.Contains(string(gi), ".edgegw/\n") {
		t.Errorf(".gitignore = %q, want it to hold .edgegw/", gi)
	}
}

func TestInitNeverOverwrites(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("edgegw.yaml", []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := clitest.Run(nil, "init")
	if r.Code != 1 || !strings.Contains(r.Stderr, "edgegw.yaml already exists") {
		t.Errorf("init over an existing manifest: exit %d, stderr:\n%s\nwant exit 1 saying it exists", r.Code, r.Stderr)
	}
	if b, _ := os.ReadFile("edgegw.yaml"); string(b) != "mine\n" {
		t.Errorf("init overwrote the manifest: %q", b)
	}
	for _, f := range []string{initcmd.SchemaFile, ".gitignore"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("init wrote %s although it refused", f)
		}
	}

	// An existing .gitignore is kept and gains the line.
	t.Chdir(t.TempDir())
	if err := os.WriteFile(".gitignore", []byte("node_modules/"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := clitest.Run(nil, "init"); r.Code != 0 {
		t.Fatalf("init beside a .gitignore: exit %d\n%s", r.Code, r.Stderr)
	}
	if b, _ := os.ReadFile(".gitignore"); string(b) != "node_modules/\n.edgegw/\n" {
		t.Errorf(".gitignore = %q, want the old line kept and .edgegw/ added", b)
	}
}

// The starter is the quick-start example; only its $schema line differs (it points at the file init writes).
func TestStarterIsTheQuickstartExample(t *testing.T) {
	ex, err := os.ReadFile(filepath.Join("..", "..", "testdata", "examples", "quickstart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, exBody, _ := bytes.Cut(ex, []byte("\n"))
	first, body, _ := bytes.Cut(initcmd.Starter, []byte("\n"))
	if !bytes.Equal(body, exBody) {
		t.Errorf("cmd/init/starter.yaml differs from testdata/examples/quickstart.yaml below the first line: copy it over")
	}
	if string(first) != "# yaml-language-server: $schema=./"+initcmd.SchemaFile {
		t.Errorf("starter first line = %q", first)
	}
}
