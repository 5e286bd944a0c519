// Package routegen generates random route tables (as IR gateways) and requests for them, for the tests that
// check a generated route matcher against the reference gateway and for the router benchmarks. Everything
// is decided by the seed.
package routegen

import (
	"fmt"
	"github.com/edgegw/edgegw/manifest"
	"math/rand"
	"net/http"
	"strings"

	"github.com/edgegw/edgegw/manifest/ir"
)

// Domains of every generated gateway: an exact host, a wildcard with a tenant header, the apex.
var Domains = []ir.Domain{
	{Host: "api.example.com", Zone: "example.com"},
	{Host: "*.tenants.example.com", Zone: "example.com", Wildcard: true, TenantHeader: "X-Tenant"},
	{Host: "example.com", Zone: "example.com", Apex: true},
}

// requestHosts are the Host headers requests use: known hosts (with case and port), tenants, unknown hosts.
var requestHosts = []string{"api.example.com", "API.Example.COM:8443", "acme.tenants.example.com", "b.tenants.example.com.",
	"example.com", "tenants.example.com", "x.y.tenants.example.com", "unknown.test"}

var routeHosts = []string{"api.example.com", "*.tenants.example.com", "example.com"}

// Options shape a table.
type Options struct {
	Routes int
	// Conditions adds methods, hosts and header conditions to some routes.
	Conditions bool
	// Regex and Fallback add regex routes and a fallback.
	Regex, Fallback bool
	// Order: "ir" sorts the routes as the manifest compiler does (kind, specificity, conditions, manifest
	// order); "random" leaves them in a random order (a matcher must decide any table as a scan does).
	Order string
	// Mix is the share of exact, template and prefix routes (the rest up to 1 of regex when Regex is set);
	// zero means 0.5/0.3/0.2.
	Exact, Template, Prefix float64
	// Vocabulary is the number of distinct literal segments (0: 12).
	Vocabulary int
}

type gen struct {
	r    *rand.Rand
	opts Options
}

func (g *gen) seg() string {
	v := g.opts.Vocabulary
	if v == 0 {
		v = 12
	}
	return fmt.Sprintf("s%d", g.r.Intn(v))
}

func (g *gen) segs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = g.seg()
	}
	return out
}

// Gateway returns a gateway of opts.Routes respond routes (the body is the route name).
func Gateway(seed int64, opts Options) *ir.Gateway {
	g := &gen{r: rand.New(rand.NewSource(seed)), opts: opts}
	ex, tp, px := opts.Exact, opts.Template, opts.Prefix
	if ex == 0 && tp == 0 && px == 0 {
		ex, tp, px = 0.5, 0.3, 0.2
	}
	gw := &ir.Gateway{SchemaVersion: ir.SchemaVersion, Name: "routes", Domains: append([]ir.Domain(nil), Domains...)}
	for i := 0; i < opts.Routes; i++ {
		x := g.r.Float64()
		var m ir.Match
		depth := 1 + g.r.Intn(4)
		switch {
		case x < ex:
			m = ir.Match{Kind: ir.PathExact, Path: "/" + strings.Join(g.segs(depth), "/")}
			if g.r.Intn(10) == 0 {
				m.Path += "/"
			}
			if g.r.Intn(30) == 0 {
				m.Path = "/"
			}
		case x < ex+tp:
			s := g.segs(depth)
			nv := 0
			for j := range s {
				if g.r.Intn(3) == 0 || (j == len(s)-1 && nv == 0) {
					nv++
					s[j] = fmt.Sprintf("{v%d}", nv)
				}
			}
			m = ir.Match{Kind: ir.PathTemplate, Path: "/" + strings.Join(s, "/"), Segments: s}
		case x < ex+tp+px:
			m = ir.Match{Kind: ir.PathPrefix, Path: "/" + strings.Join(g.segs(depth), "/")}
			switch g.r.Intn(12) {
			case 0, 1:
				m.Path += "/"
			case 2:
				m.Path = "/"
			}
		default:
			if !opts.Regex {
				m = ir.Match{Kind: ir.PathExact, Path: "/" + strings.Join(g.segs(depth), "/")}
				break
			}
			m = ir.Match{Kind: ir.PathRegex, Path: "/" + g.seg() + "/[a-z0-9]+(/" + g.seg() + ")?"}
		}
		if opts.Conditions {
			if g.r.Intn(5) == 0 {
				m.Methods = []string{"GET"}
				if g.r.Intn(2) == 0 {
					m.Methods = []string{"GET", "POST"}
				}
			}
			if g.r.Intn(8) == 0 {
				m.Hosts = []string{routeHosts[g.r.Intn(len(routeHosts))]}
			}
			if g.r.Intn(8) == 0 {
				m.Headers = []ir.HeaderMatch{{Name: "X-Canary", Value: "true"}}
			}
		}
		name := fmt.Sprintf("r%d", i)
		gw.Routes = append(gw.Routes, ir.Route{Name: name, Index: i, Match: m, Respond: &ir.Respond{Status: 200, Body: name}})
	}
	if opts.Fallback {
		m := ir.Match{Kind: ir.PathFallback}
		if opts.Conditions {
			gw.Routes = append(gw.Routes, ir.Route{Name: "fallback-get", Index: len(gw.Routes), Match: ir.Match{Kind: ir.PathFallback, Methods: []string{"GET"}},
				Respond: &ir.Respond{Status: 200, Body: "fallback-get"}})
		}
		gw.Routes = append(gw.Routes, ir.Route{Name: "fallback", Index: len(gw.Routes), Match: m, Respond: &ir.Respond{Status: 200, Body: "fallback"}})
	}
	switch opts.Order {
	case "random":
		g.r.Shuffle(len(gw.Routes), func(i, j int) { gw.Routes[i], gw.Routes[j] = gw.Routes[j], gw.Routes[i] })
	default:
		SortLikeIR(gw.Routes)
	}
	gw.Errors = ir.EdgeErrors(gw.Name)
	return gw
}

