package cloudflare

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render/jsruntime"
)

// The tables the glue reads, computed from the IR. Everything the runtime needs that the IR states only
// implicitly is decided here, once, in Go: JWKs of PEM keys, which algorithms each key fits, the effective
// transform of every route, the hosts whose Location headers are mapped back, the preflight answers.

type tables struct {
	Name         string          `json:"name"`
	Domains      []domainT       `json:"domains"`
	HSTS         string          `json:"hsts"`
	CORS         *corsT          `json:"cors"`
	Transform    routeTransformT `json:"transform"`
	StripHeaders []string        `json:"stripHeaders"`
	// CORSOwned are the origin's response headers the edge drops when the manifest configures CORS.
	CORSOwned []string              `json:"corsOwned,omitempty"`
	Errors    map[string]edgeErrorT `json:"errors"`
	Origins   map[string]originT    `json:"origins"`
	Pools     map[string]poolT      `json:"pools"`
	Policies  map[string]policyT    `json:"policies"`
	Limits    map[string]limitT     `json:"limits"`
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
	PreflightAllowed [][2]string `json:"preflightAllowed"`
	PreflightRefused [][2]string `json:"preflightRefused"`
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

type edgeErrorT struct {
	Status  int         `json:"status"`
	Headers [][2]string `json:"headers"`
	Body    string      `json:"body"`
}

type originT struct {
	Name      string `json:"name"`
	Base      string `json:"base"` // scheme://host[:port][/path] without a trailing "/"
	TimeoutMs int64  `json:"timeoutMs"`
}

type poolT struct {
	Name        string     `json:"name"`
	Origins     []string   `json:"origins"`
	Failover    *failoverT `json:"failover"`
	OriginHosts []string   `json:"originHosts"`
}

type failoverT struct {
	OnStatus []int     `json:"onStatus"`
	Breaker  *breakerT `json:"breaker"`
}

type breakerT struct {
	Consecutive int   `json:"consecutive"`
	Status      []int `json:"status"`
	CooldownMs  int64 `json:"cooldownMs"`
}

type keyT struct {
	ID        string            `json:"id"`
	KID       string            `json:"kid"`
	Alg       string            `json:"alg"`
	Fits      []string          `json:"fits"`
	JWK       map[string]string `json:"jwk"`
	Bits      int               `json:"bits"`
	HMACBytes int               `json:"hmacBytes"`
}

type policyT struct {
	Name           string      `json:"name"`
	Algorithms     []string    `json:"algorithms"`
	Issuer         string      `json:"issuer"`
	Audience       []string    `json:"audience"`
	ClockSkew      float64     `json:"clockSkew"` // seconds
	Required       []string    `json:"required"`
	Forward        [][2]string `json:"forward"`
	Keys           []keyT      `json:"keys"`
	SecretEnv      string      `json:"secretEnv,omitempty"`
	MinSecretBytes int         `json:"minSecretBytes"`
	JWKS           *jwksT      `json:"jwks"`
}

type jwksT struct {
	URL   string `json:"url"`
	TTLMs int64  `json:"ttlMs"`
}

type limitT struct {
	Kind     string `json:"kind"`
	Header   string `json:"header,omitempty"`
	Limit    int    `json:"limit"`
	WindowMs int64  `json:"windowMs"`
}

// routeT is one route's entry; Regex is emitted as a RegExp beside it.
type routeT struct {
	Name      string          `json:"name"`
	Kind      string          `json:"kind"`
	Path      string          `json:"path,omitempty"`
	Segments  []string        `json:"segments,omitempty"`
	Vars      [][2]any        `json:"vars,omitempty"`
	Hosts     []string        `json:"hosts,omitempty"`
	Headers   [][2]string     `json:"headers,omitempty"`
	Methods   []string        `json:"methods,omitempty"`
	Pool      string          `json:"pool,omitempty"`
	Respond   *respondT       `json:"respond,omitempty"`
	Redirect  *redirectT      `json:"redirect,omitempty"`
	Auth      string          `json:"auth,omitempty"`
	Limit     string          `json:"limit,omitempty"`
	Rewrite   *ir.Rewrite     `json:"rewrite,omitempty"`
	Transform routeTransformT `json:"transform"`
}

type respondT struct {
	Status  int         `json:"status"`
	Body    string      `json:"body"`
	Headers [][2]string `json:"headers"`
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
	t := &tables{Name: g.Name, Domains: []domainT{}, Errors: map[string]edgeErrorT{}, Origins: map[string]originT{},
		Pools: map[string]poolT{}, Policies: map[string]policyT{}, Limits: map[string]limitT{}}
	for _, d := range g.Domains {
		t.Domains = append(t.Domains, domainT{Host: strings.ToLower(d.Host), Wildcard: d.Wildcard || strings.HasPrefix(d.Host, "*."), TenantHeader: d.TenantHeader})
	}
	if g.HSTS != nil {
		t.HSTS = g.HSTS.Header()
	}
	if c := g.CORS; c != nil {
		t.CORS = &corsT{AllowOrigins: c.AllowOrigins, AllowCredentials: c.AllowCredentials, SimpleHeaders: headerPairs(c.SimpleHeaders()),
			PreflightAllowed: headerPairs(c.PreflightHeaders(true)), PreflightRefused: headerPairs(c.PreflightHeaders(false))}
	}
	t.Transform = routeTransform(g.EffectiveTransform(nil))
	t.StripHeaders = g.StripHeaders
	if g.CORS != nil {
		t.CORSOwned = ir.CORSOwnedHeaders
	}
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
	for _, e := range errs {
		t.Errors[e.Code] = edgeErrorT{Status: e.Status, Headers: headerPairs(e.Headers), Body: e.Body}
	}

	irHosts := map[string]string{} // origin name → host of its IR URL
	for _, o := range g.Origins {
		raw := o.URL
		if v, ok := originURLs[o.Name]; ok {
			raw = v
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, nil, fmt.Errorf("render/cloudflare: origin %q: url %q must be http(s)://host[:port][/path]", o.Name, raw)
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
			return nil, nil, fmt.Errorf("render/cloudflare: pool %q has no origins", p.Name)
		}
		if f := p.Failover; f != nil {
			pt.Failover = &failoverT{OnStatus: f.OnStatus}
			if pt.Failover.OnStatus == nil {
				pt.Failover.OnStatus = []int{}
			}
			if b := f.Breaker; b != nil {
				pt.Failover.Breaker = &breakerT{Consecutive: b.Consecutive, Status: b.Status, CooldownMs: b.Cooldown.D().Milliseconds()}
			}
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
				return nil, nil, fmt.Errorf("render/cloudflare: pool %q: unknown origin %q", p.Name, name)
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
		t.Policies[p.Name] = pt
	}
	for _, rl := range g.RateLimits {
		if rl.Limit <= 0 || rl.Window.D() <= 0 {
			return nil, nil, fmt.Errorf("render/cloudflare: rate limit %q: limit and window must be positive", rl.Name)
		}
		kind, header := rl.KeyKind()
		t.Limits[rl.Name] = limitT{Kind: kind, Header: header, Limit: rl.Limit, WindowMs: rl.Window.D().Milliseconds()}
	}

	var routes []routeT
	for i := range g.Routes {
		r := &g.Routes[i]
		rt := routeT{Name: r.Name, Kind: string(r.Match.Kind), Path: r.Match.Path, Hosts: r.Match.Hosts, Methods: r.Match.Methods,
			Pool: r.Pool, Auth: r.Auth, Limit: r.RateLimit, Rewrite: r.Rewrite, Transform: routeTransform(g.EffectiveTransform(r))}
		switch {
		case r.Pool != "":
			if g.Pool(r.Pool) == nil {
				return nil, nil, fmt.Errorf("render/cloudflare: route %q: unknown pool %q", r.Name, r.Pool)
			}
		case r.Respond != nil:
			rt.Respond = &respondT{Status: r.Respond.Status, Body: r.Respond.Body, Headers: headerPairs(r.Respond.Headers)}
		case r.Redirect != nil:
			rt.Redirect = &redirectT{Status: r.Redirect.Status, Location: r.Redirect.Location, KeepQuery: r.Redirect.KeepQuery}
		default:
			return nil, nil, fmt.Errorf("render/cloudflare: route %q has no pool, respond or redirect", r.Name)
		}
		if r.Auth != "" && g.AuthPolicy(r.Auth) == nil {
			return nil, nil, fmt.Errorf("render/cloudflare: route %q: unknown auth policy %q", r.Name, r.Auth)
		}
		if r.RateLimit != "" && g.RateLimit(r.RateLimit) == nil {
			return nil, nil, fmt.Errorf("render/cloudflare: route %q: unknown rate limit %q", r.Name, r.RateLimit)
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
		return policyT{}, fmt.Errorf("render/cloudflare: auth policy %q has no jwt block", p.Name)
	}
	supported := jwtverify.Supported()
	for _, a := range j.Algorithms {
		if !contains(supported, a) {
			return policyT{}, fmt.Errorf("render/cloudflare: auth policy %q: algorithm %q is not supported (use one of %s)", p.Name, a, strings.Join(supported, ", "))
		}
	}
	pt := policyT{Name: p.Name, Algorithms: j.Algorithms, Issuer: j.Issuer, Audience: j.Audience, ClockSkew: j.ClockSkew.D().Seconds(),
		Required: j.RequiredClaims, Forward: [][2]string{}, Keys: []keyT{}}
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
		pt.SecretEnv = SecretBinding(p)
		for _, a := range j.Algorithms {
			pt.MinSecretBytes = max(pt.MinSecretBytes, ir.MinHMACKeyBytes(a))
		}
	}
	for fi, kf := range j.Keys {
		keys, err := jwtverify.ParseKeys([]byte(kf.Data), kf.KID)
		if err != nil {
			return policyT{}, fmt.Errorf("render/cloudflare: auth policy %q: key %s: %w", p.Name, kf.Path, err)
		}
		for ki, k := range keys {
			kt, err := keyTable(k)
			if err != nil {
				return policyT{}, fmt.Errorf("render/cloudflare: auth policy %q: key %s: %w", p.Name, kf.Path, err)
			}
			kt.ID = fmt.Sprintf("%s:%d:%d", p.Name, fi, ki)
			pt.Keys = append(pt.Keys, kt)
		}
	}
	if j.JWKS != nil {
		ttl := j.JWKS.CacheTTL.D()
		if ttl <= 0 {
			ttl = 10 * time.Minute
		}
		pt.JWKS = &jwksT{URL: j.JWKS.URL, TTLMs: ttl.Milliseconds()}
	}
	return pt, nil
}

var b64 = base64.RawURLEncoding

// keyTable turns a parsed key into the JWK WebCrypto imports and the algorithms it fits (jwtverify's rule:
// the key type decides the family, an EC curve the one ES algorithm).
func keyTable(k jwtverify.Key) (keyT, error) {
	kt := keyT{KID: k.KID, Alg: k.Alg}
	switch key := k.Key.(type) {
	case []byte:
		kt.Fits = []string{"HS256", "HS384", "HS512"}
		kt.JWK = map[string]string{"kty": "oct", "k": b64.EncodeToString(key)}
		kt.HMACBytes = len(key)
	case *rsa.PublicKey:
		kt.Fits = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
		kt.JWK = map[string]string{"kty": "RSA", "n": b64.EncodeToString(key.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(key.E)).Bytes())}
		kt.Bits = key.N.BitLen()
	case *ecdsa.PublicKey:
		var crv, alg string
		switch key.Curve {
		case elliptic.P256():
			crv, alg = "P-256", "ES256"
		case elliptic.P384():
			crv, alg = "P-384", "ES384"
		case elliptic.P521():
			crv, alg = "P-521", "ES512"
		default:
			return keyT{}, fmt.Errorf("unsupported curve %s", key.Curve.Params().Name)
		}
		size := (key.Curve.Params().BitSize + 7) / 8
		kt.Fits = []string{alg}
		kt.JWK = map[string]string{"kty": "EC", "crv": crv, "x": b64.EncodeToString(key.X.FillBytes(make([]byte, size))), "y": b64.EncodeToString(key.Y.FillBytes(make([]byte, size)))}
	case ed25519.PublicKey:
		kt.Fits = []string{"EdDSA"}
		kt.JWK = map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(key)}
	default:
		return keyT{}, fmt.Errorf("unsupported key type %T", k.Key)
	}
	return kt, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// PolicyTable is the table the Worker's bearer-token verification (verify.js) reads for an auth policy, as
// JSON: the benchmarks call verify.js with it.
func PolicyTable(p ir.AuthPolicy) ([]byte, error) {
	pt, err := policyTable(p)
	if err != nil {
		return nil, err
	}
	return json.Marshal(pt)
}

// MatcherSource is the route matcher the Worker of g carries (jsruntime.GenerateMatcher over its routes).
func MatcherSource(g *ir.Gateway, opts jsruntime.MatcherOptions) (string, jsruntime.Strategy, error) {
	_, routes, err := buildTables(g, nil)
	if err != nil {
		return "", jsruntime.Strategy{}, err
	}
	return jsruntime.GenerateMatcher(matchRoutes(routes), opts)
}
