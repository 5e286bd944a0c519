package workerd

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest/ir"
)

// TestJWKSDifferential: keys fetched from a JWKS URL (RSA, EC and Ed25519, picked by kid), against the
// reference: good tokens pass, an unknown kid, a kid whose key does not fit the alg, an alg the policy does
// not list and a signature by another key are refused with the same codes.
func TestJWKSDifferential(t *testing.T) {
	requireEngine(t)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &rsaKey.PublicKey, KeyID: "rsa", Use: "sig"},
		{Key: &ecKey.PublicKey, KeyID: "ec", Use: "sig"},
		{Key: edKey.Public(), KeyID: "ed", Use: "sig"},
	}}
	var fetches atomic.Int32
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	defer jwks.Close()

	g := pathsIR()
	g.Name = "jwks"
	g.Errors = ir.EdgeErrors(g.Name)
	g.AuthPolicies = []ir.AuthPolicy{{Name: "idp", JWT: &ir.JWT{Algorithms: []string{"RS256", "ES256", "EdDSA"},
		JWKS:   &ir.JWKS{URL: jwks.URL + "/.well-known/jwks.json", CacheTTL: ir.Duration(10 * time.Minute)},
		Issuer: "https://idp.example/", ClockSkew: ir.Duration(30 * time.Second), ForwardClaims: []ir.ClaimForwarding{{Claim: "sub", Header: "X-Sub"}}}}}
	g.Routes = []ir.Route{{Name: "api", Match: ir.Match{Kind: ir.PathPrefix, Path: "/api"}, Auth: "idp", Pool: "app"}}

	sign := func(alg jose.SignatureAlgorithm, key any, kid string) string {
		opts := (&jose.SignerOptions{}).WithType("JWT")
		if kid != "" {
			opts = opts.WithHeader("kid", kid)
		}
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := s.Sign([]byte(fmt.Sprintf(`{"sub":"bob","iss":"https://idp.example/","exp":%d}`, caseClock.Add(time.Hour).Unix())))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := obj.CompactSerialize()
		return out
	}
	tokens := []struct{ name, token, want string }{
		{"rsa", sign(jose.RS256, rsaKey, "rsa"), ""},
		{"ec", sign(jose.ES256, ecKey, "ec"), ""},
		{"ed", sign(jose.EdDSA, edKey, "ed"), ""},
		{"no kid: every fitting key is tried", sign(jose.RS256, rsaKey, ""), ""},
		{"unknown kid", sign(jose.RS256, rsaKey, "nope"), "JWT_KEY"},
		{"kid of a key that does not fit the alg", sign(jose.RS256, rsaKey, "ec"), "JWT_KEY"},
		{"alg the policy does not list", sign(jose.PS256, rsaKey, "rsa"), "JWT_ALG"},
		{"signed by another key", sign(jose.RS256, otherRSA, "rsa"), "JWT_SIGNATURE"},
	}
	origins, urls := newOrigins(t, g)
	gw, err := gateway.New(g, gateway.Options{Now: func() time.Time { return caseClock }, OriginURLs: urls})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in, err := engine.Open(ctx, g, urls, testrun.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	for _, tc := range tokens {
		req := &testrun.ClientRequest{Method: "GET", Target: "/api/x", Host: "api.example.com",
			Header: http.Header{"Authorization": {"Bearer " + tc.token}}, ClientIP: testrun.DefaultClientIP, Now: caseClock}
		ref, err := refDo(t, gw, req, true)
		if err != nil {
			t.Fatal(err)
		}
		ref.upstream = take(origins)
		got, err := workerdDo(ctx, in, req)
		if err != nil {
			t.Fatal(err)
		}
		got.upstream = take(origins)
		for _, d := range compare(ref, got) {
			t.Errorf("%s: %s", tc.name, d)
		}
		if got.reason != tc.want {
			t.Errorf("%s: workerd %d %s (%s), want %q", tc.name, got.status, got.reason, got.detail, tc.want)
		}
	}
	t.Logf("JWKS fetched %d times by both runtimes together", fetches.Load())
}
