package njs_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render/cloudfront"
	"github.com/edgegw/edgegw/render/cloudfront/njs"
)

// bigTable is the quickstart with n generated routes before its template-free fallback: exact and prefix
// routes, nested prefixes, and routes with a method or header condition sharing a path with one without,
// in IR order (manifest.SortRoutes).
func bigTable(t *testing.T, n int) *ir.Gateway {
	g, diags := manifest.Load(filepath.Join("..", "..", "..", "testdata", "examples", "quickstart.yaml"))
	if g == nil {
		t.Fatalf("quickstart does not load: %v", diags)
	}
	answer, pool, fallback := *g.Route("health"), *g.Route("api"), *g.Route("default")
	g.Routes = nil
	add := func(base ir.Route, name string, kind ir.PathKind, path string) *ir.Route {
		r := base
		r.Name, r.Index = name, len(g.Routes)
		r.Match = ir.Match{Kind: kind, Path: path}
		g.Routes = append(g.Routes, r)
		return &g.Routes[len(g.Routes)-1]
	}
	for i := 0; len(g.Routes) < n; i++ {
		switch i % 4 {
		case 0:
			add(answer, fmt.Sprintf("exact-%d", i), ir.PathExact, fmt.Sprintf("/s%d/item", i))
		case 1:
			add(pool, fmt.Sprintf("prefix-%d", i), ir.PathPrefix, fmt.Sprintf("/s%d", i))
			add(answer, fmt.Sprintf("deeper-%d", i), ir.PathPrefix, fmt.Sprintf("/s%d/deep/", i))
		case 2:
			add(pool, fmt.Sprintf("plain-%d", i), ir.PathPrefix, fmt.Sprintf("/s%d", i))
			r := add(answer, fmt.Sprintf("canary-%d", i), ir.PathPrefix, fmt.Sprintf("/s%d", i))
			r.Match.Headers = []ir.HeaderMatch{{Name: "X-Canary", Value: "1"}}
		case 3:
			r := add(answer, fmt.Sprintf("post-%d", i), ir.PathExact, fmt.Sprintf("/s%d", i))
			r.Match.Methods = []string{"POST"}
		}
	}
	add(fallback, "default", ir.PathFallback, "")
	manifest.SortRoutes(g.Routes)
	return g
}

var large = flag.Bool("large", false, "TestKVSRouteTable: 10,000 routes too (about three minutes)")

// TestKVSRouteTable renders 1,000 routes (and with -large 10,000), their exact and prefix routes in the
// KeyValueStore, and runs requests for every kind of route and condition in njs against the reference
// gateway; it checks the KeyValueStore reads each request takes.
func TestKVSRouteTable(t *testing.T) {
	requireNJS(t)
	sizes := []int{1000}
	if *large {
		sizes = append(sizes, 10000)
	}
	for _, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			g := bigTable(t, n)
			s, err := cloudfront.Measure(g, cloudfront.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if s.KVSKeys == 0 || s.Request > cloudfront.MaxFunctionBytes || s.Response > cloudfront.MaxFunctionBytes {
				t.Fatalf("sizes %+v: want the routes in the KeyValueStore and both functions under the limit", s)
			}
			t.Logf("%d routes: viewer-request %d bytes, viewer-response %d bytes, %d KeyValueStore keys (%d bytes of kvs.json)", len(g.Routes), s.Request, s.Response, s.KVSKeys, s.KVSBytes)
			var cases []ir.TestCase
			req := func(method, path string, hdr ...ir.HeaderSet) {
				cases = append(cases, ir.TestCase{Name: method + " " + path + fmt.Sprint(hdr), Request: ir.TestRequest{Method: method, URL: "https://api.example.com" + path, Headers: hdr}})
			}
			last := n / 4 * 4
			for _, i := range []int{0, 1, 2, 3, 4, 5, 6, 7, last - 4, last - 3, last - 2, last - 1} {
				req("GET", fmt.Sprintf("/s%d/item", i))
				req("GET", fmt.Sprintf("/s%d", i))
				req("POST", fmt.Sprintf("/s%d", i))
				req("GET", fmt.Sprintf("/s%d/deep/x/y", i))
				req("GET", fmt.Sprintf("/s%d/deep", i))
				req("GET", fmt.Sprintf("/s%d/other/", i), ir.HeaderSet{Name: "X-Canary", Value: "1"})
			}
			req("GET", "/s1x")
			req("GET", "/")
			req("GET", "/nothing/here/at/all")
			opts := testrun.Options{Target: "cloudfront", Engine: semantics, Reference: testrun.RefEngine{}}
			for _, r := range testrun.Run(context.Background(), g, cases, opts) {
				if r.Failed() || r.Skipped != "" {
					t.Errorf("%s: %s %v", r.Where(), r.Error, r.Lines())
				}
			}

			// The reads: one exists per stem of the path no longer than the longest key, from the whole
			// path to the root, and one get per stem that has routes, until a route matches.
			in, err := semantics.OpenInstance(g, map[string]string{"app": "http://127.0.0.1:9"}, testrun.Env{})
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			for _, c := range []struct {
				path  string
				reads int
			}{{"/s0/item", 2}, {"/s1/deep/x/y", 3}, {"/s1/other", 3}, {"/nothing/here", 2}} {
				ev := njs.BuildEvent(&testrun.ClientRequest{Method: http.MethodGet, Target: c.path, Host: "api.example.com", Now: time.Now()}, "r")
				res, err := in.Run(context.Background(), in.Request(), ev)
				if err != nil {
					t.Fatal(err)
				}
				if res.KVSReads != c.reads {
					t.Errorf("%s: %d KeyValueStore reads, want %d", c.path, res.KVSReads, c.reads)
				}
				t.Logf("%s: %d KeyValueStore reads (%d segments)", c.path, res.KVSReads, strings.Count(c.path, "/"))
			}
		})
	}
}
