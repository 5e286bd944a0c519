package cloudfront_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest"
)

// The deploy names two functions after targets.cloudfront.function; a name CloudFront would refuse for
// them is a manifest error at the block, before any call.
func TestFunctionNameChecked(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"quickstart", true},
		{"edge_api-gateway2", true},
		{strings.Repeat("a", 48), true},
		{strings.Repeat("a", 49), false},
		{"bad name", false},
		{"gw.prod", false},
	} {
		src := strings.Replace(quickstart("ok", "ok"), "function: quickstart", "function: \""+tc.name+"\"", 1)
		_, diags := manifest.LoadBytes("edgegw.yaml", []byte(src), manifest.LoadOptions{})
		if diags.HasErrors() == tc.ok || !tc.ok && !strings.Contains(fmt.Sprint(diags), "cannot name the functions") {
			t.Errorf("function %q: ok %v, diagnostics %v", tc.name, tc.ok, diags)
		}
	}
}

// The propagation wait's settings are durations.
func TestPropagationSettingsChecked(t *testing.T) {
	for _, tc := range []struct {
		block string
		ok    bool
	}{
		{"poll_interval: 30s, propagation_timeout: 20m", true},
		{"poll_interval: soon", false},
		{"propagation_timeout: -5m", false},
	} {
		src := strings.Replace(quickstart("ok", "ok"), "function: quickstart}", "function: quickstart, "+tc.block+"}", 1)
		_, diags := manifest.LoadBytes("edgegw.yaml", []byte(src), manifest.LoadOptions{})
		if diags.HasErrors() == tc.ok || !tc.ok && !strings.Contains(fmt.Sprint(diags), "is not a positive duration") {
			t.Errorf("%s: ok %v, diagnostics %v", tc.block, tc.ok, diags)
		}
	}
}

// The lambda-edge-auth companion deploys to a Lambda function the manifest names: without
// lambda_function the block is refused, at validate, before any call.
func TestLambdaFunctionRequiredWithCompanion(t *testing.T) {
	for _, tc := range []struct {
		block string
		ok    bool
	}{
		{"companions: [lambda-edge-auth], lambda_function: gw-auth", true},
		{"companions: [lambda-edge-auth]", false},
		{"companions: [waf-rate-limit]", true},
	} {
		src := strings.Replace(quickstart("ok", "ok"), "function: quickstart}", "function: quickstart, "+tc.block+"}", 1)
		_, diags := manifest.LoadBytes("edgegw.yaml", []byte(src), manifest.LoadOptions{})
		if diags.HasErrors() == tc.ok || !tc.ok && !strings.Contains(fmt.Sprint(diags), "lambda_function") {
			t.Errorf("%s: ok %v, diagnostics %v", tc.block, tc.ok, diags)
		}
	}
}
