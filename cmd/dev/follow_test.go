package dev

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/cmd/cmdutil"
)

// startDeployed runs `edgegw dev` (no -f) in the current directory, serving the local deploy. The poll
// interval is an hour: whatever dev serves after an apply must come from following the activation itself.
func startDeployed(t *testing.T) string {
	t.Helper()
	errOut := &syncBuffer{}
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	f := &cmdutil.Factory{IO: cmdutil.TestIO(strings.NewReader(""), &syncBuffer{}, errOut), Getenv: func(string) string { return "" }, Now: time.Now, ManifestPath: "edgegw.yaml"}
	cmd := NewCmdDev(f, func(o *DevOptions) error {
		o.Context, o.PollInterval, o.Ready = ctx, time.Hour, func(a string) { ready <- a }
		return Run(o)
	})
	cmd.SetArgs([]string{"--listen", "127.0.0.1:0"})
	go func() { done <- cmd.Execute() }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case addr := <-ready:
		return addr
	case err := <-done:
		t.Fatalf("dev stopped: %v\n%s", err, errOut)
	case <-time.After(10 * time.Second):
		t.Fatal("dev did not start")
	}
	return ""
}

// The README's quick start pasted as one block: the curl right after `edgegw apply` returns must see the
// version apply made live, and the one right after `edgegw rollback` the version it restored.
func TestDevAnswersWithTheVersionLiveWhenApplyReturns(t *testing.T) {
	t.Chdir(t.TempDir())
	write := func(body string) {
		if err := os.WriteFile("edgegw.yaml", []byte(strings.Replace(manifestYAML, "BODY", body, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("v1")
	edgegw(t, "apply", "--auto-approve")
	d := &devRun{addr: startDeployed(t)}
	if _, b := d.get(t, "/health"); b != "v1" {
		t.Fatalf("first request: %q, want v1", b)
	}
	write("v2")
	edgegw(t, "apply", "--auto-approve")
	if _, b := d.get(t, "/health"); b != "v2" {
		t.Errorf("request right after apply returned: %q, want v2", b)
	}
	edgegw(t, "rollback")
	if _, b := d.get(t, "/health"); b != "v1" {
		t.Errorf("request right after rollback returned: %q, want v1", b)
	}
}

// dev routes by Host as the edge does: an unknown host is 404; only loopback names stand for --host.
func TestDevAnswersAnUnknownHost404(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("edgegw.yaml", []byte(strings.Replace(manifestYAML, "BODY", "ok", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	edgegw(t, "apply", "--auto-approve")
	addr := startDeployed(t)
	for _, tc := range []struct {
		host string
		want int
	}{
		{"unknown.test", http.StatusNotFound},
		{"unknown.test:8787", http.StatusNotFound},
		{"api.example.com", http.StatusOK},
		{"127.0.0.1", http.StatusOK},
		{addr, http.StatusOK},
		{"localhost:8787", http.StatusOK},
		{"[::1]:8787", http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/health", nil)
		req.Host = tc.host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Host %s: %d %q, want %d", tc.host, resp.StatusCode, b, tc.want)
		}
	}
}
