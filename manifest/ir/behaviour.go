package ir

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Codes of the responses the edge writes itself. The reference gateway and every renderer answer with the
// entry of Gateway.Errors for the code, byte for byte.
const (
	CodeBadPath             = "BAD_PATH"          // path normalization refused the path (400)
	CodeHostUnknown         = "HOST_UNKNOWN"      // Host is none of the gateway's domains (404)
	CodeNoRoute             = "NO_ROUTE"          // no route matches (404)
	CodeJWTMissing          = "JWT_MISSING"       // no Authorization: Bearer header (401)
	CodeJWTMalformed        = "JWT_MALFORMED"     // not a JWS in compact form (401)
	CodeJWTTooLarge         = "JWT_TOO_LARGE"     // token over the size limit (401)
	CodeJWTAlgorithm        = "JWT_ALG"           // alg not allowed (403)
	CodeJWTUnsupported      = "JWT_UNSUPPORTED"   // crit, b64, embedded keys, duplicate members (403)
	CodeJWTKey              = "JWT_KEY"           // no configured key fits (403)
	CodeJWTSignature        = "JWT_SIGNATURE"     // signature does not verify (403)
	CodeJWTExpired          = "JWT_EXPIRED"       // exp passed or missing (403)
	CodeJWTNotYetValid      = "JWT_NOT_YET_VALID" // nbf or iat in the future (403)
	CodeJWTIssuer           = "JWT_ISSUER"        // iss differs (403)
	CodeJWTAudience         = "JWT_AUDIENCE"      // no configured audience (403)
	CodeJWTClaims           = "JWT_CLAIMS"        // a required claim is missing or mistyped (403)
	CodeRateLimit           = "RATE_LIMIT"        // over the limit (429, with Retry-After)
	CodeOriginsOpen         = "ORIGINS_OPEN"      // every origin's breaker is open (503)
	CodeUpstreamTimeout     = "UPSTREAM_TIMEOUT"  // the last origin tried timed out (504)
	CodeUpstreamUnreachable = "UPSTREAM_UNREACHABLE"
)

var edgeStatus = map[string]int{
	CodeBadPath: 400, CodeHostUnknown: 404, CodeNoRoute: 404,
	CodeJWTMissing: 401, CodeJWTMalformed: 401, CodeJWTTooLarge: 401,
	CodeJWTAlgorithm: 403, CodeJWTUnsupported: 403, CodeJWTKey: 403, CodeJWTSignature: 403, CodeJWTExpired: 403,
	CodeJWTNotYetValid: 403, CodeJWTIssuer: 403, CodeJWTAudience: 403, CodeJWTClaims: 403,
	CodeRateLimit: 429, CodeOriginsOpen: 503, CodeUpstreamTimeout: 504, CodeUpstreamUnreachable: 502,
}

// EdgeError is one response the edge writes itself. Targets add, at run time, only Retry-After (429) and
// what every response gets: the response transform, HSTS and CORS headers.
type EdgeError struct {
	Code    string      `json:"code"`
	Status  int         `json:"status"`
	Body    string      `json:"body"`
	Headers []HeaderSet `json:"headers"` // sorted by name
}

// EdgeErrors returns the table of edge responses of a gateway named realm, sorted by code.
func EdgeErrors(realm string) []EdgeError {
	codes := make([]string, 0, len(edgeStatus))
	for c := range edgeStatus {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	out := make([]EdgeError, 0, len(codes))
	for _, c := range codes {
		st := edgeStatus[c]
		body, _ := json.Marshal(struct {
			Status  int    `json:"status"`
			Code    string `json:"code"`
			Message string `json:"message"`
		}{st, c, http.StatusText(st)})
		hs := []HeaderSet{
			{Name: "Cache-Control", Value: "no-store"},
			{Name: "Content-Type", Value: "application/json"},
			{Name: "X-Content-Type-Options", Value: "nosniff"},
		}
		if strings.HasPrefix(c, "JWT_") {
			v := `Bearer realm="` + realm + `"`
			if st == http.StatusForbidden {
				v += `, error="invalid_token"`
			}
			hs = append(hs, HeaderSet{Name: "Www-Authenticate", Value: v})
		}
		sort.Slice(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name })
		out = append(out, EdgeError{Code: c, Status: st, Body: string(body) + "\n", Headers: hs})
	}
	return out
}

