package node_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/gateway/testrun/conformance"
	"github.com/edgegw/edgegw/internal/testenv"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/render/cloudfront/lambdaedge"
	"github.com/edgegw/edgegw/render/cloudfront/lambdaedge/node"
)

func requireNode(t testing.TB) {
	t.Helper()
	_, err := exec.LookPath("node")
	testenv.Require(t, "node (scripts/install-test-deps.sh)", err)
}

// companionCannot is what the lambda-edge-auth handler does not enforce, with why; validate and render
// refuse manifests that need it (render: an HMAC secret, a pool of two origins).
var companionCannot = map[providers.Feature]string{
	providers.JWTHS256:     "an HMAC secret: Lambda@Edge has no environment variables (render refuses it)",
	providers.RateLimitSub: "Lambda@Edge keeps no counters across containers",
	providers.RateLimitIP:  "Lambda@Edge keeps no counters across containers",
	providers.RateLimitHdr: "Lambda@Edge keeps no counters across containers",
	providers.Failover:     "a Lambda@Edge function cannot choose an origin group (render refuses a pool of two origins)",
	providers.Breaker:      "CloudFront keeps no breaker state",
	// The distribution's own 502 and 504 carry no HSTS (the platform-errors companion accepts that).
	providers.HSTSOnUpstreamErrors: "the distribution writes its 502 and 504 itself, where no trigger runs and no response headers policy is documented",
	// An origin's answers of 400 or more skip the viewer-response trigger (platform-errors accepts that).
	providers.ResponseOnOriginErrors: "CloudFront runs no viewer-response trigger on an origin's answer of 400 or more",
}

// withCompanion is g as a manifest that opts cloudfront into the companion.
func withCompanion(g *ir.Gateway) *ir.Gateway {
	c := *g
	c.Targets = ir.Targets{{Name: "cloudfront", Companions: []string{lambdaedge.Companion}}}
	return &c
}

func load(t *testing.T) []conformance.Manifest {
	ms, notes, err := conformance.Load(conformance.LoadOptions{Vectors: "../../../../" + conformance.DefaultVectors, RequireVectors: os.Getenv("CI") != ""})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		t.Log(n)
	}
	return ms
}

// TestWycheproof runs every Wycheproof JWS case the reference verifies (RS, PS, ES, EdDSA; HS groups are
// refused by render) through the rendered handler in Node, differentially against the reference gateway.
func TestWycheproof(t *testing.T) {
	requireNode(t)
	opts := testrun.Options{Target: "cloudfront", Engine: node.Default, Reference: testrun.RefEngine{}, Keys: &testrun.KeyCache{}}
	perAlg := map[string][2]int{}
	passed, failed, refused, manifests := 0, 0, 0, 0
	for _, m := range load(t) {
		if !strings.Contains(m.File, "wycheproof") {
			continue
		}
		manifests++
		g := withCompanion(m.Gateway)
		alg := g.AuthPolicies[0].JWT.Algorithms[0]
		if g.AuthPolicies[0].JWT.Secret != nil {
			if _, err := lambdaedge.Render(g, lambdaedge.Options{Test: true}); err == nil || !strings.Contains(err.Error(), "HMAC secret") {
				t.Errorf("%s: render of an HMAC policy: %v, want the HMAC-secret refusal", g.Name, err)
			}
			refused += len(g.Tests)
			continue
		}
		c := perAlg[alg]
		for _, r := range testrun.Run(context.Background(), g, g.Tests, opts) {
			if r.Failed() || !r.Pass {
				failed++
				c[1]++
				t.Errorf("%s: %s %v", r.Where(), r.Error, r.Lines())
				continue
			}
			passed++
			c[0]++
		}
		perAlg[alg] = c
	}
	if passed == 0 {
		t.Fatal("no Wycheproof case ran through the handler")
	}
	for a, c := range perAlg {
		t.Logf("%s: %d passed, %d failed", a, c[0], c[1])
	}
	t.Logf("Wycheproof on the lambda-edge-auth handler (%d manifests): %d passed, %d failed, %d refused at render (HMAC secret)", manifests, passed, failed, refused)
}

