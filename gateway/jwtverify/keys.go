package jwtverify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Key is one verification key, parsed once. Verify never re-parses or re-imports it.
type Key struct {
	// KID is the key id; a token whose kid names another key is never checked against this one.
	KID string
	// Alg pins the key to one algorithm when the key says so (a JWK "alg"); empty means any configured
	// algorithm that fits the key's type.
	Alg string
	// Key is *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey or []byte (an HMAC secret).
	Key any
}

// HMACKey returns the key for an HS* shared secret.
func HMACKey(secret []byte, kid string) Key { return Key{KID: kid, Key: secret} }

// fits reports whether alg may be verified with k: the key type must match the algorithm family, and a key
// that names its algorithm accepts only that one. This is what pins the algorithm to the key: an RSA public
// key can never be used as an HMAC secret (algorithm confusion), whatever the token's header says.
func (k Key) fits(alg string) bool {
	if k.Alg != "" && k.Alg != alg {
		return false
	}
	switch key := k.Key.(type) {
	case []byte:
		return strings.HasPrefix(alg, "HS")
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return key.Curve == elliptic.P256()
		case "ES384":
			return key.Curve == elliptic.P384()
		case "ES512":
			return key.Curve == elliptic.P521()
		}
		return false
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// ParseKeys reads verification keys from a PEM public key (or certificate), a JWK, or a JWK set. kid names a
// PEM key, or overrides a single JWK's kid when set. Private JWK members are ignored: only the public half is
// kept, so a key file that holds a private key still verifies and never signs.
func ParseKeys(data []byte, kid string) ([]Key, error) {
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "-----BEGIN") {
		k, err := parsePEM([]byte(trimmed))
		if err != nil {
			return nil, err
		}
		k.KID = kid
		return []Key{k}, nil
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal([]byte(trimmed), &set); err != nil {
		return nil, fmt.Errorf("jwtverify: key: neither PEM nor JSON: %w", err)
	}
	if set.Keys == nil {
		k, err := ParseJWK([]byte(trimmed))
		if err != nil {
			return nil, err
		}
		if kid != "" {
			k.KID = kid
		}
		return []Key{k}, nil
	}
	var keys []Key
	var errs []error
	for i, raw := range set.Keys {
		k, err := ParseJWK(raw)
		if err != nil {
			// One unusable key (an encryption key, an unknown kty) must not take the whole set down.
			errs = append(errs, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("jwtverify: key set holds no signature verification key: %w", errors.Join(errs...))
	}
	return keys, nil
}

// ParseJWK reads one JWK. A key whose "use" is not "sig", or whose "key_ops" lacks "verify", is refused: it
// was published for something else.
func ParseJWK(data []byte) (Key, error) {
	var meta struct {
		Use    string   `json:"use"`
		KeyOps []string `json:"key_ops"`
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return Key{}, fmt.Errorf("jwtverify: jwk: %w", err)
	}
	if meta.Use != "" && meta.Use != "sig" {
		return Key{}, fmt.Errorf("jwtverify: jwk: use %q is not sig", meta.Use)
	}
	if meta.KeyOps != nil && !slices.Contains(meta.KeyOps, "verify") {
		return Key{}, fmt.Errorf("jwtverify: jwk: key_ops %v has no verify", meta.KeyOps)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		return Key{}, fmt.Errorf("jwtverify: jwk: %w", err)
	}
	k := Key{KID: jwk.KeyID, Alg: jwk.Algorithm}
	switch key := jwk.Key.(type) {
	case []byte:
		if len(key) == 0 {
			return Key{}, errors.New("jwtverify: jwk: empty oct key")
		}
		k.Key = key
	default:
		if !jwk.Valid() {
			return Key{}, errors.New("jwtverify: jwk: invalid key")
		}
		pub := jwk.Public()
		if !pub.Valid() {
			return Key{}, errors.New("jwtverify: jwk: no public key")
		}
		k.Key = pub.Key
	}
	switch k.Key.(type) {
	case []byte, *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return Key{}, fmt.Errorf("jwtverify: jwk: unsupported key type %T", k.Key)
	}
	return k, nil
}

func parsePEM(data []byte) (Key, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return Key{}, errors.New("jwtverify: pem: no PEM block")
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			pub = cert.PublicKey
		}
	default:
		return Key{}, fmt.Errorf("jwtverify: pem: %q is not a public key (use PUBLIC KEY or CERTIFICATE)", block.Type)
	}
	if err != nil {
		return Key{}, fmt.Errorf("jwtverify: pem: %w", err)
	}
	switch pub.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return Key{Key: pub}, nil
	}
	return Key{}, fmt.Errorf("jwtverify: pem: unsupported key type %T", pub)
}
