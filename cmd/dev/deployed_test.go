package dev

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/internal/clitest"

	_ "github.com/edgegw/edgegw/cmd/apply"
	"github.com/edgegw/edgegw/cmd/cmdutil"
	_ "github.com/edgegw/edgegw/cmd/history"
	_ "github.com/edgegw/edgegw/cmd/rollback"
	_ "github.com/edgegw/edgegw/providers/local"
)

func edgegw(t *testing.T, args ...string) string {
	t.Helper()
	r := clitest.Run(nil, args...)
	if r.Code != 0 {
		t.Fatalf("edgegw %s: exit %d\n%s%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout + r.Stderr
}

// The README's quick start: with no -f, dev serves what apply made live, and follows apply and rollback.
func TestDevServesTheActiveLocalDeploy(t *testing.T) {
	t.Chdir(t.TempDir())
	write := func(body string) {
		if err := os.WriteFile("edgegw.yaml", []byte(strings.Replace(manifestYAML, "BODY", body, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("v1")
	edgegw(t, "apply", "--auto-approve")

	errOut := &syncBuffer{}
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	f := &cmdutil.Factory{IO: cmdutil.TestIO(strings.NewReader(""), &syncBuffer{}, errOut), Getenv: func(string) string { return "" }, Now: time.Now, ManifestPath: "edgegw.yaml"}
	cmd := NewCmdDev(f, func(o *DevOptions) error {
		o.Context, o.PollInterval, o.Ready = ctx, 20*time.Millisecond, func(a string) { ready <- a }
		return Run(o)
	})
	cmd.SetArgs([]string{"--listen", "127.0.0.1:0"})
	go func() { done <- cmd.Execute() }()
	t.Cleanup(func() { cancel(); <-done })
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("dev stopped: %v\n%s", err, errOut)
	case <-time.After(10 * time.Second):
		t.Fatal("dev did not start")
	}
	d := &devRun{addr: addr}
	body := func() string { _, b := d.get(t, "/health"); return b }

	if b := body(); b != "v1" {
		t.Fatalf("before any edit: %q, want v1\n%s", b, errOut)
	}
	if !strings.Contains(errOut.String(), "serving version 1 of the local deploy in .edgegw/local") {
		t.Errorf("dev does not say it serves the deploy:\n%s", errOut)
	}
	write("v2")
	time.Sleep(100 * time.Millisecond)
	if b := body(); b != "v1" {
		t.Errorf("an edit without apply changed what is served: %q", b)
	}
	edgegw(t, "apply", "--auto-approve")
	eventually(t, "dev serves version 2 after apply", func() bool { return body() == "v2" })
	edgegw(t, "rollback")
	eventually(t, "dev serves version 1 after rollback", func() bool { return body() == "v1" })
	if h := edgegw(t, "history"); !strings.Contains(h, "rollback") {
		t.Errorf("history does not show the rollback:\n%s", h)
	}
}

// With no -f, a live local deploy that cannot be served is an error with the repair, never a silent
// switch to serving edgegw.yaml; with nothing deployed, dev serves the manifest.
func TestDevRefusesABrokenLocalDeploy(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("edgegw.yaml", []byte(strings.Replace(manifestYAML, "BODY", "v1", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	start := func() (*DevOptions, error) {
		f := &cmdutil.Factory{IO: cmdutil.TestIO(strings.NewReader(""), &syncBuffer{}, &syncBuffer{}), Getenv: func(string) string { return "" }, Now: time.Now, ManifestPath: "edgegw.yaml"}
		var got *DevOptions
		cmd := NewCmdDev(f, func(o *DevOptions) error { got = o; return nil })
		cmd.SetArgs(nil)
		return got, cmd.Execute()
	}
	if o, err := start(); err != nil || o == nil || o.Deployed {
		t.Fatalf("with nothing deployed: %+v, %v; want the manifest served", o, err)
	}
	edgegw(t, "apply", "--auto-approve")
	if err := os.Remove(".edgegw/local/versions/1/gateway.ir.json"); err != nil {
		t.Fatal(err)
	}
	_, err := start()
	if err == nil || !strings.Contains(err.Error(), "cannot be served") || !strings.Contains(err.Error(), "edgegw rollback") || !strings.Contains(err.Error(), "-f edgegw.yaml") {
		t.Fatalf("dev with a broken live deploy: %v", err)
	}
}
