package apply_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/providers/local"
)

// applyBodies applies the quick start with each body in turn: versions 1, 2, …
func applyBodies(t *testing.T, bodies ...string) {
	t.Helper()
	v1 := quickstart(t)
	workdir(t, v1)
	for _, b := range bodies {
		write(t, "edgegw.yaml", bytes.Replace(v1, []byte("body: ok}"), []byte("body: "+b+"}"), 1))
		mustCode(t, edgegw(t, nil, "apply", "--auto-approve"), 0, "apply "+b)
	}
}

// One damaged old record is reported with its file and the repair; history and rollback go on.
func TestDamagedOldRecordIsSkipped(t *testing.T) {
	applyBodies(t, "v1", "v2", "v3")
	damaged := filepath.Join(local.DefaultDir, "records", "000001.json")
	write(t, damaged, []byte(`{"seq": 1, "versi`))
	r := edgegw(t, nil, "history")
	mustCode(t, r, 0, "history with a damaged record")
	if !strings.Contains(r.stderr, damaged) || !strings.Contains(r.stderr, "move it out of the records folder") {
		t.Errorf("the warning does not name the file and the repair:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "*  3") || !strings.Contains(r.stdout, "   2 ") {
		t.Errorf("history does not list the readable records with version 3 live:\n%s", r.stdout)
	}
	r = edgegw(t, nil, "rollback")
	mustCode(t, r, 0, "rollback with a damaged old record")
	if _, v := activeBody(t, "health"); v != 2 || !strings.Contains(r.stderr, damaged) {
		t.Errorf("rollback: version %d live, want 2, with a warning naming %s:\n%s", v, damaged, r.stderr)
	}
}

// When the damaged record may be the deploy a rollback undoes, rollback says so and how to go on.
func TestDamagedNewestRecord(t *testing.T) {
	applyBodies(t, "v1", "v2", "v3")
	damaged := filepath.Join(local.DefaultDir, "records", "000003.json")
	write(t, damaged, []byte("\x00\x00"))
	r := edgegw(t, nil, "history")
	mustCode(t, r, 0, "history with a damaged newest record")
	if !strings.Contains(r.stdout, "*  3") {
		t.Errorf("history does not mark version 3, what current points at, live:\n%s", r.stdout)
	}
	r = edgegw(t, nil, "rollback")
	mustCode(t, r, cmdutil.ExitError, "rollback with a damaged newest record")
	if !strings.Contains(r.stderr, "cannot tell which version came before version 3") || !strings.Contains(r.stderr, "--version N") {
		t.Errorf("rollback does not say why and what to do:\n%s", r.stderr)
	}
	mustCode(t, edgegw(t, nil, "rollback", "--version", "2"), 0, "rollback --version 2")
	if _, v := activeBody(t, "health"); v != 2 {
		t.Errorf("version %d live after rollback --version 2", v)
	}
}

// A truncated live IR is a plan warning and a change; apply deploys a sound version over it.
func TestDamagedLiveIR(t *testing.T) {
	applyBodies(t, "v1")
	ir := filepath.Join(local.DefaultDir, "versions", "1", "gateway.ir.json")
	b, err := os.ReadFile(ir)
	if err != nil {
		t.Fatal(err)
	}
	write(t, ir, b[:len(b)/2])
	r := edgegw(t, nil, "plan", "--detailed-exitcode")
	mustCode(t, r, cmdutil.ExitChanges, "plan over a damaged live version")
	if !strings.Contains(r.stderr, "the live version 1 is damaged") || !strings.Contains(r.stderr, ir) {
		t.Errorf("plan does not say the live IR is damaged:\n%s", r.stderr)
	}
	mustCode(t, edgegw(t, nil, "apply", "--auto-approve"), 0, "apply over a damaged live version")
	if body, v := activeBody(t, "health"); v != 2 || body != "v1" {
		t.Errorf("after apply: version %d serving %q", v, body)
	}
}
