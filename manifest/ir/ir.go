// Package ir holds the intermediate representation of a gateway: the manifest after validation, with every
// reference resolved, defaults applied and the route order decided once.
//
// Renderers, the reference gateway and providers read the IR and never the manifest. The IR is data only: it
// knows nothing of YAML, files or vendors, and it must not change meaning between targets. Route order is
// final: consumers evaluate Routes in slice order and never re-sort.
//
// The IR marshals to deterministic JSON (slices in a decided order, no Go maps), so the same manifest gives
// byte-identical IR JSON; renderers may rely on that for golden tests and digests.
package ir

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SchemaVersion is the version of the IR's JSON form. Bump it when a field changes meaning.
const SchemaVersion = 1

// Pos is a place in a manifest file, 1-based. A zero Pos means "no position" (a default).
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Gateway is the whole validated gateway.
//
// Its JSON form, the artifact the local target deploys and every digest is taken over, is canonical: it
// carries what a target does and nothing about where it was written. Source positions, the manifest index
// of routes, target addressing, DNS expectations and tests are kept in memory for messages and commands but
// never serialised, so a comment-only edit, a moved line or `-f ./x.yaml` instead of `-f x.yaml` is no change.
type Gateway struct {
	SchemaVersion int          `json:"schema_version"`
	Name          string       `json:"name"`
	Domains       []Domain     `json:"domains"`
	HSTS          *HSTS        `json:"hsts,omitempty"`
	Origins       []Origin     `json:"origins"`
	Pools         []Pool       `json:"pools"`
	AuthPolicies  []AuthPolicy `json:"auth_policies,omitempty"`
	RateLimits    []RateLimit  `json:"rate_limits,omitempty"`
	CORS          *CORS        `json:"cors,omitempty"`
	Transform     Transform    `json:"transform"`
	Routes        []Route      `json:"routes"`
	// StripHeaders are removed from every client request before routing (StripHeaderNames).
	StripHeaders []string `json:"strip_headers,omitempty"`
	// Errors is the table of responses the edge writes itself, by code: the reference gateway and every
	// renderer answer with these bytes.
	Errors  []EdgeError `json:"errors,omitempty"`
	Targets Targets     `json:"-"`
	DNS     *DNS        `json:"-"`
	Tests   []TestCase  `json:"-"`
	// Sections holds where manifest sections were written, by dotted path ("cors", "tls.hsts",
	// "transform", "targets.local"): gateway-wide findings point there. In memory only, like Pos.
	Sections map[string]Pos `json:"-"`
}

// SectionPos returns where a section was written; a zero Pos when unknown.
func (g *Gateway) SectionPos(path string) Pos { return g.Sections[path] }

// WithoutPositions returns a copy of g that knows nothing of where it was written: the serialised IR plus the
// targets' settings, with no positions, manifest indexes, tests or DNS expectations. Rendering it gives the
// canonical artifacts that decide whether anything changed, whatever comments a renderer writes from
// positions.
func (g *Gateway) WithoutPositions() (*Gateway, error) {
	b, err := json.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("ir: %w", err)
	}
	out := &Gateway{}
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("ir: %w", err)
	}
	for _, t := range g.Targets {
		t.Pos = Pos{}
		out.Targets = append(out.Targets, t)
	}
	return out, nil
}

// Domain is one host the gateway answers.
type Domain struct {
	Host string `json:"host"` // lower case; "*.api.example.com" for a wildcard
	Zone string `json:"zone"`
	// Apex is true when Host equals Zone: a CNAME is illegal there (RFC 1034), so the edge needs
	// flattening or ALIAS records.
	Apex     bool `json:"apex,omitempty"`
	Wildcard bool `json:"wildcard,omitempty"`
	// TenantHeader, for a wildcard host, names the request header that receives the first label.
	TenantHeader string `json:"tenant_header,omitempty"`
	Pos          Pos    `json:"-"` // where it was written: messages only, never deployed or digested
}

// HSTS is the Strict-Transport-Security policy sent on every response.
type HSTS struct {
	MaxAge            int64 `json:"max_age"` // seconds
	IncludeSubdomains bool  `json:"include_subdomains,omitempty"`
	Preload           bool  `json:"preload,omitempty"`
}

