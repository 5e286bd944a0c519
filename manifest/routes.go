package manifest

import (
	"fmt"
	"net/textproto"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/manifest/regexsafe"
)

func (c *compiler) compileRoutes() {
	m := c.m
	if !c.checkCount("routes", len(m.Routes), 1, MaxRoutes, "add at least one route, e.g. - {name: default, match: {fallback: true}, pool: api}",
		limitFixes["routes"]) {
		return
	}
	c.routeByName = map[string]*ir.Route{}
	names := map[string]string{}
	routes := make([]ir.Route, 0, len(m.Routes))
	for i, r := range m.Routes {
		p := fmt.Sprintf("routes[%d]", i)
		if r == nil {
			c.errorAt(p, CodeRequired, "", "empty route entry")
			continue
		}
		if r.Name == "" {
			c.unnamedRoute = true
			c.requiredAt(p, []string{"name"}, "give the route a name: name: my-route", "route has no name")
		} else {
			c.checkName(p+".name", r.Name, "route")
			if prev, dup := names[r.Name]; dup {
				c.errorAt(p+".name", CodeDuplicateName, "route names are unique; the other one is at "+c.src.At(prev).Pos().String(), "duplicate route name %q", r.Name)
			}
			names[r.Name] = p + ".name"
			c.declaredRoutes[r.Name] = true
		}
		route, ok := c.compileRoute(p, i, r)
		if ok {
			routes = append(routes, route)
		}
	}
	SortRoutes(routes)
	c.g.Routes = routes
	for i := range c.g.Routes {
		c.routeByName[c.g.Routes[i].Name] = &c.g.Routes[i]
	}
	c.checkShadowed()
}

// SortRoutes puts routes in the one precedence order every target evaluates: exact, prefix (longer first),
// template (more literal segments first), regex (manifest order), fallback; inside a class a route with
// more conditions first; remaining ties in manifest order.
func SortRoutes(rs []ir.Route) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := &rs[i], &rs[j]
		if ra, rb := a.Match.Kind.Rank(), b.Match.Kind.Rank(); ra != rb {
			return ra < rb
		}
		if sa, sb := specificity(a), specificity(b); sa != sb {
			return sa > sb
		}
		if ca, cb := a.Match.Conditions(), b.Match.Conditions(); ca != cb {
			return ca > cb
		}
		return a.Index < b.Index
	})
}

func specificity(r *ir.Route) int {
	switch r.Match.Kind {
	case ir.PathPrefix:
		return len(r.Match.Path)
	case ir.PathTemplate:
		n := 0
		for _, s := range r.Match.Segments {
			if !ir.IsTemplateVar(s) {
				n++
			}
		}
		return n
	}
	return 0
}

var varNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (c *compiler) compileRoute(p string, idx int, r *Route) (ir.Route, bool) {
	// What the route names is used, whether or not the route compiles: a route with its own error does not
	// also make its pool or policies look unused.
	for used, name := range map[*map[string]bool]string{&c.usedPools: r.Pool, &c.usedAuth: r.Auth, &c.usedLimits: r.RateLimit} {
		if name != "" {
			(*used)[name] = true
		}
	}
	out := ir.Route{Name: r.Name, Index: idx, Pos: c.pos(p)}
	ok := true
	if r.Match == nil {
		c.requiredAt(p, []string{"match"}, "add match: {path: {prefix: /api}} or match: {fallback: true}", "route %q has no match", r.Name)
		return out, false
	}
	mp := p + ".match"
	mt := r.Match
	var vars []string
	set := 0
	if mt.Path != nil {
		pm := mt.Path
		pp := mp + ".path"
		for _, f := range []string{pm.Exact, pm.Prefix, pm.Template, pm.Regex} {
			if f != "" {
				set++
			}
		}
		switch {
		case set != 1:
			c.errorAt(pp, CodeRouteAction, "a path match has exactly one of exact, prefix, template, regex", "route %q: path match must have exactly one kind, has %d", r.Name, set)
			ok = false
		case pm.Exact != "":
			out.Match.Kind, out.Match.Path = ir.PathExact, pm.Exact
			ok = c.normalizedOrError(pp+".exact", pm.Exact, "exact path") && ok
		case pm.Prefix != "":
			out.Match.Kind, out.Match.Path = ir.PathPrefix, pm.Prefix
			if pm.Prefix != "/" && strings.HasSuffix(pm.Prefix, "/") {
				c.errorAt(pp+".prefix", CodePathForm, "prefixes match whole segments: "+strings.TrimSuffix(pm.Prefix, "/")+" matches "+strings.TrimSuffix(pm.Prefix, "/")+" and everything below it", "prefix %q ends with /", pm.Prefix)
				ok = false
			} else {
				ok = c.normalizedOrError(pp+".prefix", pm.Prefix, "prefix") && ok
			}
		case pm.Template != "":
			out.Match.Kind, out.Match.Path = ir.PathTemplate, pm.Template
			segs, vs, tok := c.parseTemplate(pp+".template", pm.Template)
			out.Match.Segments, vars = segs, vs
			ok = tok && ok
		case pm.Regex != "":
			out.Match.Kind, out.Match.Path = ir.PathRegex, pm.Regex
			if prob := regexsafe.Check(pm.Regex); prob != nil {
				rg := c.src.At(pp + ".regex")
				if rg.Start.Line > 0 && prob.Offset > 0 {
					// Point into the pattern: one column for the opening quote when it was quoted.
					rg.Start.Col += prob.Offset + 1
					rg.End = Point{}
				}
				c.diags = append(c.diags, Diagnostic{Severity: SeverityError, Code: CodeRegex, Range: rg,
					Summary: fmt.Sprintf("route %q: regex %s", r.Name, prob.Summary), Detail: prob.Fix})
				ok = false
			}
		}
		if mt.Fallback {
			c.errorAt(mp+".fallback", CodeRouteAction, "a fallback matches every path; remove path, or remove fallback", "route %q has both path and fallback", r.Name)
			ok = false
		}
	} else if mt.Fallback {
		out.Match.Kind = ir.PathFallback
	} else {
		c.requiredAt(mp, []string{"path", "fallback"}, "add path: {prefix: /api} (or exact, template, regex), or fallback: true", "route %q matches no path", r.Name)
		ok = false
	}
	for i, h := range mt.Hosts {
		hp := fmt.Sprintf("%s.hosts[%d]", mp, i)
		lh := strings.ToLower(h)
		if !c.servesHost(lh) {
			c.refError(hp, "domain host", h, c.hostNames())
			ok = false
		}
		out.Match.Hosts = append(out.Match.Hosts, lh)
	}
	sort.Strings(out.Match.Hosts)
	for _, h := range sortedKeys(mt.Headers) {
		hp := mp + ".headers." + h
		if !validHeaderName(h) {
			c.errorAtKey(hp, CodeInvalidValue, "", "%q is not a header name", h)
			ok = false
			continue
		}
		c.checkHeaderValue(hp, mt.Headers[h])
		out.Match.Headers = append(out.Match.Headers, ir.HeaderMatch{Name: textproto.CanonicalMIMEHeaderKey(h), Value: mt.Headers[h]})
	}
	sort.Slice(out.Match.Headers, func(i, j int) bool { return out.Match.Headers[i].Name < out.Match.Headers[j].Name })
	out.Match.Methods = c.checkMethods(mp+".methods", mt.Methods)
	if out.Match.Conditions() > MaxConditions {
		c.errorAt(mp, CodeLimit, "", "route %q has %d conditions; the limit is %d", r.Name, out.Match.Conditions(), MaxConditions)
	}

	// Exactly one action.
	actions := 0
	if r.Pool != "" {
		actions++
		if _, exists := c.m.Pools[r.Pool]; !exists {
			c.refError(p+".pool", "pool", r.Pool, sortedKeys(c.m.Pools))
			ok = false
		}
		c.usedPools[r.Pool] = true
		out.Pool = r.Pool
	}
	if r.Respond != nil {
		actions++
		rs := r.Respond
		if rs.Status < 100 || rs.Status > 599 {
			c.errorAt(p+".respond.status", CodeInvalidValue, "", "status %d is not an HTTP status", rs.Status)
		}
		if len(rs.Body) > MaxBodyBytes {
			c.errorAt(p+".respond.body", CodeLimit, "serve large bodies from an origin", "body is %d bytes; the limit is %d", len(rs.Body), MaxBodyBytes)
		}
		ht := c.headerTransform(p+".respond", nil, rs.Headers)
		out.Respond = &ir.Respond{Status: rs.Status, Body: rs.Body, Headers: ht.SetHeaders}
	}
	if r.Redirect != nil {
		actions++
		rd := r.Redirect
		st := rd.Status
		if st == 0 {
			st = 302
		}
		switch st {
		case 301, 302, 303, 307, 308:
		default:
			c.errorAt(p+".redirect.status", CodeInvalidValue, "use 301, 302, 303, 307 or 308", "%d is not a redirect status", st)
		}
		if u, err := url.Parse(rd.To); rd.To == "" || err != nil || (!u.IsAbs() && !strings.HasPrefix(rd.To, "/")) {
			c.errorAt(p+".redirect.to", CodeInvalidValue, "write an absolute URL or a path starting with /", "redirect target %q is not a URL", rd.To)
		}
		out.Redirect = &ir.Redirect{Status: st, Location: rd.To, KeepQuery: rd.KeepQuery}
	}
	for _, ref := range []struct{ key, what string }{{"pool", "pool"}, {"auth", "auth policy"}, {"rate_limit", "rate limit"}} {
		if c.src.Failed(p + "." + ref.key) {
			c.unresolved[ref.what] = true // its own error is reported; what it meant is unknown
		}
	}
	if actions != 1 && !(actions == 0 && (c.src.Failed(p+".pool") || c.src.Failed(p+".respond") || c.src.Failed(p+".redirect"))) {
		c.errorAt(p, CodeRouteAction, "a route does one thing: pool: NAME (proxy), respond: {status: 200} or redirect: {to: URL}", "route %q must have exactly one of pool, respond, redirect (has %d)", r.Name, actions)
		ok = false
	}
	if r.Auth != "" {
		if _, exists := c.m.Auth[r.Auth]; !exists {
			c.refError(p+".auth", "auth policy", r.Auth, sortedKeys(c.m.Auth))
			ok = false
		}
		c.usedAuth[r.Auth] = true
		out.Auth = r.Auth
	}
	if r.RateLimit != "" {
		rl, exists := c.m.RateLimits[r.RateLimit]
		if !exists {
			c.refError(p+".rate_limit", "rate limit", r.RateLimit, sortedKeys(c.m.RateLimits))
			ok = false
		} else if rl != nil && rl.Key == "jwt.sub" && r.Auth == "" {
			c.errorAt(p+".rate_limit", CodeInvalidValue, "a limit keyed on jwt.sub needs a verified token: add auth to the route, or key the limit on ip", "route %q: rate limit %q is keyed on jwt.sub but the route has no auth", r.Name, r.RateLimit)
			ok = false
		}
		c.usedLimits[r.RateLimit] = true
		out.RateLimit = r.RateLimit
	}
	if rw := r.Rewrite; rw != nil {
		rp := p + ".rewrite"
		if r.Pool == "" {
			c.errorAt(rp, CodeRewrite, "a rewrite changes the upstream path; only proxied routes (pool:) have one", "route %q: rewrite without pool", r.Name)
		}
		switch {
		case (rw.Prefix == "") == (rw.Path == ""):
			c.errorAt(rp, CodeRewrite, "write prefix: /internal/v2 (prefix routes) or path: /new/{id}", "rewrite needs exactly one of prefix, path")
		case rw.Prefix != "":
			if out.Match.Kind != ir.PathPrefix {
				c.errorAt(rp+".prefix", CodeRewrite, "rewrite.prefix replaces the matched prefix; for other routes use rewrite.path", "route %q: rewrite.prefix needs a prefix match, the route matches by %s", r.Name, kindOr(out.Match.Kind))
			} else if rw.Prefix != "/" && strings.HasSuffix(rw.Prefix, "/") {
				c.errorAt(rp+".prefix", CodeRewrite, "write "+strings.TrimSuffix(rw.Prefix, "/"), "rewrite prefix %q ends with /", rw.Prefix)
			} else {
				c.normalizedOrError(rp+".prefix", rw.Prefix, "rewrite prefix")
			}
		case rw.Path != "":
			if out.Match.Kind == ir.PathTemplate {
				segs, used, ok2 := c.parseTemplate(rp+".path", rw.Path)
				_ = segs
				if ok2 {
					for _, v := range used {
						if !contains(vars, v) {
							c.errorAt(rp+".path", CodeRewrite, "variables of the route's template: {"+strings.Join(vars, "}, {")+"}", "rewrite uses {%s}, which the template does not define", v)
						}
					}
				}
			} else {
				c.normalizedOrError(rp+".path", rw.Path, "rewrite path")
			}
		}
		out.Rewrite = &ir.Rewrite{Prefix: rw.Prefix, Path: rw.Path}
	}
	if r.Transform != nil {
		t := c.compileTransform(p+".transform", r.Transform)
		out.Transform = &t
	}
	return out, ok
}

