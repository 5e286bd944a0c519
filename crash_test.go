package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/local"
)

type childRun struct {
	code           int
	killed         bool
	stdout, stderr string
}

// edgegwIn runs this test binary as edgegw in dir, in a child process that can be killed on its own.
func edgegwIn(t *testing.T, dir string, env []string, args ...string) childRun {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "EDGEGW_RUN_MAIN=1", "USER=tester"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("edgegw %v: %v", args, err)
	}
	code := cmd.ProcessState.ExitCode()
	return childRun{code: code, killed: code == -1, stdout: stdout.String(), stderr: stderr.String()}
}

func (r childRun) must(t *testing.T, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, code, r.stdout, r.stderr)
	}
}

// ndjson returns the messages of type typ in a --format json stream.
func ndjson(t *testing.T, out, typ string) []map[string]any {
	t.Helper()
	var msgs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not NDJSON: %q: %v", sc.Text(), err)
		}
		if m["type"] == typ {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// TestKilledAtEveryWriteStep kills apply, then rollback, of the local target at each of its write steps
// (local.WriteSteps, by the test hook local.KillAtEnv: SIGKILL, as `kill -9`), then checks what a user
// runs next: history marks as live what `current` really points at and plan compares with it, both
// without the lock; `edgegw unlock` breaks the dead run's lock; the next apply or rollback repairs the
// records and removes the leftovers; and a rollback goes back from what was really live.
func TestKilledAtEveryWriteStep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs edgegw a few hundred times")
	}
	quickstart, err := os.ReadFile("testdata/examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(quickstart, []byte("body: ok}")) {
		t.Fatal("the quick start no longer has `body: ok}` to edit")
	}
	manifest := func(body string) []byte {
		return bytes.Replace(quickstart, []byte("body: ok}"), []byte("body: "+body+"}"), 1)
	}
	type tcase struct {
		command string // apply or rollback
		step    string
	}
	var cases []tcase
	for i, step := range local.WriteSteps {
		cases = append(cases, tcase{"apply", step})
		if step == "lock" || i >= 4 { // a rollback stages nothing
			cases = append(cases, tcase{"rollback", step})
		}
	}
	for _, c := range cases {
		t.Run(c.command+"/"+c.step, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, local.DefaultDir)
			write := func(body string) {
				if err := os.WriteFile(filepath.Join(dir, "edgegw.yaml"), manifest(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			live := func() string {
				l, err := os.Readlink(filepath.Join(target, "current"))
				if err != nil {
					t.Fatalf("read current: %v", err)
				}
				return strings.TrimPrefix(l, "versions/")
			}
			// Before: versions 1 and 2 live in turn (and 3 for a rollback to undo); the manifest is the
			// one the killed command works on.
			bodies := []string{"v1", "v2"}
			if c.command == "rollback" {
				bodies = append(bodies, "v3")
			}
			for _, b := range bodies[:len(bodies)-1] {
				write(b)
				edgegwIn(t, dir, nil, "apply", "--auto-approve").must(t, 0, "apply "+b)
			}
			write(bodies[len(bodies)-1])
			args := []string{"apply", "--auto-approve"}
			if c.command == "rollback" {
				edgegwIn(t, dir, nil, "apply", "--auto-approve").must(t, 0, "apply v3")
				args = []string{"rollback"}
			}
			r := edgegwIn(t, dir, []string{local.KillAtEnv + "=" + c.step}, args...)
			if !r.killed {
				t.Fatalf("%s never reached the step %q (exit %d): local.WriteSteps is out of date\n%s", c.command, c.step, r.code, r.stderr)
			}
			truth := live()
			manifestVersion := map[string]string{"apply": "2", "rollback": "3"}[c.command]

			// Without the lock, history and plan tell what is really live.
			r = edgegwIn(t, dir, nil, "history", "--format", "json")
			r.must(t, 0, "history after the kill")
			var liveRecs []string
			for _, m := range ndjson(t, r.stdout, "record") {
				if m["live"] == true {
					liveRecs = append(liveRecs, m["version"].(string))
				}
			}
			if len(liveRecs) != 1 || liveRecs[0] != truth {
				t.Errorf("history marks %v live; current points at version %s\n%s", liveRecs, truth, r.stdout)
			}
			r = edgegwIn(t, dir, nil, "plan", "--format", "json")
			r.must(t, 0, "plan after the kill")
			tps := ndjson(t, r.stdout, "target_plan")
			if len(tps) != 1 || tps[0]["live_version"] != truth || tps[0]["has_changes"] != (truth != manifestVersion) {
				t.Errorf("plan: %v; want live version %s, changes %t", tps, truth, truth != manifestVersion)
			}

			// The dead run's lock is broken as its own step, by the id it names.
			var held providers.LockInfo
			b, err := os.ReadFile(filepath.Join(target, "lock"))
			if err != nil {
				t.Fatalf("the killed %s left no lock: %v", c.command, err)
			}
			if err := json.Unmarshal(b, &held); err != nil {
				t.Fatalf("the lock is unreadable: %v", err)
			}
			r = edgegwIn(t, dir, nil, "rollback")
			r.must(t, 5, "rollback while the dead run's lock is held")
			if !strings.Contains(r.stderr, "edgegw unlock "+held.ID) {
				t.Errorf("the lock error does not name `edgegw unlock %s`:\n%s", held.ID, r.stderr)
			}
			edgegwIn(t, dir, nil, "unlock", held.ID).must(t, 0, "unlock")

			// The next locking command repairs, and goes on from what is really live.
			if c.command == "apply" {
				write("v3")
				edgegwIn(t, dir, nil, "apply", "--auto-approve").must(t, 0, "apply after the kill")
				r = edgegwIn(t, dir, nil, "rollback")
				r.must(t, 0, "rollback after the repairing apply")
				if got := live(); got != truth {
					t.Errorf("rollback went to version %s; version %s was live before the last apply", got, truth)
				}
			} else {
				before := map[string]string{"3": "2", "2": "1"}[truth]
				edgegwIn(t, dir, nil, "rollback").must(t, 0, "rollback after the kill")
				if got := live(); got != before {
					t.Errorf("rollback from the live version %s went to %s, want %s", truth, got, before)
				}
			}
			recs, err := local.History(target)
			if err != nil {
				t.Fatalf("history after the repair: %v", err)
			}
			for i, rec := range recs {
				if rec.Seq != i+1 || rec.Kind == "repair" {
					t.Errorf("record %d: seq %d, kind %s: the repair should have written the record the killed run left pending", i+1, rec.Seq, rec.Kind)
				}
			}
			if last := recs[len(recs)-1]; last.Version != live() {
				t.Errorf("the newest record names version %s; version %s is live", last.Version, live())
			}
			var left []string
			_ = filepath.WalkDir(target, func(p string, d os.DirEntry, err error) error {
				name := d.Name()
				if strings.HasPrefix(name, ".staging-") || strings.HasPrefix(name, ".current-") || strings.HasPrefix(name, ".pending-record") ||
					strings.HasPrefix(name, ".") && filepath.Base(filepath.Dir(p)) == "records" || name == "lock" {
					left = append(left, strings.TrimPrefix(p, target+"/"))
				}
				return nil
			})
			if len(left) > 0 {
				t.Errorf("left after the next successful commands: %v", left)
			}
		})
	}
}
