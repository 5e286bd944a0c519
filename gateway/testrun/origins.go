package testrun

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
)

// origin is one loopback origin of a case: it answers as the case scripts it and records every request it
// receives, so which origin got a request, with which path and headers, is observed outside the target.
type origin struct {
	name string
	url  string
	srv  *httptest.Server // nil for a down origin
	hold io.Closer        // a down origin's reserved port, released when the case ends

	mu        sync.Mutex
	responses []ir.TestResponse
	next      int
	got       []received
}

// received is one request as an origin saw it.
type received struct {
	Origin string
	URI    string
	Header http.Header
	At     time.Time
}

// startOrigins starts one origin per IR origin, scripted by tc. seen receives every request any of them
// gets, in arrival order.
func startOrigins(g *ir.Gateway, script []ir.TestOrigin, seen func(received)) (map[string]*origin, func(), error) {
	scripts := map[string]ir.TestOrigin{}
	for _, s := range script {
		scripts[s.Name] = s
	}
	out := map[string]*origin{}
	stop := func() {
		for _, o := range out {
			if o.srv != nil {
				o.srv.Close()
			}
			if o.hold != nil {
				_ = o.hold.Close()
			}
		}
	}
	for _, io := range g.Origins {
		s := scripts[io.Name]
		o := &origin{name: io.Name, responses: s.Responses}
		if s.Down {
			addr, hold, err := refusedAddr()
			if err != nil {
				stop()
				return nil, nil, err
			}
			o.url, o.hold = "http://"+addr, hold
		} else {
			o.srv = httptest.NewServer(o.handler(seen))
			o.url = o.srv.URL
		}
		out[io.Name] = o
	}
	return out, stop, nil
}

func (o *origin) handler(seen func(received)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		o.mu.Lock()
		rec := received{Origin: o.name, URI: r.RequestURI, Header: r.Header.Clone(), At: time.Now()}
		o.got = append(o.got, rec)
		resp := ir.TestResponse{Status: http.StatusOK, Body: "origin " + o.name + "\n",
			Headers: []ir.HeaderSet{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}}}
		if len(o.responses) > 0 {
			i := o.next
			if i >= len(o.responses) {
				i = len(o.responses) - 1
			} else {
				o.next++
			}
			resp = o.responses[i]
		}
		o.mu.Unlock()
		seen(rec)
		if d := resp.Delay.D(); d > 0 {
			if !sleep(r.Context(), d) {
				return // the gateway gave up (its timeout): nothing to answer
			}
		}
		for _, h := range resp.Headers {
			w.Header().Add(h.Name, h.Value)
		}
		w.WriteHeader(resp.Status)
		_, _ = io.WriteString(w, resp.Body)
	})
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
