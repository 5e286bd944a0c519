package cloudfront

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/manifest/ir"
)

// The tables the functions read, computed from the IR. Everything the runtime needs that the IR states only
// implicitly is decided here, once, in Go: the effective transform of every route, the hosts whose Location
// headers are mapped back, the preflight answers, the edge errors a function can answer with.

type tables struct {
	Name         string          `json:"name,omitempty"` // test builds only (the decision header)
	Domains      []domainT       `json:"-"`              // in the generated host matcher (hostSource)
	HSTS         string          `json:"hsts"`
	CORS         *corsT          `json:"cors"`
	Transform    routeTransformT `json:"-"` // written as a reference to the routes' shared transforms (tableSource)
	StripHeaders []string        `json:"stripHeaders"`
	// The edge errors, read by the viewer-request function only.
	Errors       errorsT            `json:"errors,omitempty"`       // only the codes a function answers with
	Messages     map[int]string     `json:"messages,omitempty"`     // the usual bodies' message by status
	ErrorHeaders [][]int            `json:"errorHeaders,omitempty"` // header sets, as indexes into ErrorPairs
	ErrorPairs   [][2]string        `json:"errorPairs,omitempty"`   // every header of an edge error, once
	Origins      map[string]originT `json:"-"`                      // the distribution's origins: the function names them by id
	Pools        names[poolT]       `json:"pools"`
	Policies     names[policyT]     `json:"policies,omitempty"` // viewer-request only
}

// function kinds, for the parts of the tables each function reads (the code size is tight).
const (
	forRequest = iota
	forResponse
)

// view returns the tables as one function reads them: the viewer-request function never reads the CORS
// headers an origin's answer loses or the hosts whose Location is mapped back; the viewer-response
// function never reads the edge errors, the auth policies, the strip list or a pool's origins.
func (t *tables) view(fn int) *tables {
	c := *t
	c.Pools = names[poolT]{}
	for k, p := range t.Pools {
		if fn == forRequest {
			p.OriginHosts = nil
		} else {
			p.Origins, p.Failover = nil, nil
		}
		c.Pools[k] = p
	}
	if fn == forRequest {
		if t.CORS != nil {
			cc := *t.CORS
			cc.Owned = nil
			c.CORS = &cc
		}
		return &c
	}
	if t.CORS != nil {
		cc := *t.CORS
		cc.PreflightAllowed, cc.PreflightRefused = nil, nil
		c.CORS = &cc
	}
	c.Errors, c.Messages, c.ErrorHeaders, c.ErrorPairs, c.Policies, c.StripHeaders = nil, nil, nil, nil, nil, nil
	return &c
}

type domainT struct {
	Host         string `json:"host"`
	Wildcard     bool   `json:"wildcard"`
	TenantHeader string `json:"tenantHeader"`
}

type corsT struct {
	AllowOrigins     []string    `json:"allowOrigins"`
	AllowCredentials bool        `json:"allowCredentials"`
	SimpleHeaders    [][2]string `json:"simpleHeaders"`
	PreflightAllowed [][2]string `json:"preflightAllowed,omitempty"` // viewer-request only
	PreflightRefused [][2]string `json:"preflightRefused,omitempty"` // viewer-request only
	Owned            []string    `json:"owned,omitempty"`            // viewer-response only: removed from an origin's answer (ir.CORSOwnedHeaders)
}

type headerTransformT struct {
	Remove []string    `json:"remove"`
	Set    [][2]string `json:"set"`
}

type routeTransformT struct {
	Request             headerTransformT `json:"request"`
	Response            headerTransformT `json:"response"`
	RequestID           string           `json:"requestId,omitempty"`
	KeepClientRequestID bool             `json:"keepClientRequestId,omitempty"`
}

// edgeErrorT is one edge error: the number headers*1000+status when its body is the reference's usual
// JSON ({"status":S,"code":C,"message":M} and a newline, M by status in tables.Messages, which the glue
// writes back), else [headers*1000+status, body]; headers is an index into tables.ErrorHeaders, since most
// errors share theirs and the code size is tight.
type edgeErrorT any

// errorsT is the edge error table, by code. The HS256 verifier's codes are written as its own constants
// (computed keys), so each is spelt once in the function.
type errorsT map[string]edgeErrorT

