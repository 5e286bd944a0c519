package view

import (
	"strings"
	"testing"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/render"
)

// The artifact diff a plan shows is a unified diff a user can read (and `patch` can apply): one line per
// changed line, a hunk header, and the "\ No newline at end of file" marker when a file lacks a final newline.
func TestPlanShowsAUnifiedDiffOfTheArtifact(t *testing.T) {
	for _, tc := range []struct {
		name, before, after, want string
	}{
		{
			name:   "changed line in the middle",
			before: "a\nb\nc\nd\ne\nf\ng\nh\n",
			after:  "a\nb\nc\nd\nE\nf\ng\nh\n",
			want: `--- local/worker.js (live 7)
+++ local/worker.js (planned)
@@ -2,7 +2,7 @@
 b
 c
 d
-e
+E
 f
 g
 h
`,
		},
		{
			name:   "no final newline",
			before: "a\nb",
			after:  "a\nc",
			want: `--- local/worker.js (live 7)
+++ local/worker.js (planned)
@@ -1,2 +1,2 @@
 a
-b
\ No newline at end of file
+c
\ No newline at end of file
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			v := New(&cmdutil.Factory{IO: cmdutil.TestIO(strings.NewReader(""), &out, &errOut), Format: cmdutil.FormatHuman,
				Getenv: func(string) string { return "" }}, "plan")
			tp := &providers.TargetPlan{Target: "local", LiveVersion: "7",
				Changes:   []providers.Change{{Action: providers.Update, Kind: "artifact", Name: "worker.js"}},
				Artifacts: []providers.PlannedArtifact{{Path: "worker.js", Data: []byte(tc.after), Size: len(tc.after)}},
				Live:      []render.Artifact{{Path: "worker.js", Data: []byte(tc.before)}},
			}
			got := strings.Join(v.diffs(tp), "")
			if got != tc.want {
				t.Errorf("diff:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}
