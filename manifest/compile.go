package manifest

import (
	"fmt"
	"net/netip"
	"net/textproto"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/manifest/pathnorm"
)

// Compile validates a parsed manifest and builds the IR. It returns every diagnostic it can find; the IR is
// nil when any of them is an error.
func Compile(m *Manifest, opts LoadOptions) (*ir.Gateway, Diagnostics) {
	c := &compiler{m: m, src: m.src, opts: opts}
	if c.src == nil {
		c.src = newDecoder("manifest")
	}
	g := c.compile()
	if c.diags.HasErrors() {
		return nil, c.diags
	}
	return g, c.diags
}

type compiler struct {
	m     *Manifest
	src   *decoder
	opts  LoadOptions
	diags Diagnostics
	g     *ir.Gateway

	routeByName map[string]*ir.Route
	usedPools   map[string]bool
	usedAuth    map[string]bool
	usedLimits  map[string]bool
	usedOrigins map[string]bool
	// unresolved holds the kinds of reference ("pool", "origin", …) with at least one that names nothing, or
	// that could not be decoded: what is unused of that kind is unknown until the reference is fixed, so no
	// unused warning follows from a typo.
	unresolved map[string]bool
	// declaredRoutes holds every route name written, compiled or not: a test naming a route that has its
	// own error is not a second error.
	declaredRoutes map[string]bool
	unnamedRoute   bool
	hostMissing    bool // a domain without a host (its own error): which hosts the gateway serves is not known
}

func (c *compiler) errorAt(path, code, detail, format string, args ...any) {
	if c.src.Failed(path) {
		return
	}
	c.diags = append(c.diags, Diagnostic{Severity: SeverityError, Code: code, Summary: fmt.Sprintf(format, args...), Detail: detail, Range: c.src.At(path)})
}

func (c *compiler) errorAtKey(path, code, detail, format string, args ...any) {
	if c.src.Failed(path) {
		return
	}
	c.diags = append(c.diags, Diagnostic{Severity: SeverityError, Code: code, Summary: fmt.Sprintf(format, args...), Detail: detail, Range: c.src.KeyAt(path)})
}

// requiredAt reports a required field missing from parent, unless one of the fields was written with a
// misspelt key: the unknown key, with its suggestion, is then the one problem to report.
func (c *compiler) requiredAt(parent string, fields []string, detail, format string, args ...any) {
	for _, f := range fields {
		if c.src.Failed(parent + "." + f) {
			return
		}
	}
	c.errorAt(parent, CodeRequired, detail, format, args...)
}

func (c *compiler) warnAtKey(path, code, detail, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Severity: SeverityWarning, Code: code, Summary: fmt.Sprintf(format, args...), Detail: detail, Range: c.src.KeyAt(path)})
}

func (c *compiler) pos(path string) ir.Pos { return c.src.KeyAt(path).Pos() }

func (c *compiler) compile() *ir.Gateway {
	m := c.m
	c.g = &ir.Gateway{SchemaVersion: ir.SchemaVersion, Name: m.Name}
	c.usedPools, c.usedAuth, c.usedLimits, c.usedOrigins = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	c.unresolved, c.declaredRoutes = map[string]bool{}, map[string]bool{}
	if m.Version != 1 {
		if m.Version == 0 {
			c.errorAt("version", CodeRequired, "add `version: 1` at the top of the file", "version is missing")
		} else {
			c.errorAt("version", CodeVersion, "this edgegw reads manifest version 1; upgrade edgegw or write version: 1", "unsupported manifest version %d", m.Version)
		}
	}
	if m.Name == "" {
		c.errorAt("name", CodeRequired, "add `name: my-gateway`", "name is missing")
	} else {
		c.checkName("name", m.Name, "the gateway")
	}
	c.compileDomains()
	if m.TLS != nil && m.TLS.HSTS != nil {
		h := m.TLS.HSTS
		if h.MaxAge < 0 {
			c.errorAt("tls.hsts.max_age", CodeInvalidValue, "", "max_age must not be negative")
		}
		if h.Preload && (h.MaxAge < 31536000 || !h.IncludeSubdomains) {
			c.errorAt("tls.hsts.preload", CodeInvalidValue, "the HSTS preload list requires max_age ≥ 31536000 (one year) and include_subdomains: true",
				"preload needs max_age of at least one year and include_subdomains")
		}
		c.g.HSTS = &ir.HSTS{MaxAge: h.MaxAge, IncludeSubdomains: h.IncludeSubdomains, Preload: h.Preload}
	}
	c.compileOrigins()
	c.compilePools()
	c.compileAuth()
	c.compileRateLimits()
	c.compileCORS()
	if m.Transform != nil {
		c.g.Transform = c.compileTransform("transform", m.Transform)
	}
	c.compileRoutes()
	c.compileTargets()
	c.compileDNS()
	c.compileTests()
	c.checkSecrets()
	c.checkUnused()
	c.g.StripHeaders = c.g.StripHeaderNames()
	c.g.Errors = ir.EdgeErrors(c.g.Name)
	c.g.Sections = map[string]ir.Pos{}
	for _, sec := range []string{"tls.hsts", "cors", "transform", "routes", "targets"} {
		if p := c.pos(sec); p.Line > 0 {
			c.g.Sections[sec] = p
		}
	}
	for _, t := range c.g.Targets.Names() {
		if p := c.pos("targets." + t); p.Line > 0 {
			c.g.Sections["targets."+t] = p
		}
	}
	return c.g
}

var nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// checkName keeps names portable: every target turns them into identifiers (VCL subroutine names, Azure
// rule names, GCP resource names).
func (c *compiler) checkName(path, name, what string) {
	if len(name) > MaxNameBytes {
		c.errorAt(path, CodeLimit, fmt.Sprintf("names are at most %d bytes so every target can use them as identifiers", MaxNameBytes), "%s name %q is too long", what, name)
		return
	}
	if !nameRE.MatchString(name) {
		c.errorAtKey(path, CodeBadName, "start with a letter; use letters, digits, - and _ only (every target turns names into identifiers)", "%s name %q is not a valid name", what, name)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var labelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func validHostname(h string) bool {
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if !labelRE.MatchString(l) {
			return false
		}
	}
	return true
}

func (c *compiler) compileDomains() {
	m := c.m
	c.checkCount("domains", len(m.Domains), 1, MaxDomains, "list every host the gateway answers, e.g. domains: [{host: api.example.com, zone: example.com}]", limitFixes["domains"])
	seen := map[string]string{}
	for i, d := range m.Domains {
		p := fmt.Sprintf("domains[%d]", i)
		if d == nil {
			c.errorAt(p, CodeRequired, "", "empty domain entry")
			continue
		}
		host, zone := strings.ToLower(strings.TrimSuffix(d.Host, ".")), strings.ToLower(strings.TrimSuffix(d.Zone, "."))
		ok := true
		wildcard := strings.HasPrefix(host, "*.")
		bare := strings.TrimPrefix(host, "*.")
		switch {
		case d.Host == "":
			c.hostMissing = true
			c.errorAt(p+".host", CodeRequired, "", "domain host is missing")
			ok = false
		case strings.Contains(bare, "*") || !validHostname(bare):
			c.errorAt(p+".host", CodeDomain, "a host is a DNS name such as api.example.com; a wildcard is only *. in front of it", "%q is not a valid host", d.Host)
			ok = false
		}
		switch {
		case d.Zone == "":
			c.errorAt(p+".zone", CodeRequired, "name the DNS zone that holds the host, e.g. zone: example.com", "domain zone is missing")
			ok = false
		case !validHostname(zone):
			c.errorAt(p+".zone", CodeDomain, "", "%q is not a valid zone", d.Zone)
			ok = false
		}
		if ok && bare != zone && !strings.HasSuffix(bare, "."+zone) {
			c.errorAt(p+".zone", CodeDomain, "the zone must be the host itself (an apex) or one of its parent domains", "host %q is not in zone %q", host, zone)
		}
		if ok && wildcard && bare == zone {
			// "*.example.com" with zone example.com is fine: the wildcard sits below the apex.
		}
		if d.Tenant != nil {
			if !wildcard {
				c.errorAt(p+".tenant", CodeInvalidValue, "a tenant comes from the first label of a wildcard host: write host: \"*."+bare+"\"", "tenant is only valid on a wildcard host")
			} else if !validHeaderName(d.Tenant.Header) {
				c.errorAt(p+".tenant.header", CodeInvalidValue, "a header name is letters, digits and -", "%q is not a valid header name", d.Tenant.Header)
			}
		}
		if prev, dup := seen[host]; dup {
			c.errorAt(p+".host", CodeDuplicateName, "each host appears once; "+prev+" already lists it", "duplicate host %q", host)
			continue
		}
		if !ok {
			continue
		}
		seen[host] = p
		dom := ir.Domain{Host: host, Zone: zone, Apex: host == zone, Wildcard: wildcard, Pos: c.pos(p)}
		if d.Tenant != nil && wildcard {
			dom.TenantHeader = textproto.CanonicalMIMEHeaderKey(d.Tenant.Header)
		}
		c.g.Domains = append(c.g.Domains, dom)
	}
}

// servesHost reports whether host (concrete or wildcard as written in a route) is answered by a domain.
func (c *compiler) servesHost(host string) bool {
	for _, d := range c.g.Domains {
		if d.Host == host {
			return true
		}
		if d.Wildcard && !strings.HasPrefix(host, "*.") {
			suffix := strings.TrimPrefix(d.Host, "*")
			if strings.HasSuffix(host, suffix) && !strings.Contains(strings.TrimSuffix(host, suffix), ".") && len(host) > len(suffix) {
				return true
			}
		}
	}
	return false
}

func (c *compiler) hostNames() []string {
	var n []string
	for _, d := range c.g.Domains {
		n = append(n, d.Host)
	}
	return n
}

// checkCount reports a section with fewer than minimum entries (fix: how to add one) or more than the
// manifest limit (fix: how to stay under it), and says whether the count is within bounds.
func (c *compiler) checkCount(path string, n, minimum, limit int, addFix, limitFix string) bool {
	switch {
	case n < minimum:
		c.errorAt(path, CodeRequired, addFix, "%s is missing or empty", path)
		return false
	case n > limit:
		c.errorAt(path, CodeLimit, limitFix, "%d %s; the limit is %d", n, path, limit)
		return false
	}
	return true
}

func durOr(d *Duration, def time.Duration) ir.Duration {
	if d == nil {
		return ir.Duration(def)
	}
	return d.Duration
}

func (c *compiler) compileOrigins() {
	m := c.m
	c.checkCount("origins", len(m.Origins), 1, MaxOrigins, "define at least one upstream, e.g. origins: {primary: {url: https://api-origin.internal}}", "")
	for _, name := range sortedKeys(m.Origins) {
		o := m.Origins[name]
		p := "origins." + name
		c.checkName(p, name, "origin")
		if o == nil {
			c.errorAt(p, CodeRequired, "", "origin %q is empty: it needs a url", name)
			continue
		}
		if o.URL == "" {
			c.requiredAt(p, []string{"url"}, "add url: https://host", "origin %q has no url", name)
		} else if u, err := url.Parse(o.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.errorAt(p+".url", CodeInvalidValue, "write an absolute http:// or https:// URL, e.g. https://api-origin.internal", "origin %q: %q is not an http(s) URL", name, o.URL)
		} else if u.User != nil {
			c.errorAt(p+".url", CodeSecretLiteral, "credentials in a URL end up in logs and artifacts; authenticate the origin with a header set from the environment instead", "origin %q: the URL carries credentials", name)
		} else if u.RawQuery != "" || u.Fragment != "" {
			c.errorAt(p+".url", CodeInvalidValue, "an origin URL is scheme://host[:port][/base-path]", "origin %q: the URL has a query or fragment", name)
		}
		org := ir.Origin{Name: name, URL: strings.TrimSuffix(o.URL, "/"), HostHeader: o.HostHeader, Timeout: durOr(o.Timeout, 30*time.Second), Pos: c.pos(p)}
		if o.Health != nil {
			h := o.Health
			if !strings.HasPrefix(h.Path, "/") {
				c.errorAt(p+".health.path", CodeInvalidValue, "a health path starts with /, e.g. /health", "origin %q: health path %q must start with /", name, h.Path)
			}
			hc := &ir.HealthCheck{Path: h.Path, Interval: durOr(h.Interval, 10*time.Second), Timeout: durOr(h.Timeout, 2*time.Second), Threshold: h.Threshold}
			if hc.Threshold == 0 {
				hc.Threshold = 3
			}
			if hc.Threshold < 0 {
				c.errorAt(p+".health.threshold", CodeInvalidValue, "", "threshold must be positive")
			}
			if hc.Timeout >= hc.Interval {
				c.errorAt(p+".health.timeout", CodeInvalidValue, "make the probe timeout shorter than its interval", "health timeout %s is not shorter than interval %s", hc.Timeout, hc.Interval)
			}
			org.Health = hc
		}
		if org.Timeout <= 0 {
			c.errorAt(p+".timeout", CodeInvalidValue, "", "origin timeout must be positive")
		}
		c.g.Origins = append(c.g.Origins, org)
	}
}

// refSections are the sections a reference of each kind names an entry of.
var refSections = map[string]string{"pool": "pools", "origin": "origins", "auth policy": "auth", "rate limit": "rate_limits", "route": "routes", "domain host": "domains"}

// refError reports a reference to an entry that does not exist, unless the section it names could not be
// decoded (a misspelt or mistyped section has its own error, and every reference into it would follow).
func (c *compiler) refError(path, what, name string, known []string) {
	c.unresolved[what] = true
	if sec := refSections[what]; sec != "" && c.src.Failed(sec) {
		return
	}
	plural := what + "s"
	if strings.HasSuffix(what, "policy") {
		plural = strings.TrimSuffix(what, "y") + "ies"
	}
	detail := "defined " + plural + ": " + strings.Join(known, ", ")
	if len(known) == 0 {
		detail = "no " + what + " is defined"
	}
	if s := suggest(name, known); s != "" {
		detail = "did you mean " + strconv.Quote(s) + "? " + detail
	}
	c.errorAt(path, CodeUnknownRef, detail, "unknown %s %q", what, name)
}

func (c *compiler) compilePools() {
	m := c.m
	origins := sortedKeys(m.Origins)
	for _, name := range sortedKeys(m.Pools) {
		pl := m.Pools[name]
		p := "pools." + name
		c.checkName(p, name, "pool")
		if pl == nil || len(pl.Origins) == 0 {
			if c.src.Failed(p + ".origins") {
				c.unresolved["origin"] = true // which origins it meant is unknown
			}
			c.requiredAt(p, []string{"origins"}, "add origins: [primary, secondary]", "pool %q has no origins", name)
			continue
		}
		if len(pl.Origins) > MaxPoolOrigins {
			c.errorAt(p+".origins", CodeLimit, "", "pool %q has %d origins; the limit is %d", name, len(pl.Origins), MaxPoolOrigins)
		}
		seen := map[string]bool{}
		for i, o := range pl.Origins {
			op := fmt.Sprintf("%s.origins[%d]", p, i)
			if _, ok := m.Origins[o]; !ok {
				c.refError(op, "origin", o, origins)
			}
			if seen[o] {
				c.errorAt(op, CodeDuplicateName, "list each origin once", "pool %q lists origin %q twice", name, o)
			}
			seen[o] = true
			c.usedOrigins[o] = true
		}
		pool := ir.Pool{Name: name, Origins: pl.Origins, Pos: c.pos(p)}
		if f := pl.Failover; f != nil {
			fo := &ir.Failover{OnStatus: sortedInts(f.OnStatus)}
			for i, s := range f.OnStatus {
				if s < 500 || s > 599 {
					c.errorAt(fmt.Sprintf("%s.failover.on_status[%d]", p, i), CodeInvalidValue, "failover happens on 5xx responses (connect failures and timeouts always fail over)", "status %d is not a 5xx status", s)
				}
			}
			if b := f.Breaker; b != nil {
				br := &ir.Breaker{Consecutive: b.Consecutive, Status: sortedInts(b.Status), Cooldown: durOr(b.Cooldown, 30*time.Second)}
				if len(br.Status) == 0 {
					br.Status = fo.OnStatus
				}
				if b.Consecutive < 1 {
					c.errorAt(p+".failover.breaker.consecutive", CodeInvalidValue, "", "breaker consecutive must be at least 1")
				}
				for i, s := range b.Status {
					if s < 500 || s > 599 {
						c.errorAt(fmt.Sprintf("%s.failover.breaker.status[%d]", p, i), CodeInvalidValue, "", "status %d is not a 5xx status", s)
					}
				}
				if len(br.Status) == 0 {
					c.errorAt(p+".failover.breaker", CodeRequired, "list the statuses that count, e.g. status: [504], or set failover.on_status", "breaker has no statuses to count")
				}
				fo.Breaker = br
			}
			if len(pl.Origins) < 2 {
				c.warnAtKey(p+".failover", CodeInvalidValue, "add a second origin, or remove failover", "pool %q has failover but only one origin", name)
			}
			pool.Failover = fo
		}
		c.g.Pools = append(c.g.Pools, pool)
	}
}

func sortedInts(in []int) []int {
	if len(in) == 0 {
		return nil
	}
	out := append([]int(nil), in...)
	sort.Ints(out)
	return out
}

var (
	hmacAlgs       = map[string]bool{"HS256": true, "HS384": true, "HS512": true}
	asymmetricAlgs = map[string]string{"RS256": "RSA", "RS384": "RSA", "RS512": "RSA", "PS256": "RSA", "ES256": "EC", "EdDSA": "OKP"}
)

func (c *compiler) compileAuth() {
	m := c.m
	for _, name := range sortedKeys(m.Auth) {
		a := m.Auth[name]
		p := "auth." + name
		c.checkName(p, name, "auth policy")
		if a == nil || a.JWT == nil {
			c.requiredAt(p, []string{"jwt"}, "add jwt: {algorithms: [RS256], jwks: {url: …}}", "auth policy %q has no jwt settings", name)
			continue
		}
		j := a.JWT
		jp := p + ".jwt"
		out := &ir.JWT{Issuer: j.Issuer, Audience: j.Audience, ClockSkew: durOr(j.ClockSkew, 30*time.Second), RequiredClaims: j.RequiredClaims}
		var hasHMAC, hasAsym bool
		families := map[string]bool{}
		seen := map[string]bool{}
		for i, alg := range j.Algorithms {
			ap := fmt.Sprintf("%s.algorithms[%d]", jp, i)
			switch {
			case strings.EqualFold(alg, "none"):
				c.errorAt(ap, CodeJWT, "unsigned tokens prove nothing; pick a signing algorithm", "algorithm none is never accepted")
				continue
			case hmacAlgs[alg]:
				hasHMAC = true
			case asymmetricAlgs[alg] != "":
				hasAsym = true
				families[asymmetricAlgs[alg]] = true
			default:
				known := []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "ES256", "EdDSA"}
				detail := "supported: " + strings.Join(known, ", ")
				if s := suggest(alg, known); s != "" {
					detail = "did you mean " + strconv.Quote(s) + "? " + detail
				}
				c.errorAt(ap, CodeJWT, detail, "unsupported JWT algorithm %q", alg)
				continue
			}
			if seen[alg] {
				c.errorAt(ap, CodeDuplicateName, "", "algorithm %s listed twice", alg)
			}
			seen[alg] = true
			out.Algorithms = append(out.Algorithms, alg)
		}
		if len(j.Algorithms) == 0 {
			c.requiredAt(jp, []string{"algorithms"}, "list the algorithms your identity provider signs with, e.g. algorithms: [RS256]", "auth policy %q lists no algorithms", name)
		}
		if hasHMAC && hasAsym {
			c.errorAt(jp+".algorithms", CodeJWT, "algorithm confusion: a public key must never be usable as an HMAC secret; use one family per policy, and a second policy for the other",
				"auth policy %q mixes HMAC and public-key algorithms", name)
		}
		if hasHMAC && !hasAsym {
			if (j.Secret == nil || j.Secret.Env == "") && !c.src.Failed(jp+".secret") {
				c.errorAt(jp, CodeJWT, "add secret: {env: JWT_SECRET_KEY}; the value is read from the environment at apply time", "auth policy %q uses HMAC but has no secret reference", name)
			} else {
				if !envNameRE.MatchString(j.Secret.Env) {
					c.errorAt(jp+".secret.env", CodeInvalidValue, "an environment variable name is upper-case letters, digits and _", "%q is not an environment variable name", j.Secret.Env)
				}
				out.Secret = &ir.Value{Env: j.Secret.Env}
			}
			if len(j.Keys) > 0 || j.JWKS != nil {
				c.errorAt(jp, CodeJWT, "HMAC policies verify with the secret only; remove keys/jwks or use a public-key algorithm", "auth policy %q has public keys but HMAC algorithms", name)
			}
		}
		if hasAsym && !hasHMAC {
			if j.Secret != nil {
				c.errorAt(jp+".secret", CodeJWT, "a public-key policy verifies with keys or jwks; remove secret", "auth policy %q has an HMAC secret but public-key algorithms", name)
			}
			if len(j.Keys) == 0 && j.JWKS == nil {
				c.errorAt(jp, CodeJWT, "add jwks: {url: https://issuer/.well-known/jwks.json} or keys: [{file: keys/public.pem}]", "auth policy %q has no keys to verify with", name)
			}
		}
		for i, k := range j.Keys {
			kp := fmt.Sprintf("%s.keys[%d]", jp, i)
			if k == nil || k.File == "" {
				c.errorAt(kp, CodeRequired, "add file: path/to/public.pem", "key entry without a file")
				continue
			}
			kf := c.readKey(kp, k, families)
			if kf != nil {
				out.Keys = append(out.Keys, *kf)
			}
		}
		if j.JWKS != nil {
			u, err := url.Parse(j.JWKS.URL)
			switch {
			case j.JWKS.URL == "":
				c.requiredAt(jp+".jwks", []string{"url"}, "", "jwks has no url")
			case err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname()))):
				c.errorAt(jp+".jwks.url", CodeJWT, "keys must come over HTTPS (plain http only for a loopback address in development)", "jwks url %q is not an https URL", j.JWKS.URL)
			}
			out.JWKS = &ir.JWKS{URL: j.JWKS.URL, CacheTTL: durOr(j.JWKS.CacheTTL, 10*time.Minute)}
		}
		if out.ClockSkew.D() > 5*time.Minute {
			c.errorAt(jp+".clock_skew", CodeJWT, "a large skew keeps expired tokens valid; keep it at 5m or less", "clock_skew %s is more than 5m", out.ClockSkew)
		}
		if len(j.RequiredClaims) > MaxRequiredClaim {
			c.errorAt(jp+".required_claims", CodeLimit, "", "%d required claims; the limit is %d", len(j.RequiredClaims), MaxRequiredClaim)
		}
		for _, claim := range sortedKeys(j.ForwardClaims) {
			h := j.ForwardClaims[claim]
			if !validHeaderName(h) {
				c.errorAt(jp+".forward_claims."+claim, CodeInvalidValue, "a header name is letters, digits and -", "%q is not a valid header name", h)
				continue
			}
			out.ForwardClaims = append(out.ForwardClaims, ir.ClaimForwarding{Claim: claim, Header: textproto.CanonicalMIMEHeaderKey(h)})
		}
		c.g.AuthPolicies = append(c.g.AuthPolicies, ir.AuthPolicy{Name: name, JWT: out, Pos: c.pos(p)})
	}
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

