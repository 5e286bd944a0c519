package apitest_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/edgegw/edgegw/providers/apitest"
)

func TestRateLimited(t *testing.T) {
	srv := apitest.New(t)
	srv.Register(apitest.Route("GET", "/zones"), apitest.RateLimited(7))
	status, body, h := do(t, srv.Client(), "GET", srv.URL+"/zones", "")
	if status != http.StatusTooManyRequests || h.Get("Retry-After") != "7" || h.Get("Content-Type") != "application/json" {
		t.Errorf("got %d Retry-After %q %q, want 429 Retry-After 7 with a JSON body", status, h.Get("Retry-After"), body)
	}
}

func TestServerError(t *testing.T) {
	srv := apitest.New(t)
	srv.Register(apitest.Route("GET", "/a"), apitest.ServerError(503))
	if status, _, _ := do(t, srv.Client(), "GET", srv.URL+"/a", ""); status != 503 {
		t.Errorf("status %d, want 503", status)
	}
	defer func() {
		if recover() == nil {
			t.Error("ServerError(404) did not panic")
		}
	}()
	apitest.ServerError(404)
}

func TestRequireIfMatch(t *testing.T) {
	srv := apitest.New(t)
	ok := apitest.WithHeader(apitest.JSON(200, "updated"), "ETag", `"e3"`)
	srv.Register(apitest.Route("PUT", "/distribution/d1/config"), apitest.RequireIfMatch(`"e2"`, ok)).Times(3)
	for _, c := range []struct {
		ifMatch  string
		status   int
		wantETag string
	}{
		{`"e1"`, http.StatusPreconditionFailed, ""},
		{"", http.StatusPreconditionFailed, ""},
		{`"e2"`, http.StatusOK, `"e3"`},
	} {
		var h []string
		if c.ifMatch != "" {
			h = []string{"If-Match", c.ifMatch}
		}
		status, _, rh := do(t, srv.Client(), "PUT", srv.URL+"/distribution/d1/config", "{}", h...)
		if status != c.status || rh.Get("ETag") != c.wantETag {
			t.Errorf("If-Match %q: %d ETag %q, want %d ETag %q", c.ifMatch, status, rh.Get("ETag"), c.status, c.wantETag)
		}
	}
}

func TestFailFirst(t *testing.T) {
	srv := apitest.New(t)
	srv.Register(apitest.Route("POST", "/activate"),
		apitest.FailFirst(2, apitest.ServerError(502), apitest.JSON(200, "active"))).Times(4)
	var got []int
	for range 4 {
		status, _, _ := do(t, srv.Client(), "POST", srv.URL+"/activate", "")
		got = append(got, status)
	}
	if want := []int{502, 502, 200, 200}; !equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDelayEndsWithTheClientsTimeout(t *testing.T) {
	rec := newRecorder(t)
	srv := apitest.New(rec)
	returned := make(chan struct{})
	slow := apitest.Delay(time.Minute, apitest.JSON(200, "late"))
	srv.Register(apitest.Route("GET", "/slow"), func(w http.ResponseWriter, r *apitest.Request) {
		defer close(returned)
		slow(w, r)
	})

	client := &http.Client{Timeout: 100 * time.Millisecond}
	start := time.Now()
	_, err := client.Get(srv.URL + "/slow")
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("err = %v, want a client timeout", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the timeout took %v", took)
	}
	select {
	case <-returned:
	case <-time.After(2 * time.Second):
		t.Fatal("the handler still waits after the client gave up")
	}
	if errs := rec.finish(); len(errs) != 0 {
		t.Errorf("reported %q", errs)
	}
}

func TestDelayStopsWhenTheServerCloses(t *testing.T) {
	rec := newRecorder(t)
	srv := apitest.New(rec)
	srv.Register(apitest.Route("GET", "/slow"), apitest.Delay(time.Minute, apitest.JSON(200, "late")))
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/slow", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for srv.Count(apitest.Route("GET", "/slow")) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	rec.finish() // closes the server: must not wait out the delay
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("closing the server took %v", took)
	}
	if err := <-errc; err == nil {
		t.Error("the delayed request got an answer, want none")
	}
}

func TestResetConnection(t *testing.T) {
	for _, opts := range [][]apitest.Option{nil, {apitest.TLS()}} {
		srv := apitest.New(t, opts...)
		srv.Register(apitest.Route("GET", "/reset"), apitest.ResetConnection())
		client := srv.Client()
		client.Transport.(*http.Transport).DisableKeepAlives = true
		resp, err := client.Get(srv.URL + "/reset")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: got %d, want a connection error", srv.URL, resp.StatusCode)
		}
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("%s: err = %v, want connection reset by peer", srv.URL, err)
		}
	}
}
