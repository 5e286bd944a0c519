package providers_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/edgegw/edgegw/internal/boundedio"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/providers"
)

// rollback --to reads the manifest and its key files from git blobs: an oversized blob is refused by its
// size, as an oversized file on disk is, never read whole.
func TestManifestAtRefBoundsBlobs(t *testing.T) {
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	small := []byte("version: 1\nname: t\n")
	huge := append(bytes.Repeat([]byte("# padding\n"), manifest.MaxFileBytes/10), []byte("version: 1\nname: t\n")...)
	wt, _ := repo.Worktree()
	commitFiles := func(files map[string][]byte) string {
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := wt.Add(name); err != nil {
				t.Fatal(err)
			}
		}
		h, err := wt.Commit("c", &git.CommitOptions{Author: &object.Signature{Name: "dev", Email: "dev@example.com", When: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		return h.String()
	}
	withBigKey := commitFiles(map[string][]byte{"edgegw.yaml": small, "key.pem": bytes.Repeat([]byte("k"), manifest.MaxKeyFileBytes+1)})
	withHugeManifest := commitFiles(map[string][]byte{"edgegw.yaml": huge})
	path := filepath.Join(dir, "edgegw.yaml")

	_, _, _, err = providers.ManifestAtRef(path, withHugeManifest)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("a %d-byte manifest blob: %v; want it refused by its size", len(huge), err)
	}
	data, readFile, _, err := providers.ManifestAtRef(path, withBigKey)
	if err != nil || !bytes.Equal(data, small) {
		t.Fatalf("manifest at %s: %q, %v", withBigKey[:12], data, err)
	}
	if b, err := readFile("key.pem"); !boundedio.IsTooLarge(err) {
		t.Fatalf("a key file blob over %d bytes read as %d bytes, %v; want a TooLargeError", manifest.MaxKeyFileBytes, len(b), err)
	}
}
