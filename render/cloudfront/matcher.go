package cloudfront

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/edgegw/edgegw/manifest/ir"
)

// matcherSource is the route matcher, generated from the routes in IR order: one test per route, in that
// order, so the first route whose path and conditions hold wins, as the reference's scan decides. It
// defines
//
//	function matchRoute(host, method, path, headers)
//
// returning the route's index in ROUTES, or -1, for a normalized path (it starts with "/"). Exact routes
// without conditions are one property lookup; the code is what the table needs and no more (the generic
// interpreter and its index would cost more bytes than most tables). Every other name it declares starts
// with "R_".
//
// With kvs (levelKVS) the exact and prefix routes are in the KeyValueStore and routes are the others: the
// function is async and returns the route's entry, or null, looking the store up first (kvsroutes.js;
// maxLen is the longest stem).
func matcherSource(routes []routeT, kvs bool, maxLen int) (string, error) {
	var b strings.Builder
	b.WriteString("//! The route matcher, generated from the routes in IR order.\n")
	for k, r := range routes {
		if r.Kind == string(ir.PathRegex) {
			if _, err := regexp.Compile(`^(?:` + r.Path + `)$`); err != nil {
				return "", fmt.Errorf("render/cloudfront: route %q: regex: %w", r.Name, err)
			}
			fmt.Fprintf(&b, "var R_RE_%d = new RegExp(%s);\n", k, jsString("^(?:"+r.Path+")$"))
		}
	}
	// A run of exact routes without conditions, one after the other in IR order, is one lookup: no route
	// between two of them can match their paths (each is exact), so the lookup's answer is the scan's.
	type step struct {
		lookup map[string]int
		keys   []string
		test   string
		k      int
	}
	var steps []step
	var usesSegs bool
	for k, r := range routes {
		cond := conditions(r)
		if r.Kind == string(ir.PathExact) && cond == "" {
			if n := len(steps); n > 0 && steps[n-1].lookup != nil {
				if _, dup := steps[n-1].lookup[r.Path]; !dup {
					steps[n-1].lookup[r.Path] = k
					steps[n-1].keys = append(steps[n-1].keys, r.Path)
				}
				continue
			}
			steps = append(steps, step{lookup: map[string]int{r.Path: k}, keys: []string{r.Path}})
			continue
		}
		var test string
		switch r.Kind {
		case string(ir.PathExact):
			test = "path === " + jsString(r.Path)
		case string(ir.PathPrefix):
			test = "G.prefixMatches(" + jsString(r.Path) + ", path)"
		case string(ir.PathTemplate):
			usesSegs = true
			parts := []string{fmt.Sprintf("n === %d", len(r.Segments))}
			for i, s := range r.Segments {
				if ir.IsTemplateVar(s) {
					parts = append(parts, fmt.Sprintf("s[%d] !== \"\"", i+1))
				} else {
					parts = append(parts, fmt.Sprintf("s[%d] === %s", i+1, jsString(s)))
				}
			}
			test = strings.Join(parts, " && ")
		case string(ir.PathRegex):
			test = fmt.Sprintf("R_RE_%d.test(path)", k)
		case string(ir.PathFallback):
		default:
			return "", fmt.Errorf("render/cloudfront: route %q: unknown match kind %q", r.Name, r.Kind)
		}
		if test != "" && cond != "" {
			test += " && " + cond
		} else if test == "" {
			test = cond
		}
		steps = append(steps, step{test: test, k: k})
	}
	for i, st := range steps {
		if st.lookup != nil && len(st.keys) == 1 {
			// One exact path: a comparison is shorter than a lookup.
			steps[i] = step{test: "path === " + jsString(st.keys[0]), k: st.lookup[st.keys[0]]}
			continue
		}
		if st.lookup == nil {
			continue
		}
		var pairs []string
		for _, p := range st.keys {
			pairs = append(pairs, fmt.Sprintf("%s: %d", jsString(p), st.lookup[p]))
		}
		fmt.Fprintf(&b, "var R_EXACT_%d = { %s };\n", i, strings.Join(pairs, ", "))
	}
	ret := func(k int) string { return fmt.Sprint(k) }
	if kvs {
		ret = func(k int) string { return fmt.Sprintf("ROUTES[%d]", k) }
		b.WriteString("async function matchRoute(host, method, path, headers) {\n")
		fmt.Fprintf(&b, "  var r = await lookup(ROUTE_KVS, %d, R_TRANSFORMS, host, method, path, headers);\n  if (r) return r;\n", maxLen)
	} else {
		b.WriteString("function matchRoute(host, method, path, headers) {\n")
	}
	if usesSegs {
		b.WriteString("  var s = path.split(\"/\"), n = s.length - 1;\n")
	}
	for i, st := range steps {
		if st.lookup != nil {
			// A normalized path starts with "/", as no name an object inherits does: "in" finds only the
			// table's own keys.
			fmt.Fprintf(&b, "  if (path in R_EXACT_%d) return R_EXACT_%d[path];\n", i, i)
			continue
		}
		fmt.Fprintf(&b, "  //! route %s\n", jsString(routes[st.k].Name))
		if st.test == "" {
			fmt.Fprintf(&b, "  return %s;\n}\n", ret(st.k))
			return b.String(), nil
		}
		fmt.Fprintf(&b, "  if (%s) return %s;\n", st.test, ret(st.k))
	}
	if kvs {
		b.WriteString("  return null;\n}\n")
	} else {
		b.WriteString("  return -1;\n}\n")
	}
	return b.String(), nil
}

