// Package jwtverify verifies bearer JWTs for the reference gateway: JWS compact tokens checked against keys
// the configuration names (static keys, an HMAC secret, a JWKS URL), then the registered claims.
//
// The algorithm is never taken from the token: a token's "alg" must be one the policy lists AND one its key
// fits (an RSA key verifies RS*/PS* only, a JWK with "alg" only that one), so "none" and algorithm confusion
// (an RSA public key used as an HMAC secret) cannot pass. Header "jwk", "jku", "x5u" and "x5c" are never
// used to find a key. Signature checks are done by github.com/go-jose/go-jose/v4; this package adds what a
// gateway needs around it: size limits, strict base64url, duplicate-key and "crit" rejection, key selection
// by kid, a JWKS cache, and claim checks with clock skew.
//
// The package does no HTTP serving and knows nothing of routes; it returns an *Error whose Status is 401 when
// there is no token (no or a non-Bearer Authorization header) or it is not a JWS (not three strict base64url
// parts, header not a JSON object, over MaxTokenSize), and 403 for a JWS that fails verification or policy
// (embedded keys, crit, wrong alg, bad signature, claims). Both are decided before go-jose parses the token.
package jwtverify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	_ "crypto/sha512" // PS384/PS512
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// MaxTokenSize is the longest token read; a longer one is rejected before any decoding or crypto.
const MaxTokenSize = 8 << 10

// Error codes, shown in logs and in the gateway's error body.
const (
	CodeMissing     = "JWT_MISSING"       // no Authorization: Bearer header (401)
	CodeMalformed   = "JWT_MALFORMED"     // not three strict base64url parts with a JSON header (401)
	CodeTooLarge    = "JWT_TOO_LARGE"     // over MaxTokenSize (401)
	CodeAlgorithm   = "JWT_ALG"           // alg not allowed for this policy or its keys (403)
	CodeUnsupported = "JWT_UNSUPPORTED"   // crit, b64 or an embedded key (jwk, jku, x5u, x5c) in the header, duplicate JSON keys (403)
	CodeNoKey       = "JWT_KEY"           // no configured key fits the token's kid and alg (403)
	CodeSignature   = "JWT_SIGNATURE"     // signature does not verify (403)
	CodeExpired     = "JWT_EXPIRED"       // exp passed, or exp missing (403)
	CodeNotYetValid = "JWT_NOT_YET_VALID" // nbf or iat in the future (403)
	CodeIssuer      = "JWT_ISSUER"        // iss differs (403)
	CodeAudience    = "JWT_AUDIENCE"      // no configured audience in aud (403)
	CodeClaims      = "JWT_CLAIMS"        // a required claim is missing or a registered claim has the wrong type (403)
)

// Error is a failed verification.
type Error struct {
	Code string
	Err  error
}

