package manifest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math"
	"net/textproto"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/edgegw/edgegw/internal/boundedio"
	"github.com/edgegw/edgegw/manifest/ir"
)

var relTimeRE = regexp.MustCompile(`^[+-][0-9]+(ms|s|m|h)$`)

func (c *compiler) compileTests() {
	m := c.m
	if !c.checkCount("tests", len(m.Tests), 0, MaxTests, "", limitFixes["tests"]) {
		return
	}
	names := map[string]bool{}
	for i, t := range m.Tests {
		p := fmt.Sprintf("tests[%d]", i)
		if t == nil {
			c.errorAt(p, CodeRequired, "", "empty test entry")
			continue
		}
		if t.Name == "" {
			c.requiredAt(p, []string{"name"}, "give the test a name", "test has no name")
		} else if names[t.Name] {
			c.errorAt(p+".name", CodeDuplicateName, "test names are unique so reports can name them", "duplicate test name %q", t.Name)
		}
		names[t.Name] = true
		tc := ir.TestCase{Name: t.Name, Pos: c.pos(p)}
		if t.Request == nil {
			c.requiredAt(p, []string{"request"}, "add request: {method: GET, url: https://api.example.com/…}", "test %q has no request", t.Name)
			continue
		}
		rq := t.Request
		rp := p + ".request"
		tc.Request = ir.TestRequest{Method: rq.Method, URL: rq.URL, Body: rq.Body}
		if tc.Request.Method == "" {
			tc.Request.Method = "GET"
		} else {
			c.checkMethods(rp+".method", []string{rq.Method})
		}
		u, err := url.Parse(rq.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			c.errorAt(rp+".url", CodeTest, "write the full URL a client would call, e.g. https://api.example.com/v2/users", "test %q: %q is not an absolute URL", t.Name, rq.URL)
		} else if h := strings.ToLower(u.Hostname()); !c.servesHost(h) && c.hostsKnown() {
			c.errorAt(rp+".url", CodeTest, "the gateway answers: "+strings.Join(c.hostNames(), ", "), "test %q: host %q is not one of the gateway's domains", t.Name, h)
		}
		for _, h := range sortedKeys(rq.Headers) {
			if !validHeaderName(h) {
				c.errorAtKey(rp+".headers."+h, CodeTest, "", "%q is not a header name", h)
				continue
			}
			tc.Request.Headers = append(tc.Request.Headers, ir.HeaderSet{Name: textproto.CanonicalMIMEHeaderKey(h), Value: rq.Headers[h]})
		}
		sort.Slice(tc.Request.Headers, func(i, j int) bool { return tc.Request.Headers[i].Name < tc.Request.Headers[j].Name })
		if j := rq.JWT; j != nil {
			tj := &ir.TestJWT{Sub: j.Sub, Exp: j.Exp, Nbf: j.Nbf, Issuer: j.Issuer, Audience: j.Aud}
			for _, f := range []struct{ name, v string }{{"exp", j.Exp}, {"nbf", j.Nbf}} {
				if f.v != "" && !relTimeRE.MatchString(f.v) {
					c.errorAt(rp+".jwt."+f.name, CodeTest, "write a time relative to the run: +1h, -5m, +30s", "%s %q is not a relative time", f.name, f.v)
				}
			}
			for _, k := range sortedKeys(j.Claims) {
				b, err := json.Marshal(jsonSafe(j.Claims[k]))
				if err != nil {
					c.errorAt(rp+".jwt.claims."+k, CodeTest, "", "claim %q: %v", k, err)
					continue
				}
				tj.Claims = append(tj.Claims, ir.Claim{Name: k, Value: b})
			}
			tc.Request.JWT = tj
		}
		if t.Expect == nil {
			c.requiredAt(p, []string{"expect"}, "add expect: {status: 200} (or route, pool, upstream_path, headers)", "test %q has no expect", t.Name)
		} else {
			e := t.Expect
			ep := p + ".expect"
			tc.Expect = ir.TestExpect{Status: e.Status, Route: e.Route, Pool: e.Pool, Origin: e.Origin, UpstreamPath: e.UpstreamPath, Body: e.Body,
				Upstream: c.headerExpect(ep+".upstream_headers", e.UpstreamHeaders), Response: c.headerExpect(ep+".headers", e.Headers)}
			if e.Status != 0 && (e.Status < 100 || e.Status > 599) {
				c.errorAt(ep+".status", CodeTest, "", "%d is not an HTTP status", e.Status)
			}
			if e.Route != "" && c.routeByName[e.Route] == nil && !c.declaredRoute(e.Route) {
				var names []string
				for _, r := range c.g.Routes {
					names = append(names, r.Name)
				}
				c.refError(ep+".route", "route", e.Route, names)
			}
			if e.Pool != "" {
				if _, ok := m.Pools[e.Pool]; !ok {
					c.refError(ep+".pool", "pool", e.Pool, sortedKeys(m.Pools))
				}
			}
			if e.Origin != "" {
				if _, ok := m.Origins[e.Origin]; !ok {
					c.refError(ep+".origin", "origin", e.Origin, sortedKeys(m.Origins))
				}
			}
			if e.UpstreamPath != "" && !strings.HasPrefix(e.UpstreamPath, "/") {
				c.errorAt(ep+".upstream_path", CodeTest, "", "upstream_path %q must start with /", e.UpstreamPath)
			}
			if tc.Expect == (ir.TestExpect{}) {
				c.errorAt(ep, CodeTest, "a test must check something: status, route, pool, origin, upstream_path, headers or body", "test %q expects nothing", t.Name)
			}
		}
		c.g.Tests = append(c.g.Tests, tc)
	}
}

