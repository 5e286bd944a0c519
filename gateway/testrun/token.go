package testrun

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/edgegw/edgegw/manifest/ir"
)

// TestKID is the kid prefix of keys generated for a run ("edgegw-test-RS256").
const TestKID = "edgegw-test"

// Token is a bearer token signed for one request.
type Token struct {
	Bearer string
	// Note says which key signed it, for the report.
	Note string
}

// KeyCache holds the keys generated during one run, one per algorithm (and one untrusted key per
// algorithm), so an RSA key is made once per run.
type KeyCache struct {
	mu   sync.Mutex
	keys map[string]any
}

func (c *KeyCache) private(alg string, untrusted bool) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = map[string]any{}
	}
	id := alg
	if untrusted {
		id += "/untrusted"
	}
	if k, ok := c.keys[id]; ok {
		return k, nil
	}
	var priv any
	var err error
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
		return nil, err
	}
	c.keys[id] = priv
	return priv, nil
}

// secret returns the generated HMAC secret of a run for alg, as text (it travels through an environment
// variable, as a real secret does).
func (c *KeyCache) secret(alg string) (string, error) {
	k, err := c.private(alg, false)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(k.([]byte)), nil
}

// publicJWK returns the JWK of the trusted public key generated for alg.
func (c *KeyCache) publicJWK(alg string) (jose.JSONWebKey, error) {
	priv, err := c.private(alg, false)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	var pub any
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
	case ed25519.PrivateKey:
		pub = k.Public()
	default:
		return jose.JSONWebKey{}, fmt.Errorf("testrun: %s has no public key", alg)
	}
	return jose.JSONWebKey{Key: pub, KeyID: TestKID + "-" + alg, Algorithm: alg, Use: "sig"}, nil
}