// Error returns the edge response for code; an unknown code is answered as UPSTREAM_UNREACHABLE (502).
func (g *Gateway) Error(code string) *EdgeError {
	table := g.Errors
	if len(table) == 0 {
		table = EdgeErrors(g.Name) // an IR deployed before the table was part of it
	}
	for i := range table {
		if table[i].Code == code {
			return &table[i]
		}
	}
	for i := range table {
		if table[i].Code == CodeUpstreamUnreachable {
			return &table[i]
		}
	}
	return &EdgeError{Code: code, Status: http.StatusBadGateway}
}

// PreflightStatus is the status of every CORS preflight answer.
const PreflightStatus = http.StatusNoContent

// Allows reports whether origin may make cross-origin requests.
func (c *CORS) Allows(origin string) bool {
	for _, o := range c.AllowOrigins {
		if o == "*" || o == origin {
			return true
		}
	}
	return false
}

// AllowOriginValue is the Access-Control-Allow-Origin sent to an allowed origin: a literal * for a
// wildcard policy without credentials, else the request's own Origin (browsers refuse * with credentials).
func (c *CORS) AllowOriginValue(origin string) string {
	for _, o := range c.AllowOrigins {
		if o == "*" && !c.AllowCredentials {
			return "*"
		}
	}
	return origin
}

// CORSOwnedHeaders are the response headers the edge owns when the manifest configures CORS: an origin's own
// values are removed before the edge sets its own, so an origin cannot allow an Origin the manifest refuses.
var CORSOwnedHeaders = []string{
	"Access-Control-Allow-Credentials", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
}

// SimpleHeaders are added, with Access-Control-Allow-Origin, to any response to an allowed Origin. Every
// response of a gateway with CORS also gets Vary: Origin.
func (c *CORS) SimpleHeaders() []HeaderSet {
	var h []HeaderSet
	if c.AllowCredentials {
		h = append(h, HeaderSet{Name: "Access-Control-Allow-Credentials", Value: "true"})
	}
	if len(c.ExposeHeaders) > 0 {
		h = append(h, HeaderSet{Name: "Access-Control-Expose-Headers", Value: strings.Join(c.ExposeHeaders, ", ")})
	}
	return h
}

// PreflightHeaders are the headers of the 204 answer to a preflight (OPTIONS with Origin and
// Access-Control-Request-Method). A refused origin gets only Cache-Control: preflights are never cached
// by shared caches, allowed or not.
func (c *CORS) PreflightHeaders(allowed bool) []HeaderSet {
	if !allowed {
		return []HeaderSet{{Name: "Cache-Control", Value: "no-cache"}}
	}
	h := []HeaderSet{{Name: "Access-Control-Allow-Methods", Value: strings.Join(c.AllowMethods, ", ")}}
	if len(c.AllowHeaders) > 0 {
		h = append(h, HeaderSet{Name: "Access-Control-Allow-Headers", Value: strings.Join(c.AllowHeaders, ", ")})
	}
	if c.MaxAge > 0 {
		h = append(h, HeaderSet{Name: "Access-Control-Max-Age", Value: strconv.FormatInt(c.MaxAge.Seconds(), 10)})
	}
	return append(h, HeaderSet{Name: "Cache-Control", Value: "no-cache"})
}

// RouteTransform is the effective transform of one route: the gateway-wide one, then the route's.
type RouteTransform struct {
	Request  HeaderTransform
	Response HeaderTransform
	// RequestIDHeader, when set, receives a fresh request id upstream; KeepClientRequestID keeps a
	// client-sent value instead.
	RequestIDHeader     string
	KeepClientRequestID bool
}

