// Package manifest owns the edgegw manifest: its YAML form (version 1), strict loading with positions,
// validation with diagnostics a user can act on, and compilation into the IR (package manifest/ir), where
// the route order is decided once.
//
// It knows nothing of networks, SDKs or vendors: target capabilities are checked by package providers on
// the IR. Secrets are referenced by name ({env: NAME}) and never resolved here.
package manifest

import (
	"github.com/edgegw/edgegw/manifest/ir"
)

// Manifest is the YAML document, as written. Field order here is the order of the JSON Schema.
type Manifest struct {
	Version    int                         `yaml:"version" jsonschema:"required,enum=1" jsonschema_description:"manifest format version; only 1 exists"`
	Name       string                      `yaml:"name" jsonschema:"required" jsonschema_description:"the gateway's name (letters, digits, - and _)"`
	Domains    []*Domain                   `yaml:"domains" jsonschema:"required,minItems=1" jsonschema_description:"every host the gateway answers"`
	TLS        *TLS                        `yaml:"tls,omitempty"`
	Origins    map[string]*Origin          `yaml:"origins" jsonschema:"required" jsonschema_description:"upstreams by name"`
	Pools      map[string]*Pool            `yaml:"pools,omitempty" jsonschema_description:"ordered origin lists with failover, by name"`
	Auth       map[string]*AuthPolicy      `yaml:"auth,omitempty" jsonschema_description:"authentication policies by name"`
	RateLimits map[string]*RateLimitPolicy `yaml:"rate_limits,omitempty" jsonschema_description:"sliding-window rate limits by name"`
	CORS       *CORS                       `yaml:"cors,omitempty"`
	Transform  *Transform                  `yaml:"transform,omitempty" jsonschema_description:"gateway-wide request and response transforms"`
	Routes     []*Route                    `yaml:"routes" jsonschema:"required,minItems=1"`
	Targets    TargetBlocks                `yaml:"targets,omitempty" jsonschema_description:"where the gateway deploys; each block is that vendor's addressing only"`
	DNS        *DNS                        `yaml:"dns,omitempty" jsonschema_description:"expectations checked by edgegw verify-dns"`
	Tests      []*TestCase                 `yaml:"tests,omitempty" jsonschema_description:"requests and the decisions the gateway must take, run by edgegw test"`

	src *decoder // where each value was written
}

// Domain is one host.
type Domain struct {
	Host   string  `yaml:"host" jsonschema:"required" jsonschema_description:"host name; *.name for wildcard tenants"`
	Zone   string  `yaml:"zone" jsonschema:"required" jsonschema_description:"the DNS zone that holds the host"`
	Tenant *Tenant `yaml:"tenant,omitempty" jsonschema_description:"wildcard hosts only: where the tenant label goes"`
}

// Tenant says where a wildcard host's first label is sent upstream.
type Tenant struct {
	Header string `yaml:"header" jsonschema:"required"`
}

// TLS settings.
type TLS struct {
	HSTS *HSTS `yaml:"hsts,omitempty"`
}

// HSTS is the Strict-Transport-Security policy.
type HSTS struct {
	MaxAge            int64 `yaml:"max_age" jsonschema:"required,minimum=0" jsonschema_description:"seconds"`
	IncludeSubdomains bool  `yaml:"include_subdomains,omitempty"`
	Preload           bool  `yaml:"preload,omitempty"`
}

// Origin is one upstream.
type Origin struct {
	URL        string       `yaml:"url" jsonschema:"required" jsonschema_description:"http(s)://host[:port][/base]"`
	HostHeader string       `yaml:"host_header,omitempty"`
	Timeout    *Duration    `yaml:"timeout,omitempty" jsonschema_description:"one upstream attempt (default 30s)"`
	Health     *HealthCheck `yaml:"health,omitempty"`
}

