package manifest_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/edgegw/edgegw/manifest"
)

// genRoutes writes a manifest with n routes of every path kind, with conditions, so ordering and the
// shadowing check do real work.
func genRoutes(n int) []byte {
	var b strings.Builder
	b.WriteString(head + "auth: {b: {jwt: {algorithms: [HS256], secret: {env: JWT_SECRET_KEY}}}}\nrate_limits: {r: {key: jwt.sub, limit: 100, window: 60s}}\nroutes:\n")
	for i := 0; i < n-1; i++ {
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "  - {name: r%d, match: {path: {exact: /svc%d/health}}, respond: {status: 200, body: ok}}\n", i, i)
		case 1:
			fmt.Fprintf(&b, "  - {name: r%d, match: {path: {prefix: /svc%d}, headers: {X-Canary-Release: \"true\"}}, pool: p, auth: b, rate_limit: r}\n", i, i)
		case 2:
			fmt.Fprintf(&b, "  - {name: r%d, match: {path: {prefix: /svc%d/v2}}, pool: p, rewrite: {prefix: /internal/%d}}\n", i, i, i)
		case 3:
			fmt.Fprintf(&b, "  - {name: r%d, match: {path: {template: \"/svc%d/users/{id}\"}, methods: [GET]}, pool: p}\n", i, i)
		case 4:
			fmt.Fprintf(&b, "  - {name: r%d, match: {path: {regex: \"^/legacy%d/[a-z]+$\"}}, pool: p}\n", i, i)
		}
	}
	b.WriteString("  - {name: default, match: {fallback: true}, pool: p}\n")
	return []byte(b.String())
}

// genTenants writes a manifest with n wildcard tenant hosts.
func genTenants(n int) []byte {
	var b strings.Builder
	b.WriteString("version: 1\nname: tenants\ndomains:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - {host: \"*.t%d.example.com\", zone: example.com, tenant: {header: X-Tenant-ID}}\n", i)
	}
	b.WriteString("origins: {o: {url: https://o.internal}}\npools: {p: {origins: [o]}}\nroutes:\n  - {name: default, match: {fallback: true}, pool: p}\n")
	return []byte(b.String())
}

// BenchmarkLoad measures load + validate + IR, beside parsing the same YAML into generic values (the
// floor any strict loader pays) in the same run. It reports the ratio and the heap in use after a load.
func BenchmarkLoad(b *testing.B) {
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"routes=1000", genRoutes(1000)},
		{"tenants=5000", genTenants(5000)},
	} {
		var baseline float64
		b.Run(c.name+"/yaml-only", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var v any
				if err := yaml.Unmarshal(c.data, &v); err != nil {
					b.Fatal(err)
				}
			}
			baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		})
		b.Run(c.name+"/edgegw", func(b *testing.B) {
			b.ReportAllocs()
			var g any
			for i := 0; i < b.N; i++ {
				gw, diags := manifest.LoadBytes("bench.yaml", c.data, manifest.LoadOptions{})
				if diags.HasErrors() {
					b.Fatal(diags)
				}
				g = gw
			}
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if baseline > 0 {
				b.ReportMetric(perOp/baseline, "x-yaml-only")
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MiB-heap-inuse")
			runtime.KeepAlive(g)
		})
	}
}
