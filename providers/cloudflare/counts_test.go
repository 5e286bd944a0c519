package cloudflare

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/render"
	cfrender "github.com/edgegw/edgegw/render/cloudflare"
)

// loadExample loads one of the README's example manifests with its targets block cut to the cloudflare
// target (the only one registered in this package's tests), full.yaml's own line; quickstart.yaml, which
// deploys to local only, gets the same.
func loadExample(t *testing.T, name string) *ir.Gateway {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "examples", name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for _, l := range strings.Split(string(data), "\n") {
		switch {
		case l == "targets:":
			in = true
			out = append(out, l, `  cloudflare: {account_id: {env: CLOUDFLARE_ACCOUNT_ID}, zone: example.com, script: edge-api-gateway, compatibility_date: "2024-09-23"}`)
			continue
		case in && strings.HasPrefix(l, "  "):
			continue
		}
		in = false
		out = append(out, l)
	}
	g, diags := manifest.LoadBytes(path, []byte(strings.Join(out, "\n")), manifest.LoadOptions{ReadFile: manifest.DirReader(filepath.Dir(path))})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return g
}

func renderWorker(t *testing.T, g *ir.Gateway) []render.Artifact {
	t.Helper()
	arts, err := cfrender.RenderWith(g, cfrender.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return arts
}

// callCount is the API calls one operation made: all of them, and the mutating ones (not GET).
type callCount struct{ total, mutating int }

func (h *harness) since(mark int) callCount {
	return callCount{total: len(h.calls(mark)), mutating: len(h.writes(mark))}
}

// TestAPICallCountsOnTheExamples counts the API calls of the README's example manifests against the fake
// (the figures in the README's cloudflare section; `go test ./providers/cloudflare -v -run
// TestAPICallCounts` prints them): the first apply, an apply of one changed route, a re-apply of the
// same manifest and a rollback, each plan included.
func TestAPICallCountsOnTheExamples(t *testing.T) {
	for _, c := range []struct {
		example string
		// What the zone holds before the first apply: full.yaml's apex has the user's (flattened) CNAME.
		apexCNAME                         bool
		first, changed, reapply, rollback callCount
	}{
		{example: "quickstart.yaml", first: callCount{20, 3}, changed: callCount{17, 2}, reapply: callCount{6, 0}, rollback: callCount{2, 1}},
		{example: "full.yaml", apexCNAME: true, first: callCount{29, 6}, changed: callCount{20, 2}, reapply: callCount{7, 0}, rollback: callCount{2, 1}},
	} {
		t.Run(c.example, func(t *testing.T) {
			h := newHarness(t)
			if c.apexCNAME {
				h.cf.addRecord("example.com", "example.com", "CNAME", "api-origin.example.net", true)
			}
			// Every operation runs in a fresh process, as CI runs them: nothing is cached between them.
			g := loadExample(t, c.example)
			mark := len(h.srv.Requests())
			h.deploy(t, h.provider(t, g), g, renderWorker(t, g))
			first := h.since(mark)

			g2 := loadExample(t, c.example)
			for i := range g2.Routes {
				if g2.Routes[i].Name == "health" {
					g2.Routes[i].Respond.Body = "ok, changed"
				}
			}
			arts2 := renderWorker(t, g2)
			mark = len(h.srv.Requests())
			p := h.provider(t, g2)
			pl := h.plan(t, g2, arts2, p)
			if got := changeLines(pl.Targets[0]); strings.Join(got, ",") != "update artifact worker.js,update route health" {
				t.Fatalf("plan of one changed route: %v", got)
			}
			if _, err := h.apply(t, g2, pl, p); err != nil {
				t.Fatal(err)
			}
			changed := h.since(mark)

			mark = len(h.srv.Requests())
			p = h.provider(t, g2)
			rep, err := h.apply(t, g2, h.plan(t, g2, arts2, p), p)
			if err != nil || rep.Targets[0].Status != providers.StatusUnchanged {
				t.Fatalf("re-apply: %v %+v", err, rep)
			}
			reapply := h.since(mark)

			mark = len(h.srv.Requests())
			p = h.provider(t, g2)
			if _, err := providers.Rollback(context.Background(), []providers.Provider{p}, providers.RollbackOptions{Getenv: h.getenv, Who: "tester"}); err != nil {
				t.Fatal(err)
			}
			rollback := h.since(mark)

			got := fmt.Sprintf("first %v, changed route %v, re-apply %v, rollback %v", first, changed, reapply, rollback)
			want := fmt.Sprintf("first %v, changed route %v, re-apply %v, rollback %v", c.first, c.changed, c.reapply, c.rollback)
			t.Logf("%s: API calls (total, mutating): %s", c.example, got)
			if testing.Verbose() {
				t.Logf("%s: every call:\n%s", c.example, strings.Join(h.calls(0), "\n"))
			}
			if got != want {
				t.Errorf("%s: API calls (total, mutating): %s\nwant %s (the README's figures)", c.example, got, want)
			}
		})
	}
}
