package manifest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgegw/edgegw/manifest"
)

// loadBounded loads path from disk and fails the test when that takes over 5s or allocates over 64 MiB: the
// inputs below are endless or huge, and must be refused after a bounded read.
func loadBounded(t *testing.T, path string) manifest.Diagnostics {
	t.Helper()
	type result struct {
		diags manifest.Diagnostics
		alloc uint64
	}
	done := make(chan result, 1)
	go func() {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, diags := manifest.Load(path)
		runtime.ReadMemStats(&after)
		done <- result{diags, after.TotalAlloc - before.TotalAlloc}
	}()
	select {
	case r := <-done:
		if r.alloc > 64<<20 {
			t.Errorf("loading allocated %d MiB", r.alloc>>20)
		}
		return r.diags
	case <-time.After(5 * time.Second):
		t.Fatalf("Load(%s) still reading after 5s", path)
	}
	return nil
}

func sparseFile(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

// TestBoundedKeyFile names key files that never end or are huge: each is refused at the `file:` line of the
// key, with the code for its problem, after a bounded read.
func TestBoundedKeyFile(t *testing.T) {
	dir := t.TempDir()
	sparseFile(t, filepath.Join(dir, "huge.pem"), 1<<30)
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	up := strings.Repeat("../", 32) // above the root is the root: this is /dev/zero
	line := strings.Count(head, "\n") + 4
	for _, c := range []struct{ file, code, want string }{
		{"huge.pem", manifest.CodeLimit, "is larger than 64 KiB"},
		{"fifo.pem", manifest.CodeReadFile, "is a named pipe, not a file"},
		{"/dev/zero", manifest.CodeReadFile, "is a character device, not a file"},
		{up + "dev/zero", manifest.CodeReadFile, "is a character device, not a file"},
		{"/dev/urandom", manifest.CodeReadFile, "is a character device, not a file"},
	} {
		t.Run(c.file, func(t *testing.T) {
			doc := head + "auth:\n  b:\n    jwt: {algorithms: [ES256], keys: [\n      {file: " + c.file + "}]}\nroutes: [{name: f, match: {fallback: true}, pool: p, auth: b}]\n"
			path := filepath.Join(dir, "edgegw.yaml")
			if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			diags := loadBounded(t, path)
			for _, d := range diags {
				if d.Code == c.code && strings.Contains(d.Summary, c.want) && d.Range.Start.Line == line && d.Detail != "" {
					return
				}
			}
			t.Errorf("want %s %q at line %d with a fix, got %v", c.code, c.want, line, diags)
		})
	}
}

// TestBoundedManifestRead gives -f a huge file and a device: refused after a bounded read, never read whole.
func TestBoundedManifestRead(t *testing.T) {
	huge := filepath.Join(t.TempDir(), "huge.yaml")
	sparseFile(t, huge, 1<<30)
	for _, c := range []struct{ path, code, want string }{
		{huge, manifest.CodeLimit, fmt.Sprintf("larger than %d bytes", manifest.MaxFileBytes)},
		{"/dev/zero", manifest.CodeReadFile, "is a character device, not a file"},
		{"/dev/urandom", manifest.CodeReadFile, "is a character device, not a file"},
	} {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			diags := loadBounded(t, c.path)
			if len(diags) != 1 || diags[0].Code != c.code || !strings.Contains(diags[0].Summary, c.want) || diags[0].Detail == "" {
				t.Errorf("want one %s %q with a fix, got %v", c.code, c.want, diags)
			}
		})
	}
}
