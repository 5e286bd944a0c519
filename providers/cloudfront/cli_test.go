package cloudfront_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/edgegw/edgegw/cmd" // every command and provider, as in the binary
	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/internal/clitest"
	"github.com/edgegw/edgegw/providers/cloudfront"
	"github.com/edgegw/edgegw/providers/endpoint"
)

// The commands a user runs, against the fake CloudFront: plan -out, apply of the saved plan, a clean
// detailed plan, a changed route, history, rollback, and a saved plan refused once the distribution moved.
func TestCommands(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	t.Chdir(dir)
	fast := func(src string) []byte {
		return []byte(strings.Replace(src, "function: quickstart}", "function: quickstart, poll_interval: 1ms}", 1))
	}
	write := func(src []byte) {
		if err := os.WriteFile("edgegw.yaml", src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := e.f.EnvFor(endpoint.CloudFront)
	run := func(want int, args ...string) clitest.Result {
		t.Helper()
		r := clitest.Run(env, args...)
		if r.Code != want {
			t.Fatalf("edgegw %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, want, r.Stdout, r.Stderr)
		}
		return r
	}
	write(fast(quickstart("ok", "ok")))
	run(0, "plan", "-out", "plan.json", "--skip-dns-preflight")
	r := run(0, "apply", "plan.json", "--skip-dns-preflight")
	if !strings.Contains(r.Stderr, "cloudfront: distribution deployed") {
		t.Errorf("apply does not report the propagation:\n%s%s", r.Stdout, r.Stderr)
	}
	run(0, "plan", "--detailed-exitcode", "--skip-dns-preflight")
	first := e.f.liveCode(requestFn)

	write(fast(quickstart("healthy", "healthy")))
	run(2, "plan", "--detailed-exitcode", "--skip-dns-preflight")
	run(0, "apply", "--auto-approve", "--skip-dns-preflight")
	if bytes.Equal(e.f.liveCode(requestFn), first) {
		t.Fatal("the changed route is not live")
	}
	h := run(0, "history", "--target", "cloudfront")
	if strings.Count(h.Stdout, "apply") < 2 || !strings.Contains(h.Stdout, "(not in git)") {
		t.Errorf("history:\n%s", h.Stdout)
	}
	if files, _ := filepath.Glob(filepath.Join(cloudfront.RecordsDir(distID), "*.json")); len(files) != 2 {
		t.Errorf("deploy records: %v", files)
	}
	run(0, "rollback")
	if !bytes.Equal(e.f.liveCode(requestFn), first) {
		t.Fatal("rollback did not publish the first code again")
	}

	run(0, "plan", "-out", "plan.json", "--skip-dns-preflight")
	e.f.mu.Lock()
	e.f.distETag = "EDIST-MOVED"
	e.f.mu.Unlock()
	r = run(cmdutil.ExitBlocked, "apply", "plan.json", "--skip-dns-preflight")
	if !strings.Contains(r.Stderr, "stale plan") {
		t.Errorf("stale apply:\n%s", r.Stderr)
	}
}