func (e errorsT) MarshalJSON() ([]byte, error) {
	m := map[string]edgeErrorT{}
	for c, v := range e {
		if strings.HasPrefix(c, "JWT_") {
			c = computedKey + jwtConst(c)
		}
		m[c] = v
	}
	return json.Marshal(m)
}

// jwtConst is the generated head's name for the verifier's constant of a JWT_* code.
func jwtConst(code string) string { return "R_" + code }

func edgeErrorEntry(code string, status, headers int, body string) (edgeErrorT, string) {
	msg := http.StatusText(status)
	std, _ := json.Marshal(struct {
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}{status, code, msg})
	// The prelude concatenates the parts, so the short form needs parts JSON writes as they are.
	if string(std)+"\n" == body && fmt.Sprintf(`{"status":%d,"code":"%s","message":"%s"}`+"\n", status, code, msg) == body {
		return headers*1000 + status, msg
	}
	return []any{headers*1000 + status, body}, ""
}

// functionError reports whether the viewer-request function can answer with an edge error code. The
// distribution answers the upstream ones (custom error responses), and rate limits and breakers are not
// in the function.
func functionError(code string, auth, limited bool) bool {
	switch code {
	case "BAD_PATH", "HOST_UNKNOWN", "NO_ROUTE":
		return true
	}
	return (auth && strings.HasPrefix(code, "JWT_")) || (limited && code == "RATE_LIMIT")
}

// functionCodes are the codes the viewer-request function can answer with (functionError decides which of
// them a gateway needs).
var functionCodes = []string{"BAD_PATH", "HOST_UNKNOWN", "NO_ROUTE", "RATE_LIMIT", "JWT_ALG", "JWT_AUDIENCE", "JWT_CLAIMS", "JWT_EXPIRED",
	"JWT_ISSUER", "JWT_KEY", "JWT_MALFORMED", "JWT_MISSING", "JWT_NOT_YET_VALID", "JWT_SIGNATURE", "JWT_TOO_LARGE", "JWT_UNSUPPORTED"}

// withFallbacks adds to errs, for each code the function can answer with and errs lacks, the answer the
// runtime's edgeError gives it (UPSTREAM_UNREACHABLE's, else a bare 502), so the function looks every code
// up in its table and carries no fallback code.
func withFallbacks(errs []ir.EdgeError, auth, limited bool) []ir.EdgeError {
	byCode := map[string]bool{}
	var fallback *ir.EdgeError
	for i, e := range errs {
		byCode[e.Code] = true
		if e.Code == "UPSTREAM_UNREACHABLE" {
			fallback = &errs[i]
		}
	}
	out := errs
	for _, c := range functionCodes {
		if byCode[c] || !functionError(c, auth, limited) {
			continue
		}
		e := ir.EdgeError{Code: c, Status: http.StatusBadGateway}
		if fallback != nil {
			e.Status, e.Headers, e.Body = fallback.Status, fallback.Headers, fallback.Body
		}
		out = append(slices.Clip(out), e)
	}
	return out
}

type originT struct {
	Name      string `json:"name,omitempty"` // test builds only (the decision header)
	Base      string `json:"base"`           // scheme://host[:port][/path] without a trailing "/"
	TimeoutMs int64  `json:"timeoutMs"`
}

type poolT struct {
	Name        string     `json:"name,omitempty"`        // test builds only (the decision header)
	Origins     []string   `json:"origins,omitempty"`     // viewer-request only
	Failover    *failoverT `json:"failover,omitempty"`    // viewer-request only
	OriginHosts []string   `json:"originHosts,omitempty"` // viewer-response only
}

type failoverT struct {
	OnStatus []int `json:"onStatus"`
}

type policyT struct {
	Name           string      `json:"name,omitempty"` // test builds only (the decision header)
	Algorithms     []string    `json:"algorithms"`
	Issuer         string      `json:"issuer"`
	Audience       []string    `json:"audience"`
	ClockSkew      float64     `json:"clockSkew"` // seconds
	Required       []string    `json:"required"`
	Forward        [][2]string `json:"forward"`
	SecretKey      string      `json:"secretKey,omitempty"`
	MinSecretBytes int         `json:"minSecretBytes"`
}

