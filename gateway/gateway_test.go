package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/manifest/ir"
)

const host = "api.example.com"

// sign returns a compact JWS of claims signed with key under alg, with extra protected headers.
func sign(t testing.TB, alg string, key any, claims map[string]any, headers map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	for k, v := range headers {
		opts.WithHeader(jose.HeaderKey(k), v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// rawToken builds a token from literal header and payload JSON, HS256-signed with secret: for shapes a
// signer library refuses to produce (duplicate members).
func rawToken(header, payload string, secret []byte) string {
	enc := base64.RawURLEncoding
	in := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	return in + "." + enc.EncodeToString(hmacSHA256(secret, []byte(in)))
}

func claimsAt(now time.Time, sub string) map[string]any {
	return map[string]any{"sub": sub, "iss": "https://auth.example.com/", "aud": "api", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func TestPrecedence(t *testing.T) {
	h := newHarness(t, baseIR())
	tok := sign(t, "HS256", []byte(testSecret), claimsAt(h.clock.Now(), "alice"), nil)
	cases := []struct {
		method, path string
		hdr          map[string]string
		route        string
		status       int
	}{
		{"GET", "/health", nil, "health", 200},
		{"GET", "/health/x", nil, "default", 200}, // exact is exact
		{"GET", "/v1", nil, "v1", 200},
		{"GET", "/v1/orders", nil, "v1", 200},
		{"GET", "/v10", nil, "default", 200}, // segment boundary
		{"GET", "/v1/admin/users", nil, "v1-admin", 403},
		{"GET", "/v1/administrator", nil, "v1", 200}, // longer prefix, but not on a boundary
		{"GET", "/users/42", nil, "v1-user", 200},
		{"POST", "/users/42", nil, "default", 200},   // method condition
		{"GET", "/users/42/x", nil, "default", 200},  // one segment per variable
		{"GET", "/users/", nil, "default", 200},      // a variable needs a non-empty segment
		{"GET", "/v0/abc", nil, "legacy", 200},       // regex
		{"GET", "/v0/ABC", nil, "default", 200},      // regex is case-sensitive
		{"GET", "/v2/users", bearer(tok), "v2", 200}, // prefix
		{"GET", "/nothing/here", nil, "default", 200},
	}
	for _, c := range cases {
		resp, _ := h.do(t, c.method, host, c.path, c.hdr, "")
		d := h.lastDecision(t)
		if d.Route != c.route || resp.StatusCode != c.status {
			t.Errorf("%s %s: route %q status %d, want route %q status %d", c.method, c.path, d.Route, resp.StatusCode, c.route, c.status)
		}
	}
}

func TestNoRouteIs404(t *testing.T) {
	g := baseIR()
	g.Routes = g.Routes[:1] // only /health
	h := newHarness(t, g)
	resp, body := h.do(t, "GET", host, "/v1", nil, "")
	if resp.StatusCode != 404 || !strings.Contains(body, "NO_ROUTE") {
		t.Errorf("got %d %s, want 404 NO_ROUTE", resp.StatusCode, body)
	}
}

// TestRouterMatchesLinearScan checks that the indexed lookup picks what evaluating every route in IR order
// picks, over random route sets and paths.
func TestRouterMatchesLinearScan(t *testing.T) {
	rnd := mrand.New(mrand.NewPCG(1, 2))
	words := []string{"a", "b", "v1", "v10", "users", "x"}
	randPath := func() string {
		n := rnd.IntN(4)
		p := ""
		for i := 0; i < n; i++ {
			p += "/" + words[rnd.IntN(len(words))]
		}
		if p == "" || rnd.IntN(5) == 0 {
			p += "/"
		}
		return p
	}
	for iter := 0; iter < 200; iter++ {
		g := &ir.Gateway{Origins: []ir.Origin{{Name: "o", URL: "http://127.0.0.1:1"}}, Pools: []ir.Pool{{Name: "p", Origins: []string{"o"}}}}
		for i := 0; i < 20; i++ {
			r := ir.Route{Name: strconv.Itoa(i), Pool: "p"}
			switch rnd.IntN(5) {
			case 0:
				r.Match = ir.Match{Kind: ir.PathExact, Path: randPath()}
			case 1:
				r.Match = ir.Match{Kind: ir.PathPrefix, Path: randPath()}
			case 2:
				segs := strings.Split(strings.TrimPrefix(randPath(), "/"), "/")
				segs[rnd.IntN(len(segs))] = "{v}"
				r.Match = ir.Match{Kind: ir.PathTemplate, Path: "/" + strings.Join(segs, "/"), Segments: segs}
			case 3:
				r.Match = ir.Match{Kind: ir.PathRegex, Path: "^/" + words[rnd.IntN(len(words))]}
			default:
				r.Match = ir.Match{Kind: ir.PathFallback, Methods: []string{"POST"}}
			}
			if rnd.IntN(4) == 0 {
				r.Match.Methods = []string{"GET"}
			}
			g.Routes = append(g.Routes, r)
		}
		gw, err := New(g, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 50; j++ {
			p := randPath()
			method := []string{"GET", "POST"}[rnd.IntN(2)]
			got, _ := gw.routes.match(host, method, p, http.Header{})
			segs := strings.Split(p[1:], "/")
			var want *compiledRoute
			for _, r := range gw.routes.routes {
				if ok, _ := r.matches(host, method, p, segs, http.Header{}); ok {
					want = r
					break
				}
			}
			if got != want {
				t.Fatalf("%s %s: indexed %v, linear %v", method, p, name(got), name(want))
			}
		}
	}
}

func name(r *compiledRoute) string {
	if r == nil {
		return "<none>"
	}
	return r.ir.Name + " " + string(r.ir.Match.Kind) + " " + r.ir.Match.Path
}

func TestCanaryHeader(t *testing.T) {
	h := newHarness(t, baseIR())
	tok := sign(t, "HS256", []byte(testSecret), claimsAt(h.clock.Now(), "alice"), nil)
	hdr := bearer(tok)
	hdr["X-Canary-Release"] = "true"
	_, body := h.do(t, "GET", host, "/v2/users", hdr, "")
	d := h.lastDecision(t)
	if d.Route != "v2-canary" || d.Pool != "canary" || d.Origin != "canary" || body != "origin canary" {
		t.Errorf("canary: route %s pool %s origin %s body %q", d.Route, d.Pool, d.Origin, body)
	}
	if got := h.canary.last(t).RequestURI; got != "/v2/users" {
		t.Errorf("canary upstream path %q, want /v2/users (no rewrite on the canary route)", got)
	}
	hdr["X-Canary-Release"] = "false"
	_, body = h.do(t, "GET", host, "/v2/users", hdr, "")
	d = h.lastDecision(t)
	if d.Route != "v2" || d.Origin != "primary" || body != "origin primary" {
		t.Errorf("no canary: route %s origin %s body %q", d.Route, d.Origin, body)
	}
}

func TestWildcardTenant(t *testing.T) {
	h := newHarness(t, baseIR())
	resp, _ := h.do(t, "GET", "acme.api.example.com", "/v1/x", map[string]string{"X-Tenant-ID": "evil"}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("tenant host: %d", resp.StatusCode)
	}
	if got := h.primary.last(t).Header.Values("X-Tenant-Id"); len(got) != 1 || got[0] != "acme" {
		t.Errorf("tenant header upstream %q, want [acme] (the client's value dropped)", got)
	}
	if d := h.lastDecision(t); d.Tenant != "acme" {
		t.Errorf("decision tenant %q", d.Tenant)
	}
	// The tenant header is dropped on the exact host too: a client can never choose its tenant.
	h.do(t, "GET", "API.example.com:443", "/v1/x", map[string]string{"X-Tenant-ID": "evil"}, "")
	if got := h.primary.last(t).Header.Get("X-Tenant-Id"); got != "" {
		t.Errorf("exact host forwarded a client tenant header %q", got)
	}
	for _, bad := range []string{"a.b.api.example.com", "evil.com", "api.example.com.evil.com"} {
		resp, body := h.do(t, "GET", bad, "/v1/x", nil, "")
		if resp.StatusCode != 404 || !strings.Contains(body, "HOST_UNKNOWN") {
			t.Errorf("host %s: %d %s, want 404 HOST_UNKNOWN", bad, resp.StatusCode, body)
		}
	}
}

func hmacSHA256(key, msg []byte) []byte { return hmacSum(key, msg) }

func TestAuthOutcomes(t *testing.T) {
	g := baseIR()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	g.AuthPolicies = append(g.AuthPolicies, ir.AuthPolicy{Name: "rsa", JWT: &ir.JWT{
		Algorithms: []string{"RS256"}, Keys: []ir.KeyFile{{Path: "k.pem", Data: pemKey}},
		Issuer: "https://auth.example.com/", Audience: []string{"other", "api"}, ClockSkew: ir.Duration(30 * time.Second),
		RequiredClaims: []string{"scope"},
	}})
	g.Routes = append([]ir.Route{{Name: "rsa", Match: ir.Match{Kind: ir.PathPrefix, Path: "/rsa"}, Pool: "api", Auth: "rsa"}}, g.Routes...)
	h := newHarness(t, g)
	now := h.clock.Now()
	hs := func(c map[string]any) string { return sign(t, "HS256", []byte(testSecret), c, nil) }
	with := func(k string, v any) map[string]any { c := claimsAt(now, "alice"); c[k] = v; return c }
	without := func(k string) map[string]any { c := claimsAt(now, "alice"); delete(c, k); return c }
	rs := func(c map[string]any) string { c["scope"] = "read"; return sign(t, "RS256", rsaKey, c, nil) }
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	enc := base64.RawURLEncoding
	noneTok := enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(mustJSON(claimsAt(now, "alice"))) + "."
	// Algorithm confusion: HS256 keyed with the RSA public key's PEM bytes, sent to the RS256 route.
	confused := sign(t, "HS256", []byte(pemKey), with("scope", "read"), nil)

	cases := []struct {
		name   string
		path   string
		hdr    map[string]string
		status int
		code   string
	}{
		{"missing", "/v2/a", nil, 401, "JWT_MISSING"},
		{"basic scheme", "/v2/a", map[string]string{"Authorization": "Basic YTpi"}, 401, "JWT_MISSING"},
		{"empty bearer", "/v2/a", map[string]string{"Authorization": "Bearer "}, 401, "JWT_MALFORMED"},
		{"not a jws", "/v2/a", bearer("abc.def"), 401, "JWT_MALFORMED"},
		{"padded base64", "/v2/a", bearer(hs(claimsAt(now, "alice")) + "="), 401, "JWT_MALFORMED"},
		{"over 8 KiB", "/v2/a", bearer(hs(with("pad", strings.Repeat("x", 9000)))), 401, "JWT_TOO_LARGE"},
		{"alg none", "/v2/a", bearer(noneTok), 403, "JWT_ALG"},
		{"wrong alg for policy", "/v2/a", bearer(sign(t, "ES256", ecKey, claimsAt(now, "alice"), nil)), 403, "JWT_ALG"},
		{"bad signature", "/v2/a", bearer(sign(t, "HS256", []byte("another-secret-another-secret-xx"), claimsAt(now, "alice"), nil)), 403, "JWT_SIGNATURE"},
		{"expired", "/v2/a", bearer(hs(with("exp", now.Add(-time.Minute).Unix()))), 403, "JWT_EXPIRED"},
		{"expired within skew", "/v2/a", bearer(hs(with("exp", now.Add(-10*time.Second).Unix()))), 200, ""},
		{"no exp", "/v2/a", bearer(hs(without("exp"))), 403, "JWT_EXPIRED"},
		{"not yet valid", "/v2/a", bearer(hs(with("nbf", now.Add(time.Minute).Unix()))), 403, "JWT_NOT_YET_VALID"},
		{"issued in the future", "/v2/a", bearer(hs(with("iat", now.Add(time.Hour).Unix()))), 403, "JWT_NOT_YET_VALID"},
		{"wrong issuer", "/v2/a", bearer(hs(with("iss", "https://evil.example/"))), 403, "JWT_ISSUER"},
		{"wrong audience", "/v2/a", bearer(hs(with("aud", []string{"web"}))), 403, "JWT_AUDIENCE"},
		{"crit header", "/v2/a", bearer(sign(t, "HS256", []byte(testSecret), claimsAt(now, "alice"), map[string]any{"crit": []string{"exp"}, "exp": 1})), 403, "JWT_UNSUPPORTED"},
		{"duplicate claim", "/v2/a", bearer(rawToken(`{"alg":"HS256"}`, fmt.Sprintf(`{"sub":"alice","sub":"admin","iss":"https://auth.example.com/","aud":"api","exp":%d}`, now.Add(time.Hour).Unix()), []byte(testSecret))), 403, "JWT_UNSUPPORTED"},
		{"valid HS256", "/v2/a", bearer(hs(claimsAt(now, "alice"))), 200, ""},
		{"valid RS256, any-of audience", "/rsa/a", bearer(rs(with("aud", []string{"api", "x"}))), 200, ""},
		{"RS256 missing required claim", "/rsa/a", bearer(sign(t, "RS256", rsaKey, claimsAt(now, "alice"), nil)), 403, "JWT_CLAIMS"},
		{"algorithm confusion", "/rsa/a", bearer(confused), 403, "JWT_ALG"},
		{"embedded jwk is not a key source", "/rsa/a", bearer(sign(t, "RS256", otherRSA(t), with("scope", "read"), map[string]any{"jwk": jose.JSONWebKey{Key: &otherRSAKey.PublicKey}})), 403, "JWT_UNSUPPORTED"},
	}
	for _, c := range cases {
		resp, body := h.do(t, "GET", host, c.path, c.hdr, "")
		if resp.StatusCode != c.status || (c.code != "" && !strings.Contains(body, `"code":"`+c.code+`"`)) {
			t.Errorf("%s: got %d %s, want %d %s", c.name, resp.StatusCode, strings.TrimSpace(body), c.status, c.code)
		}
		if c.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: 401 without WWW-Authenticate: Bearer", c.name)
		}
		if c.status == 403 && !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("%s: 403 without error=invalid_token", c.name)
		}
	}
}

var (
	otherRSAOnce sync.Once
	otherRSAKey  *rsa.PrivateKey
)

func otherRSA(t *testing.T) *rsa.PrivateKey {
	otherRSAOnce.Do(func() { otherRSAKey, _ = rsa.GenerateKey(rand.Reader, 2048) })
	return otherRSAKey
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestVerifiedClaimsOnlyGoUpstream(t *testing.T) {
	h := newHarness(t, baseIR())
	tok := sign(t, "HS256", []byte(testSecret), claimsAt(h.clock.Now(), "alice"), nil)
	hdr := bearer(tok)
	hdr["X-User-Sub"] = "admin"
	h.do(t, "GET", host, "/v2/me", hdr, "")
	if got := h.primary.last(t).Header.Values("X-User-Sub"); len(got) != 1 || got[0] != "alice" {
		t.Errorf("authenticated route: X-User-Sub upstream %q, want [alice]", got)
	}
	// On a route without auth a client-sent claim header is dropped, never passed on as if verified.
	h.do(t, "GET", host, "/v1/me", map[string]string{"X-User-Sub": "admin"}, "")
	if got := h.primary.last(t).Header.Get("X-User-Sub"); got != "" {
		t.Errorf("unauthenticated route forwarded X-User-Sub %q", got)
	}
}

func TestHSSecretMissingIs403NotCrash(t *testing.T) {
	h := newHarness(t, baseIR(), func(o *Options) { o.Getenv = func(string) string { return "" } })
	if w := h.gw.Warnings(); len(w) != 1 || !strings.Contains(w[0], "JWT_SECRET_KEY") {
		t.Errorf("warnings %q, want one naming JWT_SECRET_KEY", w)
	}
	tok := sign(t, "HS256", []byte(testSecret), claimsAt(h.clock.Now(), "alice"), nil)
	resp, body := h.do(t, "GET", host, "/v2/a", bearer(tok), "")
	if resp.StatusCode != 403 || !strings.Contains(body, "JWT_KEY") {
		t.Errorf("got %d %s, want 403 JWT_KEY", resp.StatusCode, body)
	}
}

func TestJWKSCachedByKidWithRateLimitedRefresh(t *testing.T) {
	key1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	key2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var fetches atomic.Int32
	var serveBoth atomic.Bool
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key1.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
		if serveBoth.Load() {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &key2.PublicKey, KeyID: "k2", Algorithm: "ES256", Use: "sig"})
		}
		_ = json.NewEncoder(w).Encode(set)
	}))
	defer jwks.Close()
	g := baseIR()
	g.AuthPolicies[0].JWT = &ir.JWT{Algorithms: []string{"ES256"}, JWKS: &ir.JWKS{URL: jwks.URL, CacheTTL: ir.Duration(time.Hour)},
		Issuer: "https://auth.example.com/", Audience: []string{"api"}}
	h := newHarness(t, g)
	now := h.clock.Now()
	tok1 := sign(t, "ES256", key1, claimsAt(now, "alice"), map[string]any{"kid": "k1"})
	tok2 := sign(t, "ES256", key2, claimsAt(now, "bob"), map[string]any{"kid": "k2"})
	for i := 0; i < 3; i++ {
		if resp, body := h.do(t, "GET", host, "/v2/a", bearer(tok1), ""); resp.StatusCode != 200 {
			t.Fatalf("k1: %d %s", resp.StatusCode, body)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d JWKS fetches for three tokens with a known kid, want 1", n)
	}
	// k2 is not published yet; the unknown kid triggers one refresh, then no more within 30s.
	for i := 0; i < 3; i++ {
		if resp, _ := h.do(t, "GET", host, "/v2/a", bearer(tok2), ""); resp.StatusCode != 403 {
			t.Fatalf("unknown kid: %d, want 403", resp.StatusCode)
		}
	}
	if n := fetches.Load(); n != 2 {
		t.Errorf("%d fetches after unknown kids, want 2 (refresh rate-limited)", n)
	}
	serveBoth.Store(true)
	h.clock.Advance(31 * time.Second)
	if resp, body := h.do(t, "GET", host, "/v2/a", bearer(tok2), ""); resp.StatusCode != 200 {
		t.Errorf("k2 after rotation: %d %s", resp.StatusCode, body)
	}
}

func TestRateLimit(t *testing.T) {
	g := baseIR()
	g.RateLimits = append(g.RateLimits, ir.RateLimit{Name: "per_key", Key: "header:X-Api-Key", Limit: 2, Window: ir.Duration(time.Minute)})
	g.Routes = append([]ir.Route{{Name: "limited", Match: ir.Match{Kind: ir.PathPrefix, Path: "/limited"}, Pool: "api", RateLimit: "per_key"}}, g.Routes...)
	h := newHarness(t, g)
	k := map[string]string{"X-API-Key": "k1"}
	for i := 0; i < 2; i++ {
		if resp, _ := h.do(t, "GET", host, "/limited", k, ""); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i+1, resp.StatusCode)
		}
		h.clock.Advance(10 * time.Second)
	}
	resp, body := h.do(t, "GET", host, "/limited", k, "")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "40" || !strings.Contains(body, "RATE_LIMIT") {
		t.Fatalf("third request: %d Retry-After %q %s, want 429 Retry-After 40", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if d := h.lastDecision(t); d.Reason != "RATE_LIMIT" {
		t.Errorf("decision reason %q", d.Reason)
	}
	if resp, _ := h.do(t, "GET", host, "/limited", map[string]string{"X-API-Key": "k2"}, ""); resp.StatusCode != 200 {
		t.Errorf("another key is limited too: %d", resp.StatusCode)
	}
	h.clock.Advance(40 * time.Second) // the first request leaves the window
	if resp, _ := h.do(t, "GET", host, "/limited", k, ""); resp.StatusCode != 200 {
		t.Errorf("after the window slid: %d", resp.StatusCode)
	}
	if resp, _ := h.do(t, "GET", host, "/limited", k, ""); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "10" {
		t.Errorf("sliding, not fixed: %d Retry-After %q, want 429 and 10", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestRateLimitBoundedAndConcurrent(t *testing.T) {
	clock := newFakeClock()
	sw := newSlidingWindow(ir.RateLimit{Name: "x", Key: "ip", Limit: 100, Window: ir.Duration(time.Minute)}, 3)
	for i := 0; i < 10; i++ {
		sw.allow(strconv.Itoa(i), clock.Now())
	}
	if n := sw.size(); n != 3 {
		t.Errorf("%d keys held, want the bound 3", n)
	}
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for w := 0; w < 50; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if ok, _ := sw.allow("hot", clock.Now()); ok {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n != 100 {
		t.Errorf("%d of 1000 concurrent requests allowed, want exactly the limit 100", n)
	}
}

func TestTransforms(t *testing.T) {
	g := baseIR()
	g.Routes[5].Transform = &ir.Transform{Request: ir.HeaderTransform{SetHeaders: []ir.HeaderSet{{Name: "X-Route", Value: "v1"}}},
		Response: ir.HeaderTransform{SetHeaders: []ir.HeaderSet{{Name: "X-Served-By", Value: "edge"}}}}
	h := newHarness(t, g)
	resp, _ := h.do(t, "GET", host, "/v1/a", map[string]string{"X-Internal-Debug": "1", "X-Request-ID": "client-chosen", "X-Forwarded-By": "client"}, "")
	up := h.primary.last(t).Header
	if up.Get("X-Internal-Debug") != "" {
		t.Error("X-Internal-Debug reached the origin")
	}
	if v := up.Values("X-Forwarded-By"); len(v) != 1 || v[0] != "edge-gateway" {
		t.Errorf("X-Forwarded-By %q, want [edge-gateway]", v)
	}
	if up.Get("X-Route") != "v1" {
		t.Error("route transform not applied")
	}
	id := up.Get("X-Request-Id")
	if id == "" || id == "client-chosen" || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4`).MatchString(id) {
		t.Errorf("request id upstream %q, want a fresh UUID replacing the client's", id)
	}
	if d := h.lastDecision(t); d.RequestID != id {
		t.Errorf("logged request id %q, sent %q", d.RequestID, id)
	}
	if resp.Header.Get("Server") != "" || resp.Header.Get("X-Served-By") != "edge" {
		t.Errorf("response headers: Server %q X-Served-By %q", resp.Header.Get("Server"), resp.Header.Get("X-Served-By"))
	}
	// keep: the client's id survives, and one is still made when the client sent none.
	g2 := baseIR()
	g2.Transform.KeepClientRequestID = true
	h2 := newHarness(t, g2)
	h2.do(t, "GET", host, "/v1/a", map[string]string{"X-Request-ID": "client-chosen"}, "")
	if got := h2.primary.last(t).Header.Get("X-Request-Id"); got != "client-chosen" {
		t.Errorf("keep: %q", got)
	}
	h2.do(t, "GET", host, "/v1/a", nil, "")
	if got := h2.primary.last(t).Header.Get("X-Request-Id"); got == "" {
		t.Error("keep: no id made for a request without one")
	}
}

func TestRewriteNeverRevealsInternalPaths(t *testing.T) {
	h := newHarness(t, baseIR())
	tok := sign(t, "HS256", []byte(testSecret), claimsAt(h.clock.Now(), "alice"), nil)
	originHost := strings.TrimPrefix(h.primary.srv.URL, "http://")
	h.primary.setRespond(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/internal/v2/users":
			w.Header().Set("Location", "/internal/v2/users/7?x=1")
			w.Header().Set("Content-Location", "http://"+originHost+"/internal/v2/users/7")
			w.WriteHeader(201)
		case "/internal/v2/away":
			w.Header().Set("Location", "https://elsewhere.example/internal/v2/x")
			w.WriteHeader(302)
		default:
			w.WriteHeader(200)
		}
	})
	resp, _ := h.do(t, "POST", host, "/v2/users?q=1", bearer(tok), "{}")
	if got := h.primary.last(t).RequestURI; got != "/internal/v2/users?q=1" {
		t.Errorf("upstream got %q, want the rewritten /internal/v2/users?q=1", got)
	}
	if d := h.lastDecision(t); d.UpstreamPath != "/internal/v2/users" {
		t.Errorf("decision upstream path %q", d.UpstreamPath)
	}
	if got := resp.Header.Get("Location"); got != "/v2/users/7?x=1" {
		t.Errorf("Location %q, want /v2/users/7?x=1", got)
	}
	if got := resp.Header.Get("Content-Location"); got != "http://"+host+"/v2/users/7" {
		t.Errorf("Content-Location %q, want the public host and path", got)
	}
	resp, _ = h.do(t, "GET", host, "/v2/away", bearer(tok), "")
	if got := resp.Header.Get("Location"); got != "https://elsewhere.example/internal/v2/x" {
		t.Errorf("a foreign Location was changed: %q", got)
	}
	// Template rewrite with a variable.
	h.do(t, "GET", host, "/users/42", nil, "")
	if got := h.primary.last(t).RequestURI; got != "/v1/accounts/42/profile" {
		t.Errorf("template rewrite sent %q", got)
	}
}

func TestFailover(t *testing.T) {
	h := newHarness(t, baseIR())
	h.primary.setRespond(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	resp, body := h.do(t, "POST", host, "/v1/orders", nil, `{"n":1}`)
	d := h.lastDecision(t)
	if resp.StatusCode != 200 || body != "origin secondary" || d.Origin != "secondary" {
		t.Errorf("503 failover: %d %q origin %s", resp.StatusCode, body, d.Origin)
	}
	if got := h.secondary.last(t).Body; got != `{"n":1}` {
		t.Errorf("replayed body %q", got)
	}
	if len(d.Attempts) != 2 || d.Attempts[0].Status != 503 {
		t.Errorf("attempts %+v", d.Attempts)
	}
	// A status not listed is returned as is.
	h.primary.setRespond(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	if resp, _ := h.do(t, "GET", host, "/v1/x", nil, ""); resp.StatusCode != 500 {
		t.Errorf("unlisted 500: got %d", resp.StatusCode)
	}
	// The last origin's listed status is returned as is.
	h.secondary.setRespond(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	h.primary.setRespond(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	if resp, _ := h.do(t, "GET", host, "/v1/x", nil, ""); resp.StatusCode != 503 {
		t.Errorf("both 503: got %d", resp.StatusCode)
	}
}

func TestUnreachableIs502AndTimeoutIs504(t *testing.T) {
	g := baseIR()
	h := newHarness(t, g, func(o *Options) {
		o.OriginURLs["primary"] = "http://127.0.0.1:1"
		o.OriginURLs["secondary"] = "http://127.0.0.1:1"
	})
	resp, body := h.do(t, "GET", host, "/v1/x", nil, "")
	if resp.StatusCode != 502 || !strings.Contains(body, "UPSTREAM_UNREACHABLE") || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("every origin down: %d %s", resp.StatusCode, body)
	}
	// Connect failure on the primary fails over.
	h2 := newHarness(t, baseIR(), func(o *Options) { o.OriginURLs["primary"] = "http://127.0.0.1:1" })
	if resp, body := h2.do(t, "GET", host, "/v1/x", nil, ""); resp.StatusCode != 200 || body != "origin secondary" {
		t.Errorf("connect failover: %d %q", resp.StatusCode, body)
	}
	// Timeout: a single-origin pool whose origin never answers within its timeout.
	g3 := baseIR()
	g3.Origins[2].Timeout = ir.Duration(100 * time.Millisecond)
	g3.Origins[0].Timeout = ir.Duration(100 * time.Millisecond)
	h3 := newHarness(t, g3)
	release := make(chan struct{})
	defer close(release)
	h3.canary.setRespond(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	// The canary pool has no failover policy: a timeout still goes to its next origin (DESIGN §8), which
	// times out too.
	h3.primary.setRespond(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	tok := sign(t, "HS256", []byte(testSecret), claimsAt(h3.clock.Now(), "alice"), nil)
	hdr := bearer(tok)
	hdr["X-Canary-Release"] = "true"
	resp, body = h3.do(t, "GET", host, "/v2/x", hdr, "")
	if resp.StatusCode != 504 || !strings.Contains(body, "UPSTREAM_TIMEOUT") {
		t.Errorf("timeout: %d %s, want 504", resp.StatusCode, body)
	}
	if h3.primary.count() != 1 {
		t.Errorf("a timeout in a pool without failover went to %d further origins, want 1", h3.primary.count())
	}
}

func TestBreaker(t *testing.T) {
	h := newHarness(t, baseIR())
	h.primary.setRespond(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	for i := 0; i < 3; i++ {
		h.do(t, "GET", host, "/v1/x", nil, "")
	}
	if n := h.primary.count(); n != 3 {
		t.Fatalf("primary saw %d requests before opening, want 3", n)
	}
	resp, body := h.do(t, "GET", host, "/v1/x", nil, "")
	if h.primary.count() != 3 || resp.StatusCode != 200 || body != "origin secondary" {
		t.Errorf("open breaker: primary hits %d, answer %d %q; want the primary skipped", h.primary.count(), resp.StatusCode, body)
	}
	h.clock.Advance(29 * time.Second)
	h.do(t, "GET", host, "/v1/x", nil, "")
	if h.primary.count() != 3 {
		t.Error("primary tried inside the cooldown")
	}
	h.clock.Advance(2 * time.Second)
	h.do(t, "GET", host, "/v1/x", nil, "") // half-open: tried once, fails, re-opens at once
	h.do(t, "GET", host, "/v1/x", nil, "")
	if n := h.primary.count(); n != 4 {
		t.Errorf("after the cooldown the primary saw %d requests, want 4 (one trial, then open again)", n)
	}
	h.primary.setRespond(nil)
	h.clock.Advance(31 * time.Second)
	for i := 0; i < 3; i++ {
		if _, body := h.do(t, "GET", host, "/v1/x", nil, ""); body != "origin primary" {
			t.Errorf("recovered primary: answer %q", body)
		}
	}
	// Every origin open: 503 [ORIGINS_OPEN].
	h.primary.setRespond(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	h.secondary.setRespond(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	for i := 0; i < 3; i++ {
		h.do(t, "GET", host, "/v1/x", nil, "")
	}
	resp, body = h.do(t, "GET", host, "/v1/x", nil, "")
	if resp.StatusCode != 503 || !strings.Contains(body, "ORIGINS_OPEN") {
		t.Errorf("all open: %d %s", resp.StatusCode, body)
	}
}

func TestCORS(t *testing.T) {
	h := newHarness(t, baseIR())
	pre := map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
	resp, _ := h.do(t, "OPTIONS", host, "/v2/users", pre, "")
	want := map[string]string{
		"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "https://app.example.com",
		"Access-Control-Allow-Methods": "GET, POST", "Access-Control-Allow-Headers": "Authorization",
		"Access-Control-Max-Age": "600", "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
	}
	if resp.StatusCode != 204 {
		t.Errorf("preflight status %d, want 204 (answered at the edge, no auth)", resp.StatusCode)
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("preflight %s = %q, want %q", k, got, v)
		}
	}
	if h.primary.count()+h.canary.count() != 0 {
		t.Error("preflight reached an origin")
	}
	pre["Origin"] = "https://evil.example"
	resp, _ = h.do(t, "OPTIONS", host, "/v2/users", pre, "")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("disallowed origin: %d ACAO %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	// An actual request from an allowed origin can read even the 401.
	resp, _ = h.do(t, "GET", host, "/v2/users", map[string]string{"Origin": "https://app.example.com"}, "")
	if resp.StatusCode != 401 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || resp.Header.Get("Vary") != "Origin" {
		t.Errorf("simple request: %d ACAO %q Vary %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Vary"))
	}
}

func TestHSTSOnEveryResponse(t *testing.T) {
	g := baseIR()
	g.RateLimits[0].Limit = 1
	h := newHarness(t, g)
	h.primary.setRespond(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=0")
		w.WriteHeader(200)
	})
	tok := sign(t, "HS256", []byte(testSecret), claimsAt(h.clock.Now(), "alice"), nil)
	addr := strings.TrimPrefix(h.srv.URL, "http://")
	want := "max-age=63072000; includeSubDomains; preload"
	check := func(what string, resp *http.Response, status int) {
		t.Helper()
		if resp.StatusCode != status {
			t.Errorf("%s: status %d, want %d", what, resp.StatusCode, status)
		}
		if got := resp.Header.Values("Strict-Transport-Security"); len(got) != 1 || got[0] != want {
			t.Errorf("%s: HSTS %q, want exactly [%s]", what, got, want)
		}
	}
	check("400 bad path", rawGet(t, addr, host, "/a%2fb"), 400)
	r, _ := h.do(t, "GET", "unknown.example", "/", nil, "")
	check("404 unknown host", r, 404)
	r, _ = h.do(t, "GET", host, "/v2/a", nil, "")
	check("401", r, 401)
	r, _ = h.do(t, "GET", host, "/v2/a", bearer(tok+"x"), "")
	check("403", r, 403)
	r, _ = h.do(t, "GET", host, "/v2/a", bearer(tok), "")
	check("proxied (origin's own HSTS replaced)", r, 200)
	r, _ = h.do(t, "GET", host, "/v2/a", bearer(tok), "")
	check("429", r, 429)
	r, _ = h.do(t, "GET", host, "/health", nil, "")
	check("synthetic", r, 200)
	r, _ = h.do(t, "GET", host, "/docs", nil, "")
	check("redirect", r, 301)
	g2 := baseIR()
	g2.Routes = g2.Routes[:1]
	h2 := newHarness(t, g2)
	r, _ = h2.do(t, "GET", host, "/nope", nil, "")
	check("404 no route", r, 404)
}

func TestSyntheticAndRedirect(t *testing.T) {
	h := newHarness(t, baseIR())
	resp, body := h.do(t, "GET", host, "/health", nil, "")
	if resp.StatusCode != 200 || body != "ok" || h.primary.count() != 0 {
		t.Errorf("health: %d %q", resp.StatusCode, body)
	}
	resp, body = h.do(t, "GET", host, "/v1/admin/x", nil, "")
	if resp.StatusCode != 403 || body != "admin is internal" {
		t.Errorf("synthetic 403: %d %q", resp.StatusCode, body)
	}
	resp, _ = h.do(t, "GET", host, "/docs?page=2", nil, "")
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "https://docs.example.com/?page=2" {
		t.Errorf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestUnknownHostIs404(t *testing.T) {
	h := newHarness(t, baseIR())
	resp, body := h.do(t, "GET", "127.0.0.1:8787", "/health", nil, "")
	if resp.StatusCode != 404 || !strings.Contains(body, ir.CodeHostUnknown) {
		t.Errorf("unknown host: %d %s", resp.StatusCode, body)
	}
}

func TestWithDecision(t *testing.T) {
	h := newHarness(t, baseIR())
	var d Decision
	req := httptest.NewRequest("GET", "http://api.example.com/v0/abc", nil)
	req = req.WithContext(WithDecision(context.Background(), &d))
	rec := httptest.NewRecorder()
	h.gw.ServeHTTP(rec, req)
	if d.Route != "legacy" || d.Pool != "api" || d.Origin != "primary" || d.Status != 200 || d.UpstreamPath != "/v0/abc" {
		t.Errorf("decision %+v", d)
	}
}

func hmacSum(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// The statuses jwtverify decides and the IR's error table agree: a target serving the table answers every
// token rejection as the reference does.
func TestEdgeErrorTableMatchesVerifier(t *testing.T) {
	for _, e := range ir.EdgeErrors("x") {
		if !strings.HasPrefix(e.Code, "JWT_") {
			continue
		}
		if got := (&jwtverify.Error{Code: e.Code}).Status(); got != e.Status {
			t.Errorf("%s: verifier says %d, table %d", e.Code, got, e.Status)
		}
	}
}

// A too-short HMAC secret would make every correctly signed token fail: refuse to serve, naming the
// variable and never its value.
func TestShortHMACSecretRefused(t *testing.T) {
	const short = "0123456789abcdef0123456789ab" // 28 bytes
	g := &ir.Gateway{SchemaVersion: 1, Name: "gw",
		AuthPolicies: []ir.AuthPolicy{{Name: "bearer", JWT: &ir.JWT{Algorithms: []string{"HS256"}, Secret: &ir.Value{Env: "JWT_SECRET_KEY"}}}}}
	_, err := New(g, Options{Getenv: func(string) string { return short }})
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET_KEY is 28 bytes; HS256 needs at least 32") || strings.Contains(err.Error(), short) {
		t.Fatalf("short secret: %v", err)
	}
	if _, err := New(g, Options{Getenv: func(string) string { return short + "cdef" }}); err != nil {
		t.Fatalf("32-byte secret refused: %v", err)
	}
	g.AuthPolicies[0].JWT.Algorithms = []string{"HS512"}
	if _, err := New(g, Options{Getenv: func(string) string { return short + "cdef" }}); err == nil || !strings.Contains(err.Error(), "HS512 needs at least 64") {
		t.Fatalf("32-byte secret for HS512: %v", err)
	}
}
