package testrun

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
)

// recordingEngine is the reference engine that remembers what each Open was given.
type recordingEngine struct {
	opened []*ir.Gateway
	envs   []Env
	change func(*ClientResponse)
}

func (e *recordingEngine) Open(ctx context.Context, g *ir.Gateway, origins map[string]string, env Env) (Instance, error) {
	e.opened, e.envs = append(e.opened, g), append(e.envs, env)
	inst, err := RefEngine{}.Open(ctx, g, origins, env)
	if err != nil {
		return nil, err
	}
	return changingInstance{inst, e.change}, nil
}

type changingInstance struct {
	Instance
	change func(*ClientResponse)
}

func (i changingInstance) Do(ctx context.Context, cr *ClientRequest) (*ClientResponse, error) {
	r, err := i.Instance.Do(ctx, cr)
	if err == nil && i.change != nil {
		i.change(r)
	}
	return r, err
}

func jwksGateway() *ir.Gateway {
	return &ir.Gateway{
		Name:    "t",
		Domains: []ir.Domain{{Host: "api.example.com", Zone: "example.com"}},
		Origins: []ir.Origin{{Name: "app", URL: "https://app.internal"}},
		Pools:   []ir.Pool{{Name: "app", Origins: []string{"app"}}},
		AuthPolicies: []ir.AuthPolicy{{Name: "rs", JWT: &ir.JWT{Algorithms: []string{"RS256"},
			JWKS: &ir.JWKS{URL: "https://idp.example.com/jwks.json"}}}},
		Routes: []ir.Route{{Name: "api", Match: ir.Match{Kind: ir.PathPrefix, Path: "/api"}, Pool: "app", Auth: "rs"}},
		Tests: []ir.TestCase{
			{Name: "signed", Request: ir.TestRequest{URL: "https://api.example.com/api/x", JWT: &ir.TestJWT{Sub: "alice"}},
				Expect: ir.TestExpect{Status: 200}},
			{Name: "own token", Request: ir.TestRequest{URL: "https://api.example.com/api/x",
				Headers: []ir.HeaderSet{{Name: "Authorization", Value: "Bearer a.b.c"}}}, Expect: ir.TestExpect{Status: 401}},
		},
	}
}

// TestTestKeysReachTheTargetAsAJWKS checks that a signing case gives the target its key the way a real key
// arrives — the policy's jwks URL replaced by a loopback JWKS that serves the run's public key — without
// touching the caller's IR, and that a case that signs nothing runs on the manifest's own keys.
func TestTestKeysReachTheTargetAsAJWKS(t *testing.T) {
	g := jwksGateway()
	e := &recordingEngine{}
	res := Run(context.Background(), g, g.Tests, Options{Target: "rec", Engine: e})
	for _, r := range res {
		if !r.Pass {
			t.Errorf("%s: %v %s", r.Name, r.Lines(), r.Error)
		}
	}
	if len(e.opened) != 2 {
		t.Fatalf("%d opens, want one per case", len(e.opened))
	}
	if g.AuthPolicies[0].JWT.JWKS.URL != "https://idp.example.com/jwks.json" {
		t.Errorf("the caller's IR was changed: %s", g.AuthPolicies[0].JWT.JWKS.URL)
	}
	signed := e.opened[0].AuthPolicies[0].JWT.JWKS.URL
	if !strings.HasPrefix(signed, "http://127.0.0.1:") {
		t.Errorf("the signing case's jwks URL %q is not a loopback JWKS", signed)
	}
	if e.opened[1] != g {
		t.Errorf("a case that signs nothing did not run on the manifest's own IR")
	}
	if !strings.Contains(strings.Join(res[0].Notes, " "), "RS256") {
		t.Errorf("notes %v do not say which key signed", res[0].Notes)
	}
}

// TestTestSecretReachesTheTargetThroughItsEnvironment checks that a generated HS secret is handed to the
// target as a secret (the Env its Open gets), never written into the IR.
func TestTestSecretReachesTheTargetThroughItsEnvironment(t *testing.T) {
	g := hsGateway()
	e := &recordingEngine{}
	res := Run(context.Background(), g, g.Tests[:1], Options{Target: "rec", Engine: e})
	if !res[0].Pass {
		t.Fatalf("%v %s", res[0].Lines(), res[0].Error)
	}
	j := e.opened[0].AuthPolicies[0].JWT
	if j.Secret == nil || j.Secret.Env != "JWT_SECRET_KEY" || j.Secret.Literal != "" {
		t.Errorf("the IR's secret reference changed: %+v", j.Secret)
	}
	if s := e.envs[0].Getenv("JWT_SECRET_KEY"); len(s) < 32 {
		t.Errorf("the target's environment holds no generated secret (%q)", s)
	}
}

