package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"time"

	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/manifest/pathnorm"
)

// Options are the gateway's injected dependencies. The zero value serves the IR against the real network
// and clock.
type Options struct {
	// Now is the clock of the rate limiter, the breaker and JWT checks. Default time.Now.
	Now func() time.Time
	// Transport sends upstream requests. Default: a clone of http.DefaultTransport.
	Transport http.RoundTripper
	// OriginURLs replace origin URLs by origin name (`edgegw dev --origin primary=http://127.0.0.1:9000`).
	OriginURLs map[string]string
	// Getenv resolves {env: NAME} secrets (HS keys). Default: no environment.
	Getenv func(string) string
	// Log receives one Decision per request, after the response is written.
	Log func(Decision)
	// JWKSClient fetches JWKS URLs. Default: a client with a 5s timeout.
	JWKSClient *http.Client
	// RateLimitMaxKeys bounds the keys one rate limit remembers (default 100000); the least recently seen
	// key is evicted first.
	RateLimitMaxKeys int
	// NewRequestID returns a fresh request id. Default: a random UUIDv4.
	NewRequestID func() string
}

// Decision is what the gateway did with one request: the line `edgegw dev` logs and what `edgegw test`
// compares.
type Decision struct {
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Host   string    `json:"host"`
	// Path is the request path as received, before normalization.
	Path   string `json:"path"`
	Status int    `json:"status"`
	// Reason names why the gateway answered itself, e.g. JWT_MISSING, RATE_LIMIT, NO_ROUTE.
	Reason       string        `json:"reason,omitempty"`
	Detail       string        `json:"detail,omitempty"`
	Route        string        `json:"route,omitempty"`
	Pool         string        `json:"pool,omitempty"`
	Origin       string        `json:"origin,omitempty"`
	UpstreamPath string        `json:"upstream_path,omitempty"`
	Attempts     []Attempt     `json:"attempts,omitempty"`
	Tenant       string        `json:"tenant,omitempty"`
	RequestID    string        `json:"request_id,omitempty"`
	Duration     time.Duration `json:"duration_ns"`
}

// Attempt is one upstream try.
type Attempt struct {
	Origin string `json:"origin"`
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

type decisionKey struct{}

// WithDecision returns a context that makes ServeHTTP copy its Decision into d when the request is done. It
// works when the handler is called in-process with that context (the test runner does).
func WithDecision(ctx context.Context, d *Decision) context.Context {
	return context.WithValue(ctx, decisionKey{}, d)
}

// Gateway serves one IR. It is safe for concurrent use; rate-limit and breaker state live in it.
type Gateway struct {
	ir           *ir.Gateway
	opts         Options
	now          func() time.Time
	exact        map[string]*ir.Domain
	wildcard     []*ir.Domain
	originList   []*origin // every origin, in IR order, for health checks
	stripHeaders []string  // ir.Gateway.StripHeaders
	routes       *router
	hsts         string
	proxy        *httputil.ReverseProxy
	transport    http.RoundTripper
	warnings     []string
}

// New compiles g for serving. It fails on an IR that cannot be served (a bad regex, an origin URL that does
// not parse, a key file that does not parse); a missing HS secret is only a warning (see Warnings), and the
// routes that need it answer 403 [JWT_KEY].
func New(g *ir.Gateway, opts Options) (*Gateway, error) {
	if g == nil {
		return nil, errors.New("gateway: no gateway IR")
	}
	gw := &Gateway{ir: g, opts: opts, now: opts.Now, exact: map[string]*ir.Domain{}}
	if gw.now == nil {
		gw.now = time.Now
	}
	if gw.opts.Getenv == nil {
		gw.opts.Getenv = func(string) string { return "" }
	}
	if gw.opts.NewRequestID == nil {
		gw.opts.NewRequestID = newUUID
	}
	gw.transport = opts.Transport
	if gw.transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 256
		gw.transport = t
	}
	for i := range g.Domains {
		d := &g.Domains[i]
		if d.Wildcard || strings.HasPrefix(d.Host, "*.") {
			gw.wildcard = append(gw.wildcard, d)
		} else {
			gw.exact[strings.ToLower(d.Host)] = d
		}
	}
	if g.HSTS != nil {
		gw.hsts = g.HSTS.Header()
	}
	gw.stripHeaders = g.StripHeaders
	if gw.stripHeaders == nil {
		gw.stripHeaders = g.StripHeaderNames() // an IR deployed before it stated them
	}
	pools, err := gw.compilePools()
	if err != nil {
		return nil, err
	}
	policies, err := gw.compilePolicies()
	if err != nil {
		return nil, err
	}
	limits := map[string]*slidingWindow{}
	for _, rl := range g.RateLimits {
		if rl.Limit <= 0 || rl.Window.D() <= 0 {
			return nil, fmt.Errorf("gateway: rate limit %q: limit and window must be positive", rl.Name)
		}
		limits[rl.Name] = newSlidingWindow(rl, opts.RateLimitMaxKeys)
	}
	gw.routes, err = newRouter(g, pools, policies, limits)
	if err != nil {
		return nil, err
	}
	gw.proxy = &httputil.ReverseProxy{
		Rewrite:        gw.rewrite,
		Transport:      roundTripperFunc(gw.roundTrip),
		ModifyResponse: gw.modifyResponse,
		ErrorHandler:   gw.proxyError,
		FlushInterval:  -1, // stream: an edge must not hold server-sent events back
	}
	return gw, nil
}

