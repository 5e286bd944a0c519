package conformance

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest/ir"
)

// brokenEngine is the reference gateway with one rule broken: its IR, its requests or its responses are
// altered the way a faulty target would get them wrong.
type brokenEngine struct {
	ir   func(g *ir.Gateway)
	req  func(cr *testrun.ClientRequest)
	resp func(r *testrun.ClientResponse)
}

func (b brokenEngine) Open(ctx context.Context, g *ir.Gateway, origins map[string]string, env testrun.Env) (testrun.Instance, error) {
	if b.ir != nil {
		data, err := json.Marshal(g)
		if err != nil {
			return nil, err
		}
		cp := &ir.Gateway{}
		if err := json.Unmarshal(data, cp); err != nil {
			return nil, err
		}
		for i := range cp.Routes {
			cp.Routes[i].Index = g.Routes[i].Index // in memory only: not in the JSON
		}
		b.ir(cp)
		g = cp
	}
	inst, err := testrun.RefEngine{}.Open(ctx, g, origins, env)
	if err != nil {
		return nil, err
	}
	return brokenInstance{inst, b}, nil
}

type brokenInstance struct {
	testrun.Instance
	b brokenEngine
}

func (i brokenInstance) Do(ctx context.Context, cr *testrun.ClientRequest) (*testrun.ClientResponse, error) {
	if i.b.req != nil {
		i.b.req(cr)
	}
	r, err := i.Instance.Do(ctx, cr)
	if err == nil && i.b.resp != nil {
		i.b.resp(r)
	}
	return r, err
}

var dotDot = regexp.MustCompile(`(?i)/(\.\.|%2e%2e|\.%2e|%2e\.)(/|$)`)

