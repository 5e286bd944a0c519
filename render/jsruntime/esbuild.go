package jsruntime

import (
	"fmt"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// BuildErrors is esbuild's errors as one line: each message at its file:line:col (the column 1-based, as
// editors count), joined by "; ". Every renderer that bundles the library reports a failed build with it.
func BuildErrors(msgs []api.Message) string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		loc := ""
		if m.Location != nil {
			loc = fmt.Sprintf("%s:%d:%d: ", m.Location.File, m.Location.Line, m.Location.Column+1)
		}
		out = append(out, loc+m.Text)
	}
	return strings.Join(out, "; ")
}
