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
	"net"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

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
		seen := map[string]bool{}
		for k, f := range t.Features {
			if f == "" || seen[f] {
				c.errorAt(fmt.Sprintf("%s.features[%d]", p, k), CodeTest, "list each capability feature once, as edgegw providers names it", "feature %q is empty or listed twice", f)
			}
			seen[f] = true
			tc.Features = append(tc.Features, f)
		}
		tc.Origins = c.testOrigins(p+".origins", t.Origins)
		switch {
		case len(t.Steps) > 0 && (t.Request != nil || t.Expect != nil):
			c.errorAt(p+".steps", CodeTest, "move request and expect into a step", "test %q has both steps and a request", t.Name)
		case len(t.Steps) > 0:
			for k, st := range t.Steps {
				sp := fmt.Sprintf("%s.steps[%d]", p, k)
				if st == nil || st.Request == nil {
					c.errorAt(sp, CodeRequired, "add request: {url: https://api.example.com/…}", "test %q: step %d has no request", t.Name, k)
					continue
				}
				step := ir.TestStep{Request: c.testRequest(t.Name, sp+".request", st.Request), Repeat: st.Repeat, Pos: c.pos(sp)}
				if st.Repeat == 0 {
					step.Repeat = 1
				} else if st.Repeat < 1 || st.Repeat > MaxTestRepeat {
					c.errorAt(sp+".repeat", CodeTest, fmt.Sprintf("repeat a request 1 to %d times", MaxTestRepeat), "repeat %d is out of range", st.Repeat)
				}
				if st.At != nil {
					if st.At.D() < 0 {
						c.errorAt(sp+".at", CodeTest, "write the clock offset from the case start, e.g. at: 61s", "at %s is negative", st.At.D())
					}
					step.At = st.At.Duration
				}
				if st.Expect != nil {
					step.Expect = c.testExpect(t.Name, sp+".expect", st.Expect)
				}
				if st.ExpectLast != nil {
					e := c.testExpect(t.Name, sp+".expect_last", st.ExpectLast)
					step.ExpectLast = &e
				}
				if st.Expect == nil && st.ExpectLast == nil {
					c.errorAt(sp, CodeRequired, "add expect: {status: 200} (or expect_last with repeat)", "test %q: step %d has no expect", t.Name, k)
				}
				tc.Steps = append(tc.Steps, step)
			}
		case t.Request == nil:
			c.requiredAt(p, []string{"request"}, "add request: {method: GET, url: https://api.example.com/…}", "test %q has no request", t.Name)
			continue
		default:
			tc.Request = c.testRequest(t.Name, p+".request", t.Request)
			if t.Expect == nil {
				c.requiredAt(p, []string{"expect"}, "add expect: {status: 200} (or route, pool, upstream_path, headers)", "test %q has no expect", t.Name)
			} else {
				tc.Expect = c.testExpect(t.Name, p+".expect", t.Expect)
			}
		}
		c.g.Tests = append(c.g.Tests, tc)
	}
}

// MaxTestRepeat bounds one step's repeat.
const MaxTestRepeat = 10000

func (c *compiler) testOrigins(path string, origins map[string]*TestOrigin) []ir.TestOrigin {
	var out []ir.TestOrigin
	for _, name := range sortedKeys(origins) {
		op := path + "." + name
		if _, ok := c.m.Origins[name]; !ok {
			c.refError(op, "origin", name, sortedKeys(c.m.Origins))
			continue
		}
		o := origins[name]
		if o == nil {
			o = &TestOrigin{}
		}
		to := ir.TestOrigin{Name: name, Down: o.Down}
		one := o.Status != 0 || len(o.Headers) > 0 || o.Body != "" || o.Delay != nil
		switch {
		case o.Down && (one || len(o.Responses) > 0):
			c.errorAt(op, CodeTest, "a down origin answers nothing: drop status, headers, body, delay and responses", "origin %s is down and scripted", name)
		case one && len(o.Responses) > 0:
			c.errorAt(op, CodeTest, "write one response inline, or several under responses:", "origin %s has both one response and responses", name)
		case len(o.Responses) > 0:
			for k, r := range o.Responses {
				if r == nil {
					r = &TestResponse{}
				}
				to.Responses = append(to.Responses, c.testResponse(fmt.Sprintf("%s.responses[%d]", op, k), r.Status, r.Headers, r.Body, r.Delay))
			}
		case !o.Down:
			to.Responses = []ir.TestResponse{c.testResponse(op, o.Status, o.Headers, o.Body, o.Delay)}
		}
		out = append(out, to)
	}
	return out
}