// HealthCheck is an active probe.
type HealthCheck struct {
	Path      string    `yaml:"path" jsonschema:"required"`
	Interval  *Duration `yaml:"interval,omitempty" jsonschema_description:"default 10s"`
	Timeout   *Duration `yaml:"timeout,omitempty" jsonschema_description:"default 2s"`
	Threshold int       `yaml:"threshold,omitempty" jsonschema_description:"failures before unhealthy (default 3)"`
}

// Pool is an ordered origin list.
type Pool struct {
	Origins  []string  `yaml:"origins" jsonschema:"required,minItems=1"`
	Failover *Failover `yaml:"failover,omitempty"`
}

// Failover policy.
type Failover struct {
	OnStatus []int    `yaml:"on_status,omitempty" jsonschema_description:"upstream statuses that move the request to the next origin"`
	Breaker  *Breaker `yaml:"breaker,omitempty"`
}

// Breaker policy.
type Breaker struct {
	Consecutive int       `yaml:"consecutive" jsonschema:"required,minimum=1"`
	Status      []int     `yaml:"status,omitempty" jsonschema_description:"statuses that count (default: failover.on_status)"`
	Cooldown    *Duration `yaml:"cooldown,omitempty" jsonschema_description:"default 30s"`
}

// AuthPolicy is a named authentication policy.
type AuthPolicy struct {
	JWT *JWT `yaml:"jwt" jsonschema:"required"`
}

// JWT verification settings.
type JWT struct {
	Algorithms     []string          `yaml:"algorithms" jsonschema:"required,minItems=1"`
	Secret         *SecretRef        `yaml:"secret,omitempty" jsonschema_description:"HS* key, by reference: {env: NAME}"`
	Keys           []*KeyFile        `yaml:"keys,omitempty" jsonschema_description:"static public keys: PEM or JWK files"`
	JWKS           *JWKS             `yaml:"jwks,omitempty"`
	Issuer         string            `yaml:"issuer,omitempty"`
	Audience       []string          `yaml:"audience,omitempty" jsonschema_description:"accepted audiences (any of)"`
	ClockSkew      *Duration         `yaml:"clock_skew,omitempty" jsonschema_description:"default 30s"`
	RequiredClaims []string          `yaml:"required_claims,omitempty"`
	ForwardClaims  map[string]string `yaml:"forward_claims,omitempty" jsonschema_description:"verified claim → upstream header, e.g. {sub: X-User-ID}"`
}

// KeyFile is a static key.
type KeyFile struct {
	File string `yaml:"file" jsonschema:"required" jsonschema_description:"path relative to the manifest"`
	KID  string `yaml:"kid,omitempty"`
}

// JWKS is a key set URL.
type JWKS struct {
	URL      string    `yaml:"url" jsonschema:"required"`
	CacheTTL *Duration `yaml:"cache_ttl,omitempty" jsonschema_description:"default 10m"`
}

// SecretRef names an environment variable that holds a secret. There is no way to write the value itself.
type SecretRef struct {
	Env string `yaml:"env" jsonschema:"required"`
}

// RateLimitPolicy is a sliding-window limit.
type RateLimitPolicy struct {
	Key    string    `yaml:"key" jsonschema:"required" jsonschema_description:"jwt.sub, ip or header:NAME"`
	Limit  int       `yaml:"limit" jsonschema:"required,minimum=1"`
	Window *Duration `yaml:"window" jsonschema:"required"`
}

// CORS policy.
type CORS struct {
	AllowOrigins     []string  `yaml:"allow_origins" jsonschema:"required,minItems=1"`
	AllowMethods     []string  `yaml:"allow_methods,omitempty" jsonschema_description:"default GET, HEAD, POST"`
	AllowHeaders     []string  `yaml:"allow_headers,omitempty"`
	ExposeHeaders    []string  `yaml:"expose_headers,omitempty"`
	AllowCredentials bool      `yaml:"allow_credentials,omitempty"`
	MaxAge           *Duration `yaml:"max_age,omitempty"`
}