// Header returns the header value, e.g. "max-age=63072000; includeSubDomains; preload".
func (h HSTS) Header() string {
	v := "max-age=" + strconv.FormatInt(h.MaxAge, 10)
	if h.IncludeSubdomains {
		v += "; includeSubDomains"
	}
	if h.Preload {
		v += "; preload"
	}
	return v
}

// Origin is one upstream.
type Origin struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// HostHeader is sent upstream instead of the origin URL's host when set.
	HostHeader string `json:"host_header,omitempty"`
	// Timeout bounds one upstream attempt; a timeout counts as a connect failure for failover.
	Timeout Duration     `json:"timeout"`
	Health  *HealthCheck `json:"health,omitempty"`
	Pos     Pos          `json:"-"` // where it was written: messages only, never deployed or digested
}

// HealthCheck is an active probe of an origin.
type HealthCheck struct {
	Path      string   `json:"path"`
	Interval  Duration `json:"interval"`
	Timeout   Duration `json:"timeout"`
	Threshold int      `json:"threshold"`
}

// Pool is an ordered list of origins with a failover policy. The first origin is the primary.
type Pool struct {
	Name     string    `json:"name"`
	Origins  []string  `json:"origins"`
	Failover *Failover `json:"failover,omitempty"`
	Pos      Pos       `json:"-"` // where it was written: messages only, never deployed or digested
}

// Failover says when a request moves to the next origin of the pool. Connect failures and timeouts always
// fail over when a Failover is present.
type Failover struct {
	OnStatus []int    `json:"on_status,omitempty"`
	Breaker  *Breaker `json:"breaker,omitempty"`
}

// Breaker opens after Consecutive responses with a listed status from one origin and skips that origin for
// Cooldown.
type Breaker struct {
	Consecutive int      `json:"consecutive"`
	Status      []int    `json:"status"`
	Cooldown    Duration `json:"cooldown"`
}

// AuthPolicy is a named authentication policy.
type AuthPolicy struct {
	Name string `json:"name"`
	JWT  *JWT   `json:"jwt,omitempty"`
	Pos  Pos    `json:"-"` // where it was written: messages only, never deployed or digested
}

// JWT verifies bearer tokens. The algorithm is pinned by configuration, never taken from the token.
type JWT struct {
	Algorithms []string `json:"algorithms"` // e.g. "RS256", "ES256", "HS256", "EdDSA"
	// Secret references the HMAC key (HS*): its value is resolved from the environment, never stored.
	Secret *Value `json:"secret,omitempty"`
	// Keys are static public keys, PEM or JWK files, paths relative to the manifest.
	Keys           []KeyFile         `json:"keys,omitempty"`
	JWKS           *JWKS             `json:"jwks,omitempty"`
	Issuer         string            `json:"issuer,omitempty"`
	Audience       []string          `json:"audience,omitempty"` // any of
	ClockSkew      Duration          `json:"clock_skew"`
	RequiredClaims []string          `json:"required_claims,omitempty"`
	ForwardClaims  []ClaimForwarding `json:"forward_claims,omitempty"` // sorted by claim
}

// KeyFile is a static verification key. Public keys are not secrets, so the IR carries the file's content
// and every consumer verifies with exactly the bytes that were validated.
type KeyFile struct {
	Path string `json:"path"` // as written in the manifest, relative to its directory
	KID  string `json:"kid,omitempty"`
	// Data is the file's content: a PEM public key or a JWK (JSON).
	Data string `json:"data"`
}

// JWKS is a key set fetched over HTTPS and cached by kid.
type JWKS struct {
	URL      string   `json:"url"`
	CacheTTL Duration `json:"cache_ttl"`
}

// ClaimForwarding sends a verified claim upstream in a header.
type ClaimForwarding struct {
	Claim  string `json:"claim"`
	Header string `json:"header"`
}

