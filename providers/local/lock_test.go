package local_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/local"
)

// A second apply that finds the lock must always read who holds it: the lock file never exists without
// its content.
func TestLockIsNeverSeenHalfWritten(t *testing.T) {
	dir := t.TempDir()
	holder := local.Open(dir, local.OSFS{})
	other := local.Open(dir, local.OSFS{})
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if unlock, err := holder.Lock(ctx, providers.LockInfo{ID: "aaaa0001", Who: "holder"}); err == nil {
				_ = unlock()
			}
		}
	}()
	for i := 0; i < 1000; i++ {
		unlock, err := other.Lock(ctx, providers.LockInfo{ID: "bbbb0002", Who: "other"})
		var le *providers.LockedError
		switch {
		case err == nil:
			_ = unlock()
		case errors.As(err, &le):
		default:
			close(stop)
			wg.Wait()
			t.Fatalf("attempt %d: a lock being written read as: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
}

func TestUnreadableLockCanBeBroken(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lock"), []byte("\x00garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := local.Open(dir, local.OSFS{})
	_, err := p.Lock(context.Background(), providers.LockInfo{ID: "cccc0003"})
	if err == nil || !strings.Contains(err.Error(), "--force-unlock "+local.UnreadableLockID) {
		t.Fatalf("garbage lock: %v", err)
	}
	if err := p.ForceUnlock(context.Background(), "wrong"); err == nil {
		t.Fatal("a garbage lock was broken with a made-up id")
	}
	if err := p.ForceUnlock(context.Background(), local.UnreadableLockID); err != nil {
		t.Fatalf("--force-unlock %s: %v", local.UnreadableLockID, err)
	}
	if _, err := p.Lock(context.Background(), providers.LockInfo{ID: "cccc0003"}); err != nil {
		t.Fatalf("lock after breaking the garbage one: %v", err)
	}
}
