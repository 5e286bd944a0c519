package fastly

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"

	"github.com/edgegw/edgegw/gateway/jwtverify"
)

// JWKSItems returns the items of a policy's JWKS dictionary (see Dictionaries) for the keys of its key set:
// one item per key with a kid and per algorithm of algs the key fits, key "<kid>/<alg>", value the key as
// SPKI PEM, the form digest.rsa_verify and digest.ecdsa_verify take. Keys without a kid, and keys no
// algorithm of algs fits, have no item: the VCL finds keys by the token's kid only.
func JWKSItems(keys []jwtverify.Key, algs []string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if k.KID == "" {
			continue
		}
		sk, ok := toStaticKey(k)
		if !ok {
			continue
		}
		for _, a := range algs {
			if sk.fits(a) {
				out[k.KID+"/"+a] = sk.pem
			}
		}
	}
	return out
}

// toStaticKey converts an RSA or P-256 public key to the PEM the VCL embeds; other keys have no form there.
func toStaticKey(k jwtverify.Key) (staticKey, bool) {
	sk := staticKey{kid: k.KID, alg: k.Alg}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		sk.rsa = true
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return sk, false
		}
		sk.p256 = true
	default:
		return sk, false
	}
	der, err := x509.MarshalPKIXPublicKey(k.Key)
	if err != nil {
		return sk, false
	}
	sk.pem = strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	return sk, true
}
