package workerd

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/internal/testenv"
	"github.com/edgegw/edgegw/manifest/ir"
)

func pathsIR() *ir.Gateway {
	return &ir.Gateway{
		SchemaVersion: ir.SchemaVersion, Name: "paths",
		Domains: []ir.Domain{{Host: "api.example.com", Zone: "example.com"}},
		HSTS:    &ir.HSTS{MaxAge: 600},
		Origins: []ir.Origin{{Name: "app", URL: "https://app.internal"}},
		Pools:   []ir.Pool{{Name: "app", Origins: []string{"app"}}},
		Routes:  []ir.Route{{Name: "all", Match: ir.Match{Kind: ir.PathFallback}, Pool: "app"}},
		Errors:  ir.EdgeErrors("paths"),
	}
}

// workerdRewrites are the paths.tsv rows workerd itself changes before any Worker code runs: its HTTP
// server resolves raw "." and ".." segments in the request-target (encoded ones reach the Worker as sent),
// so a raw ".." above the root arrives as "/admin" and cannot be refused by the Worker. Listed so the test
// notices when workerd's behaviour changes; Engine.Unexecutable must declare exactly these rows.
var workerdRewrites = []string{"/../admin", "/public/../../admin"}

// TestPathsTSVInWorkerd sends every row of shared/testvectors/paths.tsv to the GENERATED Worker in workerd
// and to the reference gateway: both must decide the row as the file says (400 with no upstream request,
// or the origin receiving exactly the normalized path), except the rows workerd rewrites before the Worker
// sees them.
func TestPathsTSVInWorkerd(t *testing.T) {
	requireEngine(t)
	data, err := os.ReadFile(testenv.SharedFile(t, "testvectors/paths.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	g := pathsIR()
	origins, urls := newOrigins(t, g)
	env := testrun.Env{Getenv: func(string) string { return "" }, Now: func() time.Time { return caseClock }}
	gw, err := gateway.New(g, gateway.Options{Now: env.Now, OriginURLs: urls})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in, err := engine.Open(ctx, g, urls, env)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	rows, passed := 0, 0
	var runtimeRewritten []string
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		raw, want := f[0], f[1]
		rows++
		req := &testrun.ClientRequest{Method: "GET", Target: raw, Host: "api.example.com", Header: http.Header{}, ClientIP: testrun.DefaultClientIP, Now: caseClock}
		ref, err := refDo(t, gw, req, true)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		ref.upstream = take(origins)
		got, err := workerdDo(ctx, in, req)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		got.upstream = take(origins)
		check := func(o observation) string {
			if o.header.Get("Strict-Transport-Security") == "" {
				return "no HSTS"
			}
			if want == "400" {
				if o.status != 400 || len(o.upstream) != 0 {
					return fmt.Sprintf("status %d, %d origins reached; want 400 and none", o.status, len(o.upstream))
				}
				return ""
			}
			if o.status != 200 || len(o.upstream["app"]) != 1 || o.upstream["app"][0].uri != want {
				return fmt.Sprintf("status %d, upstream %v; want 200 forwarding %q", o.status, o.upstream, want)
			}
			return ""
		}
		if msg := check(ref); msg != "" {
			t.Errorf("%q on the reference: %s", raw, msg)
		}
		msg := check(got)
		if msg == "" {
			if d := compare(ref, got); len(d) > 0 {
				msg = strings.Join(d, "; ")
			}
		}
		declared := engine.Unexecutable(g, ir.TestCase{Name: raw, Request: ir.TestRequest{URL: "https://api.example.com/", Target: raw}}) != ""
		switch {
		case msg == "" && declared:
			t.Errorf("%q passes on workerd, but Engine.Unexecutable declares it cannot be executed there", raw)
		case msg == "":
			passed++
		case declared && slices.Contains(workerdRewrites, raw):
			runtimeRewritten = append(runtimeRewritten, raw)
			t.Logf("%q: %s (workerd resolved the raw dot segments before the Worker ran)", raw, msg)
		default:
			t.Errorf("%q on workerd (declared unexecutable: %v): %s", raw, declared, msg)
		}
	}
	t.Logf("paths.tsv through the generated Worker in workerd: %d/%d rows as the reference; rewritten by workerd before the Worker: %v", passed, rows, runtimeRewritten)
	if rows < 30 {
		t.Errorf("only %d rows read", rows)
	}
	if !slices.Equal(runtimeRewritten, workerdRewrites) {
		t.Errorf("rows rewritten by workerd %v, want exactly %v: update workerdRewrites and the README", runtimeRewritten, workerdRewrites)
	}
}

// preSignature are the codes a token gets before its signature is checked; any other answer (a pass, or
// a claim refusal) means the signature verified.
var preSignature = []string{"JWT_MISSING", "JWT_MALFORMED", "JWT_TOO_LARGE", "JWT_ALG", "JWT_UNSUPPORTED", "JWT_KEY", "JWT_SIGNATURE"}

func signatureAccepted(o observation) bool {
	if o.status == 200 {
		return true
	}
	return !slices.Contains(preSignature, o.reason) || strings.HasPrefix(o.detail, "claims:")
}

// wycheproofExceptions are the label defects documented in shared/testvectors/README.md.
var wycheproofExceptions = []int{346, 347, 350, 351, 367, 370, 372, 373}

// TestWycheproofJWSInWorkerd verifies every vector of Wycheproof's JWS file through the GENERATED Worker:
// one route and one auth policy per test group (the group's key, every algorithm allowed: the key's own
// "alg" pins it), each token sent as a bearer token. The Worker's decision must equal the reference's on
// every vector, and the labels must hold except the documented label defects.
func TestWycheproofJWSInWorkerd(t *testing.T) {
	requireEngine(t)
	data, err := os.ReadFile(testenv.SharedFile(t, "testvectors/wycheproof/json_web_signature_test.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		NumberOfTests int `json:"numberOfTests"`
		TestGroups    []struct {
			Comment string          `json:"comment"`
			Public  json.RawMessage `json:"public"`
			Private json.RawMessage `json:"private"`
			Tests   []struct {
				TcID    int    `json:"tcId"`
				Comment string `json:"comment"`
				JWS     string `json:"jws"`
				Result  string `json:"result"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	g := pathsIR()
	g.Name = "wycheproof"
	g.Errors = ir.EdgeErrors(g.Name)
	g.Routes = nil
	usable := map[int]bool{}
	for i, grp := range file.TestGroups {
		jwk := grp.Public
		if jwk == nil {
			jwk = grp.Private
		}
		if _, err := jwtverify.ParseKeys(jwk, ""); err != nil {
			continue // the reference cannot load the key either: every token of the group is refused
		}
		usable[i] = true
		name := fmt.Sprintf("g%d", i)
		g.AuthPolicies = append(g.AuthPolicies, ir.AuthPolicy{Name: name, JWT: &ir.JWT{Algorithms: jwtverify.Supported(),
			Keys: []ir.KeyFile{{Path: name + ".jwk", Data: string(jwk)}}}})
		g.Routes = append(g.Routes, ir.Route{Name: name, Match: ir.Match{Kind: ir.PathPrefix, Path: "/" + name}, Auth: name,
			Respond: &ir.Respond{Status: 200, Body: "verified"}})
	}
	origins, urls := newOrigins(t, g)
	_ = origins
	env := testrun.Env{Getenv: func(string) string { return "" }, Now: func() time.Time { return caseClock }}
	gw, err := gateway.New(g, gateway.Options{Now: env.Now, OriginURLs: urls})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in, err := engine.Open(ctx, g, urls, env)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	total, passed := 0, 0
	var failed []int
	for i, grp := range file.TestGroups {
		for _, tc := range grp.Tests {
			total++
			accepted := false
			if usable[i] {
				req := &testrun.ClientRequest{Method: "GET", Target: fmt.Sprintf("/g%d", i), Host: "api.example.com",
					Header: http.Header{"Authorization": {"Bearer " + tc.JWS}}, ClientIP: testrun.DefaultClientIP, Now: caseClock}
				ref, err := refDo(t, gw, req, true)
				if err != nil {
					t.Fatalf("tcId %d: %v", tc.TcID, err)
				}
				got, err := workerdDo(ctx, in, req)
				if err != nil {
					t.Fatalf("tcId %d: %v", tc.TcID, err)
				}
				if got.status != ref.status || got.reason != ref.reason {
					t.Errorf("tcId %d (%s): workerd %d %s (%s), reference %d %s (%s)", tc.TcID, tc.Comment, got.status, got.reason, got.detail, ref.status, ref.reason, ref.detail)
				}
				accepted = signatureAccepted(got)
			}
			if accepted == (tc.Result == "valid") {
				passed++
				continue
			}
			failed = append(failed, tc.TcID)
			if !slices.Contains(wycheproofExceptions, tc.TcID) {
				t.Errorf("tcId %d (%s / %s): labelled %s, the Worker accepted=%v", tc.TcID, grp.Comment, tc.Comment, tc.Result, accepted)
			}
		}
	}
	t.Logf("Wycheproof JWS through the generated Worker in workerd: %d/%d pass; failing tcIds %v (documented label defects: %v)", passed, total, failed, wycheproofExceptions)
	if total != file.NumberOfTests {
		t.Errorf("ran %d vectors, the file declares %d", total, file.NumberOfTests)
	}
	if passed < 393 {
		t.Errorf("score %d/%d, want at least 393", passed, total)
	}
}