func (c *compiler) testResponse(path string, status int, headers map[string]string, body string, delay *Duration) ir.TestResponse {
	r := ir.TestResponse{Status: status, Body: body}
	if r.Status == 0 {
		r.Status = 200
	} else if r.Status < 200 || r.Status > 599 {
		c.errorAt(path+".status", CodeTest, "an origin answers a final status, 200 to 599", "%d is not a final HTTP status", status)
	}
	for _, h := range sortedKeys(headers) {
		if !validHeaderName(h) {
			c.errorAtKey(path+".headers."+h, CodeTest, "", "%q is not a header name", h)
			continue
		}
		r.Headers = append(r.Headers, ir.HeaderSet{Name: textproto.CanonicalMIMEHeaderKey(h), Value: headers[h]})
	}
	if delay != nil {
		if delay.D() < 0 || delay.D() > maxTestDelay {
			c.errorAt(path+".delay", CodeTest, "a delay is 0 to "+maxTestDelay.String(), "delay %s is out of range", delay.D())
		}
		r.Delay = delay.Duration
	}
	return r
}

const maxTestDelay = 60 * time.Second

func (c *compiler) testRequest(name, rp string, rq *TestRequest) ir.TestRequest {
	tr := ir.TestRequest{Method: rq.Method, URL: rq.URL, Target: rq.Target, Host: rq.Host, Body: rq.Body, ClientIP: rq.ClientIP}
	if tr.Method == "" {
		tr.Method = "GET"
	} else {
		c.checkMethods(rp+".method", []string{rq.Method})
	}
	u, err := url.Parse(rq.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		c.errorAt(rp+".url", CodeTest, "write the full URL a client would call, e.g. https://api.example.com/v2/users", "test %q: %q is not an absolute URL", name, rq.URL)
	} else if h := strings.ToLower(u.Hostname()); !c.servesHost(h) && c.hostsKnown() {
		c.errorAt(rp+".url", CodeTest, "the gateway answers: "+strings.Join(c.hostNames(), ", "), "test %q: host %q is not one of the gateway's domains", name, h)
	}
	if rq.Target != "" && (!strings.HasPrefix(rq.Target, "/") || strings.ContainsAny(rq.Target, " \r\n")) {
		c.errorAt(rp+".target", CodeTest, "a request-target starts with / and holds no space or line break", "target %q is not an origin-form request-target", rq.Target)
	}
	if strings.ContainsAny(rq.Host, " /\r\n") {
		c.errorAt(rp+".host", CodeTest, "write a Host header value such as API.example.com:443", "host %q is not a Host header value", rq.Host)
	}
	if rq.ClientIP != "" && net.ParseIP(rq.ClientIP) == nil {
		c.errorAt(rp+".client_ip", CodeTest, "write an IPv4 or IPv6 address", "client_ip %q is not an IP address", rq.ClientIP)
	}
	for _, h := range sortedKeys(rq.Headers) {
		if !validHeaderName(h) {
			c.errorAtKey(rp+".headers."+h, CodeTest, "", "%q is not a header name", h)
			continue
		}
		tr.Headers = append(tr.Headers, ir.HeaderSet{Name: textproto.CanonicalMIMEHeaderKey(h), Value: rq.Headers[h]})
	}
	for _, h := range sortedKeys(rq.HeaderValues) {
		if !validHeaderName(h) {
			c.errorAtKey(rp+".header_values."+h, CodeTest, "", "%q is not a header name", h)
			continue
		}
		if _, dup := rq.Headers[h]; dup {
			c.errorAtKey(rp+".header_values."+h, CodeTest, "list every value of the header under header_values", "header %s is under both headers and header_values", h)
		}
		for _, v := range rq.HeaderValues[h] {
			tr.Headers = append(tr.Headers, ir.HeaderSet{Name: textproto.CanonicalMIMEHeaderKey(h), Value: v})
		}
	}
	for _, h := range tr.Headers {
		if strings.ContainsAny(h.Value, "\r\n") {
			c.errorAt(rp, CodeTest, "", "header %s holds a line break", h.Name)
		}
	}
	sort.SliceStable(tr.Headers, func(i, j int) bool { return tr.Headers[i].Name < tr.Headers[j].Name })
	if j := rq.JWT; j != nil {
		tj := &ir.TestJWT{Sub: j.Sub, Exp: j.Exp, Nbf: j.Nbf, Issuer: j.Issuer, Audience: j.Aud, Alg: j.Alg, Key: j.Key, Tamper: j.Tamper}
		for _, f := range []struct{ name, v string }{{"exp", j.Exp}, {"nbf", j.Nbf}} {
			if f.v != "" && !relTimeRE.MatchString(f.v) {
				c.errorAt(rp+".jwt."+f.name, CodeTest, "write a time relative to the run: +1h, -5m, +30s", "%s %q is not a relative time", f.name, f.v)
			}
		}
		if j.Key != "" && j.Key != ir.TestKeyUntrusted && j.Key != ir.TestKeyPublicAsSecret {
			c.errorAt(rp+".jwt.key", CodeTest, "key is untrusted or public-as-secret", "unknown test key %q", j.Key)
		}
		if j.Tamper != "" && !slices.Contains(ir.TestTampers, j.Tamper) {
			c.errorAt(rp+".jwt.tamper", CodeTest, "tamper is one of "+strings.Join(ir.TestTampers, ", "), "unknown tampering %q", j.Tamper)
		}
		tj.Claims = c.jsonMembers(rp+".jwt.claims", j.Claims)
		tj.Header = c.jsonMembers(rp+".jwt.header", j.Header)
		tr.JWT = tj
	}
	return tr
}

