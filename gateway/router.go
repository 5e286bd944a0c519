package gateway

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/edgegw/edgegw/manifest/ir"
)

// compiledRoute is an ir.Route with what matching needs precomputed.
type compiledRoute struct {
	ir    *ir.Route
	order int // position in IR order
	re    *regexp.Regexp
	auth  *authPolicy
	limit *slidingWindow
	pool  *pool
	// transform is the route's effective transform, as the IR states it (ir.Gateway.EffectiveTransform).
	transform ir.RouteTransform
}

// router finds the first route, in IR order, that matches a request. The indexes only narrow the candidates;
// candidates are then evaluated in IR order, so the answer is always the one a linear scan gives.
type router struct {
	routes    []*compiledRoute
	exact     map[string][]int
	prefix    map[string][]int
	templates map[int][]int // by segment count
	scanned   []int         // regex and fallback routes: always candidates
}

func newRouter(g *ir.Gateway, pools map[string]*pool, policies map[string]*authPolicy, limits map[string]*slidingWindow) (*router, error) {
	rt := &router{exact: map[string][]int{}, prefix: map[string][]int{}, templates: map[int][]int{}}
	for i := range g.Routes {
		r := &g.Routes[i]
		cr := &compiledRoute{ir: r, order: i, transform: g.EffectiveTransform(r)}
		switch {
		case r.Pool != "":
			cr.pool = pools[r.Pool]
			if cr.pool == nil {
				return nil, fmt.Errorf("gateway: route %q: unknown pool %q", r.Name, r.Pool)
			}
		case r.Respond == nil && r.Redirect == nil:
			return nil, fmt.Errorf("gateway: route %q has no pool, respond or redirect", r.Name)
		}
		if r.Auth != "" {
			cr.auth = policies[r.Auth]
			if cr.auth == nil {
				return nil, fmt.Errorf("gateway: route %q: unknown auth policy %q", r.Name, r.Auth)
			}
		}
		if r.RateLimit != "" {
			cr.limit = limits[r.RateLimit]
			if cr.limit == nil {
				return nil, fmt.Errorf("gateway: route %q: unknown rate limit %q", r.Name, r.RateLimit)
			}
		}
		switch r.Match.Kind {
		case ir.PathExact:
			rt.exact[r.Match.Path] = append(rt.exact[r.Match.Path], i)
		case ir.PathPrefix:
			rt.prefix[r.Match.Path] = append(rt.prefix[r.Match.Path], i)
		case ir.PathTemplate:
			n := len(r.Match.TemplateSegments())
			rt.templates[n] = append(rt.templates[n], i)
		case ir.PathRegex:
			// A regex route matches the whole normalized path (ir.Match): anchoring here means an
			// unanchored pattern cannot match a path that merely contains it.
			re, err := regexp.Compile(`^(?:` + r.Match.Path + `)$`)
			if err != nil {
				return nil, fmt.Errorf("gateway: route %q: regex: %w", r.Name, err)
			}
			cr.re = re
			rt.scanned = append(rt.scanned, i)
		case ir.PathFallback:
			rt.scanned = append(rt.scanned, i)
		default:
			return nil, fmt.Errorf("gateway: route %q: unknown match kind %q", r.Name, r.Match.Kind)
		}
		rt.routes = append(rt.routes, cr)
	}
	return rt, nil
}

// match returns the first route in IR order that matches, and for a template route its variables.
func (rt *router) match(host, method, path string, h http.Header) (*compiledRoute, map[string]string) {
	var buf [32]int
	cand := buf[:0]
	cand = append(cand, rt.exact[path]...)
	if len(rt.prefix) > 0 {
		cand = append(cand, rt.prefix[path]...)
		for i := 0; i < len(path); i++ {
			if path[i] != '/' {
				continue
			}
			if i > 0 {
				cand = append(cand, rt.prefix[path[:i]]...)
			}
			if i+1 < len(path) {
				cand = append(cand, rt.prefix[path[:i+1]]...)
			}
		}
	}
	var segs []string
	if len(rt.templates) > 0 {
		segs = strings.Split(path[1:], "/")
		cand = append(cand, rt.templates[len(segs)]...)
	}
	cand = append(cand, rt.scanned...)
	slices.Sort(cand)
	for k, i := range cand {
		if k > 0 && cand[k-1] == i {
			continue
		}
		r := rt.routes[i]
		if ok, vars := r.matches(host, method, path, segs, h); ok {
			return r, vars
		}
	}
	return nil, nil
}

func (r *compiledRoute) matches(host, method, path string, segs []string, h http.Header) (bool, map[string]string) {
	m := &r.ir.Match
	var vars map[string]string
	switch m.Kind {
	case ir.PathExact:
		if path != m.Path {
			return false, nil
		}
	case ir.PathPrefix:
		if !ir.PrefixMatches(m.Path, path) {
			return false, nil
		}
	case ir.PathTemplate:
		var ok bool
		if vars, ok = m.MatchTemplate(segs); !ok {
			return false, nil
		}
	case ir.PathRegex:
		if !r.re.MatchString(path) {
			return false, nil
		}
	}
	if len(m.Methods) > 0 && !slices.Contains(m.Methods, method) {
		return false, nil
	}
	if len(m.Hosts) > 0 && !slices.ContainsFunc(m.Hosts, func(p string) bool { _, ok := wildcardLabel(p, host); return ok }) {
		return false, nil
	}
	for _, hm := range m.Headers {
		if !slices.Contains(h.Values(hm.Name), hm.Value) {
			return false, nil
		}
	}
	return true, vars
}
