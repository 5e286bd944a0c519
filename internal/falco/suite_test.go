package falco

import (
	"context"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
)

// suiteManifest has one route per construct the suite's cases exercise on this engine.
const suiteManifest = `version: 1
name: suite
domains:
  - {host: api.example.com, zone: example.com}
origins:
  app: {url: http://app.internal, timeout: 1s}
pools:
  app: {origins: [app]}
auth:
  hs:
    jwt: {algorithms: [HS256], secret: {env: SUITE_HS_SECRET}}
  rs:
    jwt: {algorithms: [RS256, ES256], jwks: {url: https://idp.example.com/jwks.json}}
rate_limits:
  one: {key: ip, limit: 1, window: 60s}
cors:
  allow_origins: [https://app.example.com]
routes:
  - {name: limited, match: {path: {prefix: /limited}}, pool: app, rate_limit: one}
  - {name: hs, match: {path: {prefix: /hs}}, pool: app, auth: hs}
  - {name: rs, match: {path: {prefix: /rs}}, pool: app, auth: rs}
  - {name: api, match: {path: {prefix: /api}}, pool: app, rewrite: {prefix: /internal}}
  - {name: default, match: {fallback: true}, pool: app}
tests:
  - name: two requests to a limited route
    steps:
      - request: {url: https://api.example.com/limited/a}
        expect: {status: 200}
      - request: {url: https://api.example.com/limited/a}
        expect: {status: 429}
  - name: one request to a limited route
    request: {url: https://api.example.com/limited/a}
    expect: {status: 200}
  - name: two requests elsewhere
    steps:
      - request: {url: https://api.example.com/other}
        repeat: 2
        expect: {status: 200}
  - name: origin down
    origins: {app: {down: true}}
    request: {url: https://api.example.com/other}
    expect: {status: 502}
  - name: origin past its timeout
    origins: {app: {delay: 2s}}
    request: {url: https://api.example.com/other}
    expect: {status: 504}
  - name: origin slow within its timeout
    origins: {app: {delay: 100ms}}
    request: {url: https://api.example.com/other}
    expect: {status: 200}
  - name: two Authorization lines
    request: {url: https://api.example.com/hs/a, header_values: {Authorization: ["Bearer {{token}}", "Bearer x.y.z"]}, jwt: {sub: bob}}
    expect: {status: 401}
  - name: a forwarded header on two lines
    request: {url: https://api.example.com/other, header_values: {X-Other: ["a", "b"]}}
    expect: {status: 200, origin: app}
  - name: a HEAD request
    request: {method: HEAD, url: https://api.example.com/other}
    expect: {status: 200, origin: app}
  - name: the origin's own CORS allowance is dropped
    origins: {app: {headers: {Access-Control-Allow-Origin: "*", Access-Control-Expose-Headers: X-Secret}}}
    request: {url: https://api.example.com/other, headers: {Origin: "https://evil.example"}}
    expect: {status: 200, headers: {absent: [Access-Control-Allow-Origin, Access-Control-Expose-Headers]}}
  - name: rs256 from the JWKS
    request: {url: https://api.example.com/rs/a, jwt: {sub: bob}}
    expect: {status: 200, origin: app, upstream_headers: {present: [X-Forwarded-For]}}
  - name: es256 from the JWKS
    request: {url: https://api.example.com/rs/a, jwt: {sub: bob, alg: ES256}}
    expect: {status: 200, origin: app}
  - name: an untrusted key with the trusted kid
    request: {url: https://api.example.com/rs/a, jwt: {sub: bob, key: untrusted}}
    expect: {status: 403, body: "{\"status\":403,\"code\":\"JWT_SIGNATURE\",\"message\":\"Forbidden\"}\n"}
  - name: a Location at the manifest's origin host
    origins: {app: {status: 302, headers: {Location: "http://app.internal/internal/next?x=1"}}}
    request: {url: https://api.example.com/api/a}
    expect: {status: 302, headers: {equal: {Location: "https://api.example.com/api/next?x=1"}}}
  - name: a Location over http
    origins: {app: {status: 302, headers: {Location: "http://app.internal/internal/next"}}}
    request: {url: http://api.example.com/api/a}
    expect: {status: 302, headers: {equal: {Location: "http://api.example.com/api/next"}}}
`

