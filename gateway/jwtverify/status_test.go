package jwtverify

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRejectionStatus lists every reason a request's token is refused, with the status the gateway answers:
// 401 when there is no token or it is not a JWS, 403 for a JWS that fails verification or policy. The
// status must never depend on which key an attacker embedded in the header.
func TestRejectionStatus(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_700_000_000, 0)
	v, err := New(Config{Algorithms: []string{"HS256", "RS256"}, Keys: []Key{HMACKey(secret, "k1")},
		Issuer: "https://auth.example.com/", Audience: []string{"api"}, RequiredClaims: []string{"tenant"},
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	sign := func(key []byte, hdr, payload string) string {
		in := b64(hdr) + "." + b64(payload)
		m := hmac.New(sha256.New, key)
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	claims := func(extra string) string {
		c := `{"sub":"alice","iss":"https://auth.example.com/","aud":"api","tenant":"t1","exp":1700000600` + extra + `}`
		return c
	}
	good := claims("")
	hdr := `{"alg":"HS256","kid":"k1"}`
	attackerKey := []byte("attacker-chosen-secret-0123456789")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaJWK, _ := json.Marshal(map[string]string{"kty": "RSA",
		"n": base64.RawURLEncoding.EncodeToString(rsaKey.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(rsaKey.E)).Bytes())})
	octJWK := `{"kty":"oct","k":"` + base64.RawURLEncoding.EncodeToString(attackerKey) + `"}`

	cases := []struct {
		name          string
		authorization []string // nil: no Authorization header
		token         string   // used as "Bearer <token>" when authorization is nil and token is set
		code          string
		status        int
	}{
		{name: "no Authorization header", code: CodeMissing, status: 401},
		{name: "not a Bearer credential", authorization: []string{"Basic YWxpY2U6cHc="}, code: CodeMissing, status: 401},
		{name: "empty bearer token", authorization: []string{"Bearer "}, code: CodeMalformed, status: 401},
		{name: "two Authorization headers", authorization: []string{"Bearer a.b.c", "Bearer a.b.c"}, code: CodeMalformed, status: 401},
		{name: "two parts", token: b64(hdr) + "." + b64(good), code: CodeMalformed, status: 401},
		{name: "four parts", token: sign(secret, hdr, good) + ".x", code: CodeMalformed, status: 401},
		{name: "not base64url", token: "e30?." + b64(good) + ".c2ln", code: CodeMalformed, status: 401},
		{name: "padded base64", token: b64(hdr) + "=." + b64(good) + ".c2ln", code: CodeMalformed, status: 401},
		{name: "header not JSON", token: sign(secret, `alg=HS256`, good), code: CodeMalformed, status: 401},
		{name: "header a JSON array", token: sign(secret, `["HS256"]`, good), code: CodeMalformed, status: 401},
		{name: "over the size limit", token: sign(secret, hdr, claims(`,"pad":"`+strings.Repeat("x", MaxTokenSize)+`"`)), code: CodeTooLarge, status: 401},

		{name: "embedded symmetric jwk", token: sign(attackerKey, `{"alg":"HS256","jwk":`+octJWK+`}`, good), code: CodeUnsupported, status: 403},
		{name: "embedded RSA jwk", token: b64(`{"alg":"RS256","jwk":`+string(rsaJWK)+`}`) + "." + b64(good) + ".c2ln", code: CodeUnsupported, status: 403},
		{name: "jku", token: sign(secret, `{"alg":"HS256","kid":"k1","jku":"https://evil.example/jwks.json"}`, good), code: CodeUnsupported, status: 403},
		{name: "x5u", token: sign(secret, `{"alg":"HS256","kid":"k1","x5u":"https://evil.example/cert.pem"}`, good), code: CodeUnsupported, status: 403},
		{name: "x5c", token: sign(secret, `{"alg":"HS256","kid":"k1","x5c":["MIIB"]}`, good), code: CodeUnsupported, status: 403},
		{name: "crit", token: sign(secret, `{"alg":"HS256","kid":"k1","crit":["exp"]}`, good), code: CodeUnsupported, status: 403},
		{name: "b64", token: sign(secret, `{"alg":"HS256","kid":"k1","b64":false}`, good), code: CodeUnsupported, status: 403},
		{name: "duplicate header member", token: sign(secret, `{"alg":"HS256","alg":"none","kid":"k1"}`, good), code: CodeUnsupported, status: 403},
		{name: "kid not a string", token: sign(secret, `{"alg":"HS256","kid":7}`, good), code: CodeUnsupported, status: 403},
		{name: "no alg", token: sign(secret, `{"kid":"k1"}`, good), code: CodeAlgorithm, status: 403},
		{name: "alg none", token: b64(`{"alg":"none"}`) + "." + b64(good) + ".", code: CodeAlgorithm, status: 403},
		{name: "alg none with a signature", token: b64(`{"alg":"none"}`) + "." + b64(good) + ".c2ln", code: CodeAlgorithm, status: 403},
		{name: "alg not in the policy", token: sign(secret, `{"alg":"HS512","kid":"k1"}`, good), code: CodeAlgorithm, status: 403},
		{name: "alg not a string", token: sign(secret, `{"alg":256,"kid":"k1"}`, good), code: CodeUnsupported, status: 403},
		{name: "alg confusion: RS256 with no RSA key", token: sign(secret, `{"alg":"RS256","kid":"k1"}`, good), code: CodeNoKey, status: 403},
		{name: "unknown kid", token: sign(secret, `{"alg":"HS256","kid":"k2"}`, good), code: CodeNoKey, status: 403},
		{name: "bad signature", token: sign(attackerKey, hdr, good), code: CodeSignature, status: 403},
		{name: "duplicate claim", token: sign(secret, hdr, claims(`,"sub":"root"`)), code: CodeUnsupported, status: 403},
		{name: "payload not an object", token: sign(secret, hdr, `[1]`), code: CodeUnsupported, status: 403},
		{name: "no exp", token: sign(secret, hdr, `{"sub":"alice","iss":"https://auth.example.com/","aud":"api","tenant":"t1"}`), code: CodeExpired, status: 403},
		{name: "expired", token: sign(secret, hdr, strings.Replace(good, "1700000600", "1699999000", 1)), code: CodeExpired, status: 403},
		{name: "not yet valid", token: sign(secret, hdr, claims(`,"nbf":1700000500`)), code: CodeNotYetValid, status: 403},
		{name: "issued in the future", token: sign(secret, hdr, claims(`,"iat":1700000500`)), code: CodeNotYetValid, status: 403},
		{name: "wrong issuer", token: sign(secret, hdr, strings.Replace(good, "auth.example.com", "evil.example", 1)), code: CodeIssuer, status: 403},
		{name: "wrong audience", token: sign(secret, hdr, strings.Replace(good, `"aud":"api"`, `"aud":"web"`, 1)), code: CodeAudience, status: 403},
		{name: "required claim missing", token: sign(secret, hdr, strings.Replace(good, `"tenant":"t1",`, "", 1)), code: CodeClaims, status: 403},
		{name: "exp not a number", token: sign(secret, hdr, strings.Replace(good, "1700000600", `"soon"`, 1)), code: CodeClaims, status: 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, a := range tc.authorization {
				h.Add("Authorization", a)
			}
			if tc.authorization == nil && tc.token != "" {
				h.Set("Authorization", "Bearer "+tc.token)
			}
			var err error
			if tok, ferr := FromHeader(h); ferr != nil {
				err = ferr
			} else {
				_, err = v.Verify(context.Background(), tok)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("want %s (%d), got %v", tc.code, tc.status, err)
			}
			if e.Code != tc.code || e.Status() != tc.status {
				t.Errorf("got %s (%d): %v; want %s (%d)", e.Code, e.Status(), e.Err, tc.code, tc.status)
			}
		})
	}
	// The control: the same key and claims verify, so each refusal above is for its own reason.
	if _, err := v.Verify(context.Background(), sign(secret, hdr, good)); err != nil {
		t.Fatalf("the valid token is refused: %v", err)
	}
}