// TestDifferenceFromTheReferenceNamesTargetCaseAndPosition runs an engine that answers 403 where the
// reference answers 401, and checks the difference line the user reads.
func TestDifferenceFromTheReferenceNamesTargetCaseAndPosition(t *testing.T) {
	g := jwksGateway()
	g.Tests[1].Pos = ir.Pos{File: "edgegw.yaml", Line: 88, Col: 5}
	e := &recordingEngine{change: func(r *ClientResponse) {
		if r.Status == 401 {
			r.Status = 403
		}
	}}
	res := Run(context.Background(), g, g.Tests[1:], Options{Target: "cloudflare", Engine: e, Reference: RefEngine{}})
	want := `status: cloudflare: 403, reference: 401 (tests[1] "own token", edgegw.yaml:88:5)`
	if res[0].Pass || !strings.Contains(strings.Join(res[0].Lines(), "\n"), want) {
		t.Errorf("lines %q, want one reading %q", res[0].Lines(), want)
	}
}

// TestScriptedOriginsStepsAndClock checks the loop's own mechanics on one case: a list of origin answers
// consumed in order, a down origin, a delay past the timeout, a clock that moves only with at:, and several
// values of one header reaching the origin in order.
func TestScriptedOriginsStepsAndClock(t *testing.T) {
	var seenNow []time.Time
	g := &ir.Gateway{
		Name:    "t",
		Domains: []ir.Domain{{Host: "api.example.com", Zone: "example.com"}},
		Origins: []ir.Origin{{Name: "a", URL: "http://a.internal", Timeout: ir.Duration(200 * time.Millisecond)},
			{Name: "b", URL: "http://b.internal"}, {Name: "c", URL: "http://c.internal"}},
		Pools: []ir.Pool{{Name: "ab", Origins: []string{"a", "b"}, Failover: &ir.Failover{OnStatus: []int{502}}},
			{Name: "c", Origins: []string{"c"}}},
		Routes: []ir.Route{{Name: "ab", Match: ir.Match{Kind: ir.PathPrefix, Path: "/ab"}, Pool: "ab"},
			{Name: "c", Match: ir.Match{Kind: ir.PathPrefix, Path: "/c"}, Pool: "c"}},
	}
	tc := ir.TestCase{Name: "mechanics",
		Origins: []ir.TestOrigin{{Name: "a", Responses: []ir.TestResponse{{Status: 502}, {Status: 200, Delay: ir.Duration(time.Second)}, {Status: 200, Body: "a3"}}},
			{Name: "c", Down: true}},
		Steps: []ir.TestStep{
			{Request: ir.TestRequest{URL: "https://api.example.com/ab/1"}, Repeat: 1, Expect: ir.TestExpect{Status: 200, Tried: []string{"a", "b"}}},
			{Request: ir.TestRequest{URL: "https://api.example.com/ab/2"}, Repeat: 1, Expect: ir.TestExpect{Status: 200, Tried: []string{"a", "b"}}},
			{Request: ir.TestRequest{URL: "https://api.example.com/ab/3", Headers: []ir.HeaderSet{{Name: "X-Multi", Value: "one"}, {Name: "X-Multi", Value: "two"}}},
				Repeat: 1, At: ir.Duration(61 * time.Second), Expect: ir.TestExpect{Status: 200, Origin: "a", Body: ptr("a3"),
					Upstream: &ir.HeaderExpect{Equal: []ir.HeaderSet{{Name: "X-Multi", Value: "one, two"}}}}},
			{Request: ir.TestRequest{URL: "https://api.example.com/c/1"}, Repeat: 2, Expect: ir.TestExpect{Status: 502, NoOrigin: true}},
		}}
	g.Tests = []ir.TestCase{tc}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := &clockEngine{seen: &seenNow}
	res := Run(context.Background(), g, g.Tests, Options{Target: "t", Engine: e, Env: Env{Now: func() time.Time { return start }}})
	if !res[0].Pass {
		t.Fatalf("%v %s", res[0].Lines(), res[0].Error)
	}
	want := []time.Time{start, start, start.Add(61 * time.Second), start.Add(61 * time.Second), start.Add(61 * time.Second)}
	if len(seenNow) != len(want) {
		t.Fatalf("%d requests, want %d", len(seenNow), len(want))
	}
	for i := range want {
		if !seenNow[i].Equal(want[i]) {
			t.Errorf("request %d at %v, want %v", i, seenNow[i], want[i])
		}
	}
}

