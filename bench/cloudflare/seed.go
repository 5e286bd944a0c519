package main

// The whole-request benchmark: the seed scenario (normalize, route, RS256 bearer token, an exact sliding-window
// rate limit per subject, request and response transforms, HSTS, proxy to one origin) as edgegw renders it
// for Cloudflare, beside the same behaviour written as a Hono app (bench/cloudflare/hono_seed.js). Both run
// in workerd; seed.mjs times them.

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/render/cloudflare"
	"github.com/edgegw/edgegw/render/jsruntime"
)

// seedOrigin is the origin URL both Workers are built with; seed.mjs replaces it with its loopback origin's.
const seedOrigin = "http://edgegw-bench-origin.invalid"

// seedSubjects is how many subjects the timed requests cycle through, each with its own token, so that no
// subject passes its limit (100 a minute) during a run, and each rate-limit object sees a realistic count.
const seedSubjects = 400

// seedManifest is the seed scenario. The key file is written beside it.
const seedManifest = `version: 1
name: bench-seed
domains:
  - {host: api.example.com, zone: example.com}
tls: {hsts: {max_age: 63072000, include_subdomains: true, preload: true}}
origins:
  app: {url: "` + seedOrigin + `"}
pools:
  api: {origins: [app]}
auth:
  bearer:
    jwt:
      algorithms: [RS256]
      keys: [{file: rs256.pem, kid: k1}]
      issuer: https://auth.example.com/
      audience: [api]
rate_limits:
  per_subject: {key: jwt.sub, limit: 100, window: 60s}
transform:
  request: {remove_headers: [X-Internal-Debug], set_headers: {X-Forwarded-By: edge-gateway}, request_id: X-Request-ID}
  response: {remove_headers: [Server]}
routes:
  - {name: health, match: {path: {exact: /health}}, respond: {status: 200, body: ok}}
  - {name: v2, match: {path: {prefix: /v2}}, pool: api, auth: bearer, rate_limit: per_subject, rewrite: {prefix: /internal/v2}}
  - {name: default, match: {fallback: true}, respond: {status: 404, body: not found}}
`

// seedConfig is what the Hono app and seed.mjs share with the rendered Worker: the origin placeholder, the
// public key (as a JWK) and the tokens.
type seedConfig struct {
	Origin string            `json:"origin"`
	JWK    map[string]string `json:"jwk"`
	Tokens []string          `json:"tokens"`
	// Expired is a token of the first subject that expired an hour ago.
	Expired string `json:"expired"`
}

// buildSeed writes edgegw.js (the rendered production Worker), hono.js (the Hono app, bundled) and
// seed.json (the tokens) into dir.
func buildSeed(root, dir string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "rs256.pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		return err
	}
	mpath := filepath.Join(dir, "edgegw.yaml")
	if err := os.WriteFile(mpath, []byte(seedManifest), 0o644); err != nil {
		return err
	}
	g, diags := manifest.Load(mpath)
	if err := diags.Err(); err != nil || g == nil {
		return fmt.Errorf("seed manifest: %v", diags)
	}
	arts, err := cloudflare.RenderWith(g, cloudflare.Options{})
	if err != nil {
		return err
	}
	for _, a := range arts {
		if a.Path == cloudflare.WorkerFile {
			if err := os.WriteFile(filepath.Join(dir, "edgegw.js"), a.Data, 0o644); err != nil {
				return err
			}
		}
	}

	now := time.Now()
	cfg := seedConfig{Origin: seedOrigin, JWK: map[string]string{
		"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": b64.EncodeToString(key.N.Bytes()), "e": b64.EncodeToString(bigEndian(key.E)),
	}}
	sign := func(sub string, exp time.Time) (string, error) {
		header := b64.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT","kid":"k1"}`))
		claims := fmt.Sprintf(`{"sub":%q,"iss":"https://auth.example.com/","aud":"api","iat":%d,"exp":%d}`, sub, now.Unix(), exp.Unix())
		input := header + "." + b64.EncodeToString([]byte(claims))
		digest := sha256.Sum256([]byte(input))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
		return input + "." + b64.EncodeToString(sig), err
	}
	for i := 0; i < seedSubjects; i++ {
		tok, err := sign(fmt.Sprintf("user-%03d", i), now.Add(24*time.Hour))
		if err != nil {
			return err
		}
		cfg.Tokens = append(cfg.Tokens, tok)
	}
	if cfg.Expired, err = sign("user-000", now.Add(-time.Hour)); err != nil {
		return err
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "seed.json"), b, 0o644); err != nil {
		return err
	}
	return bundleHono(root, string(b), filepath.Join(dir, "hono.js"))
}

func bigEndian(e int) []byte {
	var out []byte
	for ; e > 0; e >>= 8 {
		out = append([]byte{byte(e)}, out...)
	}
	return out
}

// bundleHono bundles bench/cloudflare/hono_seed.js with hono from the workerd package's node_modules and
// the seed configuration as the module bench:seed.
func bundleHono(root, cfg, out string) error {
	src := "export const SEED = " + cfg + ";\n"
	plugin := api.Plugin{Name: "seed", Setup: func(pb api.PluginBuild) {
		pb.OnResolve(api.OnResolveOptions{Filter: `^bench:seed$`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			return api.OnResolveResult{Path: "seed", Namespace: "bench"}, nil
		})
		pb.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "bench"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			return api.OnLoadResult{Contents: &src, Loader: api.LoaderJS}, nil
		})
	}}
	res := api.Build(api.BuildOptions{
		EntryPoints: []string{filepath.Join(root, "bench/cloudflare/hono_seed.js")},
		Bundle:      true,
		Format:      api.FormatESModule,
		Platform:    api.PlatformBrowser,
		Target:      api.ES2022,
		NodePaths:   []string{filepath.Join(root, "render/cloudflare/workerd/node_modules")},
		External:    []string{"cloudflare:*"},
		LogLevel:    api.LogLevelSilent,
		Outfile:     out,
		Plugins:     []api.Plugin{plugin},
	})
	if len(res.Errors) > 0 {
		return fmt.Errorf("bundle the Hono app: %s (is hono installed? bash scripts/install-test-deps.sh)", jsruntime.BuildErrors(res.Errors))
	}
	return os.WriteFile(out, res.OutputFiles[0].Contents, 0o644)
}
