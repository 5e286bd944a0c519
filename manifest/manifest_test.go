package manifest_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers/cloudflare"
	"github.com/edgegw/edgegw/providers/fastly"
)

const head = `version: 1
name: t
domains:
  - {host: api.example.com, zone: example.com}
  - {host: example.com, zone: example.com}
  - {host: "*.api.example.com", zone: example.com, tenant: {header: X-Tenant-ID}}
origins:
  o: {url: https://o.internal}
pools:
  p: {origins: [o]}
`

func load(t *testing.T, doc string) (*ir.Gateway, manifest.Diagnostics) {
	t.Helper()
	return manifest.LoadBytes("m.yaml", []byte(doc), manifest.LoadOptions{ReadFile: func(rel string) ([]byte, error) {
		return os.ReadFile(filepath.Join(t.TempDir(), rel))
	}})
}

func mustLoad(t *testing.T, doc string) *ir.Gateway {
	t.Helper()
	g, diags := load(t, doc)
	if diags.HasErrors() {
		t.Fatalf("unexpected diagnostics:\n%v", diags)
	}
	return g
}

func routeNames(g *ir.Gateway) string {
	var n []string
	for _, r := range g.Routes {
		n = append(n, r.Name)
	}
	return strings.Join(n, " ")
}

func TestPrecedenceOrder(t *testing.T) {
	g := mustLoad(t, head+`routes:
  - {name: fallback, match: {fallback: true}, pool: p}
  - {name: regex-b, match: {path: {regex: "^/b/[0-9]+$"}}, pool: p}
  - {name: regex-a, match: {path: {regex: "^/a/[0-9]+$"}}, pool: p}
  - {name: tmpl-1, match: {path: {template: "/v3/{x}/{y}"}}, pool: p}
  - {name: tmpl-2, match: {path: {template: "/v3/users/{id}"}}, pool: p}
  - {name: prefix-short, match: {path: {prefix: /v1}}, pool: p}
  - {name: prefix-long, match: {path: {prefix: /v1/users}}, pool: p}
  - {name: prefix-hdr, match: {path: {prefix: /v1}, headers: {X-Canary: "1"}}, pool: p}
  - {name: prefix-hdr-method, match: {path: {prefix: /v1}, headers: {X-Canary: "1"}, methods: [GET]}, pool: p}
  - {name: exact, match: {path: {exact: /v1/users/me}}, pool: p}
  - {name: regex-host, match: {path: {regex: "^/c$"}, hosts: [api.example.com]}, pool: p}
`)
	want := "exact prefix-long prefix-hdr-method prefix-hdr prefix-short tmpl-2 tmpl-1 regex-host regex-b regex-a fallback"
	if got := routeNames(g); got != want {
		t.Errorf("order\n got %s\nwant %s", got, want)
	}
}

func TestIRDeterministic(t *testing.T) {
	data, err := os.ReadFile("../testdata/examples/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var first []byte
	for i := 0; i < 20; i++ {
		g, diags := manifest.LoadBytes("full.yaml", data, manifest.LoadOptions{})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		b, err := g.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Fatal("IR JSON differs between two loads of the same manifest")
		}
	}
}

func TestFullExampleIR(t *testing.T) {
	g, diags := manifest.Load("../testdata/examples/full.yaml")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := routeNames(g); got != "health docs v2-canary v2 v1-user legacy default" {
		t.Errorf("route order %s", got)
	}
	v2 := g.Route("v2")
	if v2.Rewrite == nil || v2.Rewrite.Prefix != "/internal/v2" || v2.Auth != "bearer" || v2.RateLimit != "per_subject" {
		t.Errorf("v2 route %+v", v2)
	}
	if v2.Pos.Line != 73 || v2.Pos.Col != 5 {
		t.Errorf("v2 position %v", v2.Pos)
	}
	api := g.Pool("api")
	if api.Failover == nil || api.Failover.Breaker == nil || api.Failover.Breaker.Consecutive != 3 || api.Failover.Breaker.Cooldown.D().Seconds() != 30 {
		t.Errorf("api pool %+v", api)
	}
	if g.HSTS.Header() != "max-age=63072000; includeSubDomains; preload" {
		t.Errorf("hsts %q", g.HSTS.Header())
	}
	if g.DNS.MaxTTL.Seconds() != 60 {
		t.Errorf("max_ttl %v", g.DNS.MaxTTL)
	}
	if g.Domains[2].TenantHeader != "X-Tenant-Id" || !g.Domains[2].Wildcard || !g.Domains[1].Apex {
		t.Errorf("domains %+v", g.Domains)
	}
	if got := strings.Join(g.Targets.Names(), ","); got != "azure,cloudflare,cloudfront,fastly,gcp,local" {
		t.Errorf("targets %s", got)
	}
	cf, _ := g.Targets.Lookup("cloudflare")
	fa, _ := g.Targets.Lookup("fastly")
	if s, ok := cf.Config.(*cloudflare.Settings); !ok || s.AccountID.Env != "CLOUDFLARE_ACCOUNT_ID" {
		t.Errorf("cloudflare settings %#v", cf.Config)
	}
	if s, ok := fa.Config.(*fastly.Settings); !ok || s.ServiceID.Literal != "SU1Z0isxPaozGVKXdv0eY" {
		t.Errorf("fastly settings %#v", fa.Config)
	}
	if len(g.Tests) != 11 || g.Tests[0].Request.JWT == nil || g.Tests[0].Request.JWT.Sub != "alice" {
		t.Errorf("tests %+v", g.Tests)
	}
}