func kindOr(k ir.PathKind) string {
	if k == "" {
		return "path"
	}
	return string(k)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseTemplate splits "/v1/users/{id}" into segments; a variable is a whole segment.
func (c *compiler) parseTemplate(path, t string) (segs, vars []string, ok bool) {
	if !strings.HasPrefix(t, "/") {
		c.errorAt(path, CodeTemplate, "a template is a path such as /v1/users/{id}", "template %q does not start with /", t)
		return nil, nil, false
	}
	if len(t) > MaxPathBytes {
		c.errorAt(path, CodeLimit, "", "template is %d bytes; the limit is %d", len(t), MaxPathBytes)
		return nil, nil, false
	}
	parts := strings.Split(t[1:], "/")
	var literal strings.Builder
	ok = true
	for i, s := range parts {
		switch {
		case ir.IsTemplateVar(s):
			name := s[1 : len(s)-1]
			if !varNameRE.MatchString(name) {
				c.errorAt(path, CodeTemplate, "a variable is {name} with letters, digits and _", "template %q: %q is not a variable", t, s)
				ok = false
			}
			if contains(vars, name) {
				c.errorAt(path, CodeTemplate, "give each variable its own name", "template %q uses {%s} twice", t, name)
				ok = false
			}
			vars = append(vars, name)
			literal.WriteString("/x")
		case strings.ContainsAny(s, "{}"):
			c.errorAt(path, CodeTemplate, "a variable takes a whole segment: /files/{name}, not /files/{name}.pdf (use a regex route for that)", "template %q: segment %q mixes text and a variable", t, s)
			ok = false
		case s == "" && i != len(parts)-1:
			c.errorAt(path, CodeTemplate, "", "template %q has an empty segment", t)
			ok = false
		default:
			literal.WriteString("/" + s)
		}
		segs = append(segs, s)
	}
	if ok && len(parts) > 0 && !(len(parts) == 1 && parts[0] == "") {
		// The literal parts must already be in normalized form, like any match path.
		if !c.normalizedOrError(path, literal.String(), "template") {
			ok = false
		}
	}
	return segs, vars, ok
}

// checkShadowed reports routes that no request can reach because an earlier route in the final order
// matches everything they match.
func (c *compiler) checkShadowed() {
	rs := c.g.Routes
	exact := map[string][]int{}
	prefix := map[string][]int{}
	var templates, regexes, fallbacks []int
	for j := range rs {
		b := &rs[j]
		var candidates []int
		switch b.Match.Kind {
		case ir.PathExact:
			candidates = exact[b.Match.Path]
			exact[b.Match.Path] = append(exact[b.Match.Path], j)
		case ir.PathPrefix:
			candidates = prefix[b.Match.Path]
			prefix[b.Match.Path] = append(prefix[b.Match.Path], j)
		case ir.PathTemplate:
			candidates = append(candidates, ancestorsIn(prefix, templateLiteralPrefix(b.Match.Segments))...)
			candidates = append(candidates, templates...)
			templates = append(templates, j)
		case ir.PathRegex:
			candidates = append(candidates, prefix["/"]...)
			candidates = append(candidates, regexes...)
			regexes = append(regexes, j)
		case ir.PathFallback:
			candidates = append(candidates, prefix["/"]...)
			candidates = append(candidates, fallbacks...)
			fallbacks = append(fallbacks, j)
		}
		for _, i := range candidates {
			a := &rs[i]
			if pathCovers(a, b) && condsCover(a.Match, b.Match) {
				c.diags = append(c.diags, Diagnostic{Severity: SeverityError, Code: CodeShadowed,
					Range:   c.src.KeyAt(fmt.Sprintf("routes[%d]", b.Index)),
					Summary: fmt.Sprintf("route %q can never match: route %q (%s) comes first and matches every request it would", b.Name, a.Name, a.Pos),
					Detail:  "give " + b.Name + " a condition " + a.Name + " lacks (a header, method or host), or remove one of them; precedence is exact, prefix (longer first), template, regex, fallback"})
				break
			}
		}
	}
}

// templateLiteralPrefix is the path of a template's leading literal segments: /v1/users for /v1/users/{id}.
func templateLiteralPrefix(segs []string) string {
	var b strings.Builder
	for _, s := range segs {
		if ir.IsTemplateVar(s) {
			break
		}
		b.WriteString("/" + s)
	}
	return b.String()
}

// ancestorsIn returns the prefix routes whose prefix is a segment-ancestor of p (or p itself).
func ancestorsIn(prefix map[string][]int, p string) []int {
	var out []int
	out = append(out, prefix["/"]...)
	for q := p; q != "" && q != "/"; {
		out = append(out, prefix[q]...)
		i := strings.LastIndexByte(q, '/')
		if i <= 0 {
			break
		}
		q = q[:i]
	}
	return out
}

// pathCovers reports whether every path route b matches is also matched by earlier route a, for the pairs
// checkShadowed proposes.
func pathCovers(a, b *ir.Route) bool {
	switch a.Match.Kind {
	case ir.PathExact:
		return b.Match.Kind == ir.PathExact && a.Match.Path == b.Match.Path
	case ir.PathPrefix:
		switch b.Match.Kind {
		case ir.PathPrefix:
			return a.Match.Path == b.Match.Path
		case ir.PathTemplate:
			lp := templateLiteralPrefix(b.Match.Segments)
			return a.Match.Path == "/" || lp == a.Match.Path || strings.HasPrefix(lp, a.Match.Path+"/")
		default:
			return a.Match.Path == "/"
		}
	case ir.PathTemplate:
		if b.Match.Kind != ir.PathTemplate || len(a.Match.Segments) != len(b.Match.Segments) {
			return false
		}
		for i, s := range a.Match.Segments {
			t := b.Match.Segments[i]
			if ir.IsTemplateVar(s) {
				if t == "" { // a variable needs a non-empty segment
					return false
				}
				continue
			}
			if s != t {
				return false
			}
		}
		return true
	case ir.PathRegex:
		return b.Match.Kind == ir.PathRegex && a.Match.Path == b.Match.Path
	case ir.PathFallback:
		return b.Match.Kind == ir.PathFallback
	}
	return false
}

// condsCover reports whether a's conditions hold for every request that b's conditions admit.
func condsCover(a, b ir.Match) bool {
	if len(a.Hosts) > 0 {
		if len(b.Hosts) == 0 {
			return false
		}
		for _, h := range b.Hosts {
			if !hostCovered(a.Hosts, h) {
				return false
			}
		}
	}
	for _, ah := range a.Headers {
		found := false
		for _, bh := range b.Headers {
			if ah == bh {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	if len(a.Methods) > 0 {
		if len(b.Methods) == 0 {
			return false
		}
		for _, m := range b.Methods {
			if !contains(a.Methods, m) {
				return false
			}
		}
	}
	return true
}

func hostCovered(hosts []string, h string) bool {
	for _, x := range hosts {
		if x == h {
			return true
		}
		if strings.HasPrefix(x, "*.") && !strings.HasPrefix(h, "*.") {
			suffix := x[1:]
			if strings.HasSuffix(h, suffix) && !strings.Contains(strings.TrimSuffix(h, suffix), ".") {
				return true
			}
		}
	}
	return false
}
