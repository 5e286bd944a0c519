package view

import (
	"strings"
	"testing"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/providers"
)

// A plan reports an artifact's size against the target's limit on it (a CloudFront Function's 10,240
// bytes), for a live target and for one shown offline, and lists the budgets in the JSON view.
func TestPlanShowsTheSizeBudget(t *testing.T) {
	arts := []providers.PlannedArtifact{
		{Path: "viewer-request.js", Size: 5451, MaxBytes: 10240, Digest: "0123456789abcdef"},
		{Path: "notes.txt", Size: 12, Digest: "fedcba9876543210"},
	}
	for _, tc := range []struct {
		name    string
		format  string
		offline bool
		want    []string
		not     string
	}{
		{"live", cmdutil.FormatHuman, false, []string{"  size: viewer-request.js 5,451 of 10,240 bytes\n"}, "notes.txt"},
		{"offline", cmdutil.FormatHuman, true, []string{"  viewer-request.js  5,451 of 10,240 bytes  sha256:0123456789ab\n", "  notes.txt  12 bytes  sha256:fedcba987654\n"}, ""},
		{"json", cmdutil.FormatJSON, false, []string{`"budgets":[{"max_bytes":10240,"path":"viewer-request.js","size":5451}]`}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			v := New(&cmdutil.Factory{IO: cmdutil.TestIO(strings.NewReader(""), &out, &errOut), Format: tc.format,
				Getenv: func(string) string { return "" }}, "plan")
			v.targetPlan(&providers.TargetPlan{Target: "cloudfront", LiveVersion: "3", Offline: tc.offline, OfflineReason: "no credentials", Artifacts: arts})
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("plan output lacks %q:\n%s", w, out.String())
				}
			}
			if tc.not != "" && strings.Contains(out.String(), tc.not) {
				t.Errorf("plan output reports %s, which has no limit:\n%s", tc.not, out.String())
			}
		})
	}
	if got := grouped(1234567); got != "1,234,567" {
		t.Errorf("grouped(1234567) = %q", got)
	}
}