// conditions is the JavaScript test of a route's methods, hosts and headers ("" when it has none).
func conditions(r routeT) string {
	var parts []string
	if len(r.Methods) > 0 {
		var ms []string
		for _, m := range r.Methods {
			ms = append(ms, "method === "+jsString(m))
		}
		parts = append(parts, "("+strings.Join(ms, " || ")+")")
	}
	if len(r.Hosts) > 0 {
		var hs []string
		for _, h := range r.Hosts {
			if strings.HasPrefix(h, "*.") {
				hs = append(hs, "G.wildcardLabel("+jsString(h)+", host) !== null")
			} else {
				// What wildcardLabel decides for a plain host: host is lower case already (hostOf).
				hs = append(hs, "host === "+jsString(strings.ToLower(h)))
			}
		}
		parts = append(parts, "("+strings.Join(hs, " || ")+")")
	}
	for _, h := range r.Headers {
		parts = append(parts, "headers.get("+jsString(h[0])+") === "+jsString(h[1]))
	}
	return strings.Join(parts, " && ")
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// hostSource is the host matcher, generated from the domains as the runtime's matchHost decides over them:
//
//	function matchHost(host)
//
// returns {tenantHeader, tenant} for a host the gateway answers (host as hostOf returns it), or null: the
// exact hosts first, then the wildcard ones in manifest order, a "*." one giving the first label as the
// tenant. No domains answers every host.
func hostSource(domains []domainT) string {
	var b strings.Builder
	b.WriteString("//! The host matcher, generated from the domains.\nfunction matchHost(host) {\n")
	answer := func(d domainT, tenant string) string {
		return fmt.Sprintf("{ tenantHeader: %s, tenant: %s }", jsString(d.TenantHeader), tenant)
	}
	if len(domains) == 0 {
		b.WriteString("  return { tenantHeader: \"\", tenant: \"\" };\n}\n")
		return b.String()
	}
	// The exact hosts, those with the same answer in one test.
	var exact []domainT
	for _, d := range domains {
		if !d.Wildcard {
			exact = append(exact, d)
		}
	}
	for i := 0; i < len(exact); {
		j := i
		var tests []string
		for ; j < len(exact) && exact[j].TenantHeader == exact[i].TenantHeader; j++ {
			tests = append(tests, "host === "+jsString(exact[j].Host))
		}
		fmt.Fprintf(&b, "  if (%s) return %s;\n", strings.Join(tests, " || "), answer(exact[i], `""`))
		i = j
	}
	dot := false
	for _, d := range domains {
		switch {
		case !d.Wildcard:
		case strings.HasPrefix(d.Host, "*."):
			if !dot {
				b.WriteString("  var dot = host.indexOf(\".\");\n")
				dot = true
			}
			fmt.Fprintf(&b, "  if (dot > 0 && host.slice(dot + 1) === %s) return %s;\n", jsString(d.Host[2:]), answer(d, "host.slice(0, dot)"))
		default:
			fmt.Fprintf(&b, "  if (host === %s) return %s;\n", jsString(d.Host), answer(d, `""`))
		}
	}
	b.WriteString("  return null;\n}\n")
	return b.String()
}
