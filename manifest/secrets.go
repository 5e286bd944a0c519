package manifest

import (
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Secrets are referenced by name ({env: NAME}) and never written as values. checkSecrets walks every string
// the user wrote and flags the ones that look like a key, token or password. The message never repeats the
// value: printing a leaked secret again, in CI logs, would make the leak worse.

var (
	jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)
	// One expression per token kind, each starting with a literal: the regexp package then finds
	// candidates with a substring search, where one alternation of them all ran its automaton over every
	// byte (200 ns a byte: seconds on a large manifest).
	knownTokenREs = []*regexp.Regexp{
		regexp.MustCompile(`AKIA[0-9A-Z]{16}`), regexp.MustCompile(`ASIA[0-9A-Z]{16}`),
		regexp.MustCompile(`gh[pousr]_[A-Za-z0-9]{30,}`), regexp.MustCompile(`github_pat_[A-Za-z0-9_]{30,}`),
		regexp.MustCompile(`xox[abposr]-[A-Za-z0-9-]{10,}`), regexp.MustCompile(`sk_(live|test)_[A-Za-z0-9]{16,}`),
		regexp.MustCompile(`glpat-[A-Za-z0-9_-]{20}`), regexp.MustCompile(`AIza[0-9A-Za-z_-]{35}`),
		regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`),
	}
	secretNameRE = regexp.MustCompile(`(?i)(secret|passw(or)?d|passwd|token|api[-_]?key|private[-_]?key|credential|authorization|cookie)`)
)

func (c *compiler) checkSecrets() {
	walkStrings(reflect.ValueOf(c.m).Elem(), "", func(path, key, s string) {
		if s == "" {
			return
		}
		inTestHeaders := strings.HasPrefix(path, "tests[") && (strings.Contains(path, ".request.headers.") || strings.Contains(path, ".request.header_values."))
		reason := ""
		switch {
		case looksLikeKnownToken(s):
			reason = "it looks like an access key or private key"
		case jwtRE.MatchString(s) && !inTestHeaders:
			// Tests may carry tokens (expired ones, attack tokens, tokens from a test issuer): that is how
			// users test what their identity provider issues.
			reason = "it looks like a signed token (JWT)"
		case !inTestHeaders && secretNameRE.MatchString(key) && !isReference(path):
			reason = "its name (" + key + ") says it is a secret"
		case looksRandom(s) && !inTestHeaders:
			reason = "it looks like a random key or token"
		}
		if reason != "" {
			c.errorAt(path, CodeSecretLiteral,
				"put the value in an environment variable or the target's secret store and reference it by name ({env: NAME}); if it was committed, rotate it",
				"%s: a secret value is written in the manifest: %s", displayPath(path), reason)
		}
	})
}

func looksLikeKnownToken(s string) bool {
	for _, re := range knownTokenREs {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// isReference reports paths whose values are names, not values (header names to remove, policy names).
func isReference(path string) bool {
	for _, suffix := range []string{".key", ".auth", ".rate_limit", ".remove_headers", ".request_id", ".header", ".present", ".absent", ".allow_headers", ".expose_headers", ".env", ".required_claims", ".name"} {
		if strings.HasSuffix(path, suffix) || strings.Contains(path, suffix+"[") {
			return true
		}
	}
	return strings.Contains(path, ".forward_claims.")
}

// looksRandom flags long strings of token characters with high entropy and a mix of character classes:
// URLs, paths and host names do not qualify.
func looksRandom(s string) bool {
	if !tokenChars(s) || strings.Count(s, "/") > 1 {
		return false
	}
	var upper, lower, digit bool
	freq := map[rune]int{}
	for _, r := range s {
		freq[r]++
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		}
	}
	if !(upper && lower && digit) {
		return false
	}
	h := 0.0
	n := float64(len(s))
	for _, k := range freq {
		p := float64(k) / n
		h -= p * math.Log2(p)
	}
	return h >= 4.0
}

// tokenChars reports whether s is 32 or more of the characters tokens are written in (base64, base64url,
// hex); a loop, because the equivalent regexp costs 50 ns a byte.
func tokenChars(s string) bool {
	if len(s) < 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("+/=_-.", c) >= 0) {
			return false
		}
	}
	return true
}

// walkStrings calls fn for every string reachable from v, with its decoder path and the name of the key or
// field that holds it.
func walkStrings(v reflect.Value, path string, fn func(path, key, s string)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), path, fn)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				if f.Anonymous {
					walkStrings(v.Field(i), path, fn)
				}
				continue
			}
			fv := v.Field(i)
			if fv.Kind() == reflect.String {
				fn(joinPath(path, name), name, fv.String())
				continue
			}
			walkStrings(fv, joinPath(path, name), fn)
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			ev := v.MapIndex(k)
			p := joinPath(path, k.String())
			if ev.Kind() == reflect.String {
				fn(p, k.String(), ev.String())
				continue
			}
			if ev.Kind() == reflect.Interface && !ev.IsNil() && ev.Elem().Kind() == reflect.String {
				fn(p, k.String(), ev.Elem().String())
				continue
			}
			walkStrings(ev, p, fn)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			p := path + "[" + strconv.Itoa(i) + "]"
			ev := v.Index(i)
			if ev.Kind() == reflect.String {
				fn(p, lastKey(path), ev.String())
				continue
			}
			walkStrings(ev, p, fn)
		}
	}
}

func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}