// EffectiveTransform returns the transform every target applies on route r (nil: a request that matched
// no route, which gets the gateway-wide response transform only).
func (g *Gateway) EffectiveTransform(r *Route) RouteTransform {
	t := RouteTransform{Request: g.Transform.Request, Response: g.Transform.Response,
		RequestIDHeader: g.Transform.RequestIDHeader, KeepClientRequestID: g.Transform.KeepClientRequestID}
	if r == nil || r.Transform == nil {
		return t
	}
	t.Request = MergeHeaderTransforms(t.Request, r.Transform.Request)
	t.Response = MergeHeaderTransforms(t.Response, r.Transform.Response)
	if r.Transform.RequestIDHeader != "" {
		t.RequestIDHeader, t.KeepClientRequestID = r.Transform.RequestIDHeader, r.Transform.KeepClientRequestID
	}
	return t
}

// IsTemplateVar reports a template segment that is a variable, "{name}".
func IsTemplateVar(seg string) bool { return len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' }

// StripHeaderNames returns the headers removed from every client request before routing: tenant headers
// and the headers verified claims are forwarded in, so a client can never pose as a tenant or a verified
// subject. Sorted, no duplicates.
func (g *Gateway) StripHeaderNames() []string {
	seen := map[string]bool{}
	var out []string
	add := func(h string) {
		if h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	for _, d := range g.Domains {
		add(d.TenantHeader)
	}
	for _, p := range g.AuthPolicies {
		if p.JWT != nil {
			for _, f := range p.JWT.ForwardClaims {
				add(f.Header)
			}
		}
	}
	sort.Strings(out)
	return out
}

// MergeHeaderTransforms returns the single transform equal to applying first, then second (each removes,
// then sets): a header the second sets or removes is decided by it, otherwise by the first.
func MergeHeaderTransforms(first, second HeaderTransform) HeaderTransform {
	final := map[string]*string{} // nil: removed
	for _, t := range []HeaderTransform{first, second} {
		for _, n := range t.RemoveHeaders {
			final[n] = nil
		}
		for _, s := range t.SetHeaders {
			v := s.Value
			final[s.Name] = &v
		}
	}
	var out HeaderTransform
	names := make([]string, 0, len(final))
	for n := range final {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if v := final[n]; v == nil {
			out.RemoveHeaders = append(out.RemoveHeaders, n)
		} else {
			out.SetHeaders = append(out.SetHeaders, HeaderSet{Name: n, Value: *v})
		}
	}
	return out
}

// IsZero reports a transform that changes nothing.
func (t HeaderTransform) IsZero() bool { return len(t.RemoveHeaders) == 0 && len(t.SetHeaders) == 0 }

// MinHMACKeyBytes is the shortest secret an HMAC algorithm accepts: a key at least as long as the hash
// output (RFC 7518 §3.2). 0 for other algorithms.
func MinHMACKeyBytes(alg string) int {
	switch alg {
	case "HS256":
		return 32
	case "HS384":
		return 48
	case "HS512":
		return 64
	}
	return 0
}

// CheckHMACSecret returns an error when secret, the value of the policy's secret reference, is shorter
// than one of the policy's HMAC algorithms needs. The message names the variable and the lengths, never
// the value.
func CheckHMACSecret(p AuthPolicy, secret string) error {
	if p.JWT == nil || p.JWT.Secret == nil {
		return nil
	}
	for _, alg := range p.JWT.Algorithms {
		if n := MinHMACKeyBytes(alg); n > 0 && len(secret) < n {
			return fmt.Errorf("auth policy %s: secret %s is %d bytes; %s needs at least %d (RFC 7518 §3.2), or every correctly signed token would be refused: set %s to a longer random value (e.g. openssl rand -base64 48)",
				p.Name, p.JWT.Secret.Env, len(secret), alg, n, p.JWT.Secret.Env)
		}
	}
	return nil
}