// RateLimit is a named sliding-window limit.
type RateLimit struct {
	Name string `json:"name"`
	// Key is "jwt.sub", "ip" or "header:<Name>".
	Key    string   `json:"key"`
	Limit  int      `json:"limit"`
	Window Duration `json:"window"`
	// KeyFallback is what a request without the key (no verified sub, no header) is counted by, so that
	// leaving the key out never escapes the limit.
	KeyFallback string `json:"key_fallback,omitempty"`
	Pos         Pos    `json:"-"` // where it was written: messages only, never deployed or digested
}

// KeyKind returns "jwt.sub", "ip" or "header", and for "header" the header name.
func (r RateLimit) KeyKind() (kind, header string) {
	if h, ok := strings.CutPrefix(r.Key, "header:"); ok {
		return "header", h
	}
	return r.Key, ""
}

// CORS is answered at the edge.
type CORS struct {
	AllowOrigins     []string `json:"allow_origins"`
	AllowMethods     []string `json:"allow_methods"`
	AllowHeaders     []string `json:"allow_headers,omitempty"`
	ExposeHeaders    []string `json:"expose_headers,omitempty"`
	AllowCredentials bool     `json:"allow_credentials,omitempty"`
	MaxAge           Duration `json:"max_age"`
}

// Transform changes requests before they go upstream and responses before they reach the client.
type Transform struct {
	Request  HeaderTransform `json:"request"`
	Response HeaderTransform `json:"response"`
	// RequestIDHeader receives a fresh request id; a client-sent value is replaced unless KeepClientRequestID.
	RequestIDHeader     string `json:"request_id_header,omitempty"`
	KeepClientRequestID bool   `json:"keep_client_request_id,omitempty"`
}

// HeaderTransform removes then sets headers. Names are canonical (textproto) form.
type HeaderTransform struct {
	RemoveHeaders []string    `json:"remove_headers,omitempty"` // sorted
	SetHeaders    []HeaderSet `json:"set_headers,omitempty"`    // sorted by name
}

// HeaderSet is one header to set.
type HeaderSet struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PathKind is the match class of a route, in precedence order.
type PathKind string

// Path kinds, in precedence order.
const (
	PathExact    PathKind = "exact"
	PathPrefix   PathKind = "prefix"
	PathTemplate PathKind = "template"
	PathRegex    PathKind = "regex"
	PathFallback PathKind = "fallback"
)

// Rank orders path kinds: exact 0 … fallback 4.
func (k PathKind) Rank() int {
	switch k {
	case PathExact:
		return 0
	case PathPrefix:
		return 1
	case PathTemplate:
		return 2
	case PathRegex:
		return 3
	default:
		return 4
	}
}

// Route is one route, in final precedence order within Gateway.Routes.
type Route struct {
	Name string `json:"name"`
	// Index is the route's position in the manifest (0-based), kept for messages and stable ties.
	Index int   `json:"-"` // in memory only, like Pos
	Match Match `json:"match"`
	// Exactly one of Pool, Respond, Redirect is set.
	Pool      string     `json:"pool,omitempty"`
	Respond   *Respond   `json:"respond,omitempty"`
	Redirect  *Redirect  `json:"redirect,omitempty"`
	Auth      string     `json:"auth,omitempty"`       // AuthPolicy name
	RateLimit string     `json:"rate_limit,omitempty"` // RateLimit name
	Rewrite   *Rewrite   `json:"rewrite,omitempty"`
	Transform *Transform `json:"transform,omitempty"` // applied after the gateway-wide Transform
	Pos       Pos        `json:"-"`                   // where it was written: messages only, never deployed or digested
}

// Match is a route's condition. Every listed condition must hold.
type Match struct {
	Kind PathKind `json:"kind"`
	// Path is the exact path, the prefix, the template or the regex; empty for a fallback. A regex must
	// match the whole normalized path, as if written ^(?:regex)$: every target anchors it.
	Path string `json:"path,omitempty"`
	// Segments is the template split on "/", with "{name}" for variables (template routes only).
	Segments []string `json:"segments,omitempty"`
	// Hosts restricts the route to these domain hosts (lower case, may be wildcards); empty = any.
	Hosts []string `json:"hosts,omitempty"`
	// Headers must all be present with exactly these values (names canonical, sorted by name).
	Headers []HeaderMatch `json:"headers,omitempty"`
	// Methods restricts the route to these methods (upper case, sorted); empty = any.
	Methods []string `json:"methods,omitempty"`
}