// routeT is one route's entry. What only matching reads is in the generated matcher (matcherSource), not
// in the table: the table keeps a route's kind and path only for its rewrite.
type routeT struct {
	Name      string           `json:"name,omitempty"` // test builds only (the decision header)
	Kind      string           `json:"-"`
	Path      string           `json:"-"`
	Segments  []string         `json:"-"`
	Hosts     []string         `json:"-"`
	Headers   [][2]string      `json:"-"`
	Methods   []string         `json:"-"`
	MatchKind string           `json:"kind,omitempty"` // a prefix route with a rewrite only
	MatchPath string           `json:"path,omitempty"` // a prefix route with a rewrite only
	Vars      [][2]any         `json:"vars,omitempty"`
	Pool      string           `json:"pool,omitempty"`
	Respond   *respondT        `json:"respond,omitempty"`
	Redirect  *redirectT       `json:"redirect,omitempty"`
	Auth      string           `json:"auth,omitempty"`
	Limited   bool             `json:"limited,omitempty"` // a rate limit no WAF rule enforces: refused (fail closed)
	Rewrite   *ir.Rewrite      `json:"rewrite,omitempty"`
	Transform *routeTransformT `json:"-"` // nil: nothing to do; written by tableSourceNamed
}

type respondT struct {
	Status      int         `json:"status"`
	Body        string      `json:"body"`
	Headers     [][2]string `json:"headers"`
	DefaultType bool        `json:"defaultType,omitempty"` // add Content-Type: text/plain (respondHeaders)
}

type redirectT struct {
	Status    int    `json:"status"`
	Location  string `json:"location"`
	KeepQuery bool   `json:"keepQuery,omitempty"`
}

const defaultOriginTimeout = 30 * time.Second

func headerPairs(hs []ir.HeaderSet) [][2]string {
	out := [][2]string{}
	for _, h := range hs {
		out = append(out, [2]string{h.Name, h.Value})
	}
	return out
}

func headerTransform(t ir.HeaderTransform) headerTransformT {
	out := headerTransformT{Remove: t.RemoveHeaders, Set: headerPairs(t.SetHeaders)}
	if out.Remove == nil {
		out.Remove = []string{}
	}
	return out
}

func routeTransform(t ir.RouteTransform) routeTransformT {
	return routeTransformT{Request: headerTransform(t.Request), Response: headerTransform(t.Response),
		RequestID: t.RequestIDHeader, KeepClientRequestID: t.KeepClientRequestID}
}

