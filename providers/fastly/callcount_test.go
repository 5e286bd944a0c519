package fastly_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/fastly"
	fastlyvcl "github.com/edgegw/edgegw/render/fastly"
)

// TestCallCountsPerOperation deploys the rendered artifacts of the example manifests and of 1,000 and
// 10,000 routes to the fake Fastly API and prints the API calls (total and mutating) of a first apply
// over a hand-made service, an apply of one changed route, a re-apply and a rollback, with the size of
// main.vcl (`go test ./providers/fastly -v -run TestCallCountsPerOperation`; README: the fastly section).
// The account allows 1,000 mutating calls an hour: one changed route must cost the same at any size, and
// a re-apply nothing.
func TestCallCountsPerOperation(t *testing.T) {
	jwks := newJWKSServer(t, "k1")
	type row struct {
		name                       string
		vcl                        int
		first, changed, re, rollbk calls
	}
	var rows []row
	for _, c := range []struct {
		name string
		g    func() *ir.Gateway
	}{
		{"full.yaml", func() *ir.Gateway { return withJWKS(fullExampleAsWritten(t), jwks.URL) }},
		{"quickstart.yaml", func() *ir.Gateway { return withFastly(t, loadExample(t, "quickstart")) }},
		{"1,000 routes", func() *ir.Gateway { return gateway(1000) }},
		{"10,000 routes", func() *ir.Gateway { return gateway(10000) }},
	} {
		f := newFakeFastly(t)
		seedHandMade(f)
		g := c.g()
		p, _ := newSecretProvider(t, f, g, jwks)
		arts := rendered(t, g)
		r := row{name: c.name, vcl: len(arts[0].Data)}
		if r.vcl > fastlyvcl.MaxVCLSize {
			t.Errorf("%s: main.vcl is %d bytes, over the 1 MiB limit", c.name, r.vcl)
		}

		mid := len(f.Requests())
		apply(t, p, g, arts)
		r.first = callsSince(f, mid)

		g2 := c.g()
		changeOneRoute(t, g2)
		arts2 := rendered(t, g2)
		mid = len(f.Requests())
		apply(t, p, g2, arts2)
		r.changed = callsSince(f, mid)

		mid = len(f.Requests())
		plan := planOf(t, p, g2, arts2)
		if plan.Targets[0].HasChanges() {
			t.Fatalf("%s: re-plan has changes: %v", c.name, plan.Targets[0].Changes)
		}
		if _, err := applyPlan(p, g2, plan, providers.ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
		r.re = callsSince(f, mid)

		mid = len(f.Requests())
		if _, err := providers.Rollback(context.Background(), []providers.Provider{p}, providers.RollbackOptions{Who: "ci@runner"}); err != nil {
			t.Fatal(err)
		}
		r.rollbk = callsSince(f, mid)
		if f.Active() != 2 {
			t.Errorf("%s: rollback left version %d live, want 2", c.name, f.Active())
		}
		rows = append(rows, r)
	}
	var b strings.Builder
	b.WriteString("| manifest | main.vcl | first apply | one changed route | re-apply | rollback |\n|---|---|---|---|---|---|\n")
	cell := func(c calls) string { return fmt.Sprintf("%d (%d mutating)", c.total(), c.writes) }
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s bytes | %s | %s | %s | %s |\n", r.name, thousands(r.vcl), cell(r.first), cell(r.changed), cell(r.re), cell(r.rollbk))
	}
	t.Logf("API calls per operation, plan included (fake Fastly API):\n%s", b.String())
	// Plain exact and prefix routes go into VCL tables above fastlyvcl.TableThreshold; routes with a
	// condition (here a method) stay an if-chain, which reaches the 1 MiB limit sooner.
	for _, n := range []int{1000, 5000, 10000} {
		g := gateway(n)
		for i := range g.Routes {
			g.Routes[i].Match.Methods = []string{"GET"}
		}
		vcl, err := fastlyvcl.RenderVCL(g, fastlyvcl.Options{})
		if n == 10000 && err == nil {
			t.Errorf("10,000 routes with a method condition render %d bytes without the size error", len(vcl))
		}
		t.Logf("%s prefix routes with a method condition: main.vcl %s bytes %v", thousands(n), thousands(len(vcl)), err)
	}
	for _, r := range rows {
		if r.re.writes != 0 {
			t.Errorf("%s: re-apply made %d mutating calls: %v", r.name, r.re.writes, r.re.list)
		}
		if r.rollbk.writes != 1 {
			t.Errorf("%s: rollback made %d mutating calls %v, want the activation alone (no key set changed)", r.name, r.rollbk.writes, r.rollbk.list)
		}
	}
	// One changed route costs the same at 1,000 and 10,000 routes (the example manifests differ in their
	// dictionaries and objects, not in route count).
	if a, z := rows[2].changed, rows[3].changed; a.total() != z.total() || a.writes != z.writes {
		t.Errorf("one changed route: %d calls (%d mutating) at 1,000 routes, %d (%d) at 10,000: want the same", a.total(), a.writes, z.total(), z.writes)
	}
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func loadExample(t testing.TB, name string) *ir.Gateway {
	t.Helper()
	g, diags := manifest.Load("../../testdata/examples/" + name + ".yaml")
	if g == nil || diags.HasErrors() {
		t.Fatal(diags)
	}
	return g
}

// withFastly adds the fake's service as the manifest's fastly target.
func withFastly(t testing.TB, g *ir.Gateway) *ir.Gateway {
	g.Targets = append(g.Targets, ir.Target{Name: fastly.Name, Config: &fastly.Settings{ServiceID: ir.Value{Literal: "SU1Z0isxPaozGVKXdv0eY"}}})
	return g
}

// withJWKS points every JWKS policy of g at url (the test's key set).
func withJWKS(g *ir.Gateway, url string) *ir.Gateway {
	for i := range g.AuthPolicies {
		if j := g.AuthPolicies[i].JWT; j != nil && j.JWKS != nil {
			cp, k := *j, *j.JWKS
			k.URL = url
			cp.JWKS = &k
			g.AuthPolicies[i].JWT = &cp
		}
	}
	return g
}

// changeOneRoute changes the path of the first prefix route.
func changeOneRoute(t testing.TB, g *ir.Gateway) {
	for i := range g.Routes {
		if g.Routes[i].Match.Kind == ir.PathPrefix {
			g.Routes[i].Match.Path += "-changed"
			return
		}
	}
	t.Fatal("no prefix route to change")
}