// Transform is a request and response transform.
type Transform struct {
	Request  *RequestTransform  `yaml:"request,omitempty"`
	Response *ResponseTransform `yaml:"response,omitempty"`
}

// RequestTransform changes the request before it goes upstream.
type RequestTransform struct {
	RemoveHeaders       []string          `yaml:"remove_headers,omitempty"`
	SetHeaders          map[string]string `yaml:"set_headers,omitempty"`
	RequestID           string            `yaml:"request_id,omitempty" jsonschema_description:"header that receives a fresh request id"`
	KeepClientRequestID bool              `yaml:"keep_client_request_id,omitempty" jsonschema_description:"keep a client-sent request id instead of replacing it"`
}

// ResponseTransform changes the response before it reaches the client.
type ResponseTransform struct {
	RemoveHeaders []string          `yaml:"remove_headers,omitempty"`
	SetHeaders    map[string]string `yaml:"set_headers,omitempty"`
}

// Route is one route.
type Route struct {
	Name      string     `yaml:"name" jsonschema:"required"`
	Match     *Match     `yaml:"match" jsonschema:"required"`
	Pool      string     `yaml:"pool,omitempty"`
	Respond   *Respond   `yaml:"respond,omitempty"`
	Redirect  *Redirect  `yaml:"redirect,omitempty"`
	Auth      string     `yaml:"auth,omitempty" jsonschema_description:"auth policy name"`
	RateLimit string     `yaml:"rate_limit,omitempty" jsonschema_description:"rate-limit policy name"`
	Rewrite   *Rewrite   `yaml:"rewrite,omitempty"`
	Transform *Transform `yaml:"transform,omitempty" jsonschema_description:"applied after the gateway-wide transform"`
}

// Match is a route's condition.
type Match struct {
	Path     *PathMatch        `yaml:"path,omitempty"`
	Hosts    []string          `yaml:"hosts,omitempty"`
	Headers  map[string]string `yaml:"headers,omitempty" jsonschema_description:"exact header values"`
	Methods  []string          `yaml:"methods,omitempty"`
	Fallback bool              `yaml:"fallback,omitempty" jsonschema_description:"matches any path; evaluated last"`
}

// PathMatch has exactly one field set.
type PathMatch struct {
	Exact    string `yaml:"exact,omitempty"`
	Prefix   string `yaml:"prefix,omitempty" jsonschema_description:"segment-aware: /v1 matches /v1 and /v1/…, never /v10"`
	Template string `yaml:"template,omitempty" jsonschema_description:"/v1/users/{id}: {name} matches one non-empty segment"`
	Regex    string `yaml:"regex,omitempty" jsonschema_description:"portable subset, checked for catastrophic backtracking"`
}

// Respond is a synthetic response.
type Respond struct {
	Status  int               `yaml:"status" jsonschema:"required,minimum=100,maximum=599"`
	Body    string            `yaml:"body,omitempty"`
	Headers map[string]string `yaml:"headers,omitempty"`
}

// Redirect answers with a Location.
type Redirect struct {
	To        string `yaml:"to" jsonschema:"required"`
	Status    int    `yaml:"status,omitempty" jsonschema_description:"301, 302, 303, 307 or 308 (default 302)"`
	KeepQuery bool   `yaml:"keep_query,omitempty"`
}

// Rewrite changes the upstream path.
type Rewrite struct {
	Prefix string `yaml:"prefix,omitempty" jsonschema_description:"replaces the matched prefix (prefix routes)"`
	Path   string `yaml:"path,omitempty" jsonschema_description:"replaces the path; may use the template's {variables}"`
}

// DNS expectations.
type DNS struct {
	MaxTTL   *Duration             `yaml:"max_ttl,omitempty" jsonschema_description:"seconds, or a duration such as 5m"`
	Expect   map[string]*DNSExpect `yaml:"expect,omitempty"`
	CAA      []string              `yaml:"caa,omitempty" jsonschema_description:"CAA issuer domains the edge's certificate authority uses"`
	Suppress []*Suppression        `yaml:"suppress,omitempty"`
}

