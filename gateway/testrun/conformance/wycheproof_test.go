package conformance

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/internal/testenv"
)

// TestWycheproofSecretsAreReferences checks that the Wycheproof manifests hold their HS key as a
// reference ({env: NAME}) whose value the manifest's Getenv resolves (a target that keeps secrets out of
// its artifact can render them), that the reference gateway refuses every case with the key resolved that
// way, and that each route stands at its group's line in the vector file (where a finding points).
func TestWycheproofSecretsAreReferences(t *testing.T) {
	file := testenv.SharedFile(t, "testvectors/"+WycheproofFile)
	dir := filepath.Dir(filepath.Dir(file))
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	ms, err := wycheproof(dir)
	if err != nil {
		t.Fatal(err)
	}
	hs := 0
	for _, m := range ms {
		g := m.Gateway
		rp := g.Routes[0].Pos
		if rp.Line <= 0 || rp.Line > len(lines) || !strings.HasPrefix(lines[rp.Line-1][rp.Col-1:], "{") || rp.File != m.File {
			t.Errorf("%s: route at %v, not at its group's object", g.Name, rp)
		}
		j := g.AuthPolicies[0].JWT
		if j.Secret == nil {
			continue
		}
		hs++
		if j.Secret.Literal != "" || j.Secret.Env == "" || m.Env[j.Secret.Env] == "" {
			t.Errorf("%s: secret %+v, env %v: want a reference the manifest resolves", g.Name, *j.Secret, m.Env)
		}
		if got := m.Getenv(func(string) string { return "outer" })("OTHER"); got != "outer" {
			t.Errorf("Getenv does not fall back to the outer environment: %q", got)
		}
		for _, r := range testrun.Run(context.Background(), g, m.Cases, testrun.Options{Target: "local", Engine: testrun.RefEngine{},
			Env: testrun.Env{Getenv: m.Getenv(nil)}}) {
			if !r.Pass {
				t.Errorf("%s: %s %v", r.Where(), r.Error, r.Lines())
			}
		}
	}
	if hs == 0 {
		t.Error("no HS256 group among the Wycheproof manifests")
	}
}
