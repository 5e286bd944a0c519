package apply_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgegw/edgegw/internal/testenv"

	"github.com/edgegw/edgegw/cmd/apply"
	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/dnscheck/knottest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/fake"
)

// A public edge target: its domain changes run the DNS preflight.
func publicTargets(fk *fake.Provider) func(*ir.Gateway, providers.Config, []string) ([]providers.Target, []providers.SkippedTarget, error) {
	return func(*ir.Gateway, providers.Config, []string) ([]providers.Target, []providers.SkippedTarget, error) {
		return []providers.Target{{Name: fk.Name(), Registration: providers.Registration{Name: fk.Name(), Renderer: "ir", PublicDNS: true}, Provider: fk}}, nil, nil
	}
}

func applyWith(t *testing.T, fk *fake.Provider, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &cmdutil.Factory{IO: cmdutil.TestIO(strings.NewReader(""), &out, &errOut), ManifestPath: "edgegw.yaml", Format: cmdutil.FormatHuman,
		Now: time.Now, Getenv: func(string) string { return "" }}
	cmd := apply.NewCmdApply(f, func(o *apply.Options) error {
		o.TargetsFunc = publicTargets(fk)
		return apply.Run(context.Background(), o)
	})
	cmd.SetArgs(append([]string{"--auto-approve"}, args...))
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return cmdutil.ExitCode(err), out.String() + errOut.String() + errString(err)
}

func TestApplyRunsDNSPreflightForChangedDomains(t *testing.T) {
	_, err := knottest.Binary()
	testenv.Require(t, "knotd (apt-get install -y knot)", err)
	zone, _ := filepath.Abs("../../testdata/zones/apex-cname.example.zone")
	srv, err := knottest.Start(t.TempDir(), map[string]string{"apex-cname.example": zone})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	workdir(t, []byte(`version: 1
name: preflight
domains: [{host: apex-cname.example, zone: apex-cname.example}]
origins: {o: {url: https://o.internal}}
pools: {p: {origins: [o]}}
routes: [{name: all, match: {fallback: true}, pool: p}]
`))
	ns := "--dns-nameserver=apex-cname.example=" + srv.Addr

	fk := fake.New("edge")
	code, out := applyWith(t, fk, ns)
	if code != cmdutil.ExitBlocked {
		t.Fatalf("apply with a CNAME at the apex: exit %d, want 5\n%s", code, out)
	}
	if !strings.Contains(out, "DNS006") || fk.Live() != 0 {
		t.Errorf("want the DNS006 finding and nothing deployed (live version %d)\n%s", fk.Live(), out)
	}

	code, out = applyWith(t, fk, ns, "--skip-dns-preflight")
	if code != 0 || fk.Live() != 1 {
		t.Fatalf("apply --skip-dns-preflight: exit %d, live %d\n%s", code, fk.Live(), out)
	}
	if !strings.Contains(out, "DNS preflight skipped by --skip-dns-preflight") {
		t.Errorf("the skip is not logged:\n%s", out)
	}

	// No domain change on the second apply: no preflight, so no DNS finding blocks it.
	code, out = applyWith(t, fk, ns)
	if code != 0 || strings.Contains(out, "DNS006") {
		t.Errorf("apply without domain changes: exit %d\n%s", code, out)
	}
}

// apply --verify-url: an edge answering 5xx after the switch restores the target and exits 3.
func TestApplyVerifyURLRestoresOnServerError(t *testing.T) {
	v1 := quickstart(t)
	workdir(t, v1)
	var failing atomic.Bool
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer edge.Close()
	fk := fake.New("edge")
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		f := &cmdutil.Factory{IO: cmdutil.TestIO(strings.NewReader(""), &out, &errOut), ManifestPath: "edgegw.yaml", Format: cmdutil.FormatHuman,
			Now: time.Now, Getenv: func(string) string { return "" }}
		cmd := apply.NewCmdApply(f, func(o *apply.Options) error {
			o.TargetsFunc = fakeTargets(fk)
			return apply.Run(context.Background(), o)
		})
		cmd.SetArgs(append([]string{"--auto-approve", "--verify-url", edge.URL + "/health", "--verify-timeout", "1500ms"}, args...))
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err := cmd.Execute()
		return cmdutil.ExitCode(err), out.String() + errOut.String() + errString(err)
	}
	if code, out := run(); code != 0 || fk.Live() != 1 {
		t.Fatalf("healthy edge: exit %d, live %d\n%s", code, fk.Live(), out)
	}
	write(t, "edgegw.yaml", bytes.Replace(v1, []byte("body: ok}"), []byte("body: v2}"), 1))
	failing.Store(true)
	code, out := run()
	if code != cmdutil.ExitPartial || fk.Live() != 1 {
		t.Fatalf("edge answering 502: exit %d (want 3), live %d (want 1)\n%s", code, fk.Live(), out)
	}
	if !strings.Contains(out, "did not answer below 500") || !strings.Contains(out, "502 Bad Gateway") {
		t.Errorf("the reason is not shown:\n%s", out)
	}
}