// DNSExpect is what one host must resolve to.
type DNSExpect struct {
	CNAME       string   `yaml:"cname,omitempty" jsonschema_description:"the edge hostname a subdomain must CNAME to"`
	A           []string `yaml:"a,omitempty" jsonschema_description:"the exact IPv4 addresses the host must answer"`
	AAAA        []string `yaml:"aaaa,omitempty" jsonschema_description:"the exact IPv6 addresses the host must answer"`
	FlattenedTo string   `yaml:"flattened_to,omitempty" jsonschema_description:"an apex flattened to this edge hostname: its A/AAAA set must equal the hostname's, each asked of its own zone's authoritative servers"`
}

// Suppression accepts a finding.
type Suppression struct {
	ID     string `yaml:"id" jsonschema:"required"`
	Host   string `yaml:"host,omitempty"`
	Reason string `yaml:"reason" jsonschema:"required"`
}

// TestCase is one test: one request and its expectation, or steps (a sequence that shares gateway state
// and a clock), with optionally scripted origins.
type TestCase struct {
	Name     string                 `yaml:"name" jsonschema:"required"`
	Features []string               `yaml:"features,omitempty" jsonschema_description:"capability features the case needs (edgegw providers names them); a target that cannot enforce one skips the case"`
	Origins  map[string]*TestOrigin `yaml:"origins,omitempty" jsonschema_description:"what each origin answers during the case (an origin not listed answers 200)"`
	Request  *TestRequest           `yaml:"request,omitempty" jsonschema_description:"the one request (or use steps)"`
	Expect   *TestExpect            `yaml:"expect,omitempty"`
	Steps    []*TestStep            `yaml:"steps,omitempty" jsonschema_description:"requests in order, sharing rate-limit and breaker state and a clock"`
}

// TestOrigin scripts one origin: one response, a list consumed in order (the last repeats), or down.
type TestOrigin struct {
	Status    int               `yaml:"status,omitempty" jsonschema_description:"default 200"`
	Headers   map[string]string `yaml:"headers,omitempty"`
	Body      string            `yaml:"body,omitempty"`
	Delay     *Duration         `yaml:"delay,omitempty" jsonschema_description:"before answering; past the origin's timeout it is a timeout"`
	Down      bool              `yaml:"down,omitempty" jsonschema_description:"refuse every connection"`
	Responses []*TestResponse   `yaml:"responses,omitempty" jsonschema_description:"answers in order, one per request; the last repeats"`
}

// TestResponse is one scripted origin answer.
type TestResponse struct {
	Status  int               `yaml:"status,omitempty" jsonschema_description:"default 200"`
	Headers map[string]string `yaml:"headers,omitempty"`
	Body    string            `yaml:"body,omitempty"`
	Delay   *Duration         `yaml:"delay,omitempty"`
}

// TestStep is one request of a sequence, or repeat identical ones.
type TestStep struct {
	At         *Duration    `yaml:"at,omitempty" jsonschema_description:"the clock at this step, from the case start (default: the previous step's)"`
	Repeat     int          `yaml:"repeat,omitempty" jsonschema:"minimum=1" jsonschema_description:"send the request this many times (default 1)"`
	Request    *TestRequest `yaml:"request" jsonschema:"required"`
	Expect     *TestExpect  `yaml:"expect,omitempty" jsonschema_description:"checked on every repetition"`
	ExpectLast *TestExpect  `yaml:"expect_last,omitempty" jsonschema_description:"checked on the last repetition only"`
}