// Routes that look alike but differ in a condition are not shadowed.
func TestNotShadowed(t *testing.T) {
	mustLoad(t, head+`routes:
  - {name: a, match: {path: {prefix: /v1}, headers: {X-Canary: "1"}}, pool: p}
  - {name: b, match: {path: {prefix: /v1}}, pool: p}
  - {name: c, match: {path: {prefix: /v1}, methods: [GET]}, pool: p}
  - {name: d, match: {path: {prefix: /v10}}, pool: p}
  - {name: e, match: {path: {template: "/v2/{id}"}}, pool: p}
  - {name: f, match: {path: {template: "/v2/{id}/x"}}, pool: p}
  - {name: g, match: {fallback: true, hosts: [example.com]}, pool: p}
  - {name: h, match: {fallback: true}, pool: p}
  - {name: i, match: {path: {exact: /v1}, hosts: [acme.api.example.com]}, pool: p}
`)
}

func TestShadowedByRootPrefixAndHosts(t *testing.T) {
	_, diags := load(t, head+`routes:
  - {name: root, match: {path: {prefix: /}}, pool: p}
  - {name: tmpl, match: {path: {template: "/v1/{id}"}}, pool: p}
  - {name: rx, match: {path: {regex: "^/x$"}}, pool: p}
  - {name: fb, match: {fallback: true}, pool: p}
  - {name: wild, match: {path: {exact: /a}, hosts: ["*.api.example.com"]}, pool: p}
  - {name: tenant, match: {path: {exact: /a}, hosts: [acme.api.example.com]}, pool: p}
`)
	var shadowed []string
	for _, d := range diags {
		if d.Code == manifest.CodeShadowed {
			shadowed = append(shadowed, strings.Split(d.Summary, `"`)[1])
		}
	}
	if got := strings.Join(shadowed, " "); got != "tmpl rx fb tenant" {
		t.Errorf("shadowed %q, want tmpl rx fb tenant\n%v", got, diags)
	}
}

func TestDurationsAndValues(t *testing.T) {
	g := mustLoad(t, head+`rate_limits:
  a: {key: ip, limit: 5, window: 90}
  b: {key: "header:x-api-key", limit: 5, window: 1m30s}
routes:
  - {name: r, match: {fallback: true}, pool: p, rate_limit: a}
  - {name: s, match: {path: {prefix: /s}}, pool: p, rate_limit: b}
`)
	if w := g.RateLimit("a").Window.D().Seconds(); w != 90 {
		t.Errorf("window a %v", w)
	}
	if w := g.RateLimit("b").Window.D().Seconds(); w != 90 {
		t.Errorf("window b %v", w)
	}
	if k := g.RateLimit("b").Key; k != "header:X-Api-Key" {
		t.Errorf("key %q", k)
	}
}

func TestSecretHeuristicsNoFalsePositives(t *testing.T) {
	mustLoad(t, head+`transform:
  request:
    set_headers:
      X-Forwarded-By: edge-gateway
      X-Build: "2024-09-23T10:00:00Z"
      X-Trace-Sample: "0.01"
    remove_headers: [Authorization, X-Api-Key]
routes:
  - {name: r, match: {path: {prefix: /static/assets-and-images-for-the-marketing-site}}, pool: p}
  - {name: f, match: {fallback: true}, pool: p}
`)
}