func buildTables(g *ir.Gateway, originURLs map[string]string) (*tables, []routeT, error) {
	t := &tables{Name: g.Name, Domains: []domainT{}, Errors: errorsT{}, Messages: map[int]string{}, Origins: map[string]originT{},
		Pools: names[poolT]{}, Policies: names[policyT]{}}
	for _, d := range g.Domains {
		t.Domains = append(t.Domains, domainT{Host: strings.ToLower(d.Host), Wildcard: d.Wildcard || strings.HasPrefix(d.Host, "*."), TenantHeader: d.TenantHeader})
	}
	if g.HSTS != nil {
		t.HSTS = g.HSTS.Header()
	}
	if c := g.CORS; c != nil {
		t.CORS = &corsT{AllowOrigins: c.AllowOrigins, AllowCredentials: c.AllowCredentials, SimpleHeaders: headerPairs(c.SimpleHeaders()),
			PreflightAllowed: headerPairs(c.PreflightHeaders(true)), PreflightRefused: headerPairs(c.PreflightHeaders(false)), Owned: ir.CORSOwnedHeaders}
	}
	t.Transform = routeTransform(g.EffectiveTransform(nil))
	t.StripHeaders = g.StripHeaders
	if t.StripHeaders == nil {
		t.StripHeaders = g.StripHeaderNames()
	}
	if t.StripHeaders == nil {
		t.StripHeaders = []string{}
	}
	errs := g.Errors
	if len(errs) == 0 {
		errs = ir.EdgeErrors(g.Name)
	}
	auth, limited := false, false
	for _, r := range g.Routes {
		auth = auth || r.Auth != ""
		limited = limited || functionLimited(g, r)
	}
	t.ErrorHeaders = [][]int{}
	t.ErrorPairs = [][2]string{}
	errs = withFallbacks(errs, auth, limited)
	for _, e := range errs {
		if !functionError(e.Code, auth, limited) {
			continue
		}
		var hs []int
		for _, p := range headerPairs(e.Headers) {
			k := slices.Index(t.ErrorPairs, p)
			if k < 0 {
				k = len(t.ErrorPairs)
				t.ErrorPairs = append(t.ErrorPairs, p)
			}
			hs = append(hs, k)
		}
		if hs == nil {
			hs = []int{}
		}
		idx := -1
		for i, o := range t.ErrorHeaders {
			if slices.Equal(o, hs) {
				idx = i
			}
		}
		if idx < 0 {
			idx = len(t.ErrorHeaders)
			t.ErrorHeaders = append(t.ErrorHeaders, hs)
		}
		entry, msg := edgeErrorEntry(e.Code, e.Status, idx, e.Body)
		t.Errors[e.Code] = entry
		if msg != "" {
			t.Messages[e.Status] = msg
		}
	}

	irHosts := map[string]string{} // origin name → host of its IR URL
	for _, o := range g.Origins {
		raw := o.URL
		if v, ok := originURLs[o.Name]; ok {
			raw = v
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, nil, fmt.Errorf("render/cloudfront: origin %q: url %q must be http(s)://host[:port][/path]", o.Name, raw)
		}
		timeout := o.Timeout.D()
		if timeout <= 0 {
			timeout = defaultOriginTimeout
		}
		t.Origins[o.Name] = originT{Name: o.Name, Base: u.Scheme + "://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/"), TimeoutMs: timeout.Milliseconds()}
		if iu, err := url.Parse(o.URL); err == nil {
			irHosts[o.Name] = strings.ToLower(iu.Host)
		}
	}
	for _, p := range g.Pools {
		pt := poolT{Name: p.Name, Origins: p.Origins}
		if len(p.Origins) == 0 {
			return nil, nil, fmt.Errorf("render/cloudfront: pool %q has no origins", p.Name)
		}
		if f := p.Failover; f != nil {
			pt.Failover = &failoverT{OnStatus: f.OnStatus}
			if pt.Failover.OnStatus == nil {
				pt.Failover.OnStatus = []int{}
			}
			// A breaker keeps state, which CloudFront does not: validate refuses it (failover.breaker).
		}
		// The hosts whose Location the reference maps back: the pool's origins as reached (and their Host
		// header), and every origin's URL as written in the IR.
		seen := map[string]bool{}
		add := func(h string) {
			h = strings.ToLower(h)
			if h != "" && !seen[h] {
				seen[h] = true
				pt.OriginHosts = append(pt.OriginHosts, h)
			}
		}
		for _, name := range p.Origins {
			o := g.Origin(name)
			if o == nil {
				return nil, nil, fmt.Errorf("render/cloudfront: pool %q: unknown origin %q", p.Name, name)
			}
			base, _ := url.Parse(t.Origins[name].Base)
			add(base.Host)
			add(o.HostHeader)
		}
		for _, o := range g.Origins {
			add(irHosts[o.Name])
		}
		sort.Strings(pt.OriginHosts)
		t.Pools[p.Name] = pt
	}
	for _, p := range g.AuthPolicies {
		pt, err := policyTable(p)
		if err != nil {
			return nil, nil, err
		}
		if pt.SecretKey == "" {
			// No HMAC secret: the function refuses every token of this policy (JWT_KEY) before it reads
			// any other field, so none is carried.
			pt = policyT{Name: pt.Name, Algorithms: []string{}, Audience: []string{}, Required: []string{}, Forward: [][2]string{}}
		}
		t.Policies[p.Name] = pt
	}
	var routes []routeT
	for i := range g.Routes {
		r := &g.Routes[i]
		rt := routeT{Name: r.Name, Kind: string(r.Match.Kind), Path: r.Match.Path, Hosts: r.Match.Hosts, Methods: r.Match.Methods,
			Pool: r.Pool, Auth: r.Auth, Rewrite: r.Rewrite}
		if r.Rewrite != nil && r.Match.Kind == ir.PathPrefix {
			// Only a prefix route's rewrite reads its kind and path (the runtime's rewritePath and
			// publicPath): any other kind reads as not a prefix.
			rt.MatchKind, rt.MatchPath = rt.Kind, rt.Path
		}
		if tr := routeTransform(g.EffectiveTransform(r)); !emptyTransform(tr) {
			rt.Transform = &tr
		}
		switch {
		case r.Pool != "":
			if g.Pool(r.Pool) == nil {
				return nil, nil, fmt.Errorf("render/cloudfront: route %q: unknown pool %q", r.Name, r.Pool)
			}
		case r.Respond != nil:
			rt.Respond = &respondT{Status: r.Respond.Status, Body: r.Respond.Body, Headers: headerPairs(r.Respond.Headers),
				DefaultType: defaultType(r.Respond.Headers, r.Respond.Body)}
		case r.Redirect != nil:
			rt.Redirect = &redirectT{Status: r.Redirect.Status, Location: r.Redirect.Location, KeepQuery: r.Redirect.KeepQuery}
		default:
			return nil, nil, fmt.Errorf("render/cloudfront: route %q has no pool, respond or redirect", r.Name)
		}
		rt.Limited = functionLimited(g, *r)
		if r.Auth != "" && g.AuthPolicy(r.Auth) == nil {
			return nil, nil, fmt.Errorf("render/cloudfront: route %q: unknown auth policy %q", r.Name, r.Auth)
		}
		for _, h := range r.Match.Headers {
			rt.Headers = append(rt.Headers, [2]string{h.Name, h.Value})
		}
		if r.Match.Kind == ir.PathTemplate {
			segs := r.Match.Segments
			if len(segs) == 0 {
				segs = strings.Split(r.Match.Path, "/")
			}
			if len(segs) > 0 && segs[0] == "" {
				segs = segs[1:]
			}
			rt.Segments = segs
			for j, s := range segs {
				if ir.IsTemplateVar(s) {
					rt.Vars = append(rt.Vars, [2]any{s[1 : len(s)-1], j})
				}
			}
		}
		routes = append(routes, rt)
	}
	return t, routes, nil
}

