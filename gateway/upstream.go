package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
)

// maxReplayBody is the largest request body kept for replay on failover.
const maxReplayBody = 1 << 20

const defaultOriginTimeout = 30 * time.Second

type origin struct {
	name     string
	url      *url.URL
	basePath string // the origin URL's path, without a trailing "/"
	host     string // Host header sent upstream
	timeout  time.Duration
	health   *health // nil without a health check
}

type pool struct {
	name     string
	origins  []*origin
	failover *ir.Failover
	breakers []*breaker // parallel to origins; nil without a breaker policy
}

func (g *Gateway) compilePools() (map[string]*pool, error) {
	origins := map[string]*origin{}
	for _, o := range g.ir.Origins {
		raw := o.URL
		if v, ok := g.opts.OriginURLs[o.Name]; ok {
			raw = v
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("gateway: origin %q: url %q must be http(s)://host[:port][/path]", o.Name, raw)
		}
		org := &origin{name: o.Name, url: u, basePath: strings.TrimSuffix(u.EscapedPath(), "/"), host: u.Host, timeout: o.Timeout.D()}
		if o.HostHeader != "" {
			org.host = o.HostHeader
		}
		if org.timeout <= 0 {
			org.timeout = defaultOriginTimeout
		}
		if o.Health != nil && o.Health.Threshold > 0 && o.Health.Interval > 0 && o.Health.Timeout > 0 {
			org.health = &health{check: o.Health}
		}
		origins[o.Name] = org
		g.originList = append(g.originList, org)
	}
	for name := range g.opts.OriginURLs {
		if _, ok := origins[name]; !ok {
			return nil, fmt.Errorf("gateway: origin override %q: no such origin (have %s)", name, strings.Join(originNames(g.ir), ", "))
		}
	}
	pools := map[string]*pool{}
	for _, p := range g.ir.Pools {
		pl := &pool{name: p.Name, failover: p.Failover}
		for _, name := range p.Origins {
			o := origins[name]
			if o == nil {
				return nil, fmt.Errorf("gateway: pool %q: unknown origin %q", p.Name, name)
			}
			pl.origins = append(pl.origins, o)
			if p.Failover != nil && p.Failover.Breaker != nil {
				pl.breakers = append(pl.breakers, &breaker{policy: p.Failover.Breaker})
			}
		}
		if len(pl.origins) == 0 {
			return nil, fmt.Errorf("gateway: pool %q has no origins", p.Name)
		}
		pools[p.Name] = pl
	}
	return pools, nil
}

func originNames(g *ir.Gateway) []string {
	var n []string
	for _, o := range g.Origins {
		n = append(n, o.Name)
	}
	return n
}

// breaker counts consecutive listed statuses of one origin in one pool.
type breaker struct {
	policy      *ir.Breaker
	mu          sync.Mutex
	consecutive int
	openUntil   time.Time
}

func (b *breaker) open(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return now.Before(b.openUntil)
}

// record notes one answer. After the cooldown the count is still at or over the threshold, so the first
// failure re-opens at once (half-open), and a success closes.
func (b *breaker) record(status int, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !slices.Contains(b.policy.Status, status) {
		b.consecutive = 0
		return
	}
	b.consecutive++
	if b.consecutive >= b.policy.Consecutive {
		b.openUntil = now.Add(b.policy.Cooldown.D())
	}
}

// upstreamError is why no origin answered.
type upstreamError struct {
	timeout bool
	allOpen bool
	err     error
}

func (e *upstreamError) Error() string { return e.err.Error() }
func (e *upstreamError) Unwrap() error { return e.err }

var errAttemptTimeout = errors.New("gateway: upstream attempt timed out")

// rewrite prepares the outbound request; the origin is chosen per attempt in roundTrip.
func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	st := stateFrom(pr.In.Context())
	// pr.Out.Header is the client's, minus hop-by-hop and X-Forwarded-* headers (ReverseProxy removed them).
	st.d.RequestID = st.gw.transformUpstreamHeader(pr.Out.Header, pr.In.Header, st)
	pr.SetXForwarded()
	// Opaque makes the request line carry exactly the normalized, rewritten path: no re-encoding by net/url.
	pr.Out.URL.Opaque = st.upstreamPath
	pr.Out.URL.Path, pr.Out.URL.RawPath = "", ""
	pr.Out.URL.RawQuery = st.query
}

