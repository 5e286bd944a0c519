package workerd

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/internal/routegen"
	"github.com/edgegw/edgegw/render/cloudflare"
)

var strategyRE = regexp.MustCompile(`Route matcher \(([^)]*)\)`)

// TestGeneratedMatcherInWorkerd renders random route tables (every path kind, methods, hosts and header
// conditions, wildcard tenants; in IR order and in random order; sizes that give each matcher strategy)
// as Workers and sends random requests to workerd and to the reference gateway: the route (or the edge's
// refusal: BAD_PATH, HOST_UNKNOWN, NO_ROUTE) must be the reference's on every request.
func TestGeneratedMatcherInWorkerd(t *testing.T) {
	requireEngine(t)
	ctx := context.Background()
	total, routed := 0, 0
	strategies := map[string]int{}
	for seed := int64(101); seed <= 112; seed++ {
		size := []int{4, 12, 80, 400}[seed%4]
		order := "ir"
		if seed%2 == 1 {
			order = "random"
		}
		g := routegen.Gateway(seed, routegen.Options{Routes: size, Conditions: true, Regex: seed%3 != 0, Fallback: seed%3 == 1, Order: order, Vocabulary: 6})
		arts, err := cloudflare.RenderWith(g, cloudflare.Options{Test: true})
		if err != nil {
			t.Fatal(err)
		}
		strategy := strategyRE.FindStringSubmatch(string(arts[0].Data))
		if strategy == nil {
			t.Fatalf("seed %d: the Worker names no matcher strategy", seed)
		}
		strategies[strategy[1]]++
		gw, err := gateway.New(g, gateway.Options{})
		if err != nil {
			t.Fatal(err)
		}
		in, err := engine.Open(ctx, g, nil, testrun.Env{})
		if err != nil {
			t.Fatal(err)
		}
		label := fmt.Sprintf("seed %d (%d routes, %s order, %s)", seed, len(g.Routes), order, strategy[1])
		bad := 0
		for _, q := range routegen.Requests(seed*31, g, 500, 0.1, true) {
			req := &testrun.ClientRequest{Method: q.Method, Target: q.Target, Host: q.Host, Header: q.Header, Now: caseClock}
			ref, err := refDo(t, gw, req, true)
			if err != nil {
				t.Fatal(err)
			}
			got, err := workerdDo(ctx, in, req)
			if err != nil {
				t.Fatalf("%s: %s %s: %v", label, q.Method, q.Target, err)
			}
			total++
			if ref.route != "" {
				routed++
			}
			if got.route != ref.route || got.reason != ref.reason || got.status != ref.status || got.body != ref.body {
				if bad++; bad <= 5 {
					t.Errorf("%s: %s %s %s %v: workerd route %q reason %q status %d, reference route %q reason %q status %d",
						label, q.Method, q.Host, q.Target, q.Header, got.route, got.reason, got.status, ref.route, ref.reason, ref.status)
				}
			}
		}
		_ = in.Close()
	}
	t.Logf("%d requests over 12 Workers (%d routed by the reference); matcher strategies: %v", total, routed, strategies)
	for _, want := range []string{"prefix/template regex", "prefix/template trie"} {
		found := false
		for s := range strategies {
			found = found || strings.Contains(s, want)
		}
		if !found {
			t.Errorf("no Worker used %q: %v", want, strategies)
		}
	}
	if routed < total/3 {
		t.Errorf("only %d of %d requests routed: the generated requests miss the tables", routed, total)
	}
}
