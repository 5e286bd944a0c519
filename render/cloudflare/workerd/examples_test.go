package workerd

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
)

// withTrustedKeys returns a copy of g whose policy trusts exactly keys (as JWK key files), the way the
// reference's ReplaceKeys does for a case signed with a generated key.
func withTrustedKeys(t *testing.T, g *ir.Gateway, policy string, keys []jwtverify.Key) *ir.Gateway {
	t.Helper()
	c := *g
	c.AuthPolicies = append([]ir.AuthPolicy(nil), g.AuthPolicies...)
	for i := range c.AuthPolicies {
		p := &c.AuthPolicies[i]
		if p.Name != policy || p.JWT == nil {
			continue
		}
		j := *p.JWT
		j.Keys, j.JWKS, j.Secret = nil, nil, nil
		for _, k := range keys {
			b, err := jose.JSONWebKey{Key: k.Key, KeyID: k.KID, Algorithm: k.Alg, Use: "sig"}.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			j.Keys = append(j.Keys, ir.KeyFile{Path: "test-key.jwk", KID: k.KID, Data: string(b)})
		}
		p.JWT = &j
	}
	return &c
}

// policyFor is the auth policy a case's token is signed under, as the reference runner picks it.
func policyFor(g *ir.Gateway, probe *gateway.Gateway, req *http.Request) *ir.AuthPolicy {
	if r := probe.RouteFor(req); r != nil && r.Auth != "" {
		return g.AuthPolicy(r.Auth)
	}
	if len(g.AuthPolicies) == 1 {
		return &g.AuthPolicies[0]
	}
	return nil
}

// TestExamplesDifferential renders each example manifest for Cloudflare, runs each of its own `tests:`
// cases through the Worker in workerd and through the reference gateway with the same request (the same
// token, the same clock), and requires the same decision: status, body, route, pool, origin, the response
// headers, and what each origin received (path and headers). The case's own expectations must hold on
// workerd too.
func TestExamplesDifferential(t *testing.T) {
	requireEngine(t)
	total, passed := 0, 0
	for _, name := range []string{"full", "quickstart"} {
		g, diags := manifest.Load("../../../testdata/examples/" + name + ".yaml")
		if g == nil {
			t.Fatalf("%s does not load: %v", name, diags)
		}
		keys := &testrun.KeyCache{}
		for _, tc := range g.Tests {
			total++
			ok := t.Run(name+"/"+tc.Name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				origins, urls := newOrigins(t, g)
				env := testrun.Env{Getenv: func(string) string { return "" }, Now: func() time.Time { return caseClock }}
				opts := gateway.Options{Now: env.Now, Getenv: env.Getenv, OriginURLs: urls}
				hr, err := testrun.NewRequest(tc.Request)
				if err != nil {
					t.Fatal(err)
				}
				req := &testrun.ClientRequest{Method: hr.Method, Target: hr.RequestURI, Host: hr.Host, Header: hr.Header.Clone(),
					Body: []byte(tc.Request.Body), ClientIP: DefaultClientIP, Now: caseClock}
				wg := g
				if tc.Request.JWT != nil && req.Header.Get("Authorization") == "" {
					probe, err := gateway.New(g, opts)
					if err != nil {
						t.Fatal(err)
					}
					if p := policyFor(g, probe, hr); p != nil {
						tok, err := testrun.SignTestToken(p, tc.Request.JWT, env, keys)
						if err != nil {
							t.Fatal(err)
						}
						req.Header.Set("Authorization", "Bearer "+tok.Bearer)
						if tok.TrustKeys != nil {
							opts.ReplaceKeys = map[string][]jwtverify.Key{tok.Policy: tok.TrustKeys}
							wg = withTrustedKeys(t, g, tok.Policy, tok.TrustKeys)
						}
					}
				}
				gw, err := gateway.New(g, opts)
				if err != nil {
					t.Fatal(err)
				}
				ref, err := refDo(t, gw, req, strings.HasPrefix(tc.Request.URL, "https://"))
				if err != nil {
					t.Fatal(err)
				}
				ref.upstream = take(origins)
				in, err := engine.Open(ctx, wg, urls, env)
				if err != nil {
					t.Fatal(err)
				}
				defer in.Close()
				got, err := workerdDo(ctx, in, req)
				if err != nil {
					t.Fatal(err)
				}
				got.upstream = take(origins)
				for _, d := range compare(ref, got) {
					t.Error(d)
				}
				obs := &testrun.Observed{Status: got.status, Header: flatten(got.header), Body: got.body, Decided: true,
					Route: got.route, Pool: got.pool, Origin: got.origin, Reason: got.reason}
				if up := got.upstream[got.origin]; len(up) > 0 {
					last := up[len(up)-1]
					obs.UpstreamPath, _, _ = strings.Cut(last.uri, "?")
					obs.UpstreamHeader = flatten(last.header)
				}
				diffs, _ := testrun.Compare(tc.Expect, obs)
				for _, d := range diffs {
					t.Errorf("the case's expectation on workerd: %s", d)
				}
			})
			if ok {
				passed++
			}
		}
	}
	t.Logf("examples on workerd, differential against the reference: %d/%d cases pass", passed, total)
}

func flatten(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = strings.Join(v, ", ")
	}
	return out
}
