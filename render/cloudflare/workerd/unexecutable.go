package workerd

import (
	"fmt"
	"strings"
	"time"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/manifest/pathnorm"
)

var _ testrun.Unexecutable = (*Engine)(nil)

// Unexecutable implements testrun.Unexecutable: the cases whose request the Worker cannot be shown as the
// client sent it. workerd's HTTP server, like the Cloudflare edge in front of a deployed Worker, resolves
// raw "." and ".." segments of the request-target before any Worker code runs (encoded ones reach the
// Worker as sent), and a ".." at the root is dropped. A case is declared only when that resolution changes
// the decision the shared normalizer makes on the raw path: a raw ".." above the root (`/../admin`, which
// the reference refuses with 400, arrives as `/admin`), or raw and encoded dot segments mixed so that the
// resolved path normalizes to another path. A raw dot segment that resolves as the normalizer would
// resolve it (`/p/x/../q/y`) executes, and must pass, like any other case.
func (*Engine) Unexecutable(_ *ir.Gateway, tc ir.TestCase) string {
	for _, st := range tc.Sequence() {
		cr, err := testrun.NewClientRequest(st.Request, time.Unix(0, 0))
		if err != nil {
			continue // the loop reports the bad request itself
		}
		raw, _, _ := strings.Cut(cr.Target, "?")
		seen, changed := resolveRawDots(raw)
		if !changed {
			continue
		}
		want, wantErr := pathnorm.Normalize(raw)
		got, gotErr := pathnorm.Normalize(seen)
		switch {
		case wantErr != nil && gotErr == nil:
			return fmt.Sprintf("workerd, like the Cloudflare edge, resolves the raw dot segments of %q before the Worker runs, so the Worker sees %q and cannot refuse it as the reference does (%s)", raw, seen, strings.TrimPrefix(wantErr.Error(), "pathnorm: "))
		case wantErr == nil && (gotErr != nil || got != want):
			return fmt.Sprintf("workerd, like the Cloudflare edge, resolves the raw dot segments of %q before the Worker runs, so the Worker sees %q, which does not normalize to the reference's %q", raw, seen, want)
		}
	}
	return ""
}

// resolveRawDots is the request path as workerd hands it to the Worker: raw "." segments removed, each raw
// ".." removing the segment before it (nothing at the root). Percent-encoded dots are not dot segments
// here. changed is false when the path holds no raw dot segment.
func resolveRawDots(p string) (resolved string, changed bool) {
	if !strings.HasPrefix(p, "/") {
		return p, false
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".", "..":
			changed = true
			if s == ".." && len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "") // "/a/." and "/a/b/.." keep their trailing slash
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/"), changed
}