// Conditions counts the non-path conditions, used for precedence inside a path kind.
func (m Match) Conditions() int { return len(m.Hosts) + len(m.Headers) + len(m.Methods) }

// HeaderMatch is an exact header value condition.
type HeaderMatch struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Respond is a synthetic response served at the edge.
type Respond struct {
	Status  int         `json:"status"`
	Body    string      `json:"body,omitempty"`
	Headers []HeaderSet `json:"headers,omitempty"`
}

// Redirect answers with a Location.
type Redirect struct {
	Status   int    `json:"status"` // 301, 302, 303, 307 or 308
	Location string `json:"location"`
	// KeepQuery appends the request's query string to Location.
	KeepQuery bool `json:"keep_query,omitempty"`
}

// Rewrite changes the upstream path. Prefix replaces the matched prefix (prefix routes); Path replaces the
// whole path and may use the template's {variables}.
type Rewrite struct {
	Prefix string `json:"prefix,omitempty"`
	Path   string `json:"path,omitempty"`
}

// Target is one configured target: its name, the companions the manifest opted it into, and its own
// settings. Config is decoded and validated by the block the target registered (manifest.RegisterTargetBlock);
// the core never looks inside it, only the target's own packages do.
type Target struct {
	Name       string
	Companions []string
	Config     any
	Pos        Pos
}

// Companioned is implemented by target settings that take `companions:`.
type Companioned interface {
	CompanionList() []string
}

// Targets lists the configured targets, sorted by name.
type Targets []Target

// Names lists the configured targets, sorted.
func (t Targets) Names() []string {
	n := make([]string, len(t))
	for i, x := range t {
		n[i] = x.Name
	}
	return n
}

// Lookup returns the configured target of that name.
func (t Targets) Lookup(name string) (Target, bool) {
	for _, x := range t {
		if x.Name == name {
			return x, true
		}
	}
	return Target{}, false
}

// DNS holds the expectations checked by verify-dns.
type DNS struct {
	MaxTTL   Duration      `json:"max_ttl"`
	Expect   []DNSExpect   `json:"expect,omitempty"` // sorted by host
	CAA      []string      `json:"caa,omitempty"`
	Suppress []Suppression `json:"suppress,omitempty"`
}

// DNSExpect is what one host must resolve to.
type DNSExpect struct {
	Host        string   `json:"host"`
	CNAME       string   `json:"cname,omitempty"`
	A           []string `json:"a,omitempty"`
	AAAA        []string `json:"aaaa,omitempty"`
	FlattenedTo string   `json:"flattened_to,omitempty"` // the host's A/AAAA set must equal this hostname's
}

// Suppression accepts a finding, with the reason recorded.
type Suppression struct {
	ID     string `json:"id"`
	Host   string `json:"host,omitempty"`
	Reason string `json:"reason"`
}

// TestCase is one request and the decision the gateway must take for it, or a sequence of steps that
// share the gateway's state (rate-limit counters, breaker state) and a clock.
type TestCase struct {
	Name string `json:"name"`
	// Request and Expect are the one-request form; a case with Steps has neither.
	Request TestRequest `json:"request"`
	Expect  TestExpect  `json:"expect"`
	Steps   []TestStep  `json:"steps,omitempty"`
	// Origins script what origins answer during the case, by origin name (sorted); an origin not listed
	// answers 200.
	Origins []TestOrigin `json:"origins,omitempty"`
	// Features are the capability features the case needs a target to enforce (providers' feature names);
	// a target that declares it cannot enforce one skips the case.
	Features []string `json:"features,omitempty"`
	Pos      Pos      `json:"pos"`
}

// Sequence returns the case as steps: Steps, or the one-request form as a single step.
func (tc TestCase) Sequence() []TestStep {
	if len(tc.Steps) > 0 {
		return tc.Steps
	}
	return []TestStep{{Request: tc.Request, Expect: tc.Expect, Repeat: 1, Pos: tc.Pos}}
}

