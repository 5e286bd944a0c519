package cloudflare

import (
	"strings"
	"testing"
)

// TestSyntaxCheckedAtRenderTime: a bundle error is an error of Render, with where it is.
func TestSyntaxCheckedAtRenderTime(t *testing.T) {
	_, err := bundle("const x = ;\n")
	if err == nil || !strings.Contains(err.Error(), "worker.js:1:") {
		t.Fatalf("got %v, want an esbuild error at worker.js:1", err)
	}
}