// SortLikeIR sorts routes in the manifest compiler's precedence order (manifest.SortRoutes).
func SortLikeIR(rs []ir.Route) { manifest.SortRoutes(rs) }

// Request is one generated request: Target is the raw request-target.
type Request struct {
	Method, Host, Target string
	Header               http.Header
}

// Requests returns n requests for gw: paths of its routes (exact, under prefixes, filled templates) and
// near misses, with raw encodings the normalizer resolves or rejects, random methods, hosts and headers.
// Misses is the share of requests built to match no route's path (before a fallback).
func Requests(seed int64, gw *ir.Gateway, n int, misses float64, conditions bool) []Request {
	g := &gen{r: rand.New(rand.NewSource(seed))}
	out := make([]Request, 0, n)
	for i := 0; i < n; i++ {
		var path string
		if len(gw.Routes) == 0 || g.r.Float64() < misses {
			path = "/zz" + fmt.Sprint(g.r.Intn(1000)) + "/" + strings.Join(g.segs(g.r.Intn(3)), "/")
		} else {
			path = g.pathFor(gw.Routes[g.r.Intn(len(gw.Routes))].Match)
		}
		if conditions {
			path = g.mangle(path)
		}
		req := Request{Method: "GET", Host: "api.example.com", Target: path, Header: http.Header{}}
		if conditions {
			req.Method = []string{"GET", "POST", "PUT", "DELETE"}[g.r.Intn(4)]
			req.Host = requestHosts[g.r.Intn(len(requestHosts))]
			if g.r.Intn(3) == 0 {
				req.Header.Set("X-Canary", "true")
			} else if g.r.Intn(6) == 0 {
				req.Header.Set("X-Canary", "false")
			}
		}
		out = append(out, req)
	}
	return out
}

func (g *gen) pathFor(m ir.Match) string {
	switch m.Kind {
	case ir.PathExact:
		return m.Path
	case ir.PathPrefix:
		p := m.Path
		switch g.r.Intn(4) {
		case 0:
			return p
		case 1:
			return strings.TrimSuffix(p, "/") + "/" + g.seg()
		case 2:
			if p != "/" {
				return strings.TrimSuffix(p, "/") + "0" // a longer segment: never under the prefix
			}
		}
		return strings.TrimSuffix(p, "/") + "/" + strings.Join(g.segs(1+g.r.Intn(3)), "/")
	case ir.PathTemplate:
		s := make([]string, len(m.Segments))
		for i, v := range m.Segments {
			if ir.IsTemplateVar(v) {
				s[i] = fmt.Sprintf("x%d", g.r.Intn(100))
				if g.r.Intn(10) == 0 {
					s[i] = g.seg()
				}
			} else {
				s[i] = v
			}
		}
		switch g.r.Intn(10) {
		case 0:
			s = append(s, g.seg()) // one segment too many
		case 1:
			s = s[:len(s)-1]
		}
		return "/" + strings.Join(s, "/")
	case ir.PathRegex:
		return "/" + g.seg() + "/ab1" + []string{"", "/" + g.seg()}[g.r.Intn(2)]
	}
	return "/" + strings.Join(g.segs(1+g.r.Intn(3)), "/")
}

