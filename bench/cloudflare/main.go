// Command cloudflare builds the Cloudflare benchmark Worker (bench/cloudflare/worker.js with the tables this
// program generates) into one ES module for workerd; bench.mjs then runs it in miniflare and prints the
// medians and ratios. Run from the repository root: bash bench/cloudflare/run.sh.
//
// What it generates:
//   - router tables of 10, 100 and 1,000 routes (half exact, 30 % template, 20 % prefix), 1,000 request
//     paths each (10 % misses), the reference gateway's route for each path (the Worker checks its matcher
//     against them before timing), the generated matcher with each strategy (module-level, as the Worker
//     carries it, and wrapped in a factory for the init timing) and the same table as Hono routes;
//   - JWT policies (the Worker's own policy tables, render/cloudflare.PolicyTable) and signed tokens for
//     HS256, RS256, ES256 and EdDSA.
//
// With -seed DIR it writes the whole-request benchmark instead (seed.go): the seed scenario rendered by
// edgegw, the same behaviour as a Hono app, and the tokens; seed.mjs runs them.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/internal/routegen"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render/cloudflare"
	"github.com/edgegw/edgegw/render/jsruntime"
)

type tableCase struct {
	name     string // "api" or "disjoint" and the size: "api-100"
	size     int
	disjoint bool
}

func tableCases() []tableCase {
	var out []tableCase
	for _, d := range []bool{false, true} {
		for _, n := range []int{10, 100, 1000} {
			name := "api"
			if d {
				name = "disjoint"
			}
			out = append(out, tableCase{fmt.Sprintf("%s-%d", name, n), n, d})
		}
	}
	return out
}

var strategies = []string{"auto", "regex", "trie"}

func main() {
	out := flag.String("out", "", "write the bundled benchmark Worker to this file")
	seed := flag.String("seed", "", "write the whole-request benchmark's Workers (edgegw.js, hono.js, seed.json) into this folder")
	flag.Parse()
	if *seed != "" {
		root, err := os.Getwd()
		if err == nil {
			err = buildSeed(root, *seed)
		}
		if err != nil {
			fail(err)
		}
		return
	}
	if *out == "" {
		fail(fmt.Errorf("usage: go run ./bench/cloudflare -out worker.js | -seed DIR"))
	}
	mods := map[string]string{}
	var tables strings.Builder
	tables.WriteString("export const TABLES = {};\n")
	id := 0
	for _, tc := range tableCases() {
		n, name := tc.size, tc.name
		g := routegen.APITable(int64(n), n, tc.disjoint)
		paths := routegen.APIPaths(int64(n)*17, g, 1000, 0.1)
		expect, err := reference(g, paths)
		if err != nil {
			fail(err)
		}
		strat := map[string]string{}
		srcBytes := 0
		id++
		for _, s := range strategies {
			opts := jsruntime.MatcherOptions{}
			if s != "auto" {
				opts.Dynamic = s
			}
			src, st, err := cloudflare.MatcherSource(g, opts)
			if err != nil {
				fail(err)
			}
			strat[s] = st.String()
			mods[fmt.Sprintf("gen/%s/%s", name, s)] = src + "\nexport { matchRoute };\n"
			if s == "auto" {
				mods[fmt.Sprintf("genf/%s", name)] = "export function create() {\n" + src + "\nreturn matchRoute;\n}\n"
				srcBytes = len(src)
			}
			fmt.Fprintf(&tables, "import { matchRoute as gen_%d_%s } from \"bench:gen/%s/%s\";\n", id, s, name, s)
		}
		fmt.Fprintf(&tables, "import { create as genf_%d } from \"bench:genf/%s\";\n", id, name)
		var hono [][2]string
		for _, r := range g.Routes {
			hono = append(hono, [2]string{"GET", honoPath(r.Match)})
		}
		fmt.Fprintf(&tables, "TABLES[%q] = { name: %q, size: %d, sourceBytes: %d, paths: %s, expect: %s, hono: %s, strategy: %s,\n  gen: { auto: gen_%d_auto, regex: gen_%d_regex, trie: gen_%d_trie }, create: genf_%d };\n",
			name, name, n, srcBytes, js(paths), js(expect), js(hono), js(strat), id, id, id, id)
	}
	jwt, err := jwtCases()
	if err != nil {
		fail(err)
	}
	fmt.Fprintf(&tables, "export const JWT = %s;\n", js(jwt))
	mods["tables"] = tables.String()

	root, err := os.Getwd()
	if err != nil {
		fail(err)
	}
	if err := bundle(root, mods, *out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench/cloudflare:", err)
	os.Exit(1)
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		fail(err)
	}
	return string(b)
}

// reference is the reference gateway's route (its position in g.Routes) for each path, -1 for none.
func reference(g *ir.Gateway, paths []string) ([]int, error) {
	gw, err := gateway.New(g, gateway.Options{})
	if err != nil {
		return nil, err
	}
	pos := map[string]int{}
	for i, r := range g.Routes {
		pos[r.Name] = i
	}
	out := make([]int, len(paths))
	for i, p := range paths {
		req := httptest.NewRequest("GET", p, nil)
		req.Host = "api.example.com"
		out[i] = -1
		if r := gw.RouteFor(req); r != nil {
			out[i] = pos[r.Name]
		}
	}
	return out, nil
}