func (e *Error) Error() string { return "jwtverify: " + e.Code + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Status is the HTTP status for the failure: 401 when there is no readable token, 403 when a token was read
// and refused.
func (e *Error) Status() int {
	switch e.Code {
	case CodeMissing, CodeMalformed, CodeTooLarge:
		return http.StatusUnauthorized
	}
	return http.StatusForbidden
}

func fail(code, format string, args ...any) *Error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// Config is one auth policy, resolved: secrets already read, key files already parsed.
type Config struct {
	// Algorithms lists the accepted "alg" values, e.g. RS256, ES256, HS256, EdDSA.
	Algorithms []string
	// Keys are static keys (PEM/JWK files, the HMAC secret).
	Keys []Key
	// JWKSURL, when set, is fetched for keys; cached for JWKSCacheTTL (default 10m) and refreshed on an
	// unknown kid at most once per JWKSMinRefresh (default 30s).
	JWKSURL        string
	JWKSCacheTTL   time.Duration
	JWKSMinRefresh time.Duration
	HTTPClient     *http.Client
	Issuer         string
	Audience       []string // any of
	ClockSkew      time.Duration
	RequiredClaims []string
	// Now is the clock for exp/nbf/iat and the JWKS cache; default time.Now.
	Now func() time.Time
}

// Verifier checks tokens against one Config. It is safe for concurrent use.
type Verifier struct {
	cfg  Config
	algs []jose.SignatureAlgorithm
	jwks *jwksCache
}

// supported are the algorithms go-jose verifies and a policy may list.
var supported = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512", "EdDSA"}

// Supported lists the algorithms a policy may name.
func Supported() []string { return slices.Clone(supported) }

// New checks cfg and returns its Verifier. Keys are not fetched yet: a JWKS is read on first use.
func New(cfg Config) (*Verifier, error) {
	if len(cfg.Algorithms) == 0 {
		return nil, errors.New("jwtverify: no algorithms configured")
	}
	v := &Verifier{cfg: cfg}
	for _, a := range cfg.Algorithms {
		if !slices.Contains(supported, a) {
			return nil, fmt.Errorf("jwtverify: algorithm %q is not supported (use one of %s)", a, strings.Join(supported, ", "))
		}
		v.algs = append(v.algs, jose.SignatureAlgorithm(a))
	}
	if len(cfg.Keys) == 0 && cfg.JWKSURL == "" {
		return nil, errors.New("jwtverify: no keys: configure keys, a secret or a jwks url")
	}
	if v.cfg.Now == nil {
		v.cfg.Now = time.Now
	}
	if cfg.JWKSURL != "" {
		v.jwks = newJWKSCache(cfg)
	}
	return v, nil
}

// Claims are the verified claims of a token.
type Claims struct {
	Subject string
	// Raw holds every claim as JSON.
	Raw map[string]json.RawMessage
}

// Text returns a claim as header-ready text: a JSON string unquoted, anything else as compact JSON.
func (c *Claims) Text(name string) (string, bool) {
	raw, ok := c.Raw[name]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return "", false
	}
	return buf.String(), true
}

// FromHeader extracts the token of an "Authorization: Bearer <token>" header value.
func FromHeader(h http.Header) (string, *Error) {
	vals := h.Values("Authorization")
	if len(vals) == 0 {
		return "", fail(CodeMissing, "no Authorization header")
	}
	if len(vals) > 1 {
		return "", fail(CodeMalformed, "more than one Authorization header")
	}
	if strings.EqualFold(strings.TrimSpace(vals[0]), "Bearer") {
		return "", fail(CodeMalformed, "empty bearer token")
	}
	scheme, token, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", fail(CodeMissing, "Authorization is not a Bearer credential")
	}
	token = strings.TrimLeft(token, " ")
	if token == "" {
		return "", fail(CodeMalformed, "empty bearer token")
	}
	return token, nil
}

// Verify checks the token's signature and claims.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	payload, err := v.VerifySignature(ctx, token)
	if err != nil {
		return nil, err
	}
	return v.checkClaims(payload)
}