// publicPEM returns the PEM of the trusted public key for alg (what an attacker who read the JWKS has).
func (c *KeyCache) publicPEM(alg string) ([]byte, error) {
	jwk, err := c.publicJWK(alg)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(jwk.Key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// PublicPEM returns the PEM of the trusted public key generated for alg and its kid, for an engine's own tests
// that hand the key to a target the way a manifest key file would.
func (c *KeyCache) PublicPEM(alg string) (pemData []byte, kid string, err error) {
	b, err := c.publicPEM(alg)
	return b, TestKID + "-" + alg, err
}

// signingAlg is the algorithm a policy's test tokens are signed with: HS first when the policy has a
// secret (its key reaches the target as a secret), otherwise the policy's first algorithm.
func signingAlg(j *ir.JWT) string {
	if j.Secret != nil {
		for _, a := range j.Algorithms {
			if strings.HasPrefix(a, "HS") {
				return a
			}
		}
	}
	return j.Algorithms[0]
}

// SignTestToken signs the claims spec asks for under policy p at clock time now, with the keys the target
// was given for the case (see testKeys).
func SignTestToken(p *ir.AuthPolicy, spec *ir.TestJWT, now time.Time, secretOf func(alg string) (string, error), keys *KeyCache) (*Token, error) {
	j := p.JWT
	if j == nil || len(j.Algorithms) == 0 {
		return nil, fmt.Errorf("testrun: auth policy %q has no jwt algorithms", p.Name)
	}
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
	if spec.Tamper == "oversize" {
		claims["pad"] = strings.Repeat("x", 9<<10)
	}

	alg := signingAlg(j)
	if spec.Alg != "" {
		alg = spec.Alg
	}
	header := map[string]any{"alg": alg, "typ": "JWT"}
	tok := &Token{}
	var key any
	switch {
	case strings.EqualFold(alg, "none"):
		tok.Note = "unsigned token (alg " + alg + ")"
	case spec.Key == ir.TestKeyPublicAsSecret:
		asym := ""
		for _, a := range j.Algorithms {
			if !strings.HasPrefix(a, "HS") {
				asym = a
				break
			}
		}
		if asym == "" {
			return nil, fmt.Errorf("testrun: key public-as-secret needs a policy with a public-key algorithm (%s has %s)", p.Name, strings.Join(j.Algorithms, ", "))
		}
		pemKey, err := keys.publicPEM(asym)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(alg, "HS") {
			alg = "HS256"
			header["alg"] = alg
		}
		header["kid"] = TestKID + "-" + asym
		key = pemKey
		tok.Note = fmt.Sprintf("token signed %s with the trusted %s public key (PEM) as the HMAC secret", alg, asym)
	case strings.HasPrefix(alg, "HS"):
		if spec.Key == ir.TestKeyUntrusted {
			k, err := keys.private(alg, true)
			if err != nil {
				return nil, err
			}
			key = k
			tok.Note = "token signed " + alg + " with a secret the gateway does not have"
		} else {
			s, err := secretOf(alg)
			if err != nil {
				return nil, err
			}
			key = []byte(s)
			tok.Note = "token signed " + alg + " with the policy's secret"
		}
	default:
		k, err := keys.private(alg, spec.Key == ir.TestKeyUntrusted)
		if err != nil {
			return nil, err
		}
		key = k
		header["kid"] = TestKID + "-" + alg
		tok.Note = fmt.Sprintf("token signed %s with a test key generated for this run, which the target was given as a key", alg)
		if spec.Key == ir.TestKeyUntrusted {
			tok.Note = fmt.Sprintf("token signed %s with a key the gateway does not trust (kid of the trusted one)", alg)
		}
	}
	for _, h := range spec.Header {
		header[h.Name] = h.Value
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("testrun: jwt header: %w", err)
	}
	enc := base64.RawURLEncoding
	for n := 0; ; n++ {
		pb, err := json.Marshal(claims)
		if err != nil {
			return nil, fmt.Errorf("testrun: claims: %w", err)
		}
		input := enc.EncodeToString(hb) + "." + enc.EncodeToString(pb)
		var sig []byte
		if key != nil {
			if sig, err = signJWS(alg, key, []byte(input)); err != nil {
				return nil, err
			}
		}
		s := enc.EncodeToString(sig)
		switch spec.Tamper {
		case "padding":
			s = base64.URLEncoding.EncodeToString(sig)
		case "std-base64":
			if !strings.ContainsAny(s, "-_") && n < 64 {
				claims["jti"] = fmt.Sprint(n) // a signature without - or _ reads the same in both alphabets: re-sign
				continue
			}
			s = base64.RawStdEncoding.EncodeToString(sig)
		case "signature":
			if len(sig) > 0 {
				sig[len(sig)/2] ^= 0x01
				s = enc.EncodeToString(sig)
			}
		}
		tok.Bearer = input + "." + s
		switch spec.Tamper {
		case "two-segments":
			tok.Bearer = input
		case "four-segments":
			tok.Bearer += "." + s
		}
		if spec.Tamper != "" {
			tok.Note += ", tampered: " + spec.Tamper
		}
		return tok, nil
	}
}

func signJWS(alg string, key any, input []byte) ([]byte, error) {
	hashOf := func(bits string) (crypto.Hash, func() hash.Hash) {
		switch bits {
		case "384":
			return crypto.SHA384, sha512.New384
		case "512":
			return crypto.SHA512, sha512.New
		}
		return crypto.SHA256, sha256.New
	}
	if len(alg) < 5 && alg != "EdDSA" {
		return nil, fmt.Errorf("testrun: cannot sign %s", alg)
	}
	bits := alg[len(alg)-3:]
	h, newHash := hashOf(bits)
	digest := func() []byte { d := newHash(); d.Write(input); return d.Sum(nil) }
	switch k := key.(type) {
	case []byte:
		if !strings.HasPrefix(alg, "HS") {
			return nil, fmt.Errorf("testrun: a secret cannot sign %s", alg)
		}
		m := hmac.New(newHash, k)
		m.Write(input)
		return m.Sum(nil), nil
	case *rsa.PrivateKey:
		if strings.HasPrefix(alg, "PS") {
			return rsa.SignPSS(rand.Reader, k, h, digest(), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.SignPKCS1v15(rand.Reader, k, h, digest())
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, digest())
		if err != nil {
			return nil, err
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out, nil
	case ed25519.PrivateKey:
		return ed25519.Sign(k, input), nil
	}
	return nil, fmt.Errorf("testrun: cannot sign %s with %T", alg, key)
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