// jsonSafe turns YAML-decoded values into JSON-marshalable ones (uint64 beyond int range, nested maps).
func jsonSafe(v any) any {
	switch x := v.(type) {
	case uint64:
		if x > math.MaxInt64 {
			return float64(x)
		}
		return int64(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = jsonSafe(x[i])
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = jsonSafe(e)
		}
		return out
	}
	return v
}

func (c *compiler) headerExpect(path string, h *HeaderExpect) *ir.HeaderExpect {
	if h == nil {
		return nil
	}
	out := &ir.HeaderExpect{}
	canon := func(list []string, field string) []string {
		var r []string
		for i, n := range list {
			if !validHeaderName(n) {
				c.errorAt(fmt.Sprintf("%s.%s[%d]", path, field, i), CodeTest, "", "%q is not a header name", n)
				continue
			}
			r = append(r, textproto.CanonicalMIMEHeaderKey(n))
		}
		sort.Strings(r)
		return r
	}
	out.Present = canon(h.Present, "present")
	out.Absent = canon(h.Absent, "absent")
	for _, n := range sortedKeys(h.Equal) {
		if !validHeaderName(n) {
			c.errorAtKey(path+".equal."+n, CodeTest, "", "%q is not a header name", n)
			continue
		}
		out.Equal = append(out.Equal, ir.HeaderSet{Name: textproto.CanonicalMIMEHeaderKey(n), Value: h.Equal[n]})
	}
	sort.Slice(out.Equal, func(i, j int) bool { return out.Equal[i].Name < out.Equal[j].Name })
	return out
}

// readKey loads a static public key, checks it is public and fits the policy's algorithms, and returns it
// for the IR. A private key is an error: it must never sit next to the manifest.
func (c *compiler) readKey(path string, k *KeyFile, families map[string]bool) *ir.KeyFile {
	read := c.opts.ReadFile
	if read == nil {
		c.errorAt(path+".file", CodeJWT, "", "cannot read key files here")
		return nil
	}
	data, err := read(k.File)
	if err != nil {
		c.keyReadError(path, k.File, err)
		return nil
	}
	if len(data) > MaxKeyFileBytes { // a ReadFile from elsewhere (a git tree) may not bound it
		c.keyReadError(path, k.File, &boundedio.TooLargeError{Name: k.File, Limit: MaxKeyFileBytes})
		return nil
	}
	s := string(data)
	if strings.Contains(s, "PRIVATE KEY") {
		c.errorAt(path+".file", CodeSecretLiteral, "list the PUBLIC key here; keep the private key with your identity provider, and rotate it if this file was committed", "key file %q holds a private key", k.File)
		return nil
	}
	family := ""
	if block, _ := pem.Decode(data); block != nil {
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			if cert, cerr := x509.ParseCertificate(block.Bytes); cerr == nil {
				pub, err = cert.PublicKey, nil
			}
		}
		if err != nil {
			c.errorAt(path+".file", CodeJWT, "write a PEM \"PUBLIC KEY\" (SubjectPublicKeyInfo) or a JWK", "key file %q: %v", k.File, err)
			return nil
		}
		family = keyFamily(pub)
	} else {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(data); err != nil {
			c.errorAt(path+".file", CodeJWT, "write a PEM \"PUBLIC KEY\" or a JWK (JSON)", "key file %q is neither PEM nor a JWK: %v", k.File, err)
			return nil
		}
		if !jwk.IsPublic() {
			c.errorAt(path+".file", CodeSecretLiteral, "list the PUBLIC key; rotate the private key if this file was committed", "key file %q holds a private or symmetric key", k.File)
			return nil
		}
		family = keyFamily(jwk.Key)
	}
	if family == "" {
		c.errorAt(path+".file", CodeJWT, "use an RSA, EC P-256 or Ed25519 public key", "key file %q holds an unsupported key type", k.File)
		return nil
	}
	if !families[family] {
		c.errorAt(path+".file", CodeJWT, "a key is used only with the algorithms of its type (RSA: RS*/PS256, EC: ES256, Ed25519: EdDSA)", "key file %q is an %s key but no %s algorithm is listed", k.File, family, family)
		return nil
	}
	return &ir.KeyFile{Path: k.File, KID: k.KID, Data: s}
}

func keyFamily(pub any) string {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < 2048 {
			return ""
		}
		return "RSA"
	case *ecdsa.PublicKey:
		if p.Curve.Params().Name != "P-256" {
			return ""
		}
		return "EC"
	case ed25519.PublicKey:
		return "OKP"
	}
	return ""
}