// header is what the verifier reads from a token's protected header.
type header struct {
	Alg  *string         `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
	B64  json.RawMessage `json:"b64"`
}

var strictB64 = base64.RawURLEncoding.Strict()

// VerifySignature checks the token's structure and signature and returns the payload, without claim checks.
// The Wycheproof JWS vectors run through it.
func (v *Verifier) VerifySignature(ctx context.Context, token string) ([]byte, error) {
	if len(token) > MaxTokenSize {
		return nil, fail(CodeTooLarge, "token is %d bytes, over %d", len(token), MaxTokenSize)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fail(CodeMalformed, "compact JWS needs 3 parts, got %d", len(parts))
	}
	var raw [3][]byte
	for i, p := range parts {
		// Strict: no padding, no characters outside the alphabet, no stray bits. go-jose's own decoder is
		// lenient about whitespace; a token that two decoders read differently is refused here.
		b, err := strictB64.DecodeString(p)
		if err != nil {
			return nil, fail(CodeMalformed, "part %d is not base64url: %v", i+1, err)
		}
		raw[i] = b
	}
	if err := checkNoDuplicateKeys(raw[0]); err != nil {
		if errors.Is(err, errNotObject) {
			return nil, fail(CodeMalformed, "header: %v", err)
		}
		return nil, fail(CodeUnsupported, "header: %v", err)
	}
	// From here the token is a JWS: every refusal is a verification or policy failure (403), decided
	// here rather than by whichever of go-jose's checks happens to run first, so the status never depends
	// on the type of key an attacker embedded.
	if name := embeddedKeyHeader(raw[0]); name != "" {
		return nil, fail(CodeUnsupported, "header %q names a key; keys come only from the configuration", name)
	}
	var h header
	if err := json.Unmarshal(raw[0], &h); err != nil {
		return nil, fail(CodeUnsupported, "header: %v", err)
	}
	if h.Alg == nil {
		return nil, fail(CodeAlgorithm, "header has no alg")
	}
	alg := *h.Alg
	if !slices.Contains(v.cfg.Algorithms, alg) {
		return nil, fail(CodeAlgorithm, "alg %q is not one of %s", alg, strings.Join(v.cfg.Algorithms, ", "))
	}
	if h.Crit != nil {
		return nil, fail(CodeUnsupported, "crit header is not supported")
	}
	if h.B64 != nil {
		return nil, fail(CodeUnsupported, "b64 header is not supported")
	}

	keys, err := v.keysFor(ctx, h.Kid, alg)
	if err != nil {
		return nil, err
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		return nil, fail(CodeUnsupported, "%v", err)
	}
	for _, k := range keys {
		payload, err := jws.Verify(k.Key)
		if err == nil && strictPSS(alg, k, parts, raw[2]) {
			return payload, nil
		}
	}
	return nil, fail(CodeSignature, "signature does not verify with %d configured key(s) for alg %s", len(keys), alg)
}

// strictPSS re-checks a PS* signature with the salt length RFC 7518 section 3.5 requires (the hash size):
// go-jose verifies PSS with any salt length, and a target whose runtime checks the length (WebCrypto does)
// would then decide the same token differently.
func strictPSS(alg string, k Key, parts []string, sig []byte) bool {
	var h crypto.Hash
	switch alg {
	case "PS256":
		h = crypto.SHA256
	case "PS384":
		h = crypto.SHA384
	case "PS512":
		h = crypto.SHA512
	default:
		return true
	}
	pub, ok := k.Key.(*rsa.PublicKey)
	if !ok {
		return false
	}
	hasher := h.New()
	hasher.Write([]byte(parts[0]))
	hasher.Write([]byte{'.'})
	hasher.Write([]byte(parts[1]))
	return rsa.VerifyPSS(pub, h, hasher.Sum(nil), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
}

func (v *Verifier) keysFor(ctx context.Context, kid, alg string) ([]Key, error) {
	pick := func(from []Key) []Key {
		var out []Key
		for _, k := range from {
			if kid != "" && k.KID != "" && k.KID != kid {
				continue
			}
			if k.fits(alg) {
				out = append(out, k)
			}
		}
		return out
	}
	keys := pick(v.cfg.Keys)
	if v.jwks != nil {
		set, err := v.jwks.get(ctx, kid)
		if err != nil && len(keys) == 0 {
			return nil, &Error{Code: CodeNoKey, Err: err}
		}
		keys = append(keys, pick(set)...)
	}
	if len(keys) == 0 {
		if kid != "" {
			return nil, fail(CodeNoKey, "no configured key with kid %q fits alg %s", kid, alg)
		}
		return nil, fail(CodeNoKey, "no configured key fits alg %s", alg)
	}
	return keys, nil
}

func (v *Verifier) checkClaims(payload []byte) (*Claims, error) {
	if err := checkNoDuplicateKeys(payload); err != nil {
		return nil, fail(CodeUnsupported, "claims: %v", err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(payload, &all); err != nil || all == nil {
		return nil, fail(CodeClaims, "payload is not a JSON object")
	}
	c := &Claims{Raw: all}
	now := v.cfg.Now()
	skew := v.cfg.ClockSkew

	exp, ok, err := numericDate(all, "exp")
	switch {
	case err != nil:
		return nil, err
	case !ok:
		// A token without exp never expires; a stolen one would work forever.
		return nil, fail(CodeExpired, "token has no exp")
	case !now.Before(exp.Add(skew)):
		return nil, fail(CodeExpired, "expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if nbf, ok, err := numericDate(all, "nbf"); err != nil {
		return nil, err
	} else if ok && now.Add(skew).Before(nbf) {
		return nil, fail(CodeNotYetValid, "not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	if iat, ok, err := numericDate(all, "iat"); err != nil {
		return nil, err
	} else if ok && now.Add(skew).Before(iat) {
		return nil, fail(CodeNotYetValid, "issued in the future (%s)", iat.UTC().Format(time.RFC3339))
	}
	if raw, ok := all["sub"]; ok {
		if json.Unmarshal(raw, &c.Subject) != nil {
			return nil, fail(CodeClaims, "sub is not a string")
		}
	}
	if v.cfg.Issuer != "" {
		var iss string
		if raw, ok := all["iss"]; !ok || json.Unmarshal(raw, &iss) != nil || iss != v.cfg.Issuer {
			return nil, fail(CodeIssuer, "issuer is not %q", v.cfg.Issuer)
		}
	}
	if len(v.cfg.Audience) > 0 {
		var auds []string
		raw := all["aud"]
		var one string
		if json.Unmarshal(raw, &one) == nil {
			auds = []string{one}
		} else if json.Unmarshal(raw, &auds) != nil {
			auds = nil
		}
		if !slices.ContainsFunc(auds, func(a string) bool { return slices.Contains(v.cfg.Audience, a) }) {
			return nil, fail(CodeAudience, "audience is none of %s", strings.Join(v.cfg.Audience, ", "))
		}
	}
	for _, name := range v.cfg.RequiredClaims {
		if raw, ok := all[name]; !ok || string(raw) == "null" {
			return nil, fail(CodeClaims, "required claim %q is missing", name)
		}
	}
	return c, nil
}

func numericDate(all map[string]json.RawMessage, name string) (time.Time, bool, error) {
	raw, ok := all[name]
	if !ok {
		return time.Time{}, false, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, false, fail(CodeClaims, "%s is not a number", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// embeddedKeyHeaders are the header members that carry or point at a key (RFC 7515 section 4.1). The
// thumbprints x5t and x5t#S256 only name a key, as kid does, and identity providers send them.
var embeddedKeyHeaders = []string{"jwk", "jku", "x5u", "x5c"}

// embeddedKeyHeader returns the first member of the header object that carries or points at a key, or "".
func embeddedKeyHeader(hdr []byte) string {
	var members map[string]json.RawMessage
	if json.Unmarshal(hdr, &members) != nil {
		return ""
	}
	for _, name := range embeddedKeyHeaders {
		if _, ok := members[name]; ok {
			return name
		}
	}
	return ""
}

var errNotObject = errors.New("not a JSON object")

// checkNoDuplicateKeys walks a JSON document and refuses an object with the same member twice: parsers
// disagree on which one wins, so a token could mean one thing to the gateway and another to the origin.
func checkNoDuplicateKeys(doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return errNotObject
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errNotObject
	}
	if err := walkObject(dec); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func walkObject(dec *json.Decoder) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if seen[key] {
			return fmt.Errorf("duplicate member %q", key)
		}
		seen[key] = true
		if err := walkValue(dec); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
}

func walkValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		return walkObject(dec)
	case '[':
		for dec.More() {
			if err := walkValue(dec); err != nil {
				return err
			}
		}
		_, err := dec.Token()
		return err
	}
	return nil
}