func suiteGateway(t *testing.T) *ir.Gateway {
	t.Helper()
	g, diags := manifest.LoadBytes("suite.yaml", []byte(suiteManifest), manifest.LoadOptions{})
	if g == nil || diags.HasErrors() {
		t.Fatal(diags)
	}
	return g
}

func suiteCase(t *testing.T, g *ir.Gateway, name string) ir.TestCase {
	t.Helper()
	for _, tc := range g.Tests {
		if tc.Name == name {
			return tc
		}
	}
	t.Fatalf("no case %q", name)
	return ir.TestCase{}
}

// TestUnexecutableCases checks which cases the engine declares falco cannot execute: a second request to
// a rate-limited route, an origin scripted down or past its timeout, a header on several lines; and that
// nearby cases falco does execute are not declared (one limited request, repeats elsewhere, a slow origin
// within its timeout, a header the VCL does not collect on two lines, every JWT and Location case).
func TestUnexecutableCases(t *testing.T) {
	g := suiteGateway(t)
	want := map[string]string{
		"two requests to a limited route": "sends 2 requests to rate-limited routes",
		"origin down":                     "origin app is scripted down",
		"origin past its timeout":         "origin app is scripted to answer after its 1s timeout",
		"two Authorization lines":         "carries Authorization on several lines and the VCL reads it through std.collect",
	}
	for _, tc := range g.Tests {
		got := NewEngine().Unexecutable(g, tc)
		w := want[tc.Name]
		if (w == "") != (got == "") || !strings.Contains(got, w) {
			t.Errorf("%q: Unexecutable = %q, want %q", tc.Name, got, w)
		}
	}
}

// plainEngine hides the engine's Unexecutable, to run the cases it declares.
type plainEngine struct{ testrun.Engine }

// TestFalcoCannotExecuteWhatIsDeclared runs the declared cases anyway and checks that falco really does
// not execute them, each the way the declaration says: the limited route's second request reaches the
// origin, a fetch that cannot connect or times out ends in an interpreter error, and of two Authorization
// lines only the first is seen. When falco learns one of these, this test fails and the declaration must
// go.
func TestFalcoCannotExecuteWhatIsDeclared(t *testing.T) {
	requireFalco(t)
	g := suiteGateway(t)
	run := func(name string) testrun.Result {
		tc := suiteCase(t, g, name)
		return testrun.Run(context.Background(), g, []ir.TestCase{tc}, testrun.Options{Target: "fastly", Engine: plainEngine{NewEngine()}})[0]
	}
	if r := run("two requests to a limited route"); r.Pass || r.Observed == nil || r.Observed.Status != 200 || r.Observed.Origin != "app" {
		t.Errorf("limited route: falco limited the second request (pass=%v, %+v, %s)", r.Pass, r.Observed, r.Error)
	}
	for _, name := range []string{"origin down", "origin past its timeout"} {
		if r := run(name); !strings.Contains(r.Error, "the interpreter produced no response") {
			t.Errorf("%s: want the simulator's interpreter error, got error %q, diffs %v", name, r.Error, r.Lines())
		}
	}
	if r := run("two Authorization lines"); r.Pass || r.Observed == nil || r.Observed.Status != 200 {
		t.Errorf("two Authorization lines: falco saw the second line (pass=%v, %+v, %s)", r.Pass, r.Observed, r.Error)
	}
}

// TestSuiteCasesOnFalco runs the executable cases through the engine, differentially against the
// reference: keys from a JWKS (the engine fills the policy's dictionary from the key set's URL, as the
// provider does), a Location at the manifest's origin host mapped back with the client's scheme, a HEAD
// request (the simulator's answer carries the VCL's response), an origin's own CORS headers dropped.
func TestSuiteCasesOnFalco(t *testing.T) {
	requireFalco(t)
	g := suiteGateway(t)
	e := NewEngine()
	ran := 0
	for _, tc := range g.Tests {
		if e.Unexecutable(g, tc) != "" {
			continue
		}
		ran++
		r := testrun.Run(context.Background(), g, []ir.TestCase{tc}, testrun.Options{Target: "fastly", Engine: e, Reference: testrun.RefEngine{}})[0]
		if !r.Pass {
			t.Errorf("%s: %s\n  %s", tc.Name, r.Error, strings.Join(r.Lines(), "\n  "))
		}
	}
	if ran != 11 {
		t.Errorf("%d cases ran, want 11", ran)
	}
}
