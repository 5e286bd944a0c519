package testrun

import (
	"context"
	"net/http"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
)

// The contract between the conformance loop and a target's runtime. testrun builds every request, signs test
// tokens, keeps the clock, scripts the origins (each one its own loopback recording server) and compares; a
// target only executes one request at a time against its rendered artifact and returns what a client saw.
// Which origin received a request, with which path and headers, is observed by testrun at the origins, never
// reported by the target.

// Engine opens instances of one target's artifact. It is what a target package provides for the suite.
type Engine interface {
	// Open renders g for this target in test mode and loads it into the target's runtime, with its origins
	// at the loopback URLs in origins (by origin name). The instance starts with fresh state (rate-limit
	// counters, breaker state). Test secrets are resolved through env.Getenv and reach the artifact the way
	// real ones would (the target's secret mechanism), never through an in-process back door. An error means
	// the runtime is missing or the artifact does not load: the case cannot run.
	Open(ctx context.Context, g *ir.Gateway, origins map[string]string, env Env) (Instance, error)
}

// Unexecutable is what an Engine may also implement when its runtime cannot show some cases at all: an
// emulator that keeps no state between requests, cannot reach an origin that is down, or drops repeated
// header lines. Unexecutable returns why this runtime cannot execute case tc of g, or "" when it can. The
// suite skips such a case with the reason and counts it apart from the capability skips; it is never a
// pass. It is for what the runtime cannot execute, never for a difference of the target's artifact.
type Unexecutable interface {
	Unexecutable(g *ir.Gateway, tc ir.TestCase) string
}

// Instance is one loaded artifact whose state persists across the requests of one case.
type Instance interface {
	// Do sends one request as a client would at clock time req.Now and returns the client's view.
	Do(ctx context.Context, req *ClientRequest) (*ClientResponse, error)
	Close() error
}

// ClientRequest is one request as the client sends it.
type ClientRequest struct {
	Method string
	// Scheme is the scheme the client used, "https" (the default when empty) or "http".
	Scheme string
	// Target is the raw request-target, sent unchanged (attack paths such as /a/%2e%2e/b reach the target
	// as written).
	Target string
	Host   string
	// Header may hold several values of one header, in order.
	Header   http.Header
	Body     []byte
	ClientIP string    // the client's address as the edge sees it (for `key: ip` limits)
	Now      time.Time // the case clock at this request
}

// ClientResponse is what the client received.
type ClientResponse struct {
	Status int
	Header http.Header
	Body   []byte
	// Decision holds what the target reported of its own decision in test mode (route, pool), where its
	// runtime can expose it; nil otherwise. Test mode never changes production output.
	Decision map[string]string
}
