package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// `make demo` is the README's quick start; this runs scripts/demo.sh the same way, so CI proves that every
// step of it still does what the README says.
func TestDemoScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds edgegw and runs the whole local flow")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is missing")
	}
	bin := filepath.Join(t.TempDir(), "edgegw")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	cmd := exec.Command("bash", "scripts/demo.sh")
	cmd.Env = append(os.Environ(), "EDGEGW="+bin, "DEMO_PORT="+strconv.Itoa(port), "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/demo.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"version 1 is live", "version 2 is live (was 1)", "ok-v2", "rolled back, version 1 is live (was 2)", "rollback from version 2 to 1", "every step did what the README says"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, out)
		}
	}
}