// TestStep is one request of a sequence, or Repeat identical ones.
type TestStep struct {
	Request TestRequest `json:"request"`
	// Expect is checked on every repetition; ExpectLast only on the last one.
	Expect     TestExpect  `json:"expect"`
	ExpectLast *TestExpect `json:"expect_last,omitempty"`
	// At is the case clock at this step, from the case start; zero keeps the previous step's clock.
	At     Duration `json:"at,omitempty"`
	Repeat int      `json:"repeat"` // ≥ 1
	Pos    Pos      `json:"pos"`
}

// TestOrigin is the script of one origin during a case.
type TestOrigin struct {
	Name string `json:"name"`
	// Down refuses every connection.
	Down bool `json:"down,omitempty"`
	// Responses are answered in order, one per request received; the last one repeats.
	Responses []TestResponse `json:"responses,omitempty"`
}

// TestResponse is one scripted origin answer. A Delay past the origin's timeout is a timeout.
type TestResponse struct {
	Status  int         `json:"status"`
	Headers []HeaderSet `json:"headers,omitempty"` // sorted by name
	Body    string      `json:"body,omitempty"`
	Delay   Duration    `json:"delay,omitempty"`
}

// TestRequest is the request a test sends.
type TestRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	// Target, when set, is the raw request-target sent instead of the URL's path and query, unchanged.
	Target string `json:"target,omitempty"`
	// Host, when set, is the Host header sent instead of the URL's host, unchanged.
	Host string `json:"host,omitempty"`
	// Headers are sorted by name; one name may appear several times (several values, in order).
	Headers []HeaderSet `json:"headers,omitempty"`
	Body    string      `json:"body,omitempty"`
	// ClientIP is the client's address as the edge sees it (default 192.0.2.1).
	ClientIP string `json:"client_ip,omitempty"`
	// JWT asks the runner to sign a token with these claims and send it as a bearer.
	JWT *TestJWT `json:"jwt,omitempty"`
}

// TestJWT describes a token the test runner signs.
type TestJWT struct {
	Sub string `json:"sub,omitempty"`
	// Exp and Nbf are relative to the step's clock ("+1h", "-5m"); empty = +1h and none.
	Exp    string `json:"exp,omitempty"`
	Nbf    string `json:"nbf,omitempty"`
	Issuer string `json:"iss,omitempty"` // default: the policy's issuer
	// Audience default: the policy's first audience.
	Audience string `json:"aud,omitempty"`
	// Claims are extra claims, as JSON values.
	Claims []Claim `json:"claims,omitempty"` // sorted by name
	// Alg signs with this algorithm instead of the policy's first; "none" in any case sends an unsigned
	// token whose header says alg as written.
	Alg string `json:"alg,omitempty"`
	// Header holds extra protected-header members (kid, jku, x5u, jwk, crit), as JSON values.
	Header []Claim `json:"header,omitempty"` // sorted by name
	// Key is the key that signs: "" the key the target trusts, "untrusted" a key it does not,
	// "public-as-secret" an HMAC over the trusted public key's PEM (algorithm confusion).
	Key string `json:"key,omitempty"`
	// Tamper alters the signed token: "padding", "std-base64", "two-segments", "four-segments",
	// "signature", "oversize".
	Tamper string `json:"tamper,omitempty"`
}

// TestJWT keys and tampering.
const (
	TestKeyUntrusted      = "untrusted"
	TestKeyPublicAsSecret = "public-as-secret"
)

// TestTampers lists the ways a test token may be altered.
var TestTampers = []string{"padding", "std-base64", "two-segments", "four-segments", "signature", "oversize"}

// TokenPlaceholder in a test header value is replaced by the signed token (to send it in an unusual form).
const TokenPlaceholder = "{{token}}"

// Claim is one extra JWT claim with a JSON value.
type Claim struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
}

