package fastly

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"

	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/manifest/ir"
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

// DictionariesFile is the artifact that lists the edge dictionaries the VCL reads and what fills each one.
// It is written only when the VCL reads a dictionary. It never holds a secret value: an HS secret is named
// by its environment variable, which the provider reads at apply time, and a JWKS by its URL, which the
// provider fetches at plan time (this package is pure: no network, no environment).
const DictionariesFile = "dictionaries.json"

// DictionarySet is the dictionaries.json artifact, the contract between this renderer and providers/fastly:
//
//	{
//	  "dictionaries": [
//	    {"name": "edgegw_jwks_bearer",
//	     "jwks": {"url": "https://auth.example.com/.well-known/jwks.json", "algorithms": ["RS256", "ES256"]}},
//	    {"name": "edgegw_secrets", "write_only": true, "secrets": {"JWT_SECRET_KEY": "JWT_SECRET_KEY"}}
//	  ]
//	}
//
// Items holds literal values (public data only), Secrets maps an item key to the environment variable
// holding its value, and JWKS names a key set whose items are JWKSItems of its keys for the algorithms. A
// dictionary with secrets is write_only: Fastly never gives its items back through the API.
type DictionarySet struct {
	Dictionaries []DictionarySpec `json:"dictionaries"`
}

// DictionarySpec is one edge dictionary of a DictionarySet.
type DictionarySpec struct {
	Name      string            `json:"name"`
	WriteOnly bool              `json:"write_only,omitempty"`
	Items     map[string]string `json:"items,omitempty"`
	Secrets   map[string]string `json:"secrets,omitempty"`
	JWKS      *JWKSSource       `json:"jwks,omitempty"`
}

// JWKSSource is a key set whose keys fill a dictionary (see JWKSItems).
type JWKSSource struct {
	URL        string   `json:"url"`
	Algorithms []string `json:"algorithms"`
}

// DictionarySetOf returns the dictionaries of g with what fills them, sorted by name; nil when the VCL reads
// no dictionary.
func DictionarySetOf(g *ir.Gateway) *DictionarySet {
	ds := Dictionaries(g)
	if len(ds) == 0 {
		return nil
	}
	set := &DictionarySet{}
	byName := map[string]*DictionarySpec{}
	for _, d := range ds {
		set.Dictionaries = append(set.Dictionaries, DictionarySpec{Name: d.Name})
	}
	for i := range set.Dictionaries {
		byName[set.Dictionaries[i].Name] = &set.Dictionaries[i]
	}
	for _, p := range g.AuthPolicies {
		if p.JWT == nil {
			continue
		}
		if p.JWT.JWKS != nil {
			if s := byName[JWKSDictionary(g, p.Name)]; s != nil {
				s.JWKS = &JWKSSource{URL: p.JWT.JWKS.URL, Algorithms: append([]string(nil), p.JWT.Algorithms...)}
			}
		}
		if p.JWT.Secret != nil && p.JWT.Secret.Env != "" {
			s := byName[SecretsDictionary]
			if s.Secrets == nil {
				s.Secrets = map[string]string{}
			}
			s.WriteOnly = true
			s.Secrets[p.JWT.Secret.Env] = p.JWT.Secret.Env
		}
	}
	return set
}

// dictionariesJSON renders DictionarySetOf(g); nil when there is none.
func dictionariesJSON(g *ir.Gateway) ([]byte, error) {
	set := DictionarySetOf(g)
	if set == nil {
		return nil, nil
	}
	b, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
