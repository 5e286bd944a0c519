package unlock_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/edgegw/edgegw/cmd/apply"
	_ "github.com/edgegw/edgegw/cmd/unlock"
	"github.com/edgegw/edgegw/internal/clitest"
	"github.com/edgegw/edgegw/providers/local"
)

func setup(t *testing.T, lock string) string {
	t.Helper()
	m, err := os.ReadFile("../../testdata/examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if err := os.WriteFile("edgegw.yaml", m, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(local.DefaultDir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(local.DefaultDir, "lock")
	if err := os.WriteFile(name, []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestUnlockBreaksOnlyTheNamedLock(t *testing.T) {
	lock := setup(t, `{"id":"c0ffee01","who":"ci@runner-7","operation":"apply","pid":4242,"created":"2026-01-02T03:04:05Z"}`)
	r := clitest.Run(nil, "unlock", "deadbeef")
	if r.Code != 1 || !strings.Contains(r.Stderr, "has id c0ffee01") || !strings.Contains(r.Stderr, "nothing was broken") {
		t.Fatalf("unlock with another id: exit %d\n%s", r.Code, r.Stderr)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Fatalf("a lock with another id was broken: %v", err)
	}
	r = clitest.Run(nil, "unlock", "c0ffee01")
	if r.Code != 0 || !strings.Contains(r.Stderr, "local: the lock c0ffee01 is broken") {
		t.Fatalf("unlock: exit %d\n%s", r.Code, r.Stderr)
	}
	if _, err := os.Stat(lock); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the lock is still there: %v", err)
	}
	r = clitest.Run(nil, "unlock", "c0ffee01")
	if r.Code != 1 || !strings.Contains(r.Stderr, "no target holds a lock with that id") {
		t.Fatalf("unlock of a lock that is gone: exit %d\n%s", r.Code, r.Stderr)
	}
	// The lock no longer blocks an apply.
	if r := clitest.Run(nil, "apply", "--auto-approve"); r.Code != 0 {
		t.Fatalf("apply after unlock: exit %d\n%s", r.Code, r.Stderr)
	}
}

// Terraform's name for it works too, and an unreadable lock is broken by the id its error names.
func TestForceUnlockAliasAndUnreadableLock(t *testing.T) {
	lock := setup(t, "\x00garbage")
	r := clitest.Run(nil, "apply", "--auto-approve")
	if r.Code != 1 || !strings.Contains(r.Stderr, local.UnreadableLockID) {
		t.Fatalf("apply with a garbage lock: exit %d\n%s", r.Code, r.Stderr)
	}
	if r := clitest.Run(nil, "force-unlock", local.UnreadableLockID); r.Code != 0 {
		t.Fatalf("force-unlock %s: exit %d\n%s", local.UnreadableLockID, r.Code, r.Stderr)
	}
	if _, err := os.Stat(lock); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the garbage lock is still there: %v", err)
	}
}
