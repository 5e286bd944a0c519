package falco

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render/fastly"
)

// TestJWKSDictionary checks keys found by kid in the policy's JWKS dictionary, filled as the provider fills
// it (fastly.JWKSItems from the key set), against the reference fetching the same key set from a loopback
// JWKS URL. A token without a kid is refused by the VCL (JWT_KEY: it cannot walk a dictionary), where the
// reference tries every key of the set; that case checks the VCL fails closed.
func TestJWKSDictionary(t *testing.T) {
	requireFalco(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &rsaKey.PublicKey, KeyID: "r1", Algorithm: "RS256", Use: "sig"},
		{Key: &ecKey.PublicKey, KeyID: "e1", Use: "sig"},
	}}
	setJSON, _ := json.Marshal(set)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(setJSON)
	}))
	defer jwks.Close()

	g := pathsGateway(t)
	algs := []string{"RS256", "ES256"}
	g.AuthPolicies = []ir.AuthPolicy{{Name: "idp", JWT: &ir.JWT{Algorithms: algs, JWKS: &ir.JWKS{URL: jwks.URL}}}}
	g.Routes[0].Auth = "idp"
	keys, err := jwtverify.ParseKeys(setJSON, "")
	if err != nil {
		t.Fatal(err)
	}
	dict := fastly.Dictionaries(g)
	if len(dict) != 1 {
		t.Fatalf("dictionaries: %v", dict)
	}
	o := newOrigins(t, g)
	in, err := Engine{Dictionaries: map[string]map[string]string{dict[0].Name: fastly.JWKSItems(keys, algs)}}.Open(context.Background(), g, o.urls(), testrun.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	sign := func(alg jose.SignatureAlgorithm, key crypto.Signer, kid string) string {
		opts := (&jose.SignerOptions{}).WithType("JWT")
		if kid != "" {
			opts = opts.WithHeader("kid", kid)
		}
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := s.Sign([]byte(`{"sub":"alice","exp":` + jsonInt(caseNow.Unix()+600) + `}`))
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := obj.CompactSerialize()
		return tok
	}
	cases := []struct {
		name, token string
		differs     bool // the documented divergence: no kid
	}{
		{"RS256 by kid", sign(jose.RS256, rsaKey, "r1"), false},
		{"ES256 by kid", sign(jose.ES256, ecKey, "e1"), false},
		{"RS256 with the EC key's kid", sign(jose.RS256, rsaKey, "e1"), false},
		{"ES256 with the RSA key's kid", sign(jose.ES256, ecKey, "r1"), false},
		{"unknown kid", sign(jose.RS256, rsaKey, "nope"), false},
		{"signed by another key", sign(jose.ES256, mustEC(t), "e1"), false},
		{"no kid", sign(jose.RS256, rsaKey, ""), true},
	}
	for _, c := range cases {
		h := http.Header{}
		h.Set("Authorization", "Bearer "+c.token)
		req := requestTo("api.example.com", "/x", h)
		ref := refDo(t, g, o, caseNow, req)
		got, err := falcoDo(t, in, o, req)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if c.differs {
			if got.status != 403 || !strings.Contains(got.body, `"JWT_KEY"`) || len(got.received) != 0 {
				t.Errorf("%s: want the VCL to refuse with JWT_KEY, got %d %s (reference %d)", c.name, got.status, got.body, ref.status)
			}
			continue
		}
		if d := diff(ref, got, ""); len(d) > 0 {
			t.Errorf("%s:\n  %s", c.name, strings.Join(d, "\n  "))
		}
	}
}

func mustEC(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