// honoPath writes a route's path as Hono does: ":name" for a variable, "/*" for a prefix.
func honoPath(m ir.Match) string {
	switch m.Kind {
	case ir.PathTemplate:
		s := make([]string, len(m.Segments))
		for i, v := range m.Segments {
			s[i] = v
			if ir.IsTemplateVar(v) {
				s[i] = ":" + v[1:len(v)-1]
			}
		}
		return "/" + strings.Join(s, "/")
	case ir.PathPrefix:
		return strings.TrimSuffix(m.Path, "/") + "/*"
	}
	return m.Path
}

type jwtCase struct {
	Policy json.RawMessage   `json:"policy"`
	Env    map[string]string `json:"env"`
	Token  string            `json:"token"`
}

var b64 = base64.RawURLEncoding

// jwtCases signs one token per algorithm and gives the Worker's policy table that verifies it.
func jwtCases() (map[string]jwtCase, error) {
	now := time.Now()
	claims := fmt.Sprintf(`{"sub":"alice","iss":"https://auth.example.com/","aud":"api","iat":%d,"exp":%d}`, now.Unix(), now.Add(24*time.Hour).Unix())
	out := map[string]jwtCase{}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	secret := "bench-secret-0123456789abcdef-0123456789abcdef"
	for _, alg := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
		header := b64.EncodeToString([]byte(fmt.Sprintf(`{"alg":%q,"typ":"JWT","kid":"k1"}`, alg)))
		input := header + "." + b64.EncodeToString([]byte(claims))
		digest := sha256.Sum256([]byte(input))
		var sig []byte
		var pub any
		switch alg {
		case "HS256":
			m := hmac.New(sha256.New, []byte(secret))
			m.Write([]byte(input))
			sig = m.Sum(nil)
		case "RS256":
			sig, err = rsa.SignPKCS1v15(rand.Reader, rsaKey, crypto.SHA256, digest[:])
			pub = &rsaKey.PublicKey
		case "ES256":
			var r, s interface{ FillBytes([]byte) []byte }
			r, s, err = ecdsa.Sign(rand.Reader, ecKey, digest[:])
			sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
			pub = &ecKey.PublicKey
		case "EdDSA":
			sig = ed25519.Sign(edPriv, []byte(input))
			pub = edPub
		}
		if err != nil {
			return nil, err
		}
		j := &ir.JWT{Algorithms: []string{alg}, Issuer: "https://auth.example.com/", Audience: []string{"api"}}
		env := map[string]string{}
		if pub == nil {
			j.Secret = &ir.Value{Env: "BENCH_HS_SECRET"}
			env["BENCH_HS_SECRET"] = secret
		} else {
			der, err := x509.MarshalPKIXPublicKey(pub)
			if err != nil {
				return nil, err
			}
			j.Keys = []ir.KeyFile{{Path: "k1.pem", KID: "k1", Data: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}}
		}
		pt, err := cloudflare.PolicyTable(ir.AuthPolicy{Name: "bench-" + strings.ToLower(alg), JWT: j})
		if err != nil {
			return nil, err
		}
		out[alg] = jwtCase{Policy: pt, Env: env, Token: input + "." + b64.EncodeToString(sig)}
	}
	return out, nil
}

// bundle builds bench/cloudflare/worker.js with the generated modules (bench:*), the shared runtime
// (edgegw-runtime/*), the Worker's verify.js (edgegw-workers/verify.js) and hono from the workerd package's
// node_modules.
func bundle(root string, mods map[string]string, out string) error {
	plugin := api.Plugin{Name: "bench", Setup: func(pb api.PluginBuild) {
		pb.OnResolve(api.OnResolveOptions{Filter: `^bench:`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			return api.OnResolveResult{Path: strings.TrimPrefix(a.Path, "bench:"), Namespace: "bench"}, nil
		})
		pb.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "bench"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			s, ok := mods[a.Path]
			if !ok {
				return api.OnLoadResult{}, fmt.Errorf("no generated module %s", a.Path)
			}
			return api.OnLoadResult{Contents: &s, Loader: api.LoaderJS}, nil
		})
		pb.OnResolve(api.OnResolveOptions{Filter: `^edgegw-runtime/`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			return api.OnResolveResult{Path: filepath.Join(root, "render/jsruntime", strings.TrimPrefix(a.Path, "edgegw-runtime/"))}, nil
		})
		pb.OnResolve(api.OnResolveOptions{Filter: `^edgegw-workers/verify\.js$`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			return api.OnResolveResult{Path: filepath.Join(root, "render/cloudflare/verify.js")}, nil
		})
	}}
	res := api.Build(api.BuildOptions{
		EntryPoints: []string{filepath.Join(root, "bench/cloudflare/worker.js")},
		Bundle:      true,
		Format:      api.FormatESModule,
		Platform:    api.PlatformBrowser,
		Target:      api.ES2022,
		NodePaths:   []string{filepath.Join(root, "render/cloudflare/workerd/node_modules")},
		External:    []string{"cloudflare:*"},
		LogLevel:    api.LogLevelSilent,
		Write:       false,
		Outfile:     out,
		Plugins:     []api.Plugin{plugin},
	})
	if len(res.Errors) > 0 {
		return fmt.Errorf("bundle: %s (is hono installed? bash scripts/install-test-deps.sh)", jsruntime.BuildErrors(res.Errors))
	}
	return os.WriteFile(out, res.OutputFiles[0].Contents, 0o644)
}
