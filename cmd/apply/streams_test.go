package apply_test

import (
	"strings"
	"testing"
)

// `edgegw plan > f` and `edgegw history > f` must fill f: the plan and the history table are data (stdout);
// progress, warnings and notes stay on stderr.
func TestPlanAndHistoryAreDataOnStdout(t *testing.T) {
	qs := quickstart(t)
	workdir(t, qs)

	r := edgegw(t, nil, "plan")
	mustCode(t, r, 0, "plan")
	for _, want := range []string{"local: routes: 3 to add; domains: 1 to add; artifacts: 1 to add", "+ route health", "Plan: 1 target to change."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan stdout lacks %q\nstdout:\n%s\nstderr:\n%s", want, r.stdout, r.stderr)
		}
		if strings.Contains(r.stderr, want) {
			t.Errorf("plan stderr holds the plan line %q\nstderr:\n%s", want, r.stderr)
		}
	}

	mustCode(t, edgegw(t, nil, "apply", "--auto-approve"), 0, "apply")
	write(t, "edgegw.yaml", []byte(strings.Replace(string(qs), "body: ok}", "body: ok-v2}", 1)))
	r = edgegw(t, nil, "plan")
	mustCode(t, r, 0, "plan after an edit")
	if !strings.Contains(r.stdout, "@@") || !strings.Contains(r.stdout, "ok-v2") {
		t.Errorf("the artifact diff is not on stdout\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "ok-v2") {
		t.Errorf("the artifact diff is on stderr:\n%s", r.stderr)
	}

	r = edgegw(t, nil, "history")
	mustCode(t, r, 0, "history")
	for _, want := range []string{"SEQ", "KIND", "apply", "(* live)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("history stdout lacks %q\nstdout:\n%s\nstderr:\n%s", want, r.stdout, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "SEQ") {
		t.Errorf("the history table is on stderr:\n%s", r.stderr)
	}
}