// IR returns the IR being served.
func (g *Gateway) IR() *ir.Gateway { return g.ir }

// Warnings lists what New accepted but cannot serve fully (a missing HS secret).
func (g *Gateway) Warnings() []string { return g.warnings }

func (g *Gateway) compilePolicies() (map[string]*authPolicy, error) {
	out := map[string]*authPolicy{}
	for _, p := range g.ir.AuthPolicies {
		if p.JWT == nil {
			return nil, fmt.Errorf("gateway: auth policy %q has no jwt block", p.Name)
		}
		j := p.JWT
		cfg := jwtverify.Config{
			Algorithms: j.Algorithms, Issuer: j.Issuer, Audience: j.Audience, ClockSkew: j.ClockSkew.D(),
			RequiredClaims: j.RequiredClaims, Now: g.now, HTTPClient: g.opts.JWKSClient,
		}
		ap := &authPolicy{name: p.Name, forward: j.ForwardClaims}
		if j.Secret != nil {
			secret := j.Secret.Literal
			if j.Secret.Env != "" {
				secret = g.opts.Getenv(j.Secret.Env)
			}
			if secret == "" {
				g.warnings = append(g.warnings, fmt.Sprintf("auth %s: secret %s is not set: tokens for its HS algorithms will be refused (403)", p.Name, j.Secret))
			} else if err := ir.CheckHMACSecret(p, secret); err != nil {
				return nil, fmt.Errorf("gateway: %w", err)
			} else {
				cfg.Keys = append(cfg.Keys, jwtverify.HMACKey([]byte(secret), ""))
			}
		}
		for _, kf := range j.Keys {
			keys, err := jwtverify.ParseKeys([]byte(kf.Data), kf.KID)
			if err != nil {
				return nil, fmt.Errorf("gateway: auth policy %q: key %s: %w", p.Name, kf.Path, err)
			}
			cfg.Keys = append(cfg.Keys, keys...)
		}
		if j.JWKS != nil {
			cfg.JWKSURL, cfg.JWKSCacheTTL = j.JWKS.URL, j.JWKS.CacheTTL.D()
		}
		v, err := jwtverify.New(cfg)
		if err != nil {
			if len(cfg.Keys) == 0 && cfg.JWKSURL == "" {
				ap.unavailable = fmt.Errorf("gateway: auth policy %q has no usable key", p.Name)
				out[p.Name] = ap
				continue
			}
			return nil, fmt.Errorf("gateway: auth policy %q: %w", p.Name, err)
		}
		ap.verifier = v
		out[p.Name] = ap
	}
	return out, nil
}

type authPolicy struct {
	name        string
	verifier    *jwtverify.Verifier
	unavailable error
	forward     []ir.ClaimForwarding
}

// reqState travels with a proxied request from ServeHTTP to the transport and back.
type reqState struct {
	route        *compiledRoute
	gw           *Gateway
	requestPath  string // normalized
	upstreamPath string
	query        string
	publicHost   string
	scheme       string
	tenantHeader string
	tenant       string
	claims       *jwtverify.Claims
	d            *Decision
}

type stateKey struct{}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

