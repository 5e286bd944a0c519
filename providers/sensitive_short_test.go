package providers_test

import (
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
)

func TestResolveSecretsRefusesShortHMACSecret(t *testing.T) {
	const short = "short-secret-value-28-bytes!"
	g := &ir.Gateway{AuthPolicies: []ir.AuthPolicy{{Name: "bearer", JWT: &ir.JWT{Algorithms: []string{"HS384"}, Secret: &ir.Value{Env: "JWT_SECRET_KEY"}}}}}
	_, err := providers.ResolveSecrets(g, func(string) string { return short })
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET_KEY is 28 bytes; HS384 needs at least 48") || strings.Contains(err.Error(), short) {
		t.Fatalf("short secret at apply: %v", err)
	}
	long := strings.Repeat("k", 48)
	if s, err := providers.ResolveSecrets(g, func(string) string { return long }); err != nil || len(s) != 1 {
		t.Fatalf("48-byte secret: %v %v", s, err)
	}
}
