package cmd_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/internal/clitest"
)

// Messages speak to the user: of the command, the target and what to do, never of edgegw's packages.
func TestMessagesSpeakToTheUser(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "testdata", "examples", "quickstart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if err := os.WriteFile("edgegw.yaml", src, 0o644); err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadResolver := pc.LocalAddr().String()
	pc.Close()
	env := map[string]string{"USER": "ci"}

	for _, tc := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"rollback"}, []string{"nothing to roll back to"}, nil},
		{[]string{"plan", "--target", "nosuch"}, []string{"no such target", "local"}, []string{"not configured"}},
		{[]string{"plan", "--target", "cloudflare"}, []string{"not configured under `targets:`"}, nil},
		{[]string{"render", "--target", "nosuch"}, []string{`no such target "nosuch"`, "ir, local"}, []string{"["}},
		{[]string{"test", "--target", "nosuch"}, []string{`no such target "nosuch"`}, nil},
		{[]string{"verify-dns", "--resolver", deadResolver, "--timeout", "200ms", "--retries", "-1"}, []string{"DNS001", "--resolver host:port"}, []string{"delegation"}},
	} {
		r := clitest.Run(env, tc.args...)
		out := r.Stdout + r.Stderr
		if r.Code == 0 {
			t.Errorf("%v: exit 0, want a failure\n%s", tc.args, out)
		}
		for _, p := range []string{"providers/", "providers:", "dnscheck", "testrun", "render:"} {
			if strings.Contains(out, p) {
				t.Errorf("%v: the output names the package %q:\n%s", tc.args, p, out)
			}
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: want %q in:\n%s", tc.args, w, out)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out, n) {
				t.Errorf("%v: %q should not be in:\n%s", tc.args, n, out)
			}
		}
	}
}
