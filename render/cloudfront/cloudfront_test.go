package cloudfront_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	_ "github.com/edgegw/edgegw/providers/all" // the targets the examples configure
	. "github.com/edgegw/edgegw/render/cloudfront"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The examples rendered as they are. full.yaml rate-limits by jwt.sub and has a breaker, which validate
// refuses for this target; without those it fits (TestFullExampleSize).
var examples = []string{"quickstart"}

func load(t *testing.T, name string) *ir.Gateway {
	t.Helper()
	if name == "full-without-limits" {
		g := load(t, "full")
		g.RateLimits = nil
		for i := range g.Routes {
			g.Routes[i].RateLimit = ""
		}
		for i := range g.Pools {
			if g.Pools[i].Failover != nil {
				g.Pools[i].Failover.Breaker = nil
			}
		}
		return g
	}
	g, diags := manifest.Load("../../testdata/examples/" + name + ".yaml")
	if g == nil {
		for _, d := range diags {
			t.Log(d.String())
		}
		t.Fatalf("%s does not load", name)
	}
	return g
}

// TestGolden renders the example manifests and compares both functions with testdata/<example>/<file>
// (regenerate with -update and review the diff), and logs their sizes against the limit.
func TestGolden(t *testing.T) {
	for _, name := range examples {
		t.Run(name, func(t *testing.T) {
			g := load(t, name)
			arts, err := Renderer{}.Render(g)
			if err != nil {
				t.Fatal(err)
			}
			if len(arts) != 2 {
				t.Fatalf("%d artifacts, want %s and %s", len(arts), RequestFile, ResponseFile)
			}
			for _, a := range arts {
				t.Logf("%s/%s: %d bytes of %d", name, a.Path, len(a.Data), MaxFunctionBytes)
				if len(a.Data) > MaxFunctionBytes {
					t.Errorf("%s is %d bytes, over the limit", a.Path, len(a.Data))
				}
				p := filepath.Join("testdata", name, a.Path)
				if *update {
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, a.Data, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(p)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(a.Data, want) {
					t.Errorf("%s differs from the golden file (go test ./render/cloudfront -update, then review the diff)", p)
				}
			}
		})
	}
}

// TestDeterministic: the same IR gives the same bytes, and so does the IR read back from its position-free
// JSON form.
func TestDeterministic(t *testing.T) {
	a1, err := Renderer{}.Render(load(t, "quickstart"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		a2, err := Renderer{}.Render(load(t, "quickstart"))
		if err != nil {
			t.Fatal(err)
		}
		for k := range a1 {
			if !bytes.Equal(a1[k].Data, a2[k].Data) {
				t.Fatalf("render %d: %s differs", i, a1[k].Path)
			}
		}
	}
	g := load(t, "quickstart")
	js, err := g.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back ir.Gateway
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	back.Targets = g.Targets
	a3, err := Renderer{}.Render(&back)
	if err != nil {
		t.Fatal(err)
	}
	for k := range a1 {
		if !bytes.Equal(a1[k].Data, a3[k].Data) {
			t.Errorf("%s differs when rendered from the position-free IR", a1[k].Path)
		}
	}
}

// TestSubset scans the generated functions for what cloudfront-js-2.0 lacks. Only the viewer-request
// function's handler may be async (2.0 allows it); nothing else is.
func TestSubset(t *testing.T) {
	forbidden := []struct {
		re   *regexp.Regexp
		what string
	}{
		{regexp.MustCompile(`\?\.[A-Za-z_\[(]`), "optional chaining"},
		{regexp.MustCompile(`\?\?`), "nullish coalescing"},
		{regexp.MustCompile(`\.\.\.[A-Za-z_\[{(]`), "spread or rest"},
		{regexp.MustCompile(`\bclass\s+[A-Za-z_$]`), "class"},
		{regexp.MustCompile(`\bfunction\s*\*`), "generator"},
		{regexp.MustCompile(`\b(setTimeout|setInterval|fetch|eval|XMLHttpRequest)\s*\(`), "timers, network or eval"},
		{regexp.MustCompile(`\bnew\s+Function\b`), "eval"},
		{regexp.MustCompile(`\bcrypto\.(subtle|randomUUID|getRandomValues)`), "crypto beyond hashes and HMACs"},
	}
	for _, name := range examples {
		arts, err := Renderer{}.Render(load(t, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range arts {
			code := stripStrings(string(a.Data))
			for _, f := range forbidden {
				if loc := f.re.FindStringIndex(code); loc != nil {
					t.Errorf("%s/%s: %s is outside cloudfront-js-2.0: %q", name, a.Path, f.what, code[loc[0]:min(len(code), loc[1]+20)])
				}
			}
			if !regexp.MustCompile(`(?m)^(async )?function handler\(`).MatchString(string(a.Data)) {
				t.Errorf("%s/%s has no top-level function handler", name, a.Path)
			}
			if strings.Contains(code, "export ") || strings.Contains(code, "export{") {
				t.Errorf("%s/%s still exports", name, a.Path)
			}
		}
	}
}

// stripStrings blanks string literals and comments, so the scan looks at code only.
func stripStrings(s string) string {
	re := regexp.MustCompile(`"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|//[^\n]*`)
	return re.ReplaceAllString(s, `""`)
}

// TestSizeLimit: a route table that pushes the function over 10,240 bytes even minified is a render
// error naming the file, the size and where the limit falls; the largest table that fits is logged.
func TestSizeLimit(t *testing.T) {
	for _, shape := range []string{"health", "api"} {
		t.Run(shape, func(t *testing.T) { sizeLimit(t, shape) })
	}
}

// table is the quickstart with n prefix routes shaped as its route named shape (an answer at the edge, or
// a pool), of kind.
func table(t *testing.T, shape string, n int, kind ir.PathKind) *ir.Gateway {
	g := load(t, "quickstart")
	base := *g.Route(shape)
	g.Routes = nil
	for i := 0; i < n; i++ {
		r := base
		r.Name = fmt.Sprintf("route-%05d", i)
		r.Match.Kind = kind
		r.Match.Path = fmt.Sprintf("/service-%05d", i)
		if kind == ir.PathRegex {
			r.Match.Path = fmt.Sprintf("^/service-%05d/[a-z]+$", i)
		}
		g.Routes = append(g.Routes, r)
	}
	return g
}

// sizeLimit finds the largest table of prefix routes that stays inline (a larger one goes to the
// KeyValueStore and still fits), and checks the size error of a table that cannot move there (regex
// routes).
func sizeLimit(t *testing.T, shape string) {
	lo, hi := 1, 400 // inline at lo, in the KeyValueStore at hi
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		s, err := Measure(table(t, shape, mid, ir.PathPrefix), Options{})
		if err != nil {
			t.Fatalf("%d routes: %v", mid, err)
		}
		if s.KVSKeys > 0 {
			hi = mid
		} else {
			lo = mid
		}
	}
	s, err := Measure(table(t, shape, hi, ir.PathPrefix), Options{})
	if err != nil || s.KVSKeys != hi || s.Request > MaxFunctionBytes {
		t.Fatalf("%d routes: %+v %v, want %d KeyValueStore keys", hi, s, err, hi)
	}
	t.Logf("largest inline route table: %d prefix routes shaped as route %q; %d go to the KeyValueStore (viewer-request %d bytes)", lo, shape, hi, s.Request)
	for n := 100; n <= 400; n += 100 {
		_, err := Renderer{}.Render(table(t, shape, n, ir.PathRegex))
		var se *SizeError
		if !errors.As(err, &se) {
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		if !strings.Contains(err.Error(), RequestFile) || !strings.Contains(err.Error(), "10240-byte limit") || se.Position == "" {
			t.Fatalf("size error does not say which file, the limit and where: %v", err)
		}
		// The parts, largest first: with this many routes the generated tables lead.
		if len(se.Parts) < 3 || se.Parts[0].Name != "the tables and route matcher generated from the manifest" || !strings.Contains(err.Error(), "bytes by part: the tables and route matcher") {
			t.Fatalf("size error does not say which part is large: %v", err)
		}
		t.Logf("%d regex routes (never in the KeyValueStore): %v", n, err)
		return
	}
	t.Fatal("400 regex routes still fit: the size check never fired")
}

const limitedManifest = `version: 1
name: limited
domains:
  - {host: api.example.com, zone: example.com}
origins:
  app: {url: "http://127.0.0.1:9000"}
pools:
  app: {origins: [app]}
rate_limits:
  per-ip: {key: ip, limit: 100, window: 60s}
routes:
  - name: api
    match: {path: {prefix: /api}}
    pool: app
    rate_limit: per-ip
targets:
  cloudfront: {distribution_id: E2EXAMPLE, function: gw, companions: [waf-rate-limit], web_acl_name: edge, web_acl_id: example-acl-id}
`

// TestCompanionRendersWAF: with the waf-rate-limit companion the rate limit is rendered as waf.json and the
// function leaves the route to it; without the companion there is no waf.json and the function refuses the
// route's requests (fail closed), never drops the limit.
func TestCompanionRendersWAF(t *testing.T) {
	for _, companion := range []bool{true, false} {
		src := limitedManifest
		if !companion {
			src = strings.Replace(src, ", companions: [waf-rate-limit], web_acl_name: edge, web_acl_id: example-acl-id", "", 1)
		}
		g, diags := manifest.LoadBytes("limited.yaml", []byte(src), manifest.LoadOptions{})
		if g == nil {
			t.Fatalf("manifest does not load: %v", diags)
		}
		arts, err := Renderer{}.Render(g)
		if err != nil {
			t.Fatalf("companion %t: %v", companion, err)
		}
		hasWAF, refused := false, false
		for _, a := range arts {
			hasWAF = hasWAF || a.Path == WAFFile
			if a.Path == RequestFile {
				refused = regexp.MustCompile(`"?limited"?:\s*(true|!0)`).Match(a.Data)
			}
		}
		if hasWAF != companion || refused == companion {
			t.Errorf("companion %t: waf.json %t, the function refuses the route %t", companion, hasWAF, refused)
		}
	}
}

// TestFullExampleSize: the full example without its rate limit and breaker (HS256, CORS, HSTS, transforms,
// tenants, failover) fits CloudFront Functions' limit, both functions in the code (no route table in the
// KeyValueStore); the sizes are logged.
func TestFullExampleSize(t *testing.T) {
	g := load(t, "full-without-limits")
	arts, err := Renderer{}.Render(g)
	if err != nil {
		t.Fatalf("render of full.yaml without limits: %v", err)
	}
	sz, err := Measure(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range arts {
		if a.Path == KVSFile {
			t.Errorf("full.yaml without limits puts its routes in the KeyValueStore (%s)", KVSFile)
		}
		if (a.Path == RequestFile || a.Path == ResponseFile) && len(a.Data) > MaxFunctionBytes {
			t.Errorf("%s is %d bytes, over %d", a.Path, len(a.Data), MaxFunctionBytes)
		}
	}
	if sz.Request > MaxFunctionBytes || sz.Response > MaxFunctionBytes {
		t.Errorf("measured viewer-request %d, viewer-response %d bytes, over %d", sz.Request, sz.Response, MaxFunctionBytes)
	}
	t.Logf("full.yaml without limits: viewer-request %d bytes (%d under %d), viewer-response %d bytes (minified %t, mangled %t)",
		sz.Request, MaxFunctionBytes-sz.Request, MaxFunctionBytes, sz.Response, sz.Minified, sz.Mangled)
}

// TestRouteKeysCarryTheTableVersion: every key of kvs.json is a route key of one version, the code reads
// that version's keys and no placeholder is left, and another table is another version (a deploy writes it
// beside the live one).
func TestRouteKeysCarryTheTableVersion(t *testing.T) {
	version := func(g *ir.Gateway) string {
		t.Helper()
		arts, err := Renderer{}.Render(g)
		if err != nil {
			t.Fatal(err)
		}
		var kvs struct {
			Data []struct{ Key, Value string }
		}
		codes := map[string][]byte{}
		for _, a := range arts {
			switch a.Path {
			case KVSFile:
				if err := json.Unmarshal(a.Data, &kvs); err != nil {
					t.Fatal(err)
				}
			case RequestFile, ResponseFile:
				codes[a.Path] = a.Data
			}
		}
		if len(kvs.Data) == 0 {
			t.Fatal("no kvs.json entries: the table should not fit the code")
		}
		v, _ := RouteKeyVersion(kvs.Data[0].Key)
		for _, it := range kvs.Data {
			if got, ok := RouteKeyVersion(it.Key); !ok || got != v {
				t.Errorf("key %q: version %q %v, want %q", it.Key, got, ok, v)
			}
		}
		if !bytes.Contains(codes[RequestFile], []byte(`"r`+v+`"`)) {
			t.Errorf("the viewer-request code does not read version %s", v)
		}
		for name, code := range codes {
			if bytes.Contains(code, []byte("%KVSVER%")) {
				t.Errorf("%s keeps the placeholder", name)
			}
		}
		return v
	}
	a := version(table(t, "health", 400, ir.PathPrefix))
	if again := version(table(t, "health", 400, ir.PathPrefix)); again != a {
		t.Errorf("the same table has versions %s and %s", a, again)
	}
	if b := version(table(t, "health", 401, ir.PathPrefix)); b == a {
		t.Errorf("two tables share version %s", a)
	}
	for _, key := range []string{"EDGEGW_SECRET_API", "JWT_SECRET", "r/v1", "r1234567/v1", "r12345678x"} {
		if _, ok := RouteKeyVersion(key); ok {
			t.Errorf("%q taken for a route key", key)
		}
	}
}
