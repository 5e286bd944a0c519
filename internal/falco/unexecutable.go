package falco

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest/ir"
)

var _ testrun.Unexecutable = Engine{}

// Unexecutable implements testrun.Unexecutable: the cases falco v1.21.1's interpreter cannot show, because
// the construct the VCL uses for them does not execute there (see Engine). Each is covered by falco lint,
// the golden files of render/fastly and `falco test` instead. A case is declared only for what the
// interpreter lacks, never because the VCL decides otherwise than the reference:
//   - its requests reach a rate-limited route more than once: the interpreter gives every request fresh
//     ratecounters, so the second request is counted as the first;
//   - an origin of the case is scripted down, or to answer no sooner than its timeout: the interpreter
//     ends such a fetch with a runtime error instead of Fastly's vcl_error (503), so neither failover on
//     a connect failure nor the edge's own 502/504 runs;
//   - a request carries on several lines a header the VCL joins with std.collect (one a route matches on,
//     Authorization on a route with auth): std.collect is a no-op there, so the VCL would see the first
//     line only.
func (Engine) Unexecutable(g *ir.Gateway, tc ir.TestCase) string {
	for _, o := range tc.Origins {
		if o.Down {
			return fmt.Sprintf("origin %s is scripted down; falco ends a fetch that cannot connect with an interpreter error instead of vcl_error", o.Name)
		}
		timeout := 30 * time.Second // the reference's default, as the VCL renders it
		if og := g.Origin(o.Name); og != nil && og.Timeout > 0 {
			timeout = og.Timeout.D()
		}
		for _, r := range o.Responses {
			if r.Delay.D() >= timeout {
				return fmt.Sprintf("origin %s is scripted to answer after its %s timeout; falco ends a fetch that times out with an interpreter error instead of vcl_error", o.Name, timeout)
			}
		}
	}
	collected := collectedHeaders(g)
	for _, st := range tc.Sequence() {
		seen := map[string]bool{}
		for _, h := range st.Request.Headers {
			name := http.CanonicalHeaderKey(h.Name)
			if seen[name] && collected[name] {
				return fmt.Sprintf("a request carries %s on several lines and the VCL reads it through std.collect, a no-op in falco, so it would see only the first", name)
			}
			seen[name] = true
		}
	}
	if limited := limitedRequests(g, tc); limited > 1 {
		return fmt.Sprintf("the case sends %d requests to rate-limited routes; falco gives every request fresh ratecounters, so no count passes 1", limited)
	}
	return ""
}

// collectedHeaders are the request headers the VCL of g joins with std.collect before reading them: those
// a route matches on, and Authorization when a route verifies tokens. Other headers sent on several lines
// (removed, set or forwarded) execute in falco as on Fastly.
func collectedHeaders(g *ir.Gateway) map[string]bool {
	out := map[string]bool{}
	for _, r := range g.Routes {
		for _, h := range r.Match.Headers {
			out[http.CanonicalHeaderKey(h.Name)] = true
		}
		if r.Auth != "" {
			out["Authorization"] = true
		}
	}
	return out
}

// limitedRequests counts the requests of tc (repetitions included) whose route has a rate limit, with the
// route chosen as the reference gateway chooses it.
func limitedRequests(g *ir.Gateway, tc ir.TestCase) int {
	limited := false
	for _, r := range g.Routes {
		limited = limited || r.RateLimit != ""
	}
	if !limited {
		return 0
	}
	// The probe only routes: any secret long enough to load does.
	probe, err := gateway.New(g, gateway.Options{Getenv: func(string) string { return strings.Repeat("p", 64) }})
	if err != nil {
		return 0
	}
	n := 0
	for _, st := range tc.Sequence() {
		cr, err := testrun.NewClientRequest(st.Request, time.Unix(0, 0))
		if err != nil {
			continue
		}
		req, err := cr.HTTPRequest()
		if err != nil {
			continue
		}
		if r := probe.RouteFor(req); r != nil && r.RateLimit != "" {
			n += max(st.Repeat, 1)
		}
	}
	return n
}