type clockEngine struct{ seen *[]time.Time }

func (e *clockEngine) Open(ctx context.Context, g *ir.Gateway, origins map[string]string, env Env) (Instance, error) {
	inst, err := RefEngine{}.Open(ctx, g, origins, env)
	return clockInstance{inst, e.seen}, err
}

type clockInstance struct {
	Instance
	seen *[]time.Time
}

func (i clockInstance) Do(ctx context.Context, cr *ClientRequest) (*ClientResponse, error) {
	*i.seen = append(*i.seen, cr.Now)
	return i.Instance.Do(ctx, cr)
}

func ptr(s string) *string { return &s }

// TestOriginRefusesWhenDown checks the down script is a refused connection, not an answer.
func TestOriginRefusesWhenDown(t *testing.T) {
	g := &ir.Gateway{Origins: []ir.Origin{{Name: "x"}}}
	os, stop, err := startOrigins(g, []ir.TestOrigin{{Name: "x", Down: true}}, func(received) {})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get(os["x"].url)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t.Fatalf("a down origin answered %d", resp.StatusCode)
	}
	if !strings.Contains(err.Error(), "refused") {
		t.Errorf("error %v, want connection refused", err)
	}
}

// TestReportedRouteIsComparedWithTheReference checks that a route the target reports in test mode must be
// the reference's, and that a target reporting none is judged on what the origins observed only.
func TestReportedRouteIsComparedWithTheReference(t *testing.T) {
	g := jwksGateway()
	wrong := &recordingEngine{change: func(r *ClientResponse) { r.Decision["route"] = "other" }}
	res := Run(context.Background(), g, g.Tests[1:], Options{Target: "x", Engine: wrong, Reference: RefEngine{}})
	if res[0].Pass || !strings.Contains(strings.Join(res[0].Lines(), "\n"), `route: x: other, reference: api`) {
		t.Errorf("a wrong reported route passed: %v", res[0].Lines())
	}
	silent := &recordingEngine{change: func(r *ClientResponse) { r.Decision = nil }}
	res = Run(context.Background(), g, g.Tests[1:], Options{Target: "x", Engine: silent, Reference: RefEngine{}})
	if !res[0].Pass {
		t.Errorf("a target that reports no decision failed: %v", res[0].Lines())
	}
}

// unexecutableEngine is the reference engine declaring that it cannot execute the cases named in names.
type unexecutableEngine struct {
	RefEngine
	names  map[string]string
	opened int
}

func (e *unexecutableEngine) Open(ctx context.Context, g *ir.Gateway, origins map[string]string, env Env) (Instance, error) {
	e.opened++
	return e.RefEngine.Open(ctx, g, origins, env)
}

func (e *unexecutableEngine) Unexecutable(_ *ir.Gateway, tc ir.TestCase) string {
	return e.names[tc.Name]
}

// TestUnexecutableIsASkipNeverAPass checks that a case the engine says its runtime cannot execute is not
// run (no instance is opened for it), is skipped with the engine's reason and marked Unexecutable, and
// counts neither as a pass nor as a failure, while the engine's other cases run.
func TestUnexecutableIsASkipNeverAPass(t *testing.T) {
	g := jwksGateway()
	e := &unexecutableEngine{names: map[string]string{"own token": "the runtime drops repeated header lines"}}
	res := Run(context.Background(), g, g.Tests, Options{Target: "t", Engine: e, Reference: RefEngine{}})
	if len(res) != 2 {
		t.Fatalf("%d results", len(res))
	}
	if !res[0].Pass || res[0].Unexecutable || res[0].Skipped != "" {
		t.Errorf("signed: %+v", res[0])
	}
	r := res[1]
	if r.Pass || r.Failed() || !r.Unexecutable || !strings.Contains(r.Skipped, "cannot execute this case: the runtime drops repeated header lines") {
		t.Errorf("own token: pass=%v failed=%v unexecutable=%v skipped=%q", r.Pass, r.Failed(), r.Unexecutable, r.Skipped)
	}
	if e.opened != 1 {
		t.Errorf("the engine was opened %d times, want once (the unexecutable case must not run)", e.opened)
	}
}
