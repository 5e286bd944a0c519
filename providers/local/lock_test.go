package local_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/local"
	"github.com/edgegw/edgegw/render/irjson"
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

// failRename makes the rename of a record into records/ fail: the process "dies" after the link swap and
// before the record exists.
type failRename struct {
	local.OSFS
	fail bool
}

func (f *failRename) Rename(o, n string) error {
	if f.fail && strings.Contains(n, string(filepath.Separator)+"records"+string(filepath.Separator)) {
		return errors.New("killed")
	}
	return f.OSFS.Rename(o, n)
}

func TestKilledBeforeTheRecordIsRepaired(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	fsys := &failRename{}
	p := local.Open(dir, fsys)
	for i, body := range []string{"one", "two", "three"} {
		fsys.fail = i == 2
		g := &ir.Gateway{Name: "t", Routes: []ir.Route{{Name: "r", Match: ir.Match{Kind: ir.PathFallback}, Respond: &ir.Respond{Status: 200, Body: body}}}}
		arts, _ := irjson.Renderer{}.Render(g)
		tp, err := p.Plan(ctx, providers.PlanInput{Gateway: g, Artifacts: arts})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Apply(ctx, tp, providers.DeployRecord{Kind: providers.KindApply, Note: body})
		if (err != nil) != (i == 2) {
			t.Fatalf("apply %d: %v", i+1, err)
		}
	}
	// current -> versions/3, but the newest record names version 2.
	if _, v, _ := local.Active(dir); v != 3 {
		t.Fatalf("live version %d, want 3", v)
	}
	fsys.fail = false
	rep, err := providers.Rollback(ctx, []providers.Provider{local.Open(dir, local.OSFS{})}, providers.RollbackOptions{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	// The rollback repaired the record of version 3 under its lock, then went back one deploy: to 2.
	if _, v, _ := local.Active(dir); v != 2 || rep.Targets[0].Previous != "3" {
		t.Fatalf("after rollback live = %d (from %q); want 2 from \"3\"", v, rep.Targets[0].Previous)
	}
	recs, _ := local.History(dir)
	var repaired bool
	for _, r := range recs {
		if r.Version == "3" && strings.Contains(r.Note, "three") && strings.Contains(r.Note, "interrupted") {
			repaired = true
		}
	}
	if !repaired {
		t.Errorf("no repaired record of version 3 with its apply's note: %+v", recs)
	}
}
