package view

import (
	"strings"
	"testing"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/providers"
)

// A target's own change kinds are counted in the summary line, and a target whose live state was not read
// is never reported as "no changes".
func TestSummaryCountsEveryKindAndNamesUnreadTargets(t *testing.T) {
	tp := &providers.TargetPlan{Target: "cloudflare", LiveVersion: "v1", Changes: []providers.Change{
		{Action: providers.Update, Kind: "route", Name: "api"},
		{Action: providers.Create, Kind: "custom_domain", Name: "api.example.com"},
		{Action: providers.Create, Kind: "custom_domain", Name: "www.example.com"},
		{Action: providers.Delete, Kind: "dictionary", Name: "d"},
	}}
	got := summary(tp)
	want := "routes: 1 to change; dictionaries: 1 to remove; custom domains: 2 to add"
	if got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}

	var out, errOut strings.Builder
	v := New(&cmdutil.Factory{IO: cmdutil.TestIO(strings.NewReader(""), &out, &errOut), Format: cmdutil.FormatHuman,
		Getenv: func(string) string { return "" }}, "plan")
	v.Plan(&providers.Plan{Targets: []*providers.TargetPlan{{Target: "azure", Offline: true, OfflineReason: "no credentials"}}})
	if s := out.String() + errOut.String(); strings.Contains(s, "The live targets match") || !strings.Contains(s, "Not read (live state unknown, see the warning above): azure.") {
		t.Errorf("plan of an unread target printed:\n%s", s)
	}
}