// ServeHTTP handles one request as the IR says.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rawPath, rawQuery := requestTarget(r)
	d := &Decision{Time: g.now(), Method: r.Method, Path: rawPath}
	rw := &responseWriter{ResponseWriter: w, g: g}
	defer func() {
		d.Status = rw.status
		if d.Status == 0 {
			d.Status = http.StatusOK
		}
		d.Duration = time.Since(start)
		if p, ok := r.Context().Value(decisionKey{}).(*Decision); ok {
			*p = *d
		}
		if g.opts.Log != nil {
			g.opts.Log(*d)
		}
	}()

	path, err := pathnorm.Normalize(rawPath)
	if err != nil {
		g.fail(rw, d, http.StatusBadRequest, "BAD_PATH", err.Error())
		return
	}
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	tenantHeader, tenant, ok := g.matchHost(host)
	d.Host = host
	if !ok {
		g.fail(rw, d, http.StatusNotFound, "HOST_UNKNOWN", "host "+host+" is not one of the gateway's domains")
		return
	}
	d.Tenant = tenant

	if c := g.ir.CORS; c != nil {
		if origin := r.Header.Get("Origin"); origin != "" && c.Allows(origin) {
			rw.corsOrigin = origin
		}
		if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			g.preflight(rw, d)
			return
		}
	}

	route, params := g.routes.match(host, r.Method, path, r.Header)
	if route == nil {
		g.fail(rw, d, http.StatusNotFound, "NO_ROUTE", "no route matches "+r.Method+" "+path)
		return
	}
	d.Route = route.ir.Name
	rw.route = route

	var claims *jwtverify.Claims
	if route.auth != nil {
		var e *jwtverify.Error
		claims, e = route.auth.check(r)
		if e != nil {
			g.fail(rw, d, e.Status(), e.Code, e.Err.Error())
			return
		}
	}
	if route.limit != nil {
		key := route.limit.keyFor(r, claims)
		if ok, retry := route.limit.allow(key, g.now()); !ok {
			secs := int64((retry + time.Second - 1) / time.Second)
			if secs < 1 {
				secs = 1
			}
			rw.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
			g.fail(rw, d, http.StatusTooManyRequests, "RATE_LIMIT", "limit "+route.limit.name+" exceeded")
			return
		}
	}

	switch {
	case route.ir.Respond != nil:
		resp := route.ir.Respond
		for _, h := range resp.Headers {
			rw.Header().Set(h.Name, h.Value)
		}
		if rw.Header().Get("Content-Type") == "" && resp.Body != "" {
			rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		rw.WriteHeader(resp.Status)
		_, _ = rw.Write([]byte(resp.Body))
		return
	case route.ir.Redirect != nil:
		loc := route.ir.Redirect.Location
		if route.ir.Redirect.KeepQuery && rawQuery != "" {
			sep := "?"
			if strings.Contains(loc, "?") {
				sep = "&"
			}
			loc += sep + rawQuery
		}
		rw.Header().Set("Location", loc)
		rw.WriteHeader(route.ir.Redirect.Status)
		return
	}

	d.Pool = route.pool.name
	st := &reqState{gw: g, route: route, requestPath: path, query: rawQuery, publicHost: r.Host, scheme: "http",
		tenantHeader: tenantHeader, tenant: tenant, claims: claims, d: d}
	if r.TLS != nil {
		st.scheme = "https"
	}
	st.upstreamPath = route.ir.UpstreamPath(path, params)
	d.UpstreamPath = st.upstreamPath
	g.proxy.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), stateKey{}, st)))
}

// matchHost finds the domain of host: exact hosts first, then wildcards, whose first label is the tenant.
func (g *Gateway) matchHost(host string) (tenantHeader, tenant string, ok bool) {
	if len(g.ir.Domains) == 0 {
		return "", "", true
	}
	if d, ok := g.exact[host]; ok {
		return d.TenantHeader, "", true
	}
	for _, d := range g.wildcard {
		if label, ok := wildcardLabel(d.Host, host); ok {
			return d.TenantHeader, label, true
		}
	}
	return "", "", false
}

// wildcardLabel matches "*.zone" against host: exactly one non-empty label before the zone, as a wildcard
// certificate and DNS record cover it.
func wildcardLabel(pattern, host string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.ToLower(pattern), "*.")
	if !ok {
		return "", strings.EqualFold(pattern, host)
	}
	label, suffix, found := strings.Cut(host, ".")
	if !found || label == "" || suffix != rest {
		return "", false
	}
	return label, true
}

func (g *Gateway) preflight(rw *responseWriter, d *Decision) {
	for _, hs := range g.ir.CORS.PreflightHeaders(rw.corsOrigin != "") {
		rw.Header().Set(hs.Name, hs.Value)
	}
	d.Reason = "CORS_PREFLIGHT"
	rw.WriteHeader(ir.PreflightStatus)
}

func (g *Gateway) fail(rw *responseWriter, d *Decision, status int, code, detail string) {
	d.Reason, d.Detail = code, detail
	e := g.ir.Error(code)
	if e.Code != code {
		e = &ir.EdgeError{Code: code, Status: status, Headers: g.ir.Error(ir.CodeUpstreamUnreachable).Headers}
	}
	h := rw.Header()
	for _, hs := range e.Headers {
		h.Set(hs.Name, hs.Value)
	}
	rw.WriteHeader(e.Status)
	_, _ = rw.Write([]byte(e.Body))
}

