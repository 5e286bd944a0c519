package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
)

// Matcher decides whether a stub answers a request. Combine matchers with And.
type Matcher struct {
	desc  string
	match func(*Request) bool
	route *pattern // the first Route in the matcher, whose {name} segments become Request.Params
}

// Match reports whether m matches r.
func (m Matcher) Match(r *Request) bool { return m.match == nil || m.match(r) }

// String describes the matcher, as the failure messages show it.
func (m Matcher) String() string { return m.desc }

// And matches when m and every one of more match.
func (m Matcher) And(more ...Matcher) Matcher {
	all := append([]Matcher{m}, more...)
	descs := make([]string, len(all))
	route := m.route
	for i, x := range all {
		descs[i] = x.desc
		if route == nil {
			route = x.route
		}
	}
	return Matcher{
		desc: strings.Join(descs, " "),
		match: func(r *Request) bool {
			for _, x := range all {
				if !x.Match(r) {
					return false
				}
			}
			return true
		},
		route: route,
	}
}

func (m Matcher) params(r *Request) map[string]string {
	if m.route == nil {
		return nil
	}
	p, _ := m.route.match(r.EscapedPath)
	return p
}

// MatchFunc wraps a predicate; desc names it in failure messages.
func MatchFunc(desc string, f func(*Request) bool) Matcher { return Matcher{desc: desc, match: f} }

// Route matches the method (case-sensitive, as HTTP methods are; method is upper-cased) and the path. The pattern is compared segment by segment with the escaped
// path, each segment unescaped: a literal segment must be equal, {name} matches any one non-empty segment
// and records it in Request.Params, * matches any one segment, and a final ** matches the rest of the path
// (zero or more segments). A trailing slash is significant.
func Route(method, pat string) Matcher {
	p, err := parsePattern(pat)
	if err != nil {
		panic(err.Error())
	}
	method = strings.ToUpper(method)
	return Matcher{
		desc: method + " " + pat,
		match: func(r *Request) bool {
			if r.Method != method {
				return false
			}
			_, ok := p.match(r.EscapedPath)
			return ok
		},
		route: p,
	}
}

type pattern struct {
	segs []string
	rest bool // ends in **
}

func parsePattern(pat string) (*pattern, error) {
	if !strings.HasPrefix(pat, "/") {
		return nil, fmt.Errorf("apitest: Route %q: a path pattern starts with /", pat)
	}
	segs := strings.Split(pat[1:], "/")
	p := &pattern{}
	for i, s := range segs {
		switch {
		case s == "**" && i == len(segs)-1:
			p.rest = true
			continue
		case strings.Contains(s, "**"):
			return nil, fmt.Errorf("apitest: Route %q: ** is only allowed as the last segment", pat)
		case strings.HasPrefix(s, "{") != strings.HasSuffix(s, "}"), s == "{}":
			return nil, fmt.Errorf("apitest: Route %q: malformed parameter %q", pat, s)
		}
		p.segs = append(p.segs, s)
	}
	return p, nil
}

func (p *pattern) match(escaped string) (map[string]string, bool) {
	if !strings.HasPrefix(escaped, "/") {
		return nil, false
	}
	segs := strings.Split(escaped[1:], "/")
	if len(segs) < len(p.segs) || (!p.rest && len(segs) != len(p.segs)) {
		return nil, false
	}
	var params map[string]string
	for i, ps := range p.segs {
		s, err := url.PathUnescape(segs[i])
		if err != nil {
			return nil, false
		}
		switch {
		case ps == "*":
		case strings.HasPrefix(ps, "{"):
			if s == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[ps[1:len(ps)-1]] = s
		case ps != s:
			return nil, false
		}
	}
	return params, true
}

// Query matches when the query parameter key has value among its values.
func Query(key, value string) Matcher {
	return Matcher{
		desc: fmt.Sprintf("query %s=%s", key, value),
		match: func(r *Request) bool {
			for _, v := range r.Query[key] {
				if v == value {
					return true
				}
			}
			return false
		},
	}
}

// Header matches when the request carries the header, with any value.
func Header(name string) Matcher {
	return Matcher{
		desc:  "header " + name,
		match: func(r *Request) bool { return len(r.Header.Values(name)) > 0 },
	}
}

// HeaderValue matches when one of the header's values is value, such as If-Match: "etag-2".
func HeaderValue(name, value string) Matcher {
	return Matcher{
		desc: fmt.Sprintf("header %s: %s", name, value),
		match: func(r *Request) bool {
			for _, v := range r.Header.Values(name) {
				if v == value {
					return true
				}
			}
			return false
		},
	}
}

// JSONBody matches when the body decodes as JSON into a T and pred accepts it; desc names the predicate.
// A body that is not JSON, or not a T, does not match.
func JSONBody[T any](desc string, pred func(T) bool) Matcher {
	return Matcher{
		desc: "json body " + desc,
		match: func(r *Request) bool {
			var v T
			if err := json.Unmarshal(r.Body, &v); err != nil {
				return false
			}
			return pred(v)
		},
	}
}

// JSONField matches when the JSON body holds want at path, dot-separated object keys such as
// "metadata.main_module". want is compared as JSON: JSONField("ttl", 60) matches {"ttl": 60}.
func JSONField(path string, want any) Matcher {
	wantJSON, err := json.Marshal(want)
	if err != nil {
		panic(fmt.Sprintf("apitest: JSONField %s: %v", path, err))
	}
	var wantV any
	_ = json.Unmarshal(wantJSON, &wantV)
	return Matcher{
		desc: fmt.Sprintf("json %s=%s", path, wantJSON),
		match: func(r *Request) bool {
			d := json.NewDecoder(bytes.NewReader(r.Body))
			var v any
			if d.Decode(&v) != nil {
				return false
			}
			for _, k := range strings.Split(path, ".") {
				obj, ok := v.(map[string]any)
				if !ok {
					return false
				}
				if v, ok = obj[k]; !ok {
					return false
				}
			}
			return reflect.DeepEqual(v, wantV)
		},
	}
}
