package testrun

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/edgegw/edgegw/manifest/ir"
)

// testKeys gives the target the keys of a case that signs tokens, the way real keys reach it: a public key
// generated for the run is served from a loopback JWKS that replaces the policy's jwks URL, or added to the
// policy's key files; an HS secret the environment does not hold is generated and passed through the
// environment the target resolves secrets from. A case that signs nothing runs on g unchanged, so a token
// written in the case is verified against the manifest's own keys.
func testKeys(g *ir.Gateway, tc ir.TestCase, env Env, keys *KeyCache) (*ir.Gateway, Env, func(), error) {
	signs := false
	for _, st := range tc.Sequence() {
		signs = signs || st.Request.JWT != nil
	}
	if !signs || len(g.AuthPolicies) == 0 {
		return g, env, func() {}, nil
	}
	cp := *g
	cp.AuthPolicies = make([]ir.AuthPolicy, len(g.AuthPolicies))
	secrets := map[string]string{}
	jwks := map[string][]jose.JSONWebKey{}
	var srv *httptest.Server
	stop := func() {
		if srv != nil {
			srv.Close()
		}
	}
	for i, p := range g.AuthPolicies {
		cp.AuthPolicies[i] = p
		if p.JWT == nil {
			continue
		}
		j := *p.JWT
		j.Keys = append([]ir.KeyFile(nil), p.JWT.Keys...)
		for _, alg := range j.Algorithms {
			if strings.HasPrefix(alg, "HS") {
				if j.Secret != nil && j.Secret.Env != "" && env.Getenv(j.Secret.Env) == "" {
					s, err := keys.secret(alg)
					if err != nil {
						return nil, env, stop, err
					}
					secrets[j.Secret.Env] = s
				}
				continue
			}
			k, err := keys.publicJWK(alg)
			if err != nil {
				return nil, env, stop, err
			}
			if j.JWKS != nil {
				jwks[p.Name] = append(jwks[p.Name], k)
				continue
			}
			data, err := json.Marshal(k)
			if err != nil {
				return nil, env, stop, fmt.Errorf("testrun: test key %s: %w", alg, err)
			}
			j.Keys = append(j.Keys, ir.KeyFile{Path: "(test key " + alg + ")", KID: k.KeyID, Data: string(data)})
		}
		if j.JWKS != nil && len(jwks[p.Name]) > 0 {
			if srv == nil {
				srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					set := jose.JSONWebKeySet{Keys: jwks[strings.TrimPrefix(r.URL.Path, "/")]}
					w.Header().Set("Content-Type", "application/json")
					_ = json.NewEncoder(w).Encode(set)
				}))
			}
			u := *j.JWKS
			u.URL = srv.URL + "/" + p.Name
			j.JWKS = &u
		}
		cp.AuthPolicies[i].JWT = &j
	}
	if len(secrets) > 0 {
		outer := env.Getenv
		env.Getenv = func(name string) string {
			if v, ok := secrets[name]; ok {
				return v
			}
			return outer(name)
		}
	}
	return &cp, env, stop, nil
}
