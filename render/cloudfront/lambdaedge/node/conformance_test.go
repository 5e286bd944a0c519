package node_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

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
	passed, skipped, failed, known, refusedManifests := 0, 0, 0, 0, 0
	for _, m := range load(t) {
		if strings.Contains(m.File, "wycheproof") {
			continue
		}
		g := withCompanion(m.Gateway)
		if _, err := lambdaedge.Render(g, lambdaedge.Options{Test: true}); err != nil {
			refusedManifests++
			t.Logf("%s: refused at render: %v", m.File, err)
			continue
		}
		for _, r := range testrun.Run(context.Background(), g, m.Cases, opts) {
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
	t.Logf("corpus on the lambda-edge-auth handler: %d passed, %d skipped (companion cannot), %d failed, %d known; %d manifests refused at render", passed, skipped, failed, known, refusedManifests)
}