// brokenRules are the rules the self-test breaks, each with a case of the corpus that must catch it.
var brokenRules = []struct {
	rule     string
	engine   brokenEngine
	caughtBy string
}{
	{"prefix boundary ignored", brokenEngine{ir: func(g *ir.Gateway) {
		for i := range g.Routes {
			if m := &g.Routes[i].Match; m.Kind == ir.PathPrefix && m.Path != "/" {
				m.Kind, m.Path = ir.PathRegex, regexp.QuoteMeta(m.Path)+".*"
			}
		}
	}}, "prefix respects the segment boundary (/v10)"},
	{"dot segments not resolved", brokenEngine{req: func(cr *testrun.ClientRequest) {
		cr.Target = dotDot.ReplaceAllString(cr.Target, "/")
	}}, "path /public/../admin on plain.example.com (dot segment resolved)"},
	{"exp not checked", brokenEngine{ir: func(g *ir.Gateway) {
		for _, p := range g.AuthPolicies {
			p.JWT.ClockSkew = ir.Duration(1000 * time.Hour)
		}
	}}, "expired past the clock skew is refused"},
	{"rate limit off by one", brokenEngine{ir: func(g *ir.Gateway) {
		for i := range g.RateLimits {
			g.RateLimits[i].Limit++
		}
	}}, "limit plus one is 429 with Retry-After"},
	{"breaker never opening", brokenEngine{ir: func(g *ir.Gateway) {
		for i := range g.Pools {
			if f := g.Pools[i].Failover; f != nil && f.Breaker != nil {
				f.Breaker.Consecutive = 1 << 30
			}
		}
	}}, "the breaker opens after N, skips for the cooldown and closes after it"},
	{"failover on an unlisted status", brokenEngine{ir: func(g *ir.Gateway) {
		for i := range g.Pools {
			if f := g.Pools[i].Failover; f != nil {
				f.OnStatus = append(f.OnStatus, 500)
			}
		}
	}}, "an unlisted status is passed through"},
	{"CORS wildcard with credentials", brokenEngine{resp: func(r *testrun.ClientResponse) {
		if r.Header.Get("Access-Control-Allow-Origin") != "" {
			r.Header.Set("Access-Control-Allow-Origin", "*")
		}
	}}, "with credentials the allowed origin is echoed, never a wildcard"},
	{"HSTS missing on errors", brokenEngine{resp: func(r *testrun.ClientResponse) {
		if r.Status >= 400 {
			r.Header.Del("Strict-Transport-Security")
		}
	}}, "hsts on a 401"},
	{"tenant header not overwritten", brokenEngine{ir: func(g *ir.Gateway) {
		for i := range g.Domains {
			g.Domains[i].TenantHeader = ""
		}
	}}, "the tenant header overwrites a forged client value"},
	{"two Authorization headers: the first one used", brokenEngine{req: func(cr *testrun.ClientRequest) {
		if v := cr.Header.Values("Authorization"); len(v) > 1 {
			cr.Header.Set("Authorization", v[0])
		}
	}}, "two Authorization headers are refused"},
	{"Retry-After missing", brokenEngine{resp: func(r *testrun.ClientResponse) {
		r.Header.Del("Retry-After")
	}}, "limit plus one is 429 with Retry-After"},
	{"client request id kept instead of replaced", brokenEngine{ir: func(g *ir.Gateway) {
		g.Transform.KeepClientRequestID = true
	}}, "a client request id is replaced"},
	{"client request id replaced where it must be kept", brokenEngine{ir: func(g *ir.Gateway) {
		for i := range g.Routes {
			if t := g.Routes[i].Transform; t != nil {
				t.KeepClientRequestID = false
			}
		}
	}}, "a client request id is kept where the route says so"},
	{"query dropped upstream", brokenEngine{req: func(cr *testrun.ClientRequest) {
		cr.Target, _, _ = strings.Cut(cr.Target, "?")
	}}, "the query string takes no part in matching and is forwarded"},
	{"prefixes in manifest order instead of longest first", brokenEngine{ir: func(g *ir.Gateway) {
		sortRoutes(g, func(a, b *ir.Route) int { return cmp.Compare(b.Match.Conditions(), a.Match.Conditions()) })
	}}, "prefix: the longest of three wins whatever the manifest order"},
	{"conditions not counted inside a class", brokenEngine{ir: func(g *ir.Gateway) {
		sortRoutes(g, func(a, b *ir.Route) int {
			if a.Match.Kind == ir.PathPrefix {
				return cmp.Compare(len(b.Match.Path), len(a.Match.Path))
			}
			return 0
		})
	}}, "exact: two conditions come before one, whatever the manifest order"},
	{"breaker counting every failover status", brokenEngine{ir: func(g *ir.Gateway) {
		for i := range g.Pools {
			if f := g.Pools[i].Failover; f != nil && f.Breaker != nil {
				f.Breaker.Status = append(f.Breaker.Status, f.OnStatus...)
			}
		}
	}}, "the breaker counts only its own statuses"},
	{"redirect drops the query", brokenEngine{resp: func(r *testrun.ClientResponse) {
		if loc := r.Header.Get("Location"); r.Status >= 300 && r.Status < 400 && loc != "" {
			loc, _, _ = strings.Cut(loc, "?")
			r.Header.Set("Location", loc)
		}
	}}, "redirect: keep_query appends the query unchanged"},
	{"Location not mapped back", brokenEngine{resp: func(r *testrun.ClientResponse) {
		if loc, ok := strings.CutPrefix(r.Header.Get("Location"), "/api/"); ok {
			r.Header.Set("Location", "/internal/"+loc)
		}
	}}, "location: a relative Location under the rewritten prefix is mapped back"},
	{"CORS Vary missing", brokenEngine{resp: func(r *testrun.ClientResponse) {
		r.Header.Del("Vary")
	}}, "simple: Vary: Origin on a response to a request without Origin"},
	{"preflight cached", brokenEngine{resp: func(r *testrun.ClientResponse) {
		if r.Header.Get("Access-Control-Allow-Origin") != "" && r.Header.Get("Cache-Control") == "no-cache" {
			r.Header.Set("Cache-Control", "public, max-age=600")
		}
	}}, "wildcard: max_age is sent in seconds on the preflight"},
	{"HSTS without its preload and includeSubDomains", brokenEngine{resp: func(r *testrun.ClientResponse) {
		if v, _, ok := strings.Cut(r.Header.Get("Strict-Transport-Security"), ";"); ok {
			r.Header.Set("Strict-Transport-Security", v)
		}
	}}, "hsts value: on a redirect"},
}