func policyTable(p ir.AuthPolicy) (policyT, error) {
	j := p.JWT
	if j == nil {
		return policyT{}, fmt.Errorf("render/cloudfront: auth policy %q has no jwt block", p.Name)
	}
	supported := jwtverify.Supported()
	for _, a := range j.Algorithms {
		if !contains(supported, a) {
			return policyT{}, fmt.Errorf("render/cloudfront: auth policy %q: algorithm %q is not supported (use one of %s)", p.Name, a, strings.Join(supported, ", "))
		}
	}
	pt := policyT{Name: p.Name, Algorithms: j.Algorithms, Issuer: j.Issuer, Audience: j.Audience, ClockSkew: j.ClockSkew.D().Seconds(),
		Required: j.RequiredClaims, Forward: [][2]string{}}
	if pt.Audience == nil {
		pt.Audience = []string{}
	}
	if pt.Required == nil {
		pt.Required = []string{}
	}
	for _, f := range j.ForwardClaims {
		pt.Forward = append(pt.Forward, [2]string{f.Claim, f.Header})
	}
	if j.Secret != nil {
		pt.SecretKey = SecretKey(p)
		for _, a := range j.Algorithms {
			pt.MinSecretBytes = max(pt.MinSecretBytes, ir.MinHMACKeyBytes(a))
		}
	}
	for _, kf := range j.Keys {
		keys, err := jwtverify.ParseKeys([]byte(kf.Data), kf.KID)
		if err != nil {
			return policyT{}, fmt.Errorf("render/cloudfront: auth policy %q: key %s: %w", p.Name, kf.Path, err)
		}
		for _, k := range keys {
			if _, hmac := k.Key.([]byte); hmac {
				return policyT{}, fmt.Errorf("render/cloudfront: auth policy %q: key %s is an HMAC key, which would be written into the function's code: give the policy `secret: {env: NAME}` instead (the function reads it from the KeyValueStore)", p.Name, kf.Path)
			}
		}
	}
	// Keys files and JWKS are for the asymmetric algorithms, which a CloudFront Function cannot verify: the
	// lambda-edge-auth companion does. Without it the function holds no such key, so those tokens fail
	// closed (JWT_KEY), and validate refuses the manifest for this target before that.
	return pt, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func emptyTransform(t routeTransformT) bool {
	return len(t.Request.Remove)+len(t.Request.Set)+len(t.Response.Remove)+len(t.Response.Set) == 0 && t.RequestID == ""
}

// defaultType reports whether a synthetic answer gets Content-Type: text/plain, as the reference writes
// it: a body without a Content-Type (absent, or empty in the last line naming it).
func defaultType(hs []ir.HeaderSet, body string) bool {
	ct := ""
	for _, h := range hs {
		if strings.EqualFold(h.Name, "Content-Type") {
			ct = h.Value
		}
	}
	return ct == "" && body != ""
}