// TestExpect is the decision a test expects. Zero fields are not checked.
type TestExpect struct {
	Status int `json:"status,omitempty"`
	// StatusIn accepts any of these statuses.
	StatusIn     []int  `json:"status_in,omitempty"`
	Route        string `json:"route,omitempty"`
	Pool         string `json:"pool,omitempty"`
	Origin       string `json:"origin,omitempty"`
	NoOrigin     bool   `json:"no_origin,omitempty"` // no origin received the request
	UpstreamPath string `json:"upstream_path,omitempty"`
	// UpstreamQuery is the raw query the origin received ("" is not checked; see NoUpstreamQuery).
	UpstreamQuery string `json:"upstream_query,omitempty"`
	// Tried are the origins that received the request, in order.
	Tried    []string      `json:"tried,omitempty"`
	Upstream *HeaderExpect `json:"upstream_headers,omitempty"`
	Response *HeaderExpect `json:"headers,omitempty"`
	Body     *string       `json:"body,omitempty"`
}

// IsZero says whether e checks nothing.
func (e TestExpect) IsZero() bool {
	return e.Status == 0 && len(e.StatusIn) == 0 && e.Route == "" && e.Pool == "" && e.Origin == "" && !e.NoOrigin &&
		e.UpstreamPath == "" && e.UpstreamQuery == "" && len(e.Tried) == 0 && e.Upstream == nil && e.Response == nil && e.Body == nil
}

// HeaderExpect checks headers: present (any value), absent, and equal.
type HeaderExpect struct {
	Present []string    `json:"present,omitempty"`
	Absent  []string    `json:"absent,omitempty"`
	Equal   []HeaderSet `json:"equal,omitempty"`
	// NotEqual headers must be present with a value other than the one given.
	NotEqual []HeaderSet `json:"not_equal,omitempty"`
}

// Value is a string written in the manifest either literally or as a reference to an environment variable
// ({env: NAME}). A reference is resolved only at apply time, never stored in the IR, plans or records.
type Value struct {
	Literal string `json:"literal,omitempty"`
	Env     string `json:"env,omitempty"`
}

// String never reveals a resolved value: it shows the literal or the reference.
func (v Value) String() string {
	if v.Env != "" {
		return "{env: " + v.Env + "}"
	}
	return v.Literal
}

// IsZero reports an unset Value.
func (v Value) IsZero() bool { return v.Literal == "" && v.Env == "" }

// Duration is a time.Duration that marshals as Go duration text ("1m30s").
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Seconds returns whole seconds, rounding up a fractional second.
func (d Duration) Seconds() int64 {
	s := time.Duration(d) / time.Second
	if time.Duration(d)%time.Second != 0 {
		s++
	}
	return int64(s)
}

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as text so IR JSON is readable.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads what MarshalJSON wrote.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("ir: duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("ir: duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// Route returns the route with the given name, or nil.
func (g *Gateway) Route(name string) *Route {
	for i := range g.Routes {
		if g.Routes[i].Name == name {
			return &g.Routes[i]
		}
	}
	return nil
}

// Pool returns the pool with the given name, or nil.
func (g *Gateway) Pool(name string) *Pool {
	for i := range g.Pools {
		if g.Pools[i].Name == name {
			return &g.Pools[i]
		}
	}
	return nil
}

// Origin returns the origin with the given name, or nil.
func (g *Gateway) Origin(name string) *Origin {
	for i := range g.Origins {
		if g.Origins[i].Name == name {
			return &g.Origins[i]
		}
	}
	return nil
}

// AuthPolicy returns the auth policy with the given name, or nil.
func (g *Gateway) AuthPolicy(name string) *AuthPolicy {
	for i := range g.AuthPolicies {
		if g.AuthPolicies[i].Name == name {
			return &g.AuthPolicies[i]
		}
	}
	return nil
}

// RateLimit returns the rate limit with the given name, or nil.
func (g *Gateway) RateLimit(name string) *RateLimit {
	for i := range g.RateLimits {
		if g.RateLimits[i].Name == name {
			return &g.RateLimits[i]
		}
	}
	return nil
}

// JSON returns the deterministic, indented JSON form of the IR.
func (g *Gateway) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("ir: marshal: %w", err)
	}
	return append(b, '\n'), nil
}