func TestSecretHeuristicsCatchTokens(t *testing.T) {
	for _, v := range []string{
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz",
		"ghp_abcdefghijklmnopqrstuvwxyz0123456789",
		"Zx8Qp2Lm9Rt4Vb7Nc1Kd6Hf3Js5Wg0Ya",
	} {
		_, diags := load(t, head+fmt.Sprintf("transform: {request: {set_headers: {X-Upstream: %q}}}\nroutes: [{name: f, match: {fallback: true}, pool: p}]\n", v))
		found := false
		for _, d := range diags {
			if d.Code == manifest.CodeSecretLiteral {
				found = true
				if strings.Contains(d.String(), v) {
					t.Errorf("diagnostic repeats the secret: %s", d)
				}
			}
		}
		if !found {
			t.Errorf("%s… not reported as a secret", v[:8])
		}
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	priv, _ := x509.MarshalECPrivateKey(k)
	os.WriteFile(filepath.Join(dir, "pub.pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644)
	os.WriteFile(filepath.Join(dir, "priv.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: priv}), 0o644)
	opts := manifest.LoadOptions{ReadFile: func(rel string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, rel)) }}
	doc := func(file, alg string) string {
		return head + fmt.Sprintf("auth: {b: {jwt: {algorithms: [%s], keys: [{file: %s}]}}}\nroutes: [{name: f, match: {fallback: true}, pool: p, auth: b}]\n", alg, file)
	}
	g, diags := manifest.LoadBytes("m.yaml", []byte(doc("pub.pem", "ES256")), opts)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if !strings.Contains(g.AuthPolicy("b").JWT.Keys[0].Data, "BEGIN PUBLIC KEY") {
		t.Error("key data not carried into the IR")
	}
	for _, c := range []struct{ file, alg, want string }{
		{"priv.pem", "ES256", "holds a private key"},
		{"pub.pem", "RS256", "is an EC key but no EC algorithm is listed"},
		{"missing.pem", "ES256", "cannot read key file"},
	} {
		_, diags := manifest.LoadBytes("m.yaml", []byte(doc(c.file, c.alg)), opts)
		if !strings.Contains(fmt.Sprint(diags), c.want) {
			t.Errorf("%s/%s: want %q in %v", c.file, c.alg, c.want, diags)
		}
	}
}

func TestLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString(head + "routes:\n")
	for i := 0; i <= manifest.MaxRoutes; i++ {
		fmt.Fprintf(&b, "  - {name: r%d, match: {path: {exact: /r%d}}, pool: p}\n", i, i)
	}
	_, diags := load(t, b.String())
	if !strings.Contains(fmt.Sprint(diags), "10001 routes; the limit is 10000") {
		t.Errorf("route limit not reported: %v", diags)
	}
	_, diags = load(t, head+"routes: [{name: f, match: {fallback: true}, pool: p, transform: {request: {set_headers: {X-Big: \""+strings.Repeat("v", manifest.MaxHeaderValue+1)+"\"}}}}]\n")
	if !strings.Contains(fmt.Sprint(diags), "header value is 8193 bytes; the limit is 8192") {
		t.Errorf("header limit not reported: %v", diags)
	}
}

func TestMultipleDocumentsAndEmpty(t *testing.T) {
	for doc, want := range map[string]string{
		"":                                       "the manifest is empty",
		"version: 1\n---\nx: 1":                  "more than one YAML document",
		"[1, 2]":                                 "expected a mapping, got a list",
		"version: 1\ndomains: &a []\nname: *b\n": "unknown alias",
	} {
		_, diags := load(t, doc)
		if !strings.Contains(fmt.Sprint(diags), want) {
			t.Errorf("%q: want %q in %v", doc, want, diags)
		}
	}
}

// Nested aliases expand exponentially ("billion laughs"); the loader bounds them.
func TestAliasExpansionBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`x0: &a0 ["x","x","x","x","x","x","x","x","x","x"]` + "\n")
	for i := 1; i < 7; i++ {
		fmt.Fprintf(&b, "x%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	doc := b.String() + head + "routes: [{name: f, match: {fallback: true}, pool: p}]\ntests: [{name: t, request: {url: https://api.example.com/, jwt: {claims: {big: *a6}}}, expect: {status: 200}}]\n"
	start := time.Now()
	_, diags := load(t, doc)
	if !strings.Contains(fmt.Sprint(diags), "more than 1000 alias expansions") {
		t.Errorf("alias bomb not reported: %v", diags)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("loading an alias bomb took %v", d)
	}
}
