// Package fastly renders the IR as one Fastly VCL file (main.vcl): backends with health probes, the path
// normalization, the route chain, JWT checks with Fastly's digest functions, rate limits, transforms, CORS,
// HSTS and failover by restart, so that the service decides every request as the reference gateway does.
//
// It is pure, like every renderer: no network, no clock, no environment. What the VCL needs at run time
// and must not carry (HS secrets, keys fetched from a JWKS) it reads from edge dictionaries the provider
// fills (see Dictionaries). Test mode (Options.Test) renders the VCL the falco engine runs: the clock and the
// client address come from request headers the test runner sets, and the route and pool are reported in
// response headers. Production output never holds them.
package fastly

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
)

// Name is the target name.
const Name = "fastly"

// MaxVCLSize is Fastly's limit for one custom VCL file.
const MaxVCLSize = 1 << 20

// TableThreshold is the number of plain exact and prefix routes (no host, header or method condition) above
// which they are looked up in VCL tables instead of an if-chain: a table lookup per path segment instead of
// one comparison per route.
const TableThreshold = 16

// MaxDotDot is how many ".." segments one path may hold. VCL has no loops, so the resolution is unrolled;
// a path with more is refused (400), failing closed.
const MaxDotDot = 16

// Headers of test mode, set by the test runner on each request and read by the VCL rendered with
// Options.Test; the response headers carry the decision back.
const (
	TestNowHeader      = "Edgegw-Test-Now"       // the case clock, Unix seconds
	TestClientIPHeader = "Edgegw-Test-Client-Ip" // the client address for `key: ip` limits
	TestSchemeHeader   = "Edgegw-Test-Scheme"    // the scheme the client used, "https" or "http"
	TestRouteHeader    = "Edgegw-Test-Route"     // response: the route taken
	TestPoolHeader     = "Edgegw-Test-Pool"      // response: the pool chosen
	TestJWTHeader      = "Edgegw-Test-Jwt"       // response: "verified" when a token's signature verified
	// TestURLHeader carries the upstream URL the VCL decided, path and query byte for byte, to the test
	// runtime, which sends exactly that request line: falco rebuilds the upstream URL from the decoded path.
	TestURLHeader = "Edgegw-Test-Url"
)

// SecretsDictionary is the edge dictionary holding HS secrets, one item per environment variable name.
const SecretsDictionary = "edgegw_secrets"

// SupportedAlgorithms are the JWT algorithms this target verifies with Fastly's digest functions.
var SupportedAlgorithms = []string{"HS256", "RS256", "RS384", "RS512", "ES256"}

// Options change what Render produces.
type Options struct {
	// Test renders the VCL the falco engine runs (see the package documentation). Never deployed.
	Test bool
	// OriginHosts are more hosts (URL authorities) a Location from an origin is mapped back from, besides
	// the origins' own: in test mode, the manifest's hosts of origins the runner moved to loopback URLs,
	// which the reference gateway maps too. Never set for a deployed VCL.
	OriginHosts []string
}

// Renderer renders the fastly target.
type Renderer struct{}

var _ render.Renderer = Renderer{}

func init() { render.Register(Renderer{}) }

// Name implements render.Renderer.
func (Renderer) Name() string { return Name }

// Render implements render.Renderer: main.vcl, service.json, and dictionaries.json when the VCL reads edge
// dictionaries.
func (Renderer) Render(g *ir.Gateway) ([]render.Artifact, error) {
	b, err := RenderVCL(g, Options{})
	if err != nil {
		return nil, err
	}
	svc, err := serviceJSON(g)
	if err != nil {
		return nil, err
	}
	arts := []render.Artifact{
		{Target: Name, Path: "main.vcl", MediaType: "text/x-vcl", Data: b},
		{Target: Name, Path: ServiceFile, MediaType: "application/json", Data: svc},
	}
	dicts, err := dictionariesJSON(g)
	if err != nil {
		return nil, err
	}
	if dicts != nil {
		arts = append(arts, render.Artifact{Target: Name, Path: DictionariesFile, MediaType: "application/json", Data: dicts})
	}
	return arts, nil
}

// Dictionary is an edge dictionary the VCL reads and the provider keeps.
type Dictionary struct {
	Name string
	// Purpose says what the provider puts in it.
	Purpose string
}

