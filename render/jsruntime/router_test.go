package jsruntime_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/internal/routegen"
	"github.com/edgegw/edgegw/internal/testenv"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render/jsruntime"
)

// MatchRoutes is the generator's view of an IR gateway's routes.
func matchRoutes(g *ir.Gateway) []jsruntime.MatchRoute {
	var out []jsruntime.MatchRoute
	for _, r := range g.Routes {
		mr := jsruntime.MatchRoute{Name: r.Name, Kind: string(r.Match.Kind), Path: r.Match.Path, Methods: r.Match.Methods, Hosts: r.Match.Hosts}
		if r.Match.Kind == ir.PathTemplate {
			mr.Segments = r.Match.TemplateSegments()
		}
		for _, h := range r.Match.Headers {
			mr.Headers = append(mr.Headers, [2]string{h.Name, h.Value})
		}
		out = append(out, mr)
	}
	return out
}

// refRoutes decides every request with the reference gateway: the route name, or "" when the path is
// refused, the host unknown or no route matches.
func refRoutes(t *testing.T, g *ir.Gateway, reqs []routegen.Request) []string {
	t.Helper()
	gw, err := gateway.New(g, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(reqs))
	for i, q := range reqs {
		hr := httptest.NewRequest(q.Method, "/", nil)
		hr.RequestURI = q.Target
		hr.URL.Path, hr.URL.RawPath, hr.URL.RawQuery = "", "", ""
		if k := strings.IndexByte(q.Target, '?'); k >= 0 {
			hr.URL.RawQuery = q.Target[k+1:]
		}
		hr.Host = q.Host
		hr.Header = q.Header.Clone()
		if r := gw.RouteFor(hr); r != nil {
			out[i] = r.Name
		}
	}
	return out
}

// nodeScript runs generated matchers in node over requests, deciding the path and host as the Workers glue
// does (splitTarget, normalize, hostOf, matchHost) and printing one JSON array of route names per table.
const nodeScript = `
import { normalize } from %[1]s;
import * as G from %[2]s;
import { readFileSync } from "node:fs";
const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
const out = [];
for (const c of cases) {
  const matchRoute = await import("data:text/javascript," + encodeURIComponent(c.matcher + "\nexport { matchRoute };")).then((m) => m.matchRoute);
  const names = [];
  for (const q of c.requests) {
    const t = G.splitTarget(q.target);
    const norm = normalize(t.path);
    if (norm.reject !== undefined) { names.push(""); continue; }
    const host = G.hostOf(q.host);
    if (!G.matchHost(c.domains, host)) { names.push(""); continue; }
    const h = { get: (n) => (Object.prototype.hasOwnProperty.call(q.headers, n.toLowerCase()) ? q.headers[n.toLowerCase()] : null) };
    const k = matchRoute(host, q.method, norm.path, h);
    names.push(k < 0 ? "" : c.names[k]);
  }
  out.push(names);
}
process.stdout.write(JSON.stringify(out));
`

type nodeCase struct {
	Matcher  string           `json:"matcher"`
	Names    []string         `json:"names"`
	Domains  []map[string]any `json:"domains"`
	Requests []map[string]any `json:"requests"`
}

// TestGeneratedMatcherAgreesWithReference generates random tables (every path kind, methods, hosts and
// header conditions, wildcard tenants; in IR order and in random order) and requests (raw encodings the
// normalizer resolves or refuses, unknown hosts, misses), renders the matcher with each strategy and checks
// in node that it picks the reference gateway's route on every request.
func TestGeneratedMatcherAgreesWithReference(t *testing.T) {
	node, err := exec.LookPath("node")
	testenv.Require(t, "node (Debian nodejs)", err)
	dir, _ := filepath.Abs(".")
	type table struct {
		g    *ir.Gateway
		reqs []routegen.Request
		ref  []string
	}
	var tables []table
	var cases []nodeCase
	var labels []string
	for seed := int64(1); seed <= 24; seed++ {
		size := []int{3, 10, 40, 150, 600}[seed%5]
		order := "ir"
		if seed%3 == 0 {
			order = "random"
		}
		g := routegen.Gateway(seed, routegen.Options{Routes: size, Conditions: true, Regex: seed%2 == 0, Fallback: seed%4 == 0, Order: order,
			Vocabulary: 4 + int(seed%3)*4})
		reqs := routegen.Requests(seed*7919, g, 1500, 0.1, true)
		tb := table{g: g, reqs: reqs, ref: refRoutes(t, g, reqs)}
		tables = append(tables, tb)
		var names []string
		for _, r := range g.Routes {
			names = append(names, r.Name)
		}
		var domains []map[string]any
		for _, d := range g.Domains {
			domains = append(domains, map[string]any{"host": d.Host, "wildcard": d.Wildcard, "tenantHeader": d.TenantHeader})
		}
		var rq []map[string]any
		for _, q := range reqs {
			h := map[string]string{}
			for n := range q.Header {
				h[strings.ToLower(n)] = q.Header.Get(n)
			}
			rq = append(rq, map[string]any{"method": q.Method, "host": q.Host, "target": q.Target, "headers": h})
		}
		for _, strat := range []string{"", "regex", "trie"} {
			src, st, err := jsruntime.GenerateMatcher(matchRoutes(g), jsruntime.MatcherOptions{Dynamic: strat})
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases, nodeCase{Matcher: src, Names: names, Domains: domains, Requests: rq})
			labels = append(labels, fmt.Sprintf("seed %d (%d routes, %s order, %s)", seed, len(g.Routes), order, st))
		}
	}
	tmp := t.TempDir()
	script := filepath.Join(tmp, "agree.mjs")
	url := func(f string) string { b, _ := json.Marshal("file://" + filepath.Join(dir, f)); return string(b) }
	if err := os.WriteFile(script, []byte(fmt.Sprintf(nodeScript, url("pathnorm.js"), url("gateway.js"))), 0o644); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(cases)
	casesFile := filepath.Join(tmp, "cases.json")
	if err := os.WriteFile(casesFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, script, casesFile).Output()
	if err != nil {
		t.Fatalf("node %s: %v", script, err)
	}
	var got [][]string
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(cases) {
		t.Fatalf("node output: %v (%d tables)", err, len(got))
	}
	total, matched := 0, 0
	for ci, names := range got {
		tb := tables[ci/3]
		bad := 0
		for i, name := range names {
			total++
			if name == tb.ref[i] {
				if name != "" {
					matched++
				}
				continue
			}
			if bad++; bad <= 5 {
				q := tb.reqs[i]
				t.Errorf("%s: %s %s %s %v: matcher %q, reference %q", labels[ci], q.Method, q.Host, q.Target, q.Header, name, tb.ref[i])
			}
		}
	}
	t.Logf("%d requests over %d matchers (%d routed, %d refused or unmatched)", total, len(cases), matched, total-matched)
	if matched < total/3 {
		t.Errorf("only %d of %d requests matched a route: the generated requests miss the tables", matched, total)
	}
}