// mangle sometimes writes a path in a raw form the normalizer resolves ("%73" for "s", a doubled "/", an
// encoded dot segment) or rejects (%2F), or adds a trailing slash or a query.
func (g *gen) mangle(p string) string {
	switch g.r.Intn(12) {
	case 0:
		return strings.Replace(p, "s", "%73", 1)
	case 1:
		return strings.Replace(p, "/", "//", 1)
	case 2:
		return p + "/%2e/"
	case 3:
		return p + "/x/%2E%2e"
	case 4:
		return p + "%2Fx"
	case 5:
		return p + "/"
	case 6:
		return p + "?q=1"
	}
	return p
}

// APITable returns a gateway of n routes shaped like a large API, in IR order: half exact paths, 30 %
// templates, 20 % prefixes (the benchmark's mix), no conditions, all distinct. With disjoint, exact paths
// live under /pages, apart from the templates: no literal segment is a sibling of a variable, a table
// Hono's RegExpRouter accepts (it refuses /v1/x/list beside /v1/x/:id).
func APITable(seed int64, n int, disjoint bool) *ir.Gateway {
	r := rand.New(rand.NewSource(seed))
	res := max(n/3, 2)
	seen := map[string]bool{}
	gw := &ir.Gateway{SchemaVersion: ir.SchemaVersion, Name: "api", Domains: append([]ir.Domain(nil), Domains...)}
	subs := []string{"items", "owner", "tags", "history", "members"}
	for i := 0; len(gw.Routes) < n; i++ {
		x := r.Float64()
		rs := fmt.Sprintf("res%d", r.Intn(res))
		ver := []string{"v1", "v2"}[r.Intn(2)]
		var m ir.Match
		switch {
		case x < 0.5:
			p := "/" + ver + "/" + rs
			switch r.Intn(3) {
			case 1:
				p += "/list"
			case 2:
				p += "/" + subs[r.Intn(len(subs))] + "/stats"
			}
			if disjoint {
				p = "/pages" + p
			}
			m = ir.Match{Kind: ir.PathExact, Path: p}
		case x < 0.8:
			s := []string{ver, rs, "{id}"}
			switch r.Intn(3) {
			case 1:
				s = append(s, subs[r.Intn(len(subs))])
			case 2:
				s = append(s, subs[r.Intn(len(subs))], "{item}")
			}
			m = ir.Match{Kind: ir.PathTemplate, Path: "/" + strings.Join(s, "/"), Segments: s}
		default:
			p := []string{"/static/" + rs, "/files/" + ver + "/" + rs, "/assets/" + rs + "/"}[r.Intn(3)]
			m = ir.Match{Kind: ir.PathPrefix, Path: p}
		}
		key := string(m.Kind) + " " + m.Path
		if seen[key] {
			continue
		}
		seen[key] = true
		name := fmt.Sprintf("route-%d", len(gw.Routes))
		gw.Routes = append(gw.Routes, ir.Route{Name: name, Index: len(gw.Routes), Match: m, Respond: &ir.Respond{Status: 200, Body: name}})
	}
	SortLikeIR(gw.Routes)
	gw.Errors = ir.EdgeErrors(gw.Name)
	return gw
}

// APIPaths returns n normalized paths for an APITable: paths of random routes (exact paths, filled
// templates, paths under prefixes), and a share misses of paths no route matches.
func APIPaths(seed int64, gw *ir.Gateway, n int, misses float64) []string {
	r := rand.New(rand.NewSource(seed))
	out := make([]string, 0, n)
	for len(out) < n {
		if r.Float64() < misses {
			out = append(out, fmt.Sprintf("/v%d/none%d/%d", 1+r.Intn(2), r.Intn(1000), r.Intn(100)))
			continue
		}
		m := gw.Routes[r.Intn(len(gw.Routes))].Match
		switch m.Kind {
		case ir.PathExact:
			out = append(out, m.Path)
		case ir.PathTemplate:
			s := make([]string, len(m.Segments))
			for i, v := range m.Segments {
				s[i] = v
				if ir.IsTemplateVar(v) {
					s[i] = fmt.Sprint(1000 + r.Intn(9000))
				}
			}
			out = append(out, "/"+strings.Join(s, "/"))
		case ir.PathPrefix:
			first := ""
			if strings.HasSuffix(m.Path, "/") {
				first = "/"
			}
			out = append(out, strings.TrimSuffix(m.Path, "/")+[]string{first, "/app.js", "/img/logo.png"}[r.Intn(3)])
		}
	}
	return out
}