// sortRoutes re-orders the IR's routes by path kind, then by less, then by manifest order: the precedence
// of a target that gets one rule of the order wrong.
func sortRoutes(g *ir.Gateway, less func(a, b *ir.Route) int) {
	slices.SortStableFunc(g.Routes, func(a, b ir.Route) int {
		if c := cmp.Compare(a.Match.Kind.Rank(), b.Match.Kind.Rank()); c != 0 {
			return c
		}
		if c := less(&a, &b); c != 0 {
			return c
		}
		return cmp.Compare(a.Index, b.Index)
	})
}

// TestSuiteCatchesEveryBrokenRule runs the corpus on engines that each break one rule: the suite must fail
// the case named for that rule, through its own expectations and through the differential run against
// the reference, and the reference itself must pass it.
func TestSuiteCatchesEveryBrokenRule(t *testing.T) {
	ms, _, err := Load(LoadOptions{Vectors: "../../../" + DefaultVectors})
	if err != nil {
		t.Fatal(err)
	}
	env := testrun.Env{Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}
	keys := &testrun.KeyCache{}
	find := func(name string) (*ir.Gateway, ir.TestCase, bool) {
		for _, m := range ms {
			for _, tc := range m.Gateway.Tests {
				if tc.Name == name {
					return m.Gateway, tc, true
				}
			}
		}
		return nil, ir.TestCase{}, false
	}
	for _, br := range brokenRules {
		t.Run(br.rule, func(t *testing.T) {
			g, tc, ok := find(br.caughtBy)
			if !ok {
				t.Fatalf("no corpus case named %q", br.caughtBy)
			}
			ref := testrun.Run(context.Background(), g, []ir.TestCase{tc}, testrun.Options{Target: "local", Engine: testrun.RefEngine{}, Env: env, Keys: keys})[0]
			if !ref.Pass {
				t.Fatalf("the reference fails %q: %v %s", tc.Name, ref.Lines(), ref.Error)
			}
			own := testrun.Run(context.Background(), g, []ir.TestCase{tc}, testrun.Options{Target: "broken", Engine: br.engine, Env: env, Keys: keys})[0]
			if own.Pass || own.Error != "" {
				t.Errorf("the case's expectations do not catch %q (pass %v, error %q)", br.rule, own.Pass, own.Error)
			}
			diff := testrun.Run(context.Background(), g, []ir.TestCase{tc}, testrun.Options{Target: "broken", Engine: br.engine, Reference: testrun.RefEngine{}, Env: env, Keys: keys})[0]
			var fromRef []string
			for _, d := range diff.Diffs {
				if d.Reference {
					fromRef = append(fromRef, d.String())
				}
			}
			if len(fromRef) == 0 {
				t.Errorf("the differential run does not catch %q: %v", br.rule, diff.Lines())
			}
			for _, l := range diff.Lines() {
				if strings.Contains(l, "reference:") && !strings.Contains(l, "broken: ") {
					t.Errorf("difference line %q does not name the target", l)
				}
			}
		})
	}
}

// TestEngineAnsweringEverythingFailsTheCorpus guards the harness itself: an engine that answers 200 to
// everything, from no origin, fails most of the corpus.
func TestEngineAnsweringEverythingFailsTheCorpus(t *testing.T) {
	ms, _, err := Load(LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	always := brokenEngine{resp: func(r *testrun.ClientResponse) {
		r.Status, r.Header, r.Body = 200, http.Header{}, nil
	}}
	failed, total := 0, 0
	for _, m := range ms {
		for _, r := range testrun.Run(context.Background(), m.Gateway, m.Cases, testrun.Options{Target: "always", Engine: always, Reference: testrun.RefEngine{}}) {
			total++
			if r.Failed() {
				failed++
			}
		}
	}
	if failed < total/2 {
		t.Errorf("only %d of %d cases fail on an engine that answers 200 to everything", failed, total)
	}
}
