package ir

import "strings"

// Path semantics every target reproduces, stated once: prefix boundaries, template matching, the upstream
// path a rewrite produces and its inverse for Location headers. The reference gateway calls these; a renderer
// either calls them at render time or reproduces them, tested against them.

// TemplateVar returns the variable a template segment names ("{id}" → "id").
func TemplateVar(seg string) (string, bool) {
	if IsTemplateVar(seg) {
		return seg[1 : len(seg)-1], true
	}
	return "", false
}

// TemplateSegments returns a template route's segments, without the leading empty one ("/u/{id}" → u, {id}).
func (m Match) TemplateSegments() []string {
	segs := m.Segments
	if len(segs) == 0 {
		segs = strings.Split(m.Path, "/")
	}
	if len(segs) > 0 && segs[0] == "" {
		segs = segs[1:]
	}
	return segs
}

// MatchTemplate matches a normalized path's segments (split on "/", after the leading one) against a
// template: same count, literals equal, every variable non-empty. It returns the variables' values.
func (m Match) MatchTemplate(segs []string) (map[string]string, bool) {
	tmpl := m.TemplateSegments()
	if len(segs) != len(tmpl) {
		return nil, false
	}
	n := 0
	for i, s := range tmpl {
		if IsTemplateVar(s) {
			if segs[i] == "" {
				return nil, false
			}
			n++
		} else if segs[i] != s {
			return nil, false
		}
	}
	vars := make(map[string]string, n)
	for i, s := range tmpl {
		if v, ok := TemplateVar(s); ok {
			vars[v] = segs[i]
		}
	}
	return vars, true
}

// PrefixMatches respects segment boundaries: /v1 matches /v1 and /v1/..., never /v10; a prefix ending in
// "/" matches everything under it.
func PrefixMatches(prefix, path string) bool {
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || strings.HasSuffix(prefix, "/") || path[len(prefix)] == '/'
}

// JoinPrefix puts rest (empty or starting with "/", or the remainder after a prefix ending in "/") after
// prefix without doubling or dropping the separator.
func JoinPrefix(prefix, rest string) string {
	switch {
	case rest == "":
		return prefix
	case strings.HasSuffix(prefix, "/") && strings.HasPrefix(rest, "/"):
		return prefix + rest[1:]
	case !strings.HasSuffix(prefix, "/") && !strings.HasPrefix(rest, "/"):
		return prefix + "/" + rest
	}
	return prefix + rest
}

// UpstreamPath is the path sent upstream for a matched, normalized path: the route's rewrite with the
// template's variables filled in, the matched prefix replaced, or the path unchanged.
func (r *Route) UpstreamPath(path string, vars map[string]string) string {
	rw := r.Rewrite
	if rw == nil {
		return path
	}
	if rw.Path != "" {
		if len(vars) == 0 || !strings.Contains(rw.Path, "{") {
			return rw.Path
		}
		out := rw.Path
		for name, v := range vars {
			out = strings.ReplaceAll(out, "{"+name+"}", v)
		}
		return out
	}
	if rw.Prefix != "" && r.Match.Kind == PathPrefix {
		return JoinPrefix(rw.Prefix, strings.TrimPrefix(path, r.Match.Path))
	}
	return path
}

// PublicPath maps an upstream path in a Location header back to the public one: the inverse of the route's
// rewrite. requestPath is the client's normalized path and sentUpstream what UpstreamPath gave for it. ok is
// false when the path is not one the rewrite produced (the header is then left as the origin wrote it).
func (r *Route) PublicPath(upstream, requestPath, sentUpstream string) (string, bool) {
	rw := r.Rewrite
	if rw == nil {
		return "", false
	}
	if rw.Prefix != "" && r.Match.Kind == PathPrefix {
		if PrefixMatches(rw.Prefix, upstream) {
			return JoinPrefix(r.Match.Path, strings.TrimPrefix(upstream, rw.Prefix)), true
		}
		return "", false
	}
	if rw.Path != "" && upstream == sentUpstream {
		return requestPath, true
	}
	return "", false
}
