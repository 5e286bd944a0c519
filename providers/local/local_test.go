package local_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/local"
	"github.com/edgegw/edgegw/render/irjson"
)

func TestActiveBeforeAnyApply(t *testing.T) {
	_, _, err := local.Active(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "run `edgegw apply` first") {
		t.Fatalf("Active on an empty directory: %v", err)
	}
}

func TestDirRelativeToManifest(t *testing.T) {
	g := &ir.Gateway{Targets: ir.Targets{{Name: local.Name, Config: &local.Settings{Dir: "deploy/edge"}}}}
	p, err := local.New(providers.Config{Gateway: g, BaseDir: "/srv/gw"})
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := p.History(context.Background()); h != nil {
		t.Fatal("history of a missing directory is not empty")
	}
	if got := local.Dir("/srv/gw", "deploy/edge"); got != filepath.Join("/srv/gw", "deploy/edge") {
		t.Errorf("Dir = %s", got)
	}
}

// TestRollbackIsOneLinkSwap checks that rolling back writes no artifact: the kept version is re-linked, and
// the only files written are the record, first pending in the version's directory, then in records/.
func TestRollbackIsOneLinkSwap(t *testing.T) {
	dir := t.TempDir()
	fsys := &local.CountingFS{FS: local.OSFS{}}
	p := local.Open(dir, fsys)
	ctx := context.Background()
	for _, body := range []string{"one", "two"} {
		g := &ir.Gateway{Name: "t", Routes: []ir.Route{{Name: "r", Match: ir.Match{Kind: ir.PathFallback}, Respond: &ir.Respond{Status: 200, Body: body}}}}
		arts, _ := irjson.Renderer{}.Render(g)
		tp, err := p.Plan(ctx, providers.PlanInput{Gateway: g, Artifacts: arts})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Apply(ctx, tp, providers.DeployRecord{Kind: providers.KindApply}); err != nil {
			t.Fatal(err)
		}
	}
	fsys.Reset()
	if _, err := p.Rollback(ctx, providers.RestorePoint{Version: "1"}, providers.DeployRecord{Kind: providers.KindRollback}); err != nil {
		t.Fatal(err)
	}
	if s := fsys.String(); strings.Contains(s, "mkdir") || !strings.Contains(s, "symlink=1") || strings.Count(s, "write=2") != 1 {
		t.Errorf("rollback did %s; want one symlink and only the record written (pending, then final)", s)
	}
	g, v, err := local.Active(dir)
	if err != nil || v != 1 || g.Routes[0].Respond.Body != "one" {
		t.Fatalf("active after rollback: v%d %v", v, err)
	}
	if target, _ := os.Readlink(filepath.Join(dir, "current")); target != "versions/1" {
		t.Errorf("current -> %s", target)
	}
	if _, err := p.Rollback(ctx, providers.RestorePoint{Version: "9"}, providers.DeployRecord{}); err == nil || !strings.Contains(err.Error(), "roll back to version 9") {
		t.Errorf("rollback to a missing version: %v", err)
	}
}
