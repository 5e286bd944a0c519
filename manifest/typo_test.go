package manifest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest"
)

const typoBase = `version: 1
name: t
domains:
  - {host: api.example.com, zone: example.com}
origins:
  primary: {url: https://o.internal}
pools:
  api: {origins: [primary]}
auth:
  bearer: {jwt: {algorithms: [HS256], secret: {env: JWT_SECRET_KEY}}}
rate_limits:
  per_ip: {key: ip, limit: 10, window: 60s}
routes:
  - {name: api, match: {path: {prefix: /api}}, pool: api, auth: bearer, rate_limit: per_ip}
tests:
  - name: t1
    request: {url: https://api.example.com/api/x}
    expect: {route: api, pool: api}
`

// One typo gives one diagnostic: the unknown reference or key, with its suggestion, and none of what
// follows from it (the route it breaks named as unknown by a test, the entry it meant reported unused,
// the section it misspells reported missing).
func TestOneTypoOneDiagnostic(t *testing.T) {
	for _, tc := range []struct{ name, from, to, code, summary string }{
		{"pool reference", "pool: api,", "pool: ap,", manifest.CodeUnknownRef, `unknown pool "ap"`},
		{"auth reference", "auth: bearer,", "auth: barer,", manifest.CodeUnknownRef, `unknown auth policy "barer"`},
		{"rate limit reference", "rate_limit: per_ip}", "rate_limit: per_pi}", manifest.CodeUnknownRef, `unknown rate limit "per_pi"`},
		{"origin reference", "origins: [primary]", "origins: [primry]", manifest.CodeUnknownRef, `unknown origin "primry"`},
		{"top-level key", "\nroutes:", "\nrotues:", manifest.CodeUnknownKey, `unknown key "rotues" in the manifest`},
		{"top-level pools key", "\npools:", "\npols:", manifest.CodeUnknownKey, `unknown key "pols" in the manifest`},
		{"route key", "pool: api,", "pol: api,", manifest.CodeUnknownKey, `unknown key "pol" in routes[0]`},
		{"route name key", "{name: api,", "{nmae: api,", manifest.CodeUnknownKey, `unknown key "nmae" in routes[0]`},
		{"route match key", "match: {path", "mtach: {path", manifest.CodeUnknownKey, `unknown key "mtach" in routes[0]`},
		{"origin url key", "{url: https://o.internal}", "{ulr: https://o.internal}", manifest.CodeUnknownKey, `unknown key "ulr" in origins.primary`},
		{"pool origins key", "{origins: [primary]}", "{orgins: [primary]}", manifest.CodeUnknownKey, `unknown key "orgins" in pools.api`},
		{"jwt algorithms key", "{algorithms: [HS256]", "{algoritms: [HS256]", manifest.CodeUnknownKey, `unknown key "algoritms" in auth.bearer.jwt`},
		{"rate limit key key", "{key: ip,", "{kye: ip,", manifest.CodeUnknownKey, `unknown key "kye" in rate_limits.per_ip`},
		{"domain host key", "{host: api.example.com,", "{hots: api.example.com,", manifest.CodeUnknownKey, `unknown key "hots" in domains[0]`},
		{"test expect key", "expect: {route: api", "expcet: {route: api", manifest.CodeUnknownKey, `unknown key "expcet" in tests[0]`},
		{"rate limit window key", "window: 60s}", "windw: 60s}", manifest.CodeUnknownKey, `unknown key "windw" in rate_limits.per_ip`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(typoBase, tc.from) {
				t.Fatalf("%q is not in the base manifest", tc.from)
			}
			_, diags := load(t, strings.Replace(typoBase, tc.from, tc.to, 1))
			if len(diags) != 1 || diags[0].Code != tc.code || diags[0].Summary != tc.summary || !strings.Contains(diags[0].Detail, "did you mean") {
				t.Errorf("want exactly one %s %q with a suggestion, got %d:\n%v", tc.code, tc.summary, len(diags), diags)
			}
		})
	}
	// The base manifest is clean, and an entry nothing references is still reported when there is no typo.
	if _, diags := load(t, typoBase); len(diags) != 0 {
		t.Fatalf("base manifest: %v", diags)
	}
	_, diags := load(t, strings.Replace(typoBase, "pools:\n", "pools:\n  spare: {origins: [primary]}\n", 1))
	if len(diags) != 1 || diags[0].Code != manifest.CodeUnused {
		t.Errorf("an unused pool without a typo: want one %s warning, got %v", manifest.CodeUnused, diags)
	}
}

// A limit's advice is something edgegw can do: one manifest is one gateway, so no E401 asks to split the
// gateway into several manifests.
func TestLimitAdviceIsDoable(t *testing.T) {
	var routes, many strings.Builder
	routes.WriteString(head + "routes:\n")
	for i := 0; i <= manifest.MaxRoutes; i++ {
		fmt.Fprintf(&routes, "  - {name: r%d, match: {path: {exact: /r%d}}, pool: p}\n", i, i)
	}
	many.WriteString(head + "routes: [{name: f, match: {fallback: true}, pool: p}]\ndns: {expect: {\n")
	for i := 0; i <= manifest.MaxRoutes; i++ {
		fmt.Fprintf(&many, "  h%d.example.com: {},\n", i)
	}
	many.WriteString("}}\n")
	for name, doc := range map[string]string{"routes": routes.String(), "keys of one mapping": many.String()} {
		_, diags := load(t, doc)
		var limit *manifest.Diagnostic
		for i := range diags {
			if diags[i].Code == manifest.CodeLimit {
				limit = &diags[i]
			}
		}
		if limit == nil {
			t.Errorf("%s: no %s diagnostic: %v", name, manifest.CodeLimit, diags)
			continue
		}
		if strings.Contains(limit.Detail, "several manifests") || limit.Detail == "" {
			t.Errorf("%s: advice %q", name, limit.Detail)
		}
	}
}