// roundTrip sends the request to the pool's origins in order, failing over as the pool says.
func (g *Gateway) roundTrip(req *http.Request) (*http.Response, error) {
	st := stateFrom(req.Context())
	p := st.route.pool
	now := g.now()
	var candidates, unhealthy []int
	for i := range p.origins {
		if p.breakers != nil && p.breakers[i].open(now) {
			st.d.Attempts = append(st.d.Attempts, Attempt{Origin: p.origins[i].name, Error: "breaker open"})
			continue
		}
		if !p.origins[i].health.healthy() {
			unhealthy = append(unhealthy, i)
			continue
		}
		candidates = append(candidates, i)
	}
	if len(candidates) == 0 {
		// Every closed origin failed its health check: fail open and try them in order, as load balancers
		// do, rather than refuse traffic on the probes' word alone.
		candidates = unhealthy
	} else {
		for _, i := range unhealthy {
			st.d.Attempts = append(st.d.Attempts, Attempt{Origin: p.origins[i].name, Error: "unhealthy"})
		}
	}
	if len(candidates) == 0 {
		return nil, &upstreamError{allOpen: true, err: fmt.Errorf("gateway: pool %s: every origin's breaker is open", p.name)}
	}

	var replay []byte
	if req.Body != nil && req.Body != http.NoBody && len(candidates) > 1 {
		buf, err := io.ReadAll(io.LimitReader(req.Body, maxReplayBody+1))
		if err != nil {
			return nil, fmt.Errorf("gateway: read request body: %w", err)
		}
		if len(buf) > maxReplayBody {
			// Too large to keep: the first origin gets the stream, and there is no failover.
			req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(buf), req.Body))
			candidates = candidates[:1]
		} else {
			replay = buf
		}
	}

	var lastErr *upstreamError
	for k, i := range candidates {
		o := p.origins[i]
		last := k == len(candidates)-1
		ctx, cancel := context.WithCancelCause(req.Context())
		timer := time.AfterFunc(o.timeout, func() { cancel(errAttemptTimeout) })
		out := req.Clone(ctx)
		if replay != nil {
			out.Body = io.NopCloser(bytes.NewReader(replay))
		}
		out.URL.Scheme, out.URL.Host = o.url.Scheme, o.url.Host
		out.URL.Opaque = o.basePath + st.upstreamPath
		out.Host = o.host
		resp, err := g.transport.RoundTrip(out)
		fired := !timer.Stop()
		st.d.Origin = o.name
		if err == nil && fired {
			resp.Body.Close()
			err = errAttemptTimeout
		}
		if err != nil {
			cancel(nil)
			if req.Context().Err() != nil {
				return nil, err // the client went away: not the origin's fault
			}
			timeout := errors.Is(context.Cause(ctx), errAttemptTimeout) || errors.Is(err, errAttemptTimeout)
			status := http.StatusBadGateway
			if timeout {
				status = http.StatusGatewayTimeout
			}
			if p.breakers != nil {
				p.breakers[i].record(status, g.now())
			}
			st.d.Attempts = append(st.d.Attempts, Attempt{Origin: o.name, Error: attemptError(timeout, err)})
			lastErr = &upstreamError{timeout: timeout, err: fmt.Errorf("gateway: origin %s: %w", o.name, err)}
			if last {
				return nil, lastErr
			}
			continue // a connect failure or timeout always goes to the next origin; statuses only as failover lists
		}
		if p.breakers != nil {
			p.breakers[i].record(resp.StatusCode, g.now())
		}
		st.d.Attempts = append(st.d.Attempts, Attempt{Origin: o.name, Status: resp.StatusCode})
		if !last && p.failover != nil && slices.Contains(p.failover.OnStatus, resp.StatusCode) {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			cancel(nil)
			continue
		}
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		return resp, nil
	}
	return nil, lastErr
}

func attemptError(timeout bool, err error) string {
	if timeout {
		return "timeout"
	}
	return err.Error()
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel(nil)
	return err
}

// modifyResponse maps Location headers that reveal the upstream path or host back to public ones, and drops
// the origin's own CORS headers when the manifest configures CORS (ir.CORSOwnedHeaders).
func (g *Gateway) modifyResponse(resp *http.Response) error {
	st := stateFrom(resp.Request.Context())
	if st == nil {
		return nil
	}
	for _, name := range []string{"Location", "Content-Location"} {
		if v := resp.Header.Get(name); v != "" {
			resp.Header.Set(name, g.publicLocation(st, v))
		}
	}
	if g.ir.CORS != nil {
		for _, name := range ir.CORSOwnedHeaders {
			resp.Header.Del(name) // the edge answers CORS from the manifest, not the origin
		}
	}
	return nil
}

func (g *Gateway) publicLocation(st *reqState, loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	if u.IsAbs() {
		if !g.isOriginHost(st, u.Host) {
			return loc // somewhere else entirely: not ours to change
		}
		u.Scheme, u.Host = st.scheme, st.publicHost
	} else if u.Host != "" || !strings.HasPrefix(u.Path, "/") {
		return loc // scheme-relative or path-relative: resolved by the client against the public URL
	}
	if p, ok := st.route.ir.PublicPath(u.EscapedPath(), st.requestPath, st.upstreamPath); ok {
		u.Path, u.RawPath = "", ""
		u.Opaque = ""
		out := p
		if u.RawQuery != "" {
			out += "?" + u.RawQuery
		}
		if u.Fragment != "" {
			out += "#" + u.EscapedFragment()
		}
		if u.IsAbs() {
			return u.Scheme + "://" + u.Host + out
		}
		return out
	}
	return u.String()
}

func (g *Gateway) isOriginHost(st *reqState, host string) bool {
	for _, o := range st.route.pool.origins {
		if strings.EqualFold(o.url.Host, host) || strings.EqualFold(o.host, host) {
			return true
		}
	}
	for _, o := range g.ir.Origins {
		if u, err := url.Parse(o.URL); err == nil && strings.EqualFold(u.Host, host) {
			return true
		}
	}
	return false
}

func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	st := stateFrom(r.Context())
	rw := w.(*responseWriter)
	var ue *upstreamError
	switch {
	case errors.As(err, &ue) && ue.allOpen:
		g.fail(rw, st.d, http.StatusServiceUnavailable, "ORIGINS_OPEN", err.Error())
	case errors.As(err, &ue) && ue.timeout:
		g.fail(rw, st.d, http.StatusGatewayTimeout, "UPSTREAM_TIMEOUT", err.Error())
	default:
		g.fail(rw, st.d, http.StatusBadGateway, "UPSTREAM_UNREACHABLE", err.Error())
	}
}