// Dictionaries lists the edge dictionaries the VCL of g reads, sorted by name. Fastly declares a service's
// dictionaries as VCL tables ahead of the custom VCL, so the VCL uses them without declaring them.
func Dictionaries(g *ir.Gateway) []Dictionary {
	var out []Dictionary
	secrets := false
	taken := map[string]bool{}
	for _, p := range g.AuthPolicies {
		id := ident(p.Name, taken)
		if p.JWT == nil {
			continue
		}
		if p.JWT.Secret != nil {
			secrets = true
		}
		if p.JWT.JWKS != nil {
			out = append(out, Dictionary{Name: jwksDictionary(id),
				Purpose: fmt.Sprintf("auth policy %s: the keys of %s, one item per key and algorithm, key \"<kid>/<alg>\", value the PEM public key", p.Name, p.JWT.JWKS.URL)})
		}
	}
	if secrets {
		out = append(out, Dictionary{Name: SecretsDictionary, Purpose: "HS secrets: key the environment variable name, value the secret (a private dictionary)"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// DictionaryDeclarations returns the table declarations Fastly generates for the dictionaries of g, for
// tools that read the custom VCL alone (falco lint and simulate).
func DictionaryDeclarations(g *ir.Gateway) string {
	var b strings.Builder
	for _, d := range Dictionaries(g) {
		fmt.Fprintf(&b, "table %s STRING {\n}\n", d.Name)
	}
	return b.String()
}

func jwksDictionary(policyIdent string) string { return "edgegw_jwks_" + policyIdent }

// JWKSDictionary returns the name of the JWKS dictionary of auth policy policy of g (whose items are
// JWKSItems of its key set), or "" when the policy verifies no JWKS.
func JWKSDictionary(g *ir.Gateway, policy string) string {
	taken := map[string]bool{}
	for _, p := range g.AuthPolicies {
		id := ident(p.Name, taken)
		if p.Name == policy && p.JWT != nil && p.JWT.JWKS != nil {
			return jwksDictionary(id)
		}
	}
	return ""
}

// Internal request headers: the state one request carries between subroutines and across restarts. A
// client's own values are removed first, and none of them goes upstream.
const (
	hAction  = "Edgegw-Action"
	hError   = "Edgegw-Error"
	hPath    = "Edgegw-Path"
	hHost    = "Edgegw-Host"
	hDomain  = "Edgegw-Domain"
	hTenant  = "Edgegw-Tenant"
	hCORS    = "Edgegw-Cors-Origin"
	hRoute   = "Edgegw-Route"
	hPool    = "Edgegw-Pool"
	hUp      = "Edgegw-Upstream"
	hQuery   = "Edgegw-Query"
	hCand    = "Edgegw-Candidates"
	hOrigin  = "Edgegw-Origin"
	hSub     = "Edgegw-Sub"
	hClaim   = "Edgegw-Claim-" // + index in the policy's forward_claims
	hRetry   = "Edgegw-Retry-After"
	hSigned  = "Edgegw-Jwt-Verified"
	hPublic  = "Edgegw-Public-Host"
	maxClaim = 8
)

func internalHeaders(test bool) []string {
	h := []string{hAction, hError, hPath, hHost, hDomain, hTenant, hCORS, hRoute, hPool, hUp, hQuery, hCand, hOrigin, hSub, hRetry, hSigned, hPublic}
	for i := 0; i < maxClaim; i++ {
		h = append(h, hClaim+strconv.Itoa(i))
	}
	if !test {
		// A client can never drive the test-mode code: production VCL has none, and drops the headers too.
		h = append(h, TestNowHeader, TestClientIPHeader, TestSchemeHeader, TestURLHeader)
	}
	return h
}

// Edge status codes used between vcl_recv and vcl_error.
const (
	statusEdgeError = 601
	statusRespond   = 602
	statusRedirect  = 603
	statusPreflight = 604
)

const noRoute = 1000000

type renderer struct {
	g        *ir.Gateway
	opt      Options
	w        writer
	backends map[string]string // origin name -> backend identifier
	origins  map[string]*originInfo
	policies map[string]string // policy name -> identifier
	limits   map[string]string // rate limit name -> identifier
	routes   []routeInfo
	tabled   bool
}

type originInfo struct {
	o        *ir.Origin
	backend  string
	host     string
	port     string
	ssl      bool
	basePath string
}

type routeInfo struct {
	idx int // 1-based position in IR order
	r   *ir.Route
	// table is "exact" or "prefix" when the route is looked up in a table instead of the if-chain.
	table string
}

// RenderVCL renders g as Fastly VCL.
func RenderVCL(g *ir.Gateway, opt Options) ([]byte, error) {
	r := &renderer{g: g, opt: opt, backends: map[string]string{}, origins: map[string]*originInfo{},
		policies: map[string]string{}, limits: map[string]string{}}
	if err := r.check(); err != nil {
		return nil, err
	}
	r.emit()
	out := []byte(r.w.b.String())
	if len(out) > MaxVCLSize {
		return nil, fmt.Errorf("render/fastly: the VCL for %d routes is %d bytes, over Fastly's limit of %d bytes for one VCL file: split the gateway into several manifests or shorten route names and regexes",
			len(g.Routes), len(out), MaxVCLSize)
	}
	return out, nil
}

// check refuses what this target cannot express, with where it was written and what to do.
func (r *renderer) check() error {
	g := r.g
	taken := map[string]bool{}
	for i := range g.Origins {
		o := &g.Origins[i]
		u, err := url.Parse(o.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			return fmt.Errorf("render/fastly: %s: origin %s: url %q must be http(s)://host[:port][/path]", o.Pos, o.Name, o.URL)
		}
		oi := &originInfo{o: o, backend: "F_" + ident(o.Name, taken), host: u.Hostname(), port: u.Port(),
			ssl: u.Scheme == "https", basePath: strings.TrimSuffix(u.EscapedPath(), "/")}
		if oi.port == "" {
			oi.port = "80"
			if oi.ssl {
				oi.port = "443"
			}
		}
		r.origins[o.Name] = oi
		r.backends[o.Name] = oi.backend
	}
	for _, p := range g.Pools {
		if len(p.Origins) > 4 {
			return fmt.Errorf("render/fastly: %s: pool %s has %d origins; Fastly restarts a request at most 3 times, so a pool fails over across at most 4 origins: shorten the pool", p.Pos, p.Name, len(p.Origins))
		}
	}
	taken = map[string]bool{}
	for _, p := range g.AuthPolicies {
		r.policies[p.Name] = ident(p.Name, taken)
		if p.JWT == nil {
			return fmt.Errorf("render/fastly: %s: auth policy %s has no jwt block", p.Pos, p.Name)
		}
		var unsupported []string
		for _, a := range p.JWT.Algorithms {
			if !slices.Contains(SupportedAlgorithms, a) {
				unsupported = append(unsupported, a)
			}
		}
		if len(unsupported) > 0 {
			return fmt.Errorf("render/fastly: %s: auth policy %s: the fastly target cannot verify %s (it verifies %s with Fastly's digest functions): remove them from algorithms or verify at the origin",
				p.Pos, p.Name, strings.Join(unsupported, ", "), strings.Join(SupportedAlgorithms, ", "))
		}
		if p.JWT.Secret != nil && p.JWT.Secret.Env == "" {
			return fmt.Errorf("render/fastly: %s: auth policy %s: the secret must be a reference ({env: NAME}); it is kept in the %s edge dictionary, never in the VCL", p.Pos, p.Name, SecretsDictionary)
		}
		if len(p.JWT.ForwardClaims) > maxClaim {
			return fmt.Errorf("render/fastly: %s: auth policy %s forwards %d claims; at most %d", p.Pos, p.Name, len(p.JWT.ForwardClaims), maxClaim)
		}
		for _, kf := range p.JWT.Keys {
			if _, err := jwtverify.ParseKeys([]byte(kf.Data), kf.KID); err != nil {
				return fmt.Errorf("render/fastly: %s: auth policy %s: key %s: %v", p.Pos, p.Name, kf.Path, err)
			}
		}
	}
	taken = map[string]bool{}
	for _, l := range g.RateLimits {
		r.limits[l.Name] = ident(l.Name, taken)
		w := l.Window.D()
		if w%(10e9) != 0 || w < 10e9 || w > 60e9 {
			return fmt.Errorf("render/fastly: %s: rate limit %s: window %s; Fastly counts requests in 10s buckets over at most 60s: use 10s, 20s, 30s, 40s, 50s or 60s", l.Pos, l.Name, l.Window)
		}
	}
	plain := 0
	for i := range g.Routes {
		rt := &g.Routes[i]
		if isPlain(rt) {
			plain++
		}
	}
	r.tabled = plain > TableThreshold
	for i := range g.Routes {
		rt := &g.Routes[i]
		ri := routeInfo{idx: i + 1, r: rt}
		if r.tabled && isPlain(rt) {
			ri.table = string(rt.Match.Kind)
		}
		r.routes = append(r.routes, ri)
	}
	return nil
}

func isPlain(rt *ir.Route) bool {
	return (rt.Match.Kind == ir.PathExact || rt.Match.Kind == ir.PathPrefix) && rt.Match.Conditions() == 0
}

func (r *renderer) emit() {
	w := &r.w
	g := r.g
	w.line("# Fastly VCL for gateway %s, rendered by edgegw from the manifest: change the manifest, not this file.", comment(g.Name))
	if r.opt.Test {
		w.line("# TEST MODE: clock and client address from request headers; never deploy this file.")
	}
	w.line("# Requests are decided as the reference gateway decides them: path normalization, host, CORS")
	w.line("# preflight, route (IR order), auth, rate limit, then respond, redirect or proxy with failover.")
	w.line("")
	r.emitBackends()
	r.emitRateCounters()
	r.emitTables()
	r.emitNormalize()
	r.emitRoute()
	for _, p := range g.AuthPolicies {
		r.emitAuth(p)
	}
	for _, l := range g.RateLimits {
		r.emitLimit(l)
	}
	r.emitRequest()
	r.emitTransform()
	r.emitPick()
	r.emitEdgeError()
	r.emitRespond()
	r.emitDeliverHeaders()
	r.emitVCLSubs()
}

func ms(d ir.Duration) string { return strconv.FormatInt(d.D().Milliseconds(), 10) + "ms" }

func (r *renderer) emitBackends() {
	w := &r.w
	for _, o := range r.g.Origins {
		oi := r.origins[o.Name]
		timeout := o.Timeout
		if timeout <= 0 {
			timeout = ir.Duration(30e9) // the reference gateway's default attempt timeout
		}
		w.line("# origin %s: %s", comment(o.Name), comment(o.URL))
		w.open("backend %s {", oi.backend)
		w.line(".host = %s;", lit(oi.host))
		w.line(".port = %s;", lit(oi.port))
		if oi.ssl {
			w.line(".ssl = true;")
			w.line(".ssl_cert_hostname = %s;", lit(oi.host))
			w.line(".ssl_sni_hostname = %s;", lit(oi.host))
		}
		w.line(".connect_timeout = %s;", ms(timeout))
		w.line(".first_byte_timeout = %s;", ms(timeout))
		w.line(".between_bytes_timeout = %s;", ms(timeout))
		if h := o.Health; h != nil && h.Threshold > 0 && h.Interval > 0 && h.Timeout > 0 {
			host := oi.host
			if o.HostHeader != "" {
				host = o.HostHeader
			}
			// The reference marks an origin down after Threshold consecutive failed probes and up again
			// after one success: a window of Threshold probes of which at least one must succeed.
			w.open(".probe = {")
			w.line(".request = %s %s %s %s;", lit("GET "+oi.basePath+h.Path+" HTTP/1.1"), lit("Host: "+host),
				lit("User-Agent: edgegw-health-check"), lit("Connection: close"))
			w.line(".expected_response = 200;")
			w.line(".interval = %s;", ms(h.Interval))
			w.line(".timeout = %s;", ms(h.Timeout))
			w.line(".window = %d;", h.Threshold)
			w.line(".threshold = 1;")
			w.line(".initial = %d;", h.Threshold)
			w.close("")
		}
		w.close("")
		w.line("")
	}
}

func (r *renderer) emitRateCounters() {
	w := &r.w
	for _, l := range r.g.RateLimits {
		w.line("# rate limit %s: %d requests per %s by %s", comment(l.Name), l.Limit, l.Window, comment(l.Key))
		w.line("ratecounter edgegw_rc_%s {}", r.limits[l.Name])
		w.line("")
	}
}

// emitTables writes the route attribute tables, keyed by the route's position in IR order, and the lookup
// tables of plain exact and prefix routes when there are many.
func (r *renderer) emitTables() {
	w := &r.w
	table := func(name, typ, doc string, rows func(add func(key, value, note string))) {
		var lines []string
		rows(func(key, value, note string) {
			lines = append(lines, fmt.Sprintf("%s: %s, # %s", lit(key), value, comment(note)))
		})
		if len(lines) == 0 {
			return
		}
		w.line("# %s", doc)
		w.open("table %s %s {", name, typ)
		for _, l := range lines {
			w.line("%s", l)
		}
		w.close("")
		w.line("")
	}
	if r.tabled {
		table("edgegw_exact", "INTEGER", "plain exact routes: path -> route", func(add func(string, string, string)) {
			for _, ri := range r.routes {
				if ri.table == string(ir.PathExact) {
					add(ri.r.Match.Path, strconv.Itoa(ri.idx), "route "+ri.r.Name)
				}
			}
		})
		table("edgegw_prefix", "INTEGER", "plain prefix routes: prefix -> route", func(add func(string, string, string)) {
			for _, ri := range r.routes {
				if ri.table == string(ir.PathPrefix) {
					add(ri.r.Match.Path, strconv.Itoa(ri.idx), "route "+ri.r.Name)
				}
			}
		})
	}
	if r.opt.Test {
		table("edgegw_route_name", "STRING", "route -> name (test mode: reported in "+TestRouteHeader+")", func(add func(string, string, string)) {
			for _, ri := range r.routes {
				add(strconv.Itoa(ri.idx), lit(ri.r.Name), "route "+ri.r.Name)
			}
		})
	}
	table("edgegw_route_pool", "STRING", "route -> pool", func(add func(string, string, string)) {
		for _, ri := range r.routes {
			if ri.r.Pool != "" {
				add(strconv.Itoa(ri.idx), lit(ri.r.Pool), "route "+ri.r.Name)
			}
		}
	})
	table("edgegw_route_auth", "STRING", "route -> auth policy", func(add func(string, string, string)) {
		for _, ri := range r.routes {
			if ri.r.Auth != "" {
				add(strconv.Itoa(ri.idx), lit(ri.r.Auth), "route "+ri.r.Name)
			}
		}
	})
	table("edgegw_route_limit", "STRING", "route -> rate limit", func(add func(string, string, string)) {
		for _, ri := range r.routes {
			if ri.r.RateLimit != "" {
				add(strconv.Itoa(ri.idx), lit(ri.r.RateLimit), "route "+ri.r.Name)
			}
		}
	})
	prefixRewrite := func(ri routeInfo) bool {
		rw := ri.r.Rewrite
		return rw != nil && rw.Path == "" && rw.Prefix != "" && ri.r.Match.Kind == ir.PathPrefix
	}
	table("edgegw_rewrite_from", "STRING", "route -> matched prefix, for prefix rewrites", func(add func(string, string, string)) {
		for _, ri := range r.routes {
			if prefixRewrite(ri) {
				add(strconv.Itoa(ri.idx), lit(ri.r.Match.Path), "route "+ri.r.Name)
			}
		}
	})
	table("edgegw_rewrite_to", "STRING", "route -> upstream prefix, for prefix rewrites", func(add func(string, string, string)) {
		for _, ri := range r.routes {
			if prefixRewrite(ri) {
				add(strconv.Itoa(ri.idx), lit(ri.r.Rewrite.Prefix), "route "+ri.r.Name)
			}
		}
	})
}

func (r *renderer) hasTable(name string) bool {
	for _, ri := range r.routes {
		switch name {
		case "edgegw_route_pool":
			if ri.r.Pool != "" {
				return true
			}
		case "edgegw_route_auth":
			if ri.r.Auth != "" {
				return true
			}
		case "edgegw_route_limit":
			if ri.r.RateLimit != "" {
				return true
			}
		case "edgegw_rewrite_from":
			if rw := ri.r.Rewrite; rw != nil && rw.Path == "" && rw.Prefix != "" && ri.r.Match.Kind == ir.PathPrefix {
				return true
			}
		case "edgegw_exact", "edgegw_prefix":
			if ri.table == strings.TrimPrefix(name, "edgegw_") {
				return true
			}
		}
	}
	return false
}

// setError records an edge error code and leaves the subroutine.
func (r *renderer) setError(code string) {
	r.w.line("set req.http.%s = %s;", hError, lit(code))
	r.w.line("return;")
}

// emitNormalize writes manifest/pathnorm's algorithm. req.url is the raw request-target here: nothing has
// decoded or resolved it, so every rule is applied to it explicitly, and any path the rules cannot decide
// in a bounded number of steps is refused.
func (r *renderer) emitNormalize() {
	w := &r.w
	w.line("# Path normalization (manifest/pathnorm): the one path routes match and the origin receives.")
	w.line("# Fails closed: 400 for encoded separators, NUL, control bytes, overlong UTF-8, double encoding,")
	w.line("# path parameters, dot segments above the root, and raw bytes outside ASCII.")
	w.line("# @scope: recv")
	w.open("sub edgegw_normalize_path {")
	w.line("declare local var.p STRING;")
	w.line(`set var.p = regsub(req.url, "\?.*$", "");`)
	w.open(`if (var.p !~ "^/") {`)
	r.setError(ir.CodeBadPath)
	w.close("")
	w.line("# step 2: escapes that are malformed or stand for a byte that is refused")
	w.open(`if (var.p ~ %s) {`, lit(`%([^0-9A-Fa-f]|[0-9A-Fa-f][^0-9A-Fa-f]|[0-9A-Fa-f]?$)`))
	r.setError(ir.CodeBadPath)
	w.close("")
	w.open(`if (var.p ~ %s) {`, lit(`%(2[Ff]|5[Cc]|3[Bb]|[01][0-9A-Fa-f]|7[Ff]|[Cc][01])`))
	r.setError(ir.CodeBadPath)
	w.close("")
	w.line("# raw backslash, path parameter, control bytes; raw bytes outside ASCII are refused rather than re-encoded")
	w.open(`if (var.p ~ %s) {`, lit(`[\\;\x01-\x1f\x7f]|[^\x01-\x7f]`))
	r.setError(ir.CodeBadPath)
	w.close("")
	w.line("# raw bytes that are not pchar are percent-encoded")
	w.open(`if (var.p ~ %s) {`, lit("[ \"<>\\[\\]^`{|}]"))
	for _, c := range " \"<>[]^`{|}" {
		w.line(`set var.p = regsuball(var.p, %s, %s);`, lit(reQuote(string(c))), lit(fmt.Sprintf("%%%02X", c)))
	}
	w.close("")
	w.open("if (var.p ~ %s) {", lit("%"))
	w.line("# escapes of unreserved bytes are decoded")
	for c := 0; c < 128; c++ {
		if !isUnreserved(byte(c)) {
			continue
		}
		w.line(`set var.p = regsuball(var.p, %s, %s);`, lit(hexPattern(byte(c))), lit(string(rune(c))))
	}
	w.line("# the other escapes are written in upper case")
	for _, x := range "abcdef" {
		w.line(`set var.p = regsuball(var.p, %s, %s);`, lit("%"+string(x)+"([0-9A-Fa-f])"), lit("%"+strings.ToUpper(string(x))+`\1`))
		w.line(`set var.p = regsuball(var.p, %s, %s);`, lit("%([0-9A-F])"+string(x)), lit(`%\1`+strings.ToUpper(string(x))))
	}
	w.line("# step 3: double encoding")
	w.open(`if (var.p ~ %s) {`, lit(`%25[0-9A-Fa-f][0-9A-Fa-f]`))
	r.setError(ir.CodeBadPath)
	w.close("")
	w.close("")
	w.line("# step 4: empty and \".\" segments are dropped, then each \"..\" with the segment before it")
	w.line(`set var.p = regsuball(var.p, "/+", "/");`)
	w.line(`set var.p = regsuball(var.p, "/\.(/\.)*(/|$)", "/");`)
	seg := `(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)`
	for i := 0; i < MaxDotDot; i++ {
		w.open(`if (var.p ~ "/\.\.(/|$)") {`)
		w.open(`if (var.p ~ "^/\.\.(/|$)") {`)
		r.setError(ir.CodeBadPath)
		w.close("")
		w.line(`set var.p = regsub(var.p, %s, "\1/\2");`, lit(`^((?:/`+seg+`)*)/`+seg+`/\.\.((?:/.*)?)$`))
		w.line(`set var.p = regsuball(var.p, "//", "/");`)
		w.close("")
	}
	w.open(`if (var.p ~ "/\.\.(/|$)") {`)
	w.line("# more dot-dot segments than this VCL resolves")
	r.setError(ir.CodeBadPath)
	w.close("")
	w.line("set req.http.%s = var.p;", hPath)
	w.close("")
	w.line("")
}

func isUnreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// hexPattern matches the escape of c in either case: 0x4a -> %4[Aa].
func hexPattern(c byte) string {
	hi, lo := "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&0xf]
	p := "%" + string(hi)
	if lo >= 'A' {
		return p + "[" + string(lo) + strings.ToLower(string(lo)) + "]"
	}
	return p + string(lo)
}

// condition is the VCL test of one route's match on the normalized path in var.p.
func (r *renderer) condition(rt *ir.Route) string {
	m := &rt.Match
	var parts []string
	switch m.Kind {
	case ir.PathExact:
		parts = append(parts, "var.p == "+lit(m.Path))
	case ir.PathPrefix:
		if strings.HasSuffix(m.Path, "/") {
			parts = append(parts, "var.p ~ "+lit("^"+reQuote(m.Path)))
		} else {
			parts = append(parts, "var.p ~ "+lit("^"+reQuote(m.Path)+"(/|$)"))
		}
	case ir.PathTemplate:
		parts = append(parts, "var.p ~ "+lit(templateRegex(rt)))
	case ir.PathRegex:
		parts = append(parts, "var.p ~ "+lit("^(?:"+m.Path+")$"))
	}
	if len(m.Methods) > 0 {
		var ms []string
		for _, x := range m.Methods {
			ms = append(ms, "req.method == "+lit(x))
		}
		parts = append(parts, "("+strings.Join(ms, " || ")+")")
	}
	if len(m.Hosts) > 0 {
		var hs []string
		for _, h := range m.Hosts {
			hs = append(hs, hostTest(h))
		}
		parts = append(parts, "("+strings.Join(hs, " || ")+")")
	}
	for _, h := range m.Headers {
		// Any one of the header's values (gateway: h.Values contains); edgegw_route collected them first.
		parts = append(parts, fmt.Sprintf("req.http.%s ~ %s", h.Name, lit("(^|, )"+reQuote(h.Value)+"(, |$)")))
	}
	if len(parts) == 0 {
		return "true"
	}
	return strings.Join(parts, " && ")
}

func templateSegments(rt *ir.Route) []string {
	segs := rt.Match.Segments
	if len(segs) == 0 {
		segs = strings.Split(rt.Match.Path, "/")
	}
	if len(segs) > 0 && segs[0] == "" {
		segs = segs[1:]
	}
	return segs
}

// templateRegex matches a template route; each variable is one capture group, in order.
func templateRegex(rt *ir.Route) string {
	var b strings.Builder
	b.WriteString("^")
	for _, s := range templateSegments(rt) {
		b.WriteString("/")
		if ir.IsTemplateVar(s) {
			b.WriteString("([^/]+)")
		} else {
			b.WriteString(reQuote(s))
		}
	}
	b.WriteString("$")
	return b.String()
}

// hostTest matches the normalized host against a domain host, "*.zone" covering exactly one label.
func hostTest(h string) string {
	if rest, ok := strings.CutPrefix(strings.ToLower(h), "*."); ok {
		return fmt.Sprintf("req.http.%s ~ %s", hHost, lit("^[^.]+\\."+reQuote(rest)+"$"))
	}
	return fmt.Sprintf("req.http.%s == %s", hHost, lit(strings.ToLower(h)))
}

func (r *renderer) emitRoute() {
	w := &r.w
	w.line("# Route selection: the first route in IR order whose match holds.")
	w.line("# @scope: recv")
	w.open("sub edgegw_route {")
	w.line("declare local var.p STRING;")
	w.line("declare local var.best INTEGER;")
	w.line("set var.p = req.http.%s;", hPath)
	w.line("set var.best = %d;", noRoute)
	seen := map[string]bool{}
	for _, ri := range r.routes {
		for _, h := range ri.r.Match.Headers {
			if !seen[h.Name] {
				seen[h.Name] = true
				w.line("# a header sent several times is matched on any of its values")
				w.line("std.collect(req.http.%s);", h.Name)
			}
		}
	}
	if r.hasTable("edgegw_exact") {
		w.line("# plain exact routes")
		w.line("set var.best = table.lookup_integer(edgegw_exact, var.p, %d);", noRoute)
	}
	if r.hasTable("edgegw_prefix") {
		depth := 0
		for _, ri := range r.routes {
			if ri.table == string(ir.PathPrefix) {
				if d := strings.Count(strings.TrimSuffix(ri.r.Match.Path, "/"), "/"); d > depth {
					depth = d
				}
			}
		}
		w.line("# plain prefix routes, the longest prefix first (IR order); a prefix ends at a segment boundary")
		w.line("declare local var.seg STRING;")
		w.line("declare local var.more STRING;")
		w.open("if (var.best == %d) {", noRoute)
		for k := depth; k >= 1; k-- {
			w.open("if (var.best == %d && var.p ~ %s) {", noRoute, lit(fmt.Sprintf("^((?:/[^/]*){%d})(.*)$", k)))
			w.line("set var.seg = re.group.1;")
			w.line("set var.more = re.group.2;")
			w.open(`if (var.more != "") {`)
			w.line(`set var.best = table.lookup_integer(edgegw_prefix, var.seg + "/", %d);`, noRoute)
			w.close("")
			w.open("if (var.best == %d) {", noRoute)
			w.line("set var.best = table.lookup_integer(edgegw_prefix, var.seg, %d);", noRoute)
			w.close("")
			w.close("")
		}
		w.open("if (var.best == %d) {", noRoute)
		w.line(`set var.best = table.lookup_integer(edgegw_prefix, "/", %d);`, noRoute)
		w.close("")
		w.close("")
	}
	first := true
	for _, ri := range r.routes {
		if ri.table != "" {
			continue
		}
		cond := r.condition(ri.r)
		if r.tabled {
			cond = fmt.Sprintf("var.best > %d && %s", ri.idx, cond)
			if strings.HasSuffix(cond, " && true") {
				cond = strings.TrimSuffix(cond, " && true")
			}
		}
		kw := "} elsif"
		if first {
			kw = "if"
			first = false
		} else {
			r.w.indent--
		}
		w.line("# route %s (%s%s)", comment(ri.r.Name), ri.r.Match.Kind, pathNote(ri.r))
		w.open("%s (%s) {", kw, cond)
		w.line("set req.http.%s = %q;", hRoute, strconv.Itoa(ri.idx))
	}
	if !first {
		w.close("")
	}
	if r.tabled {
		w.open("if (!req.http.%s && var.best < %d) {", hRoute, noRoute)
		w.line("set req.http.%s = std.itoa(var.best);", hRoute)
		w.close("")
	}
	w.close("")
	w.line("")
}

func pathNote(rt *ir.Route) string {
	if rt.Match.Path == "" {
		return ""
	}
	return " " + comment(rt.Match.Path)
}

// now is the VCL expression of the current time in Unix seconds.
func (r *renderer) now() string {
	if r.opt.Test {
		return "std.atoi(req.http." + TestNowHeader + ")"
	}
	return "std.atoi(now.sec)"
}

// isSSL is the condition that the client used https: in test mode the runner's header, as the simulator
// serves plain http.
func (r *renderer) isSSL() string {
	if r.opt.Test {
		return "req.http." + TestSchemeHeader + ` == "https"`
	}
	return "req.is_ssl"
}

func (r *renderer) clientIP() string {
	if r.opt.Test {
		return "req.http." + TestClientIPHeader
	}
	return "client.ip"
}

const ws = `[ \t\r\n]*`

// emitAuth writes the JWT check of one policy: jwtverify's order of checks, with the same codes.
func (r *renderer) emitAuth(p ir.AuthPolicy) {
	w := &r.w
	j := p.JWT
	id := r.policies[p.Name]
	w.line("# Auth policy %s: JWT %s", comment(p.Name), strings.Join(j.Algorithms, ", "))
	w.line("# @scope: recv")
	w.open("sub edgegw_auth_%s {", id)
	vars := []string{"tok", "h", "pl", "s", "hdr", "body", "alg", "kid", "signed", "pem"}
	if j.Secret != nil && slices.ContainsFunc(j.Algorithms, func(a string) bool { return strings.HasPrefix(a, "HS") }) {
		vars = append(vars, "mac")
	}
	for _, v := range vars {
		w.line("declare local var.%s STRING;", v)
	}
	w.line("declare local var.found BOOL;")
	w.line("declare local var.ok BOOL;")
	w.line("declare local var.now INTEGER;")
	w.line("declare local var.t INTEGER;")
	w.line("# several Authorization headers become one list, which is not a token (malformed), as in jwtverify")
	w.line("std.collect(req.http.Authorization);")
	w.open("if (!req.http.Authorization) {")
	r.setError(ir.CodeJWTMissing)
	w.close("")
	w.open(`if (req.http.Authorization ~ "^[ \t]*[Bb][Ee][Aa][Rr][Ee][Rr][ \t]*$") {`)
	r.setError(ir.CodeJWTMalformed)
	w.close("")
	w.open(`if (req.http.Authorization !~ "^[Bb][Ee][Aa][Rr][Ee][Rr] (.*)$") {`)
	r.setError(ir.CodeJWTMissing)
	w.close("")
	w.line(`set var.tok = regsub(re.group.1, "^ +", "");`)
	w.open(`if (var.tok == "") {`)
	r.setError(ir.CodeJWTMalformed)
	w.close("")
	w.open("if (std.strlen(var.tok) > %d) {", jwtverify.MaxTokenSize)
	r.setError(ir.CodeJWTTooLarge)
	w.close("")
	w.line("# three parts, each strict base64url (no padding, no stray bits)")
	b64 := `(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?`
	w.open("if (var.tok !~ %s) {", lit(`^(`+b64+`)\.(`+b64+`)\.(`+b64+`)$`))
	r.setError(ir.CodeJWTMalformed)
	w.close("")
	w.line("set var.h = re.group.1;")
	w.line("set var.pl = re.group.2;")
	w.line("set var.s = re.group.3;")
	w.line(`set var.signed = var.h + "." + var.pl;`)
	w.line("set var.hdr = digest.base64url_nopad_decode(var.h);")
	w.open("if (var.hdr !~ %s) {", lit(`^`+ws+`\{[\s\S]*\}`+ws+`$`))
	r.setError(ir.CodeJWTMalformed)
	w.close("")
	w.line("# one of each member, no embedded or referenced keys, no crit or b64")
	for _, m := range []string{"alg", "kid", "typ", "crit", "b64"} {
		w.open("if (var.hdr ~ %s) {", lit(`"`+m+`"`+ws+`:[\s\S]*"`+m+`"`+ws+`:`))
		r.setError(ir.CodeJWTUnsupported)
		w.close("")
	}
	w.open("if (var.hdr ~ %s) {", lit(`"(jwk|jku|x5u|x5c)"`+ws+`:`))
	r.setError(ir.CodeJWTUnsupported)
	w.close("")
	w.open("if (var.hdr !~ %s) {", lit(`"alg"`+ws+`:`))
	r.setError(ir.CodeJWTAlgorithm)
	w.close("")
	w.open("if (var.hdr !~ %s) {", lit(`"alg"`+ws+`:`+ws+`"([^"\\]*)"`))
	r.setError(ir.CodeJWTUnsupported)
	w.close("")
	w.line("set var.alg = re.group.1;")
	var algs []string
	for _, a := range j.Algorithms {
		algs = append(algs, "var.alg == "+lit(a))
	}
	w.open("if (!(%s)) {", strings.Join(algs, " || "))
	r.setError(ir.CodeJWTAlgorithm)
	w.close("")
	w.open("if (var.hdr ~ %s) {", lit(`"(crit|b64)"`+ws+`:`))
	r.setError(ir.CodeJWTUnsupported)
	w.close("")
	w.line(`set var.kid = "";`)
	w.open("if (var.hdr ~ %s) {", lit(`"kid"`+ws+`:`))
	w.open("if (var.hdr !~ %s) {", lit(`"kid"`+ws+`:`+ws+`"([^"\\]*)"`))
	r.setError(ir.CodeJWTUnsupported)
	w.close("")
	w.line("set var.kid = re.group.1;")
	w.close("")
	w.line("set var.found = false;")
	w.line("set var.ok = false;")
	keys := r.staticKeys(p)
	for _, alg := range j.Algorithms {
		w.open("if (var.alg == %s) {", lit(alg))
		if strings.HasPrefix(alg, "HS") {
			if j.Secret != nil {
				w.line("set var.pem = table.lookup(%s, %s, \"\");", SecretsDictionary, lit(j.Secret.Env))
				w.open(`if (var.pem != "") {`)
				w.line("set var.found = true;")
				w.line("set var.mac = digest.hmac_sha256_base64(var.pem, var.signed);")
				w.line(`set var.mac = regsuball(var.mac, "=+$", "");`)
				w.line(`set var.mac = regsuball(var.mac, "\+", "-");`)
				w.line(`set var.mac = regsuball(var.mac, "/", "_");`)
				w.open("if (digest.secure_is_equal(var.mac, var.s)) {")
				w.line("set var.ok = true;")
				w.close("")
				w.close("")
			}
		} else {
			for _, k := range keys {
				if !k.fits(alg) {
					continue
				}
				cond := "!var.ok"
				if k.kid != "" {
					cond += fmt.Sprintf(` && (var.kid == "" || var.kid == %s)`, lit(k.kid))
				}
				w.line("# key %s", comment(k.note))
				w.open("if (%s) {", cond)
				w.line("set var.found = true;")
				w.open("if (%s) {", verifyCall(alg, lit(k.pem)))
				w.line("set var.ok = true;")
				w.close("")
				w.close("")
			}
			if j.JWKS != nil {
				w.line("# keys of %s, kept in an edge dictionary by the provider", comment(j.JWKS.URL))
				w.open(`if (!var.ok && var.kid != "") {`)
				w.line(`set var.pem = table.lookup(%s, var.kid + "/%s", "");`, jwksDictionary(id), alg)
				w.open(`if (var.pem != "") {`)
				w.line("set var.found = true;")
				w.open("if (%s) {", verifyCall(alg, "var.pem"))
				w.line("set var.ok = true;")
				w.close("")
				w.close("")
				w.close("")
			}
		}
		w.close("")
	}
	w.open("if (!var.found) {")
	r.setError(ir.CodeJWTKey)
	w.close("")
	w.open("if (!var.ok) {")
	r.setError(ir.CodeJWTSignature)
	w.close("")
	w.line(`set req.http.%s = "1";`, hSigned)
	w.line("# claims")
	w.line("set var.body = digest.base64url_nopad_decode(var.pl);")
	w.open("if (var.body !~ %s) {", lit(`^`+ws+`\{[\s\S]*\}`+ws+`$`))
	r.setError(ir.CodeJWTUnsupported)
	w.close("")
	for _, m := range []string{"exp", "nbf", "iat", "sub", "iss", "aud"} {
		w.open("if (var.body ~ %s) {", lit(`"`+m+`"`+ws+`:[\s\S]*"`+m+`"`+ws+`:`))
		r.setError(ir.CodeJWTUnsupported)
		w.close("")
	}
	w.line("set var.now = %s;", r.now())
	num := ws + `(-?[0-9]+)(\.[0-9]+)?` + ws + `[,}]`
	w.open("if (var.body !~ %s) {", lit(`"exp"`+ws+`:`))
	r.setError(ir.CodeJWTExpired)
	w.close("")
	w.open("if (var.body !~ %s) {", lit(`"exp"`+ws+`:`+num))
	r.setError(ir.CodeJWTClaims)
	w.close("")
	skew := j.ClockSkew.D().Milliseconds() / 1000
	w.line("set var.t = std.atoi(re.group.1);")
	w.line("set var.t += %d;", skew)
	w.open("if (var.now >= var.t) {")
	r.setError(ir.CodeJWTExpired)
	w.close("")
	for _, m := range []string{"nbf", "iat"} {
		w.open("if (var.body ~ %s) {", lit(`"`+m+`"`+ws+`:`))
		w.open("if (var.body !~ %s) {", lit(`"`+m+`"`+ws+`:`+num))
		r.setError(ir.CodeJWTClaims)
		w.close("")
		w.line("set var.t = std.atoi(re.group.1);")
		w.line("set var.t -= %d;", skew)
		w.open("if (var.now < var.t) {")
		r.setError(ir.CodeJWTNotYetValid)
		w.close("")
		w.close("")
	}
	w.open("if (var.body ~ %s) {", lit(`"sub"`+ws+`:`))
	w.open("if (var.body !~ %s) {", lit(`"sub"`+ws+`:`+ws+`"([^"\\]*)"`))
	r.setError(ir.CodeJWTClaims)
	w.close("")
	w.line("set req.http.%s = re.group.1;", hSub)
	w.close("")
	if j.Issuer != "" {
		w.open("if (var.body !~ %s) {", lit(`"iss"`+ws+`:`+ws+`"`+reQuote(j.Issuer)+`"`))
		r.setError(ir.CodeJWTIssuer)
		w.close("")
	}
	if len(j.Audience) > 0 {
		var q []string
		for _, a := range j.Audience {
			q = append(q, reQuote(a))
		}
		one := `"(?:` + strings.Join(q, "|") + `)"`
		w.open("if (var.body !~ %s) {", lit(`"aud"`+ws+`:`+ws+`(?:`+one+`|\[[^\]]*`+one+`[^\]]*\])`))
		r.setError(ir.CodeJWTAudience)
		w.close("")
	}
	for _, c := range j.RequiredClaims {
		w.open("if (var.body !~ %s || var.body ~ %s) {", lit(`"`+reQuote(c)+`"`+ws+`:`), lit(`"`+reQuote(c)+`"`+ws+`:`+ws+`null`))
		r.setError(ir.CodeJWTClaims)
		w.close("")
	}
	for i, f := range j.ForwardClaims {
		w.line("# forwarded upstream in %s", comment(f.Header))
		if f.Claim == "sub" {
			w.line("set req.http.%s%d = req.http.%s;", hClaim, i, hSub)
			continue
		}
		w.open("if (var.body ~ %s) {", lit(`"`+reQuote(f.Claim)+`"`+ws+`:`+ws+`"([^"\\]*)"`))
		w.line("set req.http.%s%d = re.group.1;", hClaim, i)
		w.close("")
		w.open("elsif (var.body ~ %s) {", lit(`"`+reQuote(f.Claim)+`"`+ws+`:`+ws+`(-?[0-9][0-9.eE+-]*|true|false)`+ws+`[,}]`))
		w.line("set req.http.%s%d = re.group.1;", hClaim, i)
		w.close("")
	}
	w.close("")
	w.line("")
}

func verifyCall(alg, key string) string {
	switch alg {
	case "ES256":
		return fmt.Sprintf("digest.ecdsa_verify(sha256, %s, var.signed, var.s, jwt, url_nopad)", key)
	case "RS384":
		return fmt.Sprintf("digest.rsa_verify(sha384, %s, var.signed, var.s, url_nopad)", key)
	case "RS512":
		return fmt.Sprintf("digest.rsa_verify(sha512, %s, var.signed, var.s, url_nopad)", key)
	}
	return fmt.Sprintf("digest.rsa_verify(sha256, %s, var.signed, var.s, url_nopad)", key)
}

type staticKey struct {
	kid, alg, pem, note string
	rsa                 bool
	p256                bool
}

func (k staticKey) fits(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch {
	case strings.HasPrefix(alg, "RS"):
		return k.rsa
	case alg == "ES256":
		return k.p256
	}
	return false
}

// staticKeys returns the policy's key files as SPKI PEM, the form Fastly's verify functions take.
func (r *renderer) staticKeys(p ir.AuthPolicy) []staticKey {
	var out []staticKey
	for _, kf := range p.JWT.Keys {
		keys, _ := jwtverify.ParseKeys([]byte(kf.Data), kf.KID) // checked in check
		for _, k := range keys {
			sk, ok := toStaticKey(k)
			if !ok {
				continue
			}
			sk.note = kf.Path
			if k.KID != "" {
				sk.note += " (kid " + k.KID + ")"
			}
			out = append(out, sk)
		}
	}
	return out
}

func (r *renderer) emitLimit(l ir.RateLimit) {
	w := &r.w
	id := r.limits[l.Name]
	kind, header := l.KeyKind()
	w.line("# Rate limit %s: %d requests per %s by %s. Fastly's buckets count in 10s steps at every POP", comment(l.Name), l.Limit, l.Window, comment(l.Key))
	w.line("# (Edge Rate Limiting must be enabled on the account); a request without the key counts by client IP.")
	w.line("# @scope: recv")
	w.open("sub edgegw_limit_%s {", id)
	w.line("declare local var.key STRING;")
	ip := `"ip:" + ` + r.clientIP()
	switch kind {
	case "jwt.sub":
		w.open("if (req.http.%s) {", hSub)
		w.line(`set var.key = "sub:" + req.http.%s;`, hSub)
		w.close(" else {")
		w.indent++
		w.line("set var.key = %s;", ip)
		w.close("")
	case "header":
		w.open("if (req.http.%s) {", header)
		w.line(`set var.key = "hdr:" + req.http.%s;`, header)
		w.close(" else {")
		w.indent++
		w.line("set var.key = %s;", ip)
		w.close("")
	default:
		w.line("set var.key = %s;", ip)
	}
	w.line("declare local var.count INTEGER;")
	w.line("set var.count = ratelimit.ratecounter_increment(edgegw_rc_%s, var.key, 1);", id)
	w.open("if (ratecounter.edgegw_rc_%s.bucket.%ds > %d) {", id, l.Window.Seconds(), l.Limit)
	w.line("set req.http.%s = %q;", hRetry, strconv.FormatInt(l.Window.Seconds(), 10))
	r.setError(ir.CodeRateLimit)
	w.close("")
	w.close("")
	w.line("")
}

// emitRequest writes the decision of a first pass: everything before the first origin is picked.
func (r *renderer) emitRequest() {
	w := &r.w
	g := r.g
	w.line("# One request, first pass: normalize, host, CORS preflight, route, auth, limit, then the action.")
	w.line("# @scope: recv")
	w.open("sub edgegw_request {")
	w.line("declare local var.r STRING;")
	w.line("declare local var.host STRING;")
	w.line("call edgegw_normalize_path;")
	w.open("if (req.http.%s) {", hError)
	w.line("return;")
	w.close("")
	w.line("# host: lower case, without port and trailing dot")
	w.line("set req.http.%s = req.http.Host;", hPublic)
	w.line("set var.host = std.tolower(req.http.Host);")
	w.line(`set var.host = regsub(var.host, ":[0-9]*$", "");`)
	w.line(`set var.host = regsub(var.host, "\.$", "");`)
	w.line("set req.http.%s = var.host;", hHost)
	if len(g.Domains) > 0 {
		first := true
		emitDomain := func(i int, d ir.Domain) {
			kw := "} elsif"
			if first {
				kw, first = "if", false
			} else {
				w.indent--
			}
			w.open("%s (%s) {", kw, hostTest(d.Host))
			w.line("set req.http.%s = %q;", hDomain, strconv.Itoa(i))
			if rest, ok := strings.CutPrefix(strings.ToLower(d.Host), "*."); ok {
				_ = rest
				w.line(`set req.http.%s = regsub(var.host, "\..*$", "");`, hTenant)
			}
		}
		for i, d := range g.Domains {
			if !(d.Wildcard || strings.HasPrefix(d.Host, "*.")) {
				emitDomain(i, d)
			}
		}
		for i, d := range g.Domains {
			if d.Wildcard || strings.HasPrefix(d.Host, "*.") {
				emitDomain(i, d)
			}
		}
		w.indent--
		w.open("} else {")
		r.setError(ir.CodeHostUnknown)
		w.close("")
	}
	if c := g.CORS; c != nil {
		w.line("# CORS: an allowed Origin gets the CORS headers; a preflight is answered here")
		var tests []string
		wildcard := false
		for _, o := range c.AllowOrigins {
			if o == "*" {
				wildcard = true
			}
			tests = append(tests, "req.http.Origin == "+lit(o))
		}
		if wildcard {
			w.open("if (req.http.Origin) {")
		} else {
			w.open("if (req.http.Origin && (%s)) {", strings.Join(tests, " || "))
		}
		w.line("set req.http.%s = req.http.Origin;", hCORS)
		w.close("")
		w.open(`if (req.method == "OPTIONS" && req.http.Origin && req.http.Access-Control-Request-Method) {`)
		w.line(`set req.http.%s = "preflight";`, hAction)
		w.line("return;")
		w.close("")
	}
	w.line("call edgegw_route;")
	w.open("if (!req.http.%s) {", hRoute)
	r.setError(ir.CodeNoRoute)
	w.close("")
	w.line("set var.r = req.http.%s;", hRoute)
	if r.hasTable("edgegw_route_auth") {
		w.line("# auth")
		for _, p := range g.AuthPolicies {
			w.open(`if (table.lookup(edgegw_route_auth, var.r, "") == %s) {`, lit(p.Name))
			w.line("call edgegw_auth_%s;", r.policies[p.Name])
			w.close("")
		}
		w.open("if (req.http.%s) {", hError)
		w.line("return;")
		w.close("")
	}
	if r.hasTable("edgegw_route_limit") {
		w.line("# rate limit")
		for _, l := range g.RateLimits {
			w.open(`if (table.lookup(edgegw_route_limit, var.r, "") == %s) {`, lit(l.Name))
			w.line("call edgegw_limit_%s;", r.limits[l.Name])
			w.close("")
		}
		w.open("if (req.http.%s) {", hError)
		w.line("return;")
		w.close("")
	}
	var respond, redirect []string
	for _, ri := range r.routes {
		if ri.r.Respond != nil {
			respond = append(respond, fmt.Sprintf("var.r == %q", strconv.Itoa(ri.idx)))
		}
		if ri.r.Redirect != nil {
			redirect = append(redirect, fmt.Sprintf("var.r == %q", strconv.Itoa(ri.idx)))
		}
	}
	if len(respond) > 0 {
		w.open("if (%s) {", strings.Join(respond, " || "))
		w.line(`set req.http.%s = "respond";`, hAction)
		w.line("return;")
		w.close("")
	}
	if len(redirect) > 0 {
		w.open("if (%s) {", strings.Join(redirect, " || "))
		w.line(`set req.http.%s = "redirect";`, hAction)
		w.line("return;")
		w.close("")
	}
	if !r.hasTable("edgegw_route_pool") {
		w.close("")
		w.line("")
		return
	}
	w.line("# proxy: the upstream path is the normalized path after the route's rewrite; the query goes as sent")
	w.line(`set req.http.%s = "proxy";`, hAction)
	w.line(`set req.http.%s = table.lookup(edgegw_route_pool, var.r, "");`, hPool)
	w.line("set req.http.%s = req.http.%s;", hUp, hPath)
	w.open(`if (req.url ~ "\?") {`)
	w.line(`set req.http.%s = regsub(req.url, "^[^?]*", "");`, hQuery)
	w.close(" else {")
	w.indent++
	w.line(`set req.http.%s = "";`, hQuery)
	w.close("")
	if r.hasTable("edgegw_rewrite_from") {
		w.line("declare local var.from STRING;")
		w.line("declare local var.to STRING;")
		w.line("declare local var.rest STRING;")
		w.line(`set var.from = table.lookup(edgegw_rewrite_from, var.r, "");`)
		w.open(`if (var.from != "") {`)
		w.line("# prefix rewrite: the matched prefix is replaced, with one \"/\" between the parts")
		w.line(`set var.to = table.lookup(edgegw_rewrite_to, var.r, "");`)
		w.line("set var.rest = substr(req.http.%s, std.strlen(var.from));", hPath)
		w.open(`if (var.rest == "") {`)
		w.line("set req.http.%s = var.to;", hUp)
		w.close("")
		w.open(`elsif (var.to ~ "/$" && var.rest ~ "^/") {`)
		w.line(`set req.http.%s = var.to + regsub(var.rest, "^/", "");`, hUp)
		w.close("")
		w.open(`elsif (var.to !~ "/$" && var.rest !~ "^/") {`)
		w.line(`set req.http.%s = var.to + "/" + var.rest;`, hUp)
		w.close("")
		w.open("else {")
		w.line("set req.http.%s = var.to + var.rest;", hUp)
		w.close("")
		w.close("")
	}
	for _, ri := range r.routes {
		rw := ri.r.Rewrite
		if rw == nil || rw.Path == "" {
			continue
		}
		w.line("# route %s: rewrite to %s", comment(ri.r.Name), comment(rw.Path))
		w.open("if (var.r == %q) {", strconv.Itoa(ri.idx))
		if ri.r.Match.Kind == ir.PathTemplate && strings.Contains(rw.Path, "{") {
			repl := rw.Path
			n := 0
			for _, s := range templateSegments(ri.r) {
				if ir.IsTemplateVar(s) {
					n++
					repl = strings.ReplaceAll(repl, s, `\`+strconv.Itoa(n))
				}
			}
			w.line("set req.http.%s = regsub(req.http.%s, %s, %s);", hUp, hPath, lit(templateRegex(ri.r)), lit(repl))
		} else {
			w.line("set req.http.%s = %s;", hUp, lit(rw.Path))
		}
		w.close("")
	}
	w.line("call edgegw_transform;")
	w.line("# X-Forwarded-*, as the reference proxy sets them: the client's own values are replaced")
	w.line("set req.http.X-Forwarded-For = %s;", r.clientIP())
	w.line("set req.http.X-Forwarded-Host = req.http.%s;", hPublic)
	w.open("if (%s) {", r.isSSL())
	w.line(`set req.http.X-Forwarded-Proto = "https";`)
	w.close(" else {")
	w.indent++
	w.line(`set req.http.X-Forwarded-Proto = "http";`)
	w.close("")
	w.line("# the pool's candidates: healthy origins in order, or every origin when none is healthy. An origin that")
	w.line("# cannot be reached or times out always goes to the next (vcl_error); a status only as failover lists.")
	w.line(`set req.http.%s = "";`, hCand)
	for _, p := range g.Pools {
		w.open("if (req.http.%s == %s) {", hPool, lit(p.Name))
		for _, o := range p.Origins {
			w.open("if (backend.%s.healthy) {", r.backends[o])
			w.line(`set req.http.%s = req.http.%s + %s;`, hCand, hCand, lit(o+","))
			w.close("")
		}
		w.open(`if (req.http.%s !~ ".") {`, hCand)
		w.line("set req.http.%s = %s;", hCand, lit(strings.Join(p.Origins, ",")+","))
		w.close("")
		if p.Failover != nil && p.Failover.Breaker != nil {
			w.line("# breaker (%d x %v, %s): not enforced here; VCL keeps no per-origin state between requests", p.Failover.Breaker.Consecutive, p.Failover.Breaker.Status, p.Failover.Breaker.Cooldown)
		}
		w.close("")
	}
	w.close("")
	w.line("")
}

// emitTransform writes the upstream header changes: spoofable headers dropped, the route's effective
// transform, the request id, the tenant and the verified claims, in the reference gateway's order.
func (r *renderer) emitTransform() {
	w := &r.w
	g := r.g
	w.line("# Upstream headers (gateway.transformUpstreamHeader): strip, transform, request id, tenant, claims.")
	w.line("# @scope: recv")
	w.open("sub edgegw_transform {")
	strip := g.StripHeaders
	if strip == nil {
		strip = g.StripHeaderNames()
	}
	for _, h := range strip {
		w.line("unset req.http.%s;", h)
	}
	base := g.EffectiveTransform(nil)
	var own []routeInfo
	for _, ri := range r.routes {
		if ri.r.Transform != nil && ri.r.Pool != "" {
			own = append(own, ri)
		}
	}
	for _, ri := range own {
		w.line("# route %s", comment(ri.r.Name))
		w.open("if (req.http.%s == %q) {", hRoute, strconv.Itoa(ri.idx))
		r.requestTransform(g.EffectiveTransform(ri.r))
		w.line("return;")
		w.close("")
	}
	r.requestTransform(base)
	w.close("")
	w.line("")
}

func (r *renderer) requestTransform(t ir.RouteTransform) {
	w := &r.w
	for _, h := range t.Request.RemoveHeaders {
		w.line("unset req.http.%s;", h)
	}
	for _, h := range t.Request.SetHeaders {
		w.line("set req.http.%s = %s;", h.Name, lit(h.Value))
	}
	if t.RequestIDHeader != "" {
		if t.KeepClientRequestID {
			w.open("if (!req.http.%s) {", t.RequestIDHeader)
			w.line("set req.http.%s = uuid.version4();", t.RequestIDHeader)
			w.close("")
		} else {
			w.line("set req.http.%s = uuid.version4();", t.RequestIDHeader)
		}
	}
	for i, d := range r.g.Domains {
		if d.TenantHeader == "" {
			continue
		}
		w.open("if (req.http.%s == %q && req.http.%s) {", hDomain, strconv.Itoa(i), hTenant)
		w.line("set req.http.%s = req.http.%s;", d.TenantHeader, hTenant)
		w.close("")
	}
	for _, p := range r.g.AuthPolicies {
		if len(p.JWT.ForwardClaims) == 0 {
			continue
		}
		w.open(`if (table.lookup(edgegw_route_auth, req.http.%s, "") == %s) {`, hRoute, lit(p.Name))
		for i, f := range p.JWT.ForwardClaims {
			w.open("if (req.http.%s%d) {", hClaim, i)
			w.line("set req.http.%s = req.http.%s%d;", f.Header, hClaim, i)
			w.close("")
		}
		w.close("")
	}
}

// emitPick writes the choice of the next candidate origin: on the first pass and after each restart.
func (r *renderer) emitPick() {
	w := &r.w
	w.line("# The next candidate origin of the pool; the upstream URL is its base path, the upstream path, the query.")
	w.line("# @scope: recv")
	w.open("sub edgegw_pick {")
	w.line(`set req.http.%s = regsub(req.http.%s, ",.*$", "");`, hOrigin, hCand)
	w.line(`set req.http.%s = regsub(req.http.%s, "^[^,]*,", "");`, hCand, hCand)
	for i, o := range r.g.Origins {
		oi := r.origins[o.Name]
		kw := "elsif"
		if i == 0 {
			kw = "if"
		}
		w.open("%s (req.http.%s == %s) {", kw, hOrigin, lit(o.Name))
		w.line("set req.backend = %s;", oi.backend)
		url := fmt.Sprintf("req.http.%s + req.http.%s", hUp, hQuery)
		if oi.basePath != "" {
			url = lit(oi.basePath) + " + " + url
		}
		if r.opt.Test {
			w.line("set req.http.%s = %s;", TestURLHeader, url)
			w.line(`set req.url = "/";`)
		} else {
			w.line("set req.url = %s;", url)
		}
		host := o.HostHeader
		if host == "" {
			host = oi.host
			if (oi.ssl && oi.port != "443") || (!oi.ssl && oi.port != "80") {
				host += ":" + oi.port
			}
		}
		w.line("set req.http.Host = %s;", lit(host))
		w.close("")
	}
	w.close("")
	w.line("")
}

func (r *renderer) errorTable() []ir.EdgeError {
	if len(r.g.Errors) > 0 {
		return r.g.Errors
	}
	return ir.EdgeErrors(r.g.Name)
}

func (r *renderer) emitEdgeError() {
	w := &r.w
	w.line("# The edge's own answers, byte for byte the IR's error table.")
	w.line("# @scope: error")
	w.open("sub edgegw_edge_error {")
	table := r.errorTable()
	var fallback *ir.EdgeError
	for i, e := range table {
		if e.Code == ir.CodeUpstreamUnreachable {
			fallback = &table[i]
		}
		kw := "elsif"
		if i == 0 {
			kw = "if"
		}
		w.open("%s (req.http.%s == %s) {", kw, hError, lit(e.Code))
		r.synthetic(e)
		w.close("")
	}
	if fallback != nil {
		w.open("else {")
		r.synthetic(*fallback)
		w.close("")
	}
	w.close("")
	w.line("")
}

func (r *renderer) synthetic(e ir.EdgeError) {
	w := &r.w
	w.line("set obj.status = %d;", e.Status)
	w.line("set obj.response = %s;", lit(http.StatusText(e.Status)))
	for _, h := range e.Headers {
		w.line("set obj.http.%s = %s;", h.Name, lit(h.Value))
	}
	if e.Code == ir.CodeRateLimit {
		w.line("set obj.http.Retry-After = req.http.%s;", hRetry)
	}
	w.line("synthetic %s;", heredoc(e.Body))
}

// emitRespond writes the synthetic responses and redirects of routes, and the CORS preflight answer.
func (r *renderer) emitRespond() {
	w := &r.w
	w.line("# Routes answered at the edge.")
	w.line("# @scope: error")
	w.open("sub edgegw_respond {")
	for _, ri := range r.routes {
		rs, rd := ri.r.Respond, ri.r.Redirect
		if rs == nil && rd == nil {
			continue
		}
		w.line("# route %s", comment(ri.r.Name))
		w.open("if (req.http.%s == %q) {", hRoute, strconv.Itoa(ri.idx))
		if rs != nil {
			w.line("set obj.status = %d;", rs.Status)
			w.line("set obj.response = %s;", lit(statusText(rs.Status)))
			ct := false
			for _, h := range rs.Headers {
				w.line("set obj.http.%s = %s;", h.Name, lit(h.Value))
				if strings.EqualFold(h.Name, "Content-Type") {
					ct = true
				}
			}
			if !ct && rs.Body != "" {
				w.line(`set obj.http.Content-Type = "text/plain; charset=utf-8";`)
			}
			w.line("synthetic %s;", heredoc(rs.Body))
		} else {
			w.line("set obj.status = %d;", rd.Status)
			w.line("set obj.response = %s;", lit(statusText(rd.Status)))
			w.line("set obj.http.Location = %s;", lit(rd.Location))
			if rd.KeepQuery {
				sep := "?"
				if strings.Contains(rd.Location, "?") {
					sep = "&"
				}
				w.open(`if (req.url ~ "\?(.+)$") {`)
				w.line("set obj.http.Location = %s + re.group.1;", lit(rd.Location+sep))
				w.close("")
			}
			w.line(`synthetic "";`)
		}
		w.line("return;")
		w.close("")
	}
	w.close("")
	w.line("")
	if c := r.g.CORS; c != nil {
		w.line("# CORS preflight: %d, never cached by shared caches.", ir.PreflightStatus)
		w.line("# @scope: error")
		w.open("sub edgegw_preflight {")
		w.line("set obj.status = %d;", ir.PreflightStatus)
		w.line("set obj.response = %s;", lit(http.StatusText(ir.PreflightStatus)))
		w.open("if (req.http.%s) {", hCORS)
		for _, h := range c.PreflightHeaders(true) {
			w.line("set obj.http.%s = %s;", h.Name, lit(h.Value))
		}
		w.close(" else {")
		w.indent++
		for _, h := range c.PreflightHeaders(false) {
			w.line("set obj.http.%s = %s;", h.Name, lit(h.Value))
		}
		w.close("")
		w.line(`synthetic "";`)
		w.close("")
		w.line("")
	}
}

// emitLocation writes gateway.publicLocation: a Location or Content-Location from an origin never shows
// the origin's host or the upstream path. An absolute URL at an origin's host gets the public scheme and
// host; a path under the route's rewritten prefix is mapped back under the matched prefix, and for a path
// rewrite the exact upstream path is mapped back to the request's path.
func (r *renderer) emitLocation() {
	w := &r.w
	hosts := map[string]bool{}
	var hostList []string
	for _, o := range r.g.Origins {
		oi := r.origins[o.Name]
		for _, h := range []string{hostPort(oi), o.HostHeader} {
			if h != "" && !hosts[strings.ToLower(h)] {
				hosts[strings.ToLower(h)] = true
				hostList = append(hostList, strings.ToLower(h))
			}
		}
	}
	for _, h := range r.opt.OriginHosts {
		if h = strings.ToLower(h); h != "" && !hosts[h] {
			hosts[h] = true
			hostList = append(hostList, h)
		}
	}
	sort.Strings(hostList)
	var pathRewrites []string
	for _, ri := range r.routes {
		if ri.r.Rewrite != nil && ri.r.Rewrite.Path != "" {
			pathRewrites = append(pathRewrites, fmt.Sprintf("req.http.%s == %q", hRoute, strconv.Itoa(ri.idx)))
		}
	}
	w.line("# Location headers from an origin, mapped back to public ones (gateway.publicLocation).")
	w.line("# @scope: deliver")
	w.open("sub edgegw_location {")
	for _, v := range []string{"loc", "abs", "path", "suffix", "from", "to", "rest"} {
		w.line("declare local var.%s STRING;", v)
	}
	w.line("declare local var.mapped BOOL;")
	for _, h := range []string{"Location", "Content-Location"} {
		w.open("if (resp.http.%s) {", h)
		w.line("set var.loc = resp.http.%s;", h)
		w.line(`set var.abs = "";`)
		w.line("set var.mapped = true;")
		w.open(`if (var.loc ~ "^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)(.*)$") {`)
		w.line("set var.rest = re.group.2;")
		if len(hostList) > 0 {
			var tests []string
			for _, hh := range hostList {
				tests = append(tests, "std.tolower(re.group.1) == "+lit(hh))
			}
			w.open("if (%s) {", strings.Join(tests, " || "))
			w.open("if (%s) {", r.isSSL())
			w.line(`set var.abs = "https://" + req.http.%s;`, hPublic)
			w.close(" else {")
			w.indent++
			w.line(`set var.abs = "http://" + req.http.%s;`, hPublic)
			w.close("")
			w.line("set var.loc = var.rest;")
			w.close(" else {")
			w.indent++
			w.line("set var.mapped = false;")
			w.close("")
		} else {
			w.line("set var.mapped = false;")
		}
		w.close("")
		w.open(`if (var.mapped && var.loc ~ "^/" && var.loc !~ "^//") {`)
		w.line(`set var.path = regsub(var.loc, "[?#].*$", "");`)
		w.line(`set var.suffix = regsub(var.loc, "^[^?#]*", "");`)
		if r.hasTable("edgegw_rewrite_from") {
			w.line(`set var.from = table.lookup(edgegw_rewrite_from, req.http.%s, "");`, hRoute)
			w.line(`set var.to = table.lookup(edgegw_rewrite_to, req.http.%s, "");`, hRoute)
			w.open(`if (var.from != "" && std.prefixof(var.path, var.to) && (var.path == var.to || var.to ~ "/$" || substr(var.path, std.strlen(var.to), 1) == "/")) {`)
			w.line("set var.rest = substr(var.path, std.strlen(var.to));")
			w.open(`if (var.rest == "") {`)
			w.line("set var.path = var.from;")
			w.close("")
			w.open(`elsif (var.from ~ "/$" && var.rest ~ "^/") {`)
			w.line(`set var.path = var.from + regsub(var.rest, "^/", "");`)
			w.close("")
			w.open(`elsif (var.from !~ "/$" && var.rest !~ "^/") {`)
			w.line(`set var.path = var.from + "/" + var.rest;`)
			w.close("")
			w.open("else {")
			w.line("set var.path = var.from + var.rest;")
			w.close("")
			w.close("")
		}
		if len(pathRewrites) > 0 {
			w.open("if ((%s) && var.path == req.http.%s) {", strings.Join(pathRewrites, " || "), hUp)
			w.line("set var.path = req.http.%s;", hPath)
			w.close("")
		}
		w.line("set var.loc = var.path + var.suffix;")
		w.close("")
		w.open("if (var.mapped) {")
		w.line("set resp.http.%s = var.abs + var.loc;", h)
		w.close("")
		w.close("")
	}
	w.close("")
	w.line("")
}

// hostPort is the origin's host as a URL authority holds it: with the port unless it is the scheme's.
func hostPort(oi *originInfo) string {
	if (oi.ssl && oi.port == "443") || (!oi.ssl && oi.port == "80") {
		return oi.host
	}
	return oi.host + ":" + oi.port
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "Status " + strconv.Itoa(code)
}

// emitDeliverHeaders writes what every response gets (gateway.responseWriter): the response transform of
// the route (the gateway's when no route matched), HSTS, and CORS.
func (r *renderer) emitDeliverHeaders() {
	w := &r.w
	g := r.g
	r.emitLocation()
	w.line("# Every response, from an origin or the edge: response transform, HSTS, CORS.")
	w.line("# @scope: deliver")
	w.open("sub edgegw_response_headers {")
	w.open(`if (req.http.%s == "proxy" && (resp.http.Location || resp.http.Content-Location)) {`, hAction)
	w.line("call edgegw_location;")
	w.close("")
	if g.CORS != nil {
		w.line("# the edge answers CORS from the manifest: an origin's own CORS headers never reach the client")
		w.open(`if (req.http.%s == "proxy") {`, hAction)
		for _, h := range ir.CORSOwnedHeaders {
			w.line("unset resp.http.%s;", h)
		}
		w.close("")
	}
	resp := func(t ir.HeaderTransform) {
		for _, h := range t.RemoveHeaders {
			w.line("unset resp.http.%s;", h)
		}
		for _, h := range t.SetHeaders {
			w.line("set resp.http.%s = %s;", h.Name, lit(h.Value))
		}
	}
	var own []routeInfo
	for _, ri := range r.routes {
		if ri.r.Transform != nil && !ri.r.Transform.Response.IsZero() {
			own = append(own, ri)
		}
	}
	if len(own) == 0 {
		resp(g.Transform.Response)
	} else {
		for i, ri := range own {
			kw := "} elsif"
			if i == 0 {
				kw = "if"
			} else {
				w.indent--
			}
			w.line("# route %s", comment(ri.r.Name))
			w.open("%s (req.http.%s == %q) {", kw, hRoute, strconv.Itoa(ri.idx))
			resp(g.EffectiveTransform(ri.r).Response)
		}
		w.indent--
		w.open("} else {")
		resp(g.Transform.Response)
		w.close("")
	}
	if g.HSTS != nil {
		w.line("set resp.http.Strict-Transport-Security = %s;", lit(g.HSTS.Header()))
	}
	if c := g.CORS; c != nil {
		w.line(`add resp.http.Vary = "Origin";`)
		w.open("if (req.http.%s) {", hCORS)
		wildcard := false
		for _, o := range c.AllowOrigins {
			if o == "*" && !c.AllowCredentials {
				wildcard = true
			}
		}
		if wildcard {
			w.line(`set resp.http.Access-Control-Allow-Origin = "*";`)
		} else {
			w.line("set resp.http.Access-Control-Allow-Origin = req.http.%s;", hCORS)
		}
		for _, h := range c.SimpleHeaders() {
			w.line("set resp.http.%s = %s;", h.Name, lit(h.Value))
		}
		w.close("")
	}
	if r.opt.Test {
		w.line("# test mode: the decision, for the test runner")
		w.open("if (req.http.%s) {", hRoute)
		w.line(`set resp.http.%s = table.lookup(edgegw_route_name, req.http.%s, "");`, TestRouteHeader, hRoute)
		w.close("")
		w.open("if (req.http.%s) {", hPool)
		w.line("set resp.http.%s = req.http.%s;", TestPoolHeader, hPool)
		w.close("")
		w.open("if (req.http.%s) {", hSigned)
		w.line(`set resp.http.%s = "verified";`, TestJWTHeader)
		w.close("")
	}
	w.close("")
	w.line("")
}

func (r *renderer) emitVCLSubs() {
	w := &r.w
	g := r.g
	internal := internalHeaders(r.opt.Test)

	w.open("sub vcl_recv {")
	w.line("#FASTLY RECV")
	w.open("if (req.restarts == 0) {")
	w.line("# a client never sets the gateway's own state")
	for _, h := range internal {
		w.line("unset req.http.%s;", h)
	}
	w.line("call edgegw_request;")
	w.open("if (req.http.%s) {", hError)
	w.line("error %d;", statusEdgeError)
	w.close("")
	w.open(`if (req.http.%s == "respond") {`, hAction)
	w.line("error %d;", statusRespond)
	w.close("")
	w.open(`if (req.http.%s == "redirect") {`, hAction)
	w.line("error %d;", statusRedirect)
	w.close("")
	w.open(`if (req.http.%s == "preflight") {`, hAction)
	w.line("error %d;", statusPreflight)
	w.close("")
	w.close("")
	w.line("call edgegw_pick;")
	w.line("# an API gateway does not cache: every request goes to the origin")
	w.line("return(pass);")
	w.close("")
	w.line("")

	w.open("sub vcl_hash {")
	w.line("#FASTLY HASH")
	w.line("set req.hash += req.url;")
	w.line("set req.hash += req.http.host;")
	w.line("return(hash);")
	w.close("")
	w.line("")

	w.open("sub vcl_hit {")
	w.line("#FASTLY HIT")
	w.line("return(pass);")
	w.close("")
	w.line("")

	unsetBereq := func() {
		w.line("# the gateway's state stays at the edge")
		for _, h := range internal {
			w.line("unset bereq.http.%s;", h)
		}
		if r.opt.Test {
			w.line("unset bereq.http.%s;", TestNowHeader)
			w.line("unset bereq.http.%s;", TestClientIPHeader)
			w.line("unset bereq.http.%s;", TestSchemeHeader)
		}
	}
	w.open("sub vcl_miss {")
	w.line("#FASTLY MISS")
	unsetBereq()
	w.line("return(fetch);")
	w.close("")
	w.line("")

	w.open("sub vcl_pass {")
	w.line("#FASTLY PASS")
	unsetBereq()
	w.line("return(pass);")
	w.close("")
	w.line("")

	w.open("sub vcl_fetch {")
	w.line("#FASTLY FETCH")
	var fo []string
	for _, p := range g.Pools {
		if p.Failover == nil || len(p.Failover.OnStatus) == 0 {
			continue
		}
		var st []string
		for _, s := range p.Failover.OnStatus {
			st = append(st, "beresp.status == "+strconv.Itoa(s))
		}
		fo = append(fo, fmt.Sprintf("(req.http.%s == %s && (%s))", hPool, lit(p.Name), strings.Join(st, " || ")))
	}
	if len(fo) > 0 {
		w.line("# failover: a listed status from an origin that is not the last candidate tries the next one")
		w.open(`if (req.http.%s ~ "." && (%s)) {`, hCand, strings.Join(fo, " || "))
		w.line("restart;")
		w.close("")
	}
	w.line("set beresp.ttl = 0s;")
	w.line("return(deliver);")
	w.close("")
	w.line("")

	w.open("sub vcl_error {")
	w.line("#FASTLY ERROR")
	w.open("if (obj.status == %d) {", statusEdgeError)
	w.line("call edgegw_edge_error;")
	w.line("return(deliver);")
	w.close("")
	w.open("if (obj.status == %d || obj.status == %d) {", statusRespond, statusRedirect)
	w.line("call edgegw_respond;")
	w.line("return(deliver);")
	w.close("")
	if g.CORS != nil {
		w.open("if (obj.status == %d) {", statusPreflight)
		w.line("call edgegw_preflight;")
		w.line("return(deliver);")
		w.close("")
	}
	w.line("# Fastly's own error while proxying: the origin was unreachable or timed out")
	w.open(`if (req.http.%s == "proxy") {`, hAction)
	w.open(`if (req.http.%s ~ ".") {`, hCand)
	w.line("restart;")
	w.close("")
	w.open(`if (obj.response ~ "(?i)timeout") {`)
	w.line("set req.http.%s = %s;", hError, lit(ir.CodeUpstreamTimeout))
	w.close(" else {")
	w.indent++
	w.line("set req.http.%s = %s;", hError, lit(ir.CodeUpstreamUnreachable))
	w.close("")
	w.line("call edgegw_edge_error;")
	w.line("return(deliver);")
	w.close("")
	w.close("")
	w.line("")

	w.open("sub vcl_deliver {")
	w.line("#FASTLY DELIVER")
	w.line("call edgegw_response_headers;")
	w.line("return(deliver);")
	w.close("")
	w.line("")

	w.open("sub vcl_log {")
	w.line("#FASTLY LOG")
	w.close("")
}