// knownCase are corpus cases the handler decides differently from the reference by CloudFront's
// documented behaviour, with why; each must still fail.
var knownCase = map[string]string{}

// TestCorpus runs the rest of the conformance corpus through the handler (the whole gateway runs in it
// with the companion), skipping what the companion does not enforce, and logs the counts.
func TestCorpus(t *testing.T) {
	requireNode(t)
	cannot := func(f string) string { return companionCannot[providers.Feature(f)] }
	opts := testrun.Options{Target: "cloudfront", Engine: node.Default, Reference: testrun.RefEngine{}, Cannot: cannot, Keys: &testrun.KeyCache{}}
	passed, skipped, failed, known, refusedManifests, droppedCases := 0, 0, 0, 0, 0, 0
	for _, m := range load(t) {
		if strings.Contains(m.File, "wycheproof") {
			continue
		}
		g, cases, dropped := companionView(t, m)
		droppedCases += dropped
		if _, err := lambdaedge.Render(g, lambdaedge.Options{Test: true}); err != nil {
			refusedManifests++
			t.Logf("%s: refused at render: %v", m.File, err)
			continue
		}
		for _, r := range testrun.Run(context.Background(), g, cases, opts) {
			switch {
			case r.Skipped != "":
				skipped++
			case knownCase[r.Name] != "" && r.Failed():
				known++
				t.Logf("known: %s: %s", r.Where(), knownCase[r.Name])
			case knownCase[r.Name] != "":
				t.Errorf("%s passes but is listed as a known divergence", r.Where())
			case r.Failed():
				failed++
				t.Errorf("%s: %s %v", r.Where(), r.Error, r.Lines())
			default:
				passed++
			}
		}
	}
	if passed == 0 {
		t.Fatal("no corpus case ran through the handler")
	}
	t.Logf("corpus on the lambda-edge-auth handler: %d passed, %d skipped (companion cannot), %d failed, %d known; %d cases left out (they take a route whose policy holds an HMAC secret); %d manifests refused at render", passed, skipped, failed, known, droppedCases, refusedManifests)
}

// companionView is m's gateway as a manifest with the companion: the routes whose auth policy holds an
// HMAC secret (which render refuses) are left out, with the cases that the reference routes to them.
func companionView(t *testing.T, m conformance.Manifest) (*ir.Gateway, []ir.TestCase, int) {
	t.Helper()
	g := withCompanion(m.Gateway)
	removed := map[string]bool{}
	var routes []ir.Route
	for _, r := range g.Routes {
		if p := g.AuthPolicy(r.Auth); p != nil && p.JWT != nil && p.JWT.Secret != nil {
			removed[r.Name] = true
			continue
		}
		routes = append(routes, r)
	}
	if len(removed) == 0 {
		return g, m.Cases, 0
	}
	ref, err := gateway.New(m.Gateway, gateway.Options{Getenv: func(k string) string { return m.Env[k] }})
	if err != nil {
		t.Fatalf("%s: %v", m.File, err)
	}
	var cases []ir.TestCase
	for _, tc := range m.Cases {
		takes := false
		for _, st := range tc.Sequence() {
			req := httptest.NewRequest(methodOr(st.Request.Method), st.Request.URL, nil)
			if st.Request.Target != "" {
				req.RequestURI = st.Request.Target
			}
			if st.Request.Host != "" {
				req.Host = st.Request.Host
			}
			for _, h := range st.Request.Headers {
				req.Header.Add(h.Name, h.Value)
			}
			if r := ref.RouteFor(req); r != nil && removed[r.Name] {
				takes = true
			}
		}
		if !takes {
			cases = append(cases, tc)
		}
	}
	g.Routes = routes
	return g, cases, len(m.Cases) - len(cases)
}

func methodOr(m string) string {
	if m == "" {
		return http.MethodGet
	}
	return m
}
