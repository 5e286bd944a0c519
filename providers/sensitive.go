package providers

import (
	"fmt"
	"log/slog"

	"github.com/edgegw/edgegw/manifest/ir"
)

// Redacted is what a Sensitive value shows everywhere.
const Redacted = "(sensitive)"

// Sensitive holds a secret value. It formats, marshals and logs as "(sensitive)" so that no plan, record,
// log line or output format can carry the value by accident; Reveal is the one way to read it, and only a
// SecretWriter should call it.
type Sensitive struct{ v string }

// NewSensitive wraps a secret value.
func NewSensitive(v string) Sensitive { return Sensitive{v: v} }

// Reveal returns the value, for the vendor's secret API only.
func (s Sensitive) Reveal() string { return s.v }

// String implements fmt.Stringer.
func (Sensitive) String() string { return Redacted }

// GoString covers %#v.
func (Sensitive) GoString() string { return Redacted }

// Format covers every verb, %x and %q included.
func (Sensitive) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// MarshalJSON keeps the value out of JSON.
func (Sensitive) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText keeps the value out of text encodings (YAML, slog text, map keys).
func (Sensitive) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue keeps the value out of slog.
func (Sensitive) LogValue() slog.Value { return slog.StringValue(Redacted) }

// Secrets lists the secret references of g (the HMAC keys of JWT policies), in policy order.
func Secrets(g *ir.Gateway) []string {
	var names []string
	for _, ap := range g.AuthPolicies {
		if ap.JWT != nil && ap.JWT.Secret != nil && ap.JWT.Secret.Env != "" {
			names = append(names, ap.JWT.Secret.Env)
		}
	}
	return names
}

// ResolveSecrets reads the secret values g references from the environment. It is called at apply time
// only; a missing variable is an error naming it.
func ResolveSecrets(g *ir.Gateway, getenv func(string) string) ([]Secret, error) {
	var out []Secret
	for _, name := range Secrets(g) {
		v := getenv(name)
		if v == "" {
			return nil, fmt.Errorf("providers: secret %s is not set: export %s before apply (the manifest references it with {env: %s})", name, name, name)
		}
		out = append(out, Secret{Name: name, Value: NewSensitive(v)})
	}
	for _, p := range g.AuthPolicies {
		if p.JWT == nil || p.JWT.Secret == nil || p.JWT.Secret.Env == "" {
			continue
		}
		if err := ir.CheckHMACSecret(p, getenv(p.JWT.Secret.Env)); err != nil {
			return nil, fmt.Errorf("providers: %w", err)
		}
	}
	return out, nil
}
