// Package testenv decides, in one place, what a test does when something it needs from outside the
// repository is missing — a runtime such as knotd, node or perl, or the shared test vectors in ../shared:
// on a developer machine it skips with a message saying how to get it; when CI is set it fails, because CI
// must run every test (`make test` installs the runtimes).
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// Require stops the test when err says a prerequisite is missing: a failure on CI, a skip elsewhere.
// what names the prerequisite and how to install it.
func Require(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required when CI is set: %v", what, err)
	}
	t.Skipf("skipped: %s is missing (%v); `make test` installs it", what, err)
}

// SharedFile returns the path of rel under ../shared beside the repository root (the directory that holds
// go.mod), requiring it to exist.
func SharedFile(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: no go.mod above the test's directory")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", rel)
	_, err = os.Stat(p)
	Require(t, "the shared test vectors (../shared beside the repository)", err)
	return p
}
