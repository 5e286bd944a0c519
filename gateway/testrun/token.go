package testrun

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/manifest/ir"
)

// TestKID is the kid of keys generated for a run.
const TestKID = "edgegw-test"

// Token is a bearer token signed for one case.
type Token struct {
	Bearer string
	// Note says which key signed it, for the report.
	Note string
	// Policy and TrustKeys are set when the token was signed with a generated key: the target must trust
	// TrustKeys, instead of the policy's configured keys, for this case only.
	Policy    string
	TrustKeys []jwtverify.Key
}

// KeyCache holds the keys generated during one run, one per algorithm, so an RSA key is made once per run.
type KeyCache struct {
	mu   sync.Mutex
	keys map[string]any
}

func (c *KeyCache) get(alg string) (priv any, pub jwtverify.Key, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = map[string]any{}
	}
	priv, ok := c.keys[alg]
	if !ok {
		switch {
		case strings.HasPrefix(alg, "HS"):
			b := make([]byte, 64)
			_, err = rand.Read(b)
			priv = b
		case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
			priv, err = rsa.GenerateKey(rand.Reader, 2048)
		case alg == "ES256":
			priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		case alg == "ES384":
			priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		case alg == "ES512":
			priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		case alg == "EdDSA":
			_, priv, err = ed25519.GenerateKey(rand.Reader)
		default:
			err = fmt.Errorf("testrun: cannot generate a key for %s", alg)
		}
		if err != nil {
			return nil, jwtverify.Key{}, err
		}
		c.keys[alg] = priv
	}
	pub = jwtverify.Key{KID: TestKID, Alg: alg}
	switch k := priv.(type) {
	case []byte:
		pub.Key = k
	case *rsa.PrivateKey:
		pub.Key = &k.PublicKey
	case *ecdsa.PrivateKey:
		pub.Key = &k.PublicKey
	case ed25519.PrivateKey:
		pub.Key = k.Public().(ed25519.PublicKey)
	}
	return priv, pub, nil
}

// SignTestToken signs the claims a case asks for under policy p: with the manifest's own HS secret when the
// environment has it, otherwise with a key generated for this run that the target trusts for this case only.
// Tests therefore never need a private key.
func SignTestToken(p *ir.AuthPolicy, spec *ir.TestJWT, env Env, keys *KeyCache) (*Token, error) {
	j := p.JWT
	if j == nil || len(j.Algorithms) == 0 {
		return nil, fmt.Errorf("testrun: auth policy %q has no jwt algorithms", p.Name)
	}
	now := env.Now()
	claims := map[string]any{"iat": now.Unix()}
	if spec.Sub != "" {
		claims["sub"] = spec.Sub
	}
	exp := "+1h"
	if spec.Exp != "" {
		exp = spec.Exp
	}
	t, err := relative(now, exp)
	if err != nil {
		return nil, fmt.Errorf("testrun: jwt exp: %w", err)
	}
	claims["exp"] = t.Unix()
	if spec.Nbf != "" {
		t, err := relative(now, spec.Nbf)
		if err != nil {
			return nil, fmt.Errorf("testrun: jwt nbf: %w", err)
		}
		claims["nbf"] = t.Unix()
	}
	if iss := firstNonEmpty(spec.Issuer, j.Issuer); iss != "" {
		claims["iss"] = iss
	}
	aud := spec.Audience
	if aud == "" && len(j.Audience) > 0 {
		aud = j.Audience[0]
	}
	if aud != "" {
		claims["aud"] = aud
	}
	for _, c := range spec.Claims {
		claims[c.Name] = c.Value
	}

	tok := &Token{}
	var alg string
	var key any
	var kid string
	for _, a := range j.Algorithms {
		if strings.HasPrefix(a, "HS") && j.Secret != nil {
			secret := j.Secret.Literal
			if j.Secret.Env != "" && env.Getenv != nil {
				secret = env.Getenv(j.Secret.Env)
			}
			if secret != "" {
				alg, key = a, []byte(secret)
				tok.Note = fmt.Sprintf("token signed %s with the manifest's secret %s", a, j.Secret)
				break
			}
		}
	}
	if key == nil {
		alg = j.Algorithms[0]
		priv, pub, err := keys.get(alg)
		if err != nil {
			return nil, err
		}
		key, kid = priv, TestKID
		tok.Policy, tok.TrustKeys = p.Name, []jwtverify.Key{pub}
		why := "the manifest holds public keys only"
		if j.Secret != nil {
			why = "secret " + j.Secret.String() + " is not set"
		}
		tok.Note = fmt.Sprintf("token signed %s with a test key generated for this run and trusted for this case only (%s)", alg, why)
	}
	opts := &jose.SignerOptions{}
	opts.WithType("JWT")
	if kid != "" {
		opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, opts)
	if err != nil {
		return nil, fmt.Errorf("testrun: signer %s: %w", alg, err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("testrun: claims: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return nil, fmt.Errorf("testrun: sign: %w", err)
	}
	tok.Bearer, err = obj.CompactSerialize()
	return tok, err
}

// relative reads "+1h", "-5m" or "30s" relative to now.
func relative(now time.Time, s string) (time.Time, error) {
	d, err := time.ParseDuration(strings.TrimPrefix(s, "+"))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a relative time like +1h or -5m", s)
	}
	return now.Add(d), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