// transformUpstreamHeader edits h, the headers going upstream: spoofable headers dropped, transforms
// applied, tenant, request id and verified claims set. It returns the request id.
func (g *Gateway) transformUpstreamHeader(h, client http.Header, st *reqState) string {
	route := st.route
	for _, name := range g.stripHeaders {
		h.Del(name)
	}
	tr := &route.transform
	applyHeaderTransform(h, tr.Request)
	idHeader, keep := tr.RequestIDHeader, tr.KeepClientRequestID
	var id string
	if idHeader != "" {
		id = client.Get(idHeader)
		if !keep || id == "" {
			id = g.opts.NewRequestID()
		}
		h.Set(idHeader, id)
	}
	if st.tenantHeader != "" && st.tenant != "" {
		h.Set(st.tenantHeader, st.tenant)
	}
	if st.claims != nil && route.auth != nil {
		for _, f := range route.auth.forward {
			if v, ok := st.claims.Text(f.Claim); ok {
				h.Set(f.Header, v)
			}
		}
	}
	return id
}

func applyHeaderTransform(h http.Header, t ir.HeaderTransform) {
	for _, name := range t.RemoveHeaders {
		h.Del(name)
	}
	for _, s := range t.SetHeaders {
		h.Set(s.Name, s.Value)
	}
}

func (p *authPolicy) check(r *http.Request) (*jwtverify.Claims, *jwtverify.Error) {
	token, e := jwtverify.FromHeader(r.Header)
	if e != nil {
		return nil, e
	}
	if p.unavailable != nil {
		return nil, &jwtverify.Error{Code: jwtverify.CodeNoKey, Err: p.unavailable}
	}
	claims, err := p.verifier.Verify(r.Context(), token)
	if err != nil {
		var ve *jwtverify.Error
		if errors.As(err, &ve) {
			return nil, ve
		}
		return nil, &jwtverify.Error{Code: jwtverify.CodeSignature, Err: err}
	}
	return claims, nil
}

// requestTarget returns the raw path and query as the client sent them, before any decoding.
func requestTarget(r *http.Request) (path, query string) {
	raw := r.RequestURI
	if raw == "" {
		raw = r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			raw += "?" + r.URL.RawQuery
		}
	}
	if !strings.HasPrefix(raw, "/") {
		// absolute-form (a proxy request): drop scheme and authority.
		if _, rest, ok := strings.Cut(raw, "://"); ok {
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				raw = rest[i:]
			} else if i := strings.IndexByte(rest, '?'); i >= 0 {
				raw = "/" + rest[i:]
			} else {
				raw = "/"
			}
		}
	}
	path, query, _ = strings.Cut(raw, "?")
	return path, query
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// responseWriter applies, at the moment the status is written, what every response gets: the response
// transforms, HSTS, and CORS headers for an allowed Origin.
type responseWriter struct {
	http.ResponseWriter
	g          *Gateway
	route      *compiledRoute
	corsOrigin string
	status     int
}

func (w *responseWriter) WriteHeader(code int) {
	if code < 200 {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.status != 0 {
		return
	}
	w.status = code
	h := w.Header()
	if w.route != nil {
		applyHeaderTransform(h, w.route.transform.Response)
	} else {
		applyHeaderTransform(h, w.g.ir.Transform.Response)
	}
	if w.g.hsts != "" {
		h.Set("Strict-Transport-Security", w.g.hsts)
	}
	if c := w.g.ir.CORS; c != nil {
		h.Add("Vary", "Origin")
		if w.corsOrigin != "" {
			h.Set("Access-Control-Allow-Origin", c.AllowOriginValue(w.corsOrigin))
			for _, hs := range c.SimpleHeaders() {
				h.Set(hs.Name, hs.Value)
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush on the real writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// RouteFor returns the route a request would take, or nil when its path is rejected, its host unknown or no
// route matches. It runs no auth, limits or upstream: `edgegw test` uses it to pick the auth policy a test
// token must satisfy.
func (g *Gateway) RouteFor(r *http.Request) *ir.Route {
	rawPath, _ := requestTarget(r)
	path, err := pathnorm.Normalize(rawPath)
	if err != nil {
		return nil
	}
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	if _, _, ok := g.matchHost(host); !ok {
		return nil
	}
	route, _ := g.routes.match(host, r.Method, path, r.Header)
	if route == nil {
		return nil
	}
	return route.ir
}
