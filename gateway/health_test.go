package gateway

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
)

// Active health checks: an origin that fails Threshold probes in a row is skipped; one good probe brings
// it back; when every origin is unhealthy, requests are tried in order anyway (fail open).
func TestHealthChecksSteerAwayFromUnhealthyOrigins(t *testing.T) {
	g := baseIR()
	hc := &ir.HealthCheck{Path: "/healthz", Interval: ir.Duration(time.Hour), Timeout: ir.Duration(time.Second), Threshold: 2}
	g.Origins[0].Health = hc // primary
	g.Origins[1].Health = hc // secondary
	h := newHarness(t, g)
	var primaryDown, secondaryDown atomic.Bool
	health := func(down *atomic.Bool, name string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" {
				if r.Header.Get("User-Agent") != "edgegw-health-check" {
					t.Errorf("probe without its user agent: %v", r.Header)
				}
				if down.Load() {
					w.WriteHeader(http.StatusServiceUnavailable)
				}
				return
			}
			_, _ = w.Write([]byte("origin " + name))
		}
	}
	h.primary.respond = health(&primaryDown, "primary")
	h.secondary.respond = health(&secondaryDown, "secondary")
	get := func() (string, Decision) {
		_, body := h.do(t, "GET", "api.example.com", "/v1/orders", nil, "")
		return body, h.lastDecision(t)
	}
	ctx := context.Background()

	if ev := h.gw.ProbeOnce(ctx); len(ev) != 0 {
		t.Fatalf("healthy origins reported changes: %+v", ev)
	}
	if body, _ := get(); body != "origin primary" {
		t.Fatalf("healthy: %q", body)
	}

	primaryDown.Store(true)
	if ev := h.gw.ProbeOnce(ctx); len(ev) != 0 {
		t.Errorf("one failed probe (threshold 2) already changed state: %+v", ev)
	}
	if body, _ := get(); body != "origin primary" {
		t.Errorf("after one failed probe: %q, want primary still", body)
	}
	ev := h.gw.ProbeOnce(ctx)
	if len(ev) != 1 || ev[0].Origin != "primary" || ev[0].Healthy || ev[0].Detail != "503 Service Unavailable" {
		t.Fatalf("second failed probe: events %+v", ev)
	}
	body, d := get()
	if body != "origin secondary" || len(d.Attempts) != 2 || d.Attempts[0].Error != "unhealthy" {
		t.Errorf("primary unhealthy: %q, attempts %+v", body, d.Attempts)
	}

	secondaryDown.Store(true)
	h.gw.ProbeOnce(ctx)
	h.gw.ProbeOnce(ctx)
	if body, _ := get(); body != "origin primary" {
		t.Errorf("every origin unhealthy: %q, want a fail-open try of the primary", body)
	}

	primaryDown.Store(false)
	ev = h.gw.ProbeOnce(ctx)
	if len(ev) != 1 || ev[0].Origin != "primary" || !ev[0].Healthy {
		t.Errorf("recovery: events %+v", ev)
	}
	if body, _ := get(); body != "origin primary" {
		t.Errorf("after recovery: %q", body)
	}
}

// StartHealthChecks probes on each origin's interval and reports changes until its context ends.
func TestStartHealthChecksReportsChanges(t *testing.T) {
	g := baseIR()
	g.Origins[0].Health = &ir.HealthCheck{Path: "/healthz", Interval: ir.Duration(10 * time.Millisecond), Timeout: ir.Duration(time.Second), Threshold: 1}
	h := newHarness(t, g)
	h.primary.respond = func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan HealthEvent, 10)
	h.gw.StartHealthChecks(ctx, func(e HealthEvent) { events <- e })
	select {
	case e := <-events:
		// The detail proves the probe reached the origin's health path and read its answer.
		if e.Origin != "primary" || e.Healthy || e.Detail != "500 Internal Server Error" {
			t.Errorf("event %+v, want primary unhealthy with 500 Internal Server Error", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no health event")
	}
}
