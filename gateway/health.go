package gateway

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
)

// health is the active-probe state of one origin. An origin starts healthy; Threshold consecutive failed
// probes mark it unhealthy, and one successful probe marks it healthy again.
type health struct {
	check    *ir.HealthCheck
	mu       sync.Mutex
	failures int
	down     bool
}

func (h *health) healthy() bool {
	if h == nil {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.down
}

func (h *health) record(ok bool) (changed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	was := h.down
	if ok {
		h.failures, h.down = 0, false
	} else {
		h.failures++
		if h.failures >= h.check.Threshold {
			h.down = true
		}
	}
	return was != h.down
}

// HealthEvent reports an origin changing state after a probe.
type HealthEvent struct {
	Origin  string
	Healthy bool
	Detail  string // the failed probe's status or error
}

// ProbeOnce probes every origin that has a health check, once, and returns the state changes. `edgegw dev`
// calls it on each origin's interval (StartHealthChecks); tests call it directly.
func (g *Gateway) ProbeOnce(ctx context.Context) []HealthEvent {
	var (
		mu     sync.Mutex
		events []HealthEvent
		wg     sync.WaitGroup
	)
	for _, o := range g.originList {
		if o.health == nil {
			continue
		}
		wg.Add(1)
		go func(o *origin) {
			defer wg.Done()
			if ev, ok := g.probe(ctx, o); ok {
				mu.Lock()
				events = append(events, ev)
				mu.Unlock()
			}
		}(o)
	}
	wg.Wait()
	return events
}

// probe sends one GET to the origin's health path: a 2xx or 3xx within the timeout is a success.
func (g *Gateway) probe(ctx context.Context, o *origin) (HealthEvent, bool) {
	ctx, cancel := context.WithTimeout(ctx, o.health.check.Timeout.D())
	defer cancel()
	target := o.url.Scheme + "://" + o.url.Host + o.basePath + o.health.check.Path
	detail := ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err == nil {
		req.Host = o.host
		req.Header.Set("User-Agent", "edgegw-health-check")
		var resp *http.Response
		resp, err = g.transport.RoundTrip(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode >= 400 {
				detail = resp.Status
			}
		}
	}
	if err != nil {
		detail = err.Error()
	}
	if ctx.Err() != nil && detail == "" {
		detail = "timeout"
	}
	ok := detail == ""
	if !o.health.record(ok) {
		return HealthEvent{}, false
	}
	return HealthEvent{Origin: o.name, Healthy: ok, Detail: detail}, true
}

// StartHealthChecks probes each origin with a health check on its interval until ctx ends, reporting state
// changes to report (which may be nil).
func (g *Gateway) StartHealthChecks(ctx context.Context, report func(HealthEvent)) {
	for _, o := range g.originList {
		if o.health == nil {
			continue
		}
		go func(o *origin) {
			t := time.NewTicker(o.health.check.Interval.D())
			defer t.Stop()
			for {
				if ev, changed := g.probe(ctx, o); changed && report != nil && ctx.Err() == nil {
					report(ev)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}(o)
	}
}