func (c *compiler) jsonMembers(path string, m map[string]any) []ir.Claim {
	var out []ir.Claim
	for _, k := range sortedKeys(m) {
		b, err := json.Marshal(jsonSafe(m[k]))
		if err != nil {
			c.errorAt(path+"."+k, CodeTest, "", "%q: %v", k, err)
			continue
		}
		out = append(out, ir.Claim{Name: k, Value: b})
	}
	return out
}

func (c *compiler) testExpect(name, ep string, e *TestExpect) ir.TestExpect {
	m := c.m
	out := ir.TestExpect{Status: e.Status, StatusIn: e.StatusIn, Route: e.Route, Pool: e.Pool, Origin: e.Origin, NoOrigin: e.NoOrigin,
		UpstreamPath: e.UpstreamPath, UpstreamQuery: e.UpstreamQuery, Tried: e.Tried, Body: e.Body,
		Upstream: c.headerExpect(ep+".upstream_headers", e.UpstreamHeaders), Response: c.headerExpect(ep+".headers", e.Headers)}
	if e.Status != 0 && (e.Status < 100 || e.Status > 599) {
		c.errorAt(ep+".status", CodeTest, "", "%d is not an HTTP status", e.Status)
	}
	for k, s := range e.StatusIn {
		if s < 100 || s > 599 {
			c.errorAt(fmt.Sprintf("%s.status_in[%d]", ep, k), CodeTest, "", "%d is not an HTTP status", s)
		}
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
	origins := e.Tried
	if e.Origin != "" {
		origins = append([]string{e.Origin}, origins...)
	}
	for k, o := range origins {
		if _, ok := m.Origins[o]; !ok {
			at := ep + ".origin"
			if e.Origin == "" || k > 0 {
				at = fmt.Sprintf("%s.tried[%d]", ep, k-len(origins)+len(e.Tried))
			}
			c.refError(at, "origin", o, sortedKeys(m.Origins))
		}
	}
	if e.NoOrigin && (e.Origin != "" || len(e.Tried) > 0) {
		c.errorAt(ep+".no_origin", CodeTest, "", "test %q expects no origin and an origin", name)
	}
	if e.UpstreamPath != "" && !strings.HasPrefix(e.UpstreamPath, "/") {
		c.errorAt(ep+".upstream_path", CodeTest, "", "upstream_path %q must start with /", e.UpstreamPath)
	}
	if out.IsZero() {
		c.errorAt(ep, CodeTest, "a test must check something: status, route, pool, origin, upstream_path, headers or body", "test %q expects nothing", name)
	}
	return out
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
	for _, n := range sortedKeys(h.NotEqual) {
		if !validHeaderName(n) {
			c.errorAtKey(path+".not_equal."+n, CodeTest, "", "%q is not a header name", n)
			continue
		}
		out.NotEqual = append(out.NotEqual, ir.HeaderSet{Name: textproto.CanonicalMIMEHeaderKey(n), Value: h.NotEqual[n]})
	}
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
