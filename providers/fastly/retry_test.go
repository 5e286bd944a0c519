package fastly_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/apitest"
	"github.com/edgegw/edgegw/providers/fastly"
)

// waits records the retry transport's waits instead of sleeping.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
}

func (w *waits) list() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// A 429 is retried for any call, a mutating one too (the limiter refused it before it ran), after the
// Retry-After it names, or until Fastly-RateLimit-Reset when it names no Retry-After.
func TestRateLimitedCallsAreRetriedAfterTheirWait(t *testing.T) {
	f := newFakeFastly(t)
	seedHandMade(f)
	g := gateway(2)
	p := newProvider(t, f, g)
	w := &waits{}
	fastly.SetRetrySleep(p, w.sleep)
	create := apitest.Route("POST", svcPath+"/version/2/vcl")
	f.inject(create, apitest.RateLimited(2))
	reset := time.Now().Add(5 * time.Second).Unix()
	f.inject(create, apitest.WithHeader(apitest.JSON(429, map[string]string{"msg": "rate limited"}), "Fastly-RateLimit-Reset", strconv.FormatInt(reset, 10)))
	apply(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "")))
	if f.Active() != 2 {
		t.Fatalf("active %d, want version 2 after the retried calls", f.Active())
	}
	got := w.list()
	if len(got) != 2 || got[0] != 2*time.Second || got[1] < 3*time.Second || got[1] > 5*time.Second {
		t.Errorf("waits %v, want 2s (Retry-After) then about 5s (Fastly-RateLimit-Reset)", got)
	}
	// main.vcl: two refused attempts and the third; edgegw_record: one.
	if n := f.Count(create); n != 4 {
		t.Errorf("POST …/vcl sent %d times, want 3 for main.vcl and 1 for the record", n)
	}
}

// A 5xx is retried, at most 3 attempts in all, only for calls that may run twice: reads and PUTs other
// than a clone. A create (POST) or a clone is not retried: the error names it and nothing is activated.
func TestServerErrorsAreRetriedOnlyWhereARepeatIsSafe(t *testing.T) {
	t.Run("read, twice", func(t *testing.T) {
		f := newFakeFastly(t)
		seedHandMade(f)
		g := gateway(2)
		p := newProvider(t, f, g)
		w := &waits{}
		fastly.SetRetrySleep(p, w.sleep)
		list := apitest.Route("GET", svcPath+"/version/1/backend")
		f.inject(list, apitest.ServerError(503))
		f.inject(list, apitest.ServerError(502))
		apply(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "")))
		if got := w.list(); len(got) != 2 || got[0] != time.Second || got[1] != 2*time.Second || f.Active() != 2 {
			t.Errorf("waits %v, active %d: want 1s, 2s and version 2 live", got, f.Active())
		}
	})
	t.Run("read, three times", func(t *testing.T) {
		f := newFakeFastly(t)
		seedHandMade(f)
		g := gateway(2)
		p := newProvider(t, f, g)
		list := apitest.Route("GET", svcPath+"/version/1/backend")
		for range fastly.MaxAttempts {
			f.inject(list, apitest.ServerError(503))
		}
		_, err := p.Plan(t.Context(), providers.PlanInput{Gateway: g, Artifacts: artifacts(t, fullService(), mainVCL(routeNames(g), ""))})
		if err == nil || !strings.Contains(err.Error(), "list the backends of version 1") || !strings.Contains(err.Error(), "503") {
			t.Fatalf("plan whose read failed 3 times: %v", err)
		}
		if n := f.Count(list); n != fastly.MaxAttempts {
			t.Errorf("the read was sent %d times, want %d", n, fastly.MaxAttempts)
		}
	})
	t.Run("activation", func(t *testing.T) {
		f := newFakeFastly(t)
		seedHandMade(f)
		g := gateway(2)
		p := newProvider(t, f, g)
		f.inject(apitest.Route("PUT", svcPath+"/version/2/activate"), apitest.ServerError(503))
		apply(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "")))
		if f.Active() != 2 {
			t.Errorf("active %d after a retried activation, want 2", f.Active())
		}
	})
	for _, c := range []struct{ name, method, path string }{
		{"create", "POST", svcPath + "/version/2/backend"},
		{"clone", "PUT", svcPath + "/version/1/clone"},
		{"delete", "DELETE", svcPath + "/version/2/domain/old.example.com"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeFastly(t)
			seedHandMade(f)
			g := gateway(2)
			p := newProvider(t, f, g)
			m := apitest.Route(c.method, c.path)
			f.inject(m, apitest.ServerError(502))
			plan := planOf(t, p, g, artifacts(t, fullService(), mainVCL(routeNames(g), "")))
			_, err := applyPlan(p, g, plan, providers.ApplyOptions{})
			if err == nil || !strings.Contains(err.Error(), "502") {
				t.Fatalf("apply whose %s answered 502: %v", c.name, err)
			}
			if n := f.Count(m); n != 1 || f.Active() != 1 {
				t.Errorf("%s %s sent %d times (want 1: not retried), active %d (want 1)", c.method, c.path, n, f.Active())
			}
		})
	}
}