func validHeaderName(h string) bool {
	if h == "" || len(h) > 256 {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func (c *compiler) compileRateLimits() {
	m := c.m
	for _, name := range sortedKeys(m.RateLimits) {
		r := m.RateLimits[name]
		p := "rate_limits." + name
		c.checkName(p, name, "rate limit")
		if r == nil {
			c.errorAt(p, CodeRequired, "add key, limit and window", "rate limit %q is empty", name)
			continue
		}
		switch {
		case r.Key == "jwt.sub", r.Key == "ip":
		case strings.HasPrefix(r.Key, "header:") && validHeaderName(strings.TrimPrefix(r.Key, "header:")):
			r.Key = "header:" + textproto.CanonicalMIMEHeaderKey(strings.TrimPrefix(r.Key, "header:"))
		case r.Key == "":
			c.requiredAt(p, []string{"key"}, "key: jwt.sub, ip or header:X-API-Key", "rate limit %q has no key", name)
		default:
			c.errorAt(p+".key", CodeInvalidValue, "a rate-limit key is jwt.sub, ip or header:NAME", "%q is not a rate-limit key", r.Key)
		}
		if r.Limit < 1 {
			c.errorAt(p+".limit", CodeInvalidValue, "", "limit must be at least 1")
		}
		if r.Window == nil {
			c.requiredAt(p, []string{"window"}, "add window: 60s", "rate limit %q has no window", name)
		} else if r.Window.D() < time.Second || r.Window.D() > 24*time.Hour {
			c.errorAt(p+".window", CodeInvalidValue, "a window is between 1s and 24h", "window %s is out of range", r.Window.Duration)
		}
		c.g.RateLimits = append(c.g.RateLimits, ir.RateLimit{Name: name, Key: r.Key, Limit: r.Limit, Window: durOr(r.Window, 0), KeyFallback: "ip", Pos: c.pos(p)})
	}
}

var knownMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

func (c *compiler) checkMethods(path string, methods []string) []string {
	var out []string
	for i, mt := range methods {
		ok := false
		for _, k := range knownMethods {
			if mt == k {
				ok = true
			}
		}
		if !ok {
			detail := "methods: " + strings.Join(knownMethods, ", ") + " (upper case)"
			if s := suggest(strings.ToUpper(mt), knownMethods); s != "" {
				detail = "did you mean " + strconv.Quote(s) + "? " + detail
			}
			c.errorAt(fmt.Sprintf("%s[%d]", path, i), CodeInvalidValue, detail, "%q is not a method", mt)
			continue
		}
		out = append(out, mt)
	}
	sort.Strings(out)
	return out
}

func (c *compiler) compileCORS() {
	cr := c.m.CORS
	if cr == nil {
		return
	}
	out := &ir.CORS{AllowOrigins: cr.AllowOrigins, AllowCredentials: cr.AllowCredentials, MaxAge: durOr(cr.MaxAge, 0)}
	for i, o := range cr.AllowOrigins {
		op := fmt.Sprintf("cors.allow_origins[%d]", i)
		if o == "*" {
			if cr.AllowCredentials {
				c.errorAt(op, CodeInvalidValue, "browsers refuse credentials with a wildcard origin; list the origins", "allow_origins \"*\" cannot be used with allow_credentials")
			}
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			c.errorAt(op, CodeInvalidValue, "an origin is scheme://host[:port], e.g. https://app.example.com", "%q is not an origin", o)
		}
	}
	if len(cr.AllowOrigins) == 0 {
		c.errorAt("cors", CodeRequired, "", "cors needs allow_origins")
	}
	methods := cr.AllowMethods
	if len(methods) == 0 {
		methods = []string{"GET", "HEAD", "POST"}
	}
	out.AllowMethods = c.checkMethods("cors.allow_methods", methods)
	for i, h := range cr.AllowHeaders {
		if !validHeaderName(h) {
			c.errorAt(fmt.Sprintf("cors.allow_headers[%d]", i), CodeInvalidValue, "", "%q is not a header name", h)
		}
		out.AllowHeaders = append(out.AllowHeaders, textproto.CanonicalMIMEHeaderKey(h))
	}
	for i, h := range cr.ExposeHeaders {
		if !validHeaderName(h) {
			c.errorAt(fmt.Sprintf("cors.expose_headers[%d]", i), CodeInvalidValue, "", "%q is not a header name", h)
		}
		out.ExposeHeaders = append(out.ExposeHeaders, textproto.CanonicalMIMEHeaderKey(h))
	}
	if out.MaxAge.D() > 24*time.Hour {
		c.errorAt("cors.max_age", CodeInvalidValue, "browsers cap preflight caching at 24h or less", "max_age %s is over 24h", out.MaxAge)
	}
	c.g.CORS = out
}

// protectedHeaders cannot be set or removed by transforms: they are the transport's, and changing them
// differently on each target breaks requests.
var protectedHeaders = map[string]bool{"Host": true, "Connection": true, "Content-Length": true, "Transfer-Encoding": true, "Upgrade": true, "Te": true, "Trailer": true, "Keep-Alive": true, "Proxy-Connection": true}

func (c *compiler) headerTransform(path string, remove []string, set map[string]string) ir.HeaderTransform {
	var out ir.HeaderTransform
	for i, h := range remove {
		hp := fmt.Sprintf("%s.remove_headers[%d]", path, i)
		if !validHeaderName(h) {
			c.errorAt(hp, CodeInvalidValue, "a header name is letters, digits and -", "%q is not a header name", h)
			continue
		}
		ch := textproto.CanonicalMIMEHeaderKey(h)
		if protectedHeaders[ch] {
			c.errorAt(hp, CodeInvalidValue, "hop-by-hop and framing headers are managed by the edge", "header %s cannot be removed", ch)
		}
		out.RemoveHeaders = append(out.RemoveHeaders, ch)
	}
	sort.Strings(out.RemoveHeaders)
	for _, h := range sortedKeys(set) {
		hp := path + ".set_headers." + h
		if !validHeaderName(h) {
			c.errorAtKey(hp, CodeInvalidValue, "a header name is letters, digits and -", "%q is not a header name", h)
			continue
		}
		ch := textproto.CanonicalMIMEHeaderKey(h)
		if protectedHeaders[ch] {
			c.errorAtKey(hp, CodeInvalidValue, "hop-by-hop and framing headers are managed by the edge; set the origin's host_header to change Host", "header %s cannot be set", ch)
		}
		c.checkHeaderValue(hp, set[h])
		out.SetHeaders = append(out.SetHeaders, ir.HeaderSet{Name: ch, Value: set[h]})
	}
	return out
}

func (c *compiler) checkHeaderValue(path, v string) {
	if len(v) > MaxHeaderValue {
		c.errorAt(path, CodeLimit, "", "header value is %d bytes; the limit is %d", len(v), MaxHeaderValue)
	}
	for _, r := range v {
		if r < 0x20 && r != '\t' || r == 0x7f {
			c.errorAt(path, CodeInvalidValue, "header values cannot hold control characters or line breaks", "header value has a control character")
			return
		}
	}
}

func (c *compiler) compileTransform(path string, t *Transform) ir.Transform {
	var out ir.Transform
	if t.Request != nil {
		out.Request = c.headerTransform(path+".request", t.Request.RemoveHeaders, t.Request.SetHeaders)
		if t.Request.RequestID != "" {
			if !validHeaderName(t.Request.RequestID) {
				c.errorAt(path+".request.request_id", CodeInvalidValue, "name the header, e.g. request_id: X-Request-ID", "%q is not a header name", t.Request.RequestID)
			}
			out.RequestIDHeader = textproto.CanonicalMIMEHeaderKey(t.Request.RequestID)
		}
		out.KeepClientRequestID = t.Request.KeepClientRequestID
		if out.KeepClientRequestID && out.RequestIDHeader == "" {
			c.errorAt(path+".request.keep_client_request_id", CodeInvalidValue, "set request_id to the header first", "keep_client_request_id without request_id")
		}
	}
	if t.Response != nil {
		out.Response = c.headerTransform(path+".response", t.Response.RemoveHeaders, t.Response.SetHeaders)
	}
	return out
}

func (c *compiler) compileDNS() {
	d := c.m.DNS
	if d == nil {
		return
	}
	out := &ir.DNS{MaxTTL: durOr(d.MaxTTL, 0), CAA: d.CAA}
	for _, host := range sortedKeys(d.Expect) {
		e := d.Expect[host]
		p := "dns.expect." + host
		h := strings.ToLower(strings.TrimSuffix(host, "."))
		known := false
		for _, dom := range c.g.Domains {
			if dom.Host == h {
				known = true
			}
		}
		if !known {
			c.refError(p, "domain host", host, c.hostNames())
		}
		if e == nil {
			continue
		}
		x := ir.DNSExpect{Host: h, CNAME: strings.ToLower(strings.TrimSuffix(e.CNAME, "."))}
		if x.CNAME != "" && !validHostname(x.CNAME) {
			c.errorAt(p+".cname", CodeDomain, "", "%q is not a host name", e.CNAME)
		}
		for i, a := range e.A {
			if ad, err := netip.ParseAddr(a); err != nil || !ad.Is4() {
				c.errorAt(fmt.Sprintf("%s.a[%d]", p, i), CodeInvalidValue, "", "%q is not an IPv4 address", a)
			}
		}
		for i, a := range e.AAAA {
			if ad, err := netip.ParseAddr(a); err != nil || !ad.Is6() || ad.Is4In6() {
				c.errorAt(fmt.Sprintf("%s.aaaa[%d]", p, i), CodeInvalidValue, "", "%q is not an IPv6 address", a)
			}
		}
		x.A, x.AAAA = e.A, e.AAAA
		x.FlattenedTo = strings.ToLower(strings.TrimSuffix(e.FlattenedTo, "."))
		if x.FlattenedTo != "" {
			switch {
			case !validHostname(x.FlattenedTo):
				c.errorAt(p+".flattened_to", CodeDomain, "name the edge hostname the apex is flattened to, e.g. flattened_to: edge-gateway.provider.net", "%q is not a host name", e.FlattenedTo)
			case x.CNAME != "" || len(x.A) > 0 || len(x.AAAA) > 0:
				c.errorAt(p+".flattened_to", CodeInvalidValue, "flattened_to already says which addresses the host must answer (the edge hostname's); keep it, or cname:, or a:/aaaa:", "flattened_to cannot be combined with cname, a or aaaa")
			case x.FlattenedTo == h:
				c.errorAt(p+".flattened_to", CodeInvalidValue, "name the edge hostname the host is flattened to, not the host itself", "%s cannot be flattened to itself", h)
			}
		}
		for _, dom := range c.g.Domains {
			if dom.Host == h && dom.Apex && x.CNAME != "" {
				c.errorAt(p+".cname", CodeDomain, "a CNAME cannot sit at a zone apex beside SOA and NS (RFC 1034); expect the edge hostname it is flattened to with flattened_to:, or the addresses with a: and aaaa:", "apex %s cannot be a CNAME", h)
			}
		}
		out.Expect = append(out.Expect, x)
	}
	for i, s := range d.Suppress {
		p := fmt.Sprintf("dns.suppress[%d]", i)
		if s == nil {
			continue
		}
		if s.ID == "" || s.Reason == "" {
			c.errorAt(p, CodeRequired, "a suppression names the finding id and says why: {id: DNS004, reason: \"…\"}", "suppression needs id and reason")
		}
		out.Suppress = append(out.Suppress, ir.Suppression{ID: s.ID, Host: strings.ToLower(s.Host), Reason: s.Reason})
	}
	c.g.DNS = out
}

// hostsKnown says whether every host the gateway serves is known: not when a domain lost its host to an
// error of its own, or the domains section could not be decoded.
func (c *compiler) hostsKnown() bool { return !c.hostMissing && !c.src.Failed("domains") }

// declaredRoute reports whether a route of that name is written in the manifest, compiled or not.
// A route without a name (its own error) may be the one a test names.
func (c *compiler) declaredRoute(name string) bool { return c.declaredRoutes[name] || c.unnamedRoute }

// checkUnused warns of what nothing references. A kind with a reference that names nothing, or whose
// referring section could not be decoded, is skipped: the typo is the one problem to report.
func (c *compiler) checkUnused() {
	skip := func(what, referrer string) bool { return c.unresolved[what] || c.src.Failed(referrer) }
	for _, name := range sortedKeys(c.m.Origins) {
		if skip("origin", "pools") {
			break
		}
		if !c.usedOrigins[name] && c.m.Origins[name] != nil {
			c.warnAtKey("origins."+name, CodeUnused, "reference it from a pool, or remove it", "origin %q is not used by any pool", name)
		}
	}
	for _, name := range sortedKeys(c.m.Pools) {
		if skip("pool", "routes") {
			break
		}
		if !c.usedPools[name] {
			c.warnAtKey("pools."+name, CodeUnused, "reference it from a route, or remove it", "pool %q is not used by any route", name)
		}
	}
	for _, name := range sortedKeys(c.m.Auth) {
		if skip("auth policy", "routes") {
			break
		}
		if !c.usedAuth[name] {
			c.warnAtKey("auth."+name, CodeUnused, "reference it from a route with auth: "+name+", or remove it", "auth policy %q is not used by any route", name)
		}
	}
	for _, name := range sortedKeys(c.m.RateLimits) {
		if skip("rate limit", "routes") {
			break
		}
		if !c.usedLimits[name] {
			c.warnAtKey("rate_limits."+name, CodeUnused, "reference it from a route with rate_limit: "+name+", or remove it", "rate limit %q is not used by any route", name)
		}
	}
}

// normalizedOrError checks that a path written in the manifest is already in the form the normalizer
// produces: a route on a non-normalized path could never match, since matching happens after normalization.
func (c *compiler) normalizedOrError(path, p, what string) bool {
	if len(p) > MaxPathBytes {
		c.errorAt(path, CodeLimit, "", "%s is %d bytes; the limit is %d", what, len(p), MaxPathBytes)
		return false
	}
	n, err := pathnorm.Normalize(p)
	if err != nil {
		c.errorAt(path, CodePathForm, "requests with such a path are rejected with 400 before routing, so this route could never match", "%s %q is rejected by path normalization: %v", what, p, err)
		return false
	}
	if n != p {
		c.errorAt(path, CodePathForm, "routes match the normalized path; write "+strconv.Quote(n), "%s %q is not in normalized form", what, p)
		return false
	}
	return true
}