// TestRequest is the request a test sends.
type TestRequest struct {
	Method       string              `yaml:"method,omitempty" jsonschema_description:"default GET"`
	URL          string              `yaml:"url" jsonschema:"required"`
	Target       string              `yaml:"target,omitempty" jsonschema_description:"raw request-target sent unchanged instead of the URL's path and query, e.g. /a/%2e%2e/b"`
	Host         string              `yaml:"host,omitempty" jsonschema_description:"Host header sent unchanged instead of the URL's host (not checked against domains: tests unknown hosts, ports, case, a trailing dot)"`
	Headers      map[string]string   `yaml:"headers,omitempty" jsonschema_description:"{{token}} in a value is replaced by the jwt: token"`
	HeaderValues map[string][]string `yaml:"header_values,omitempty" jsonschema_description:"several values of one header, sent as separate lines in order"`
	Body         string              `yaml:"body,omitempty"`
	ClientIP     string              `yaml:"client_ip,omitempty" jsonschema_description:"the client address the edge sees (default 192.0.2.1)"`
	JWT          *TestJWT            `yaml:"jwt,omitempty" jsonschema_description:"sign a token with these claims and send it as a bearer"`
}

// TestJWT is a token for the runner to sign.
type TestJWT struct {
	Sub    string         `yaml:"sub,omitempty"`
	Exp    string         `yaml:"exp,omitempty" jsonschema_description:"relative to the step's clock: +1h (default), -5m"`
	Nbf    string         `yaml:"nbf,omitempty" jsonschema_description:"relative: -1m, +10m"`
	Issuer string         `yaml:"iss,omitempty"`
	Aud    string         `yaml:"aud,omitempty"`
	Claims map[string]any `yaml:"claims,omitempty"`
	Alg    string         `yaml:"alg,omitempty" jsonschema_description:"sign with this algorithm; none/None/NONE send an unsigned token"`
	Header map[string]any `yaml:"header,omitempty" jsonschema_description:"extra protected-header members: kid, jku, x5u, jwk, crit"`
	Key    string         `yaml:"key,omitempty" jsonschema:"enum=untrusted,enum=public-as-secret" jsonschema_description:"untrusted: a key the gateway does not trust; public-as-secret: HMAC with the trusted public key's PEM"`
	Tamper string         `yaml:"tamper,omitempty" jsonschema:"enum=padding,enum=std-base64,enum=two-segments,enum=four-segments,enum=signature,enum=oversize"`
}

// TestExpect is the expected decision.
type TestExpect struct {
	Status          int           `yaml:"status,omitempty"`
	StatusIn        []int         `yaml:"status_in,omitempty" jsonschema_description:"any of these statuses"`
	Route           string        `yaml:"route,omitempty"`
	Pool            string        `yaml:"pool,omitempty"`
	Origin          string        `yaml:"origin,omitempty" jsonschema_description:"the origin that received the request last"`
	NoOrigin        bool          `yaml:"no_origin,omitempty" jsonschema_description:"no origin received the request"`
	Tried           []string      `yaml:"tried,omitempty" jsonschema_description:"the origins that received the request, in order"`
	UpstreamPath    string        `yaml:"upstream_path,omitempty"`
	UpstreamQuery   string        `yaml:"upstream_query,omitempty" jsonschema_description:"the raw query the origin received"`
	UpstreamHeaders *HeaderExpect `yaml:"upstream_headers,omitempty"`
	Headers         *HeaderExpect `yaml:"headers,omitempty" jsonschema_description:"response headers"`
	Body            *string       `yaml:"body,omitempty"`
}

// HeaderExpect checks headers.
type HeaderExpect struct {
	Present []string          `yaml:"present,omitempty"`
	Absent  []string          `yaml:"absent,omitempty"`
	Equal   map[string]string `yaml:"equal,omitempty"`
	// NotEqual holds headers that must be present with another value (a client-sent request id replaced).
	NotEqual map[string]string `yaml:"not_equal,omitempty" jsonschema_description:"present, with a value other than this"`
}

// Duration is written as a Go duration ("10s", "1m30s") or a whole number of seconds.
type Duration struct {
	ir.Duration
}
