package evaluate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/providers/gcp/evaluate"
	gcprender "github.com/edgegw/edgegw/render/gcp"
)

type seen struct {
	mu    sync.Mutex
	paths []string
	hdr   http.Header
}

func origin(t *testing.T, status func() int, s *seen) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.RequestURI())
		s.hdr = r.Header.Clone()
		s.mu.Unlock()
		w.Header().Set("Server", "origin/1")
		w.WriteHeader(status())
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestDoProxiesAsTheMapSays sends requests through the evaluator to loopback origins: the rewrite reaches
// the origin, HSTS is on the proxied answer, the HOST_UNKNOWN bucket answers the IR's body, outlier detection
// ejects the preferred origin after 3 gateway errors for the base ejection time, and the Cloud Armor
// throttle denies with 429 and no Retry-After.
func TestDoProxiesAsTheMapSays(t *testing.T) {
	b := loadBundle(t, "../../../render/gcp/testdata/native.yaml", gcprender.Options{})
	var primary, secondary, canary seen
	failing := true
	var mu sync.Mutex
	origins := map[string]string{
		"primary": origin(t, func() int {
			mu.Lock()
			defer mu.Unlock()
			if failing {
				return 503
			}
			return 200
		}, &primary),
		"secondary": origin(t, func() int { return 200 }, &secondary),
		"canary":    origin(t, func() int { return 200 }, &canary),
	}
	e := evaluate.New(b, origins)
	defer e.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	host := "api.example.com"
	do := func(target string, at time.Duration, h http.Header) *testrun.ClientResponse {
		t.Helper()
		if h == nil {
			h = http.Header{}
		}
		r, err := e.Do(context.Background(), &testrun.ClientRequest{Method: "GET", Target: target, Host: host, Header: h, Now: now.Add(at), ClientIP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := do("/v2/a?x=1", 0, http.Header{"X-Canary-Release": {"true"}})
	if r.Status != 200 || len(canary.paths) != 1 || canary.paths[0] != "/v2/a?x=1" {
		t.Fatalf("canary: %d %v", r.Status, canary.paths)
	}
	if got := r.Header.Get("Strict-Transport-Security"); got != "max-age=31536000; includeSubDomains" {
		t.Errorf("HSTS %q", got)
	}
	host = "other.example.org"
	if r := do("/status", 0, nil); r.Status != 404 || string(r.Body) != `{"status":404,"code":"HOST_UNKNOWN","message":"Not Found"}`+"\n" || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("unknown host: %d %q %v", r.Status, r.Body, r.Header)
	}
	host = "api.example.com"
	// Outlier detection on pool api: 3 consecutive 503 eject primary for 30s.
	for i := range 3 {
		if r := do("/status", time.Duration(i)*time.Second, nil); r.Status != 503 {
			t.Fatalf("status #%d: %d", i, r.Status)
		}
	}
	if r := do("/status", 10*time.Second, nil); r.Status != 200 || len(secondary.paths) != 1 {
		t.Fatalf("after ejection: %d, secondary %v", r.Status, secondary.paths)
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	if do("/status", 33*time.Second, nil); len(primary.paths) != 4 {
		t.Errorf("primary back after the ejection time: got %d requests, want 4", len(primary.paths))
	}
	// Route v2 (own backend service, Cloud Armor throttle of 100 per 60s by IP).
	for i := range 100 {
		if r := do("/v2/x", 40*time.Second, nil); r.Status != 200 {
			t.Fatalf("v2 #%d: %d", i, r.Status)
		}
	}
	r = do("/v2/x", 41*time.Second, nil)
	if r.Status != 429 || r.Header.Get("Retry-After") != "" {
		t.Errorf("throttled: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	if got := primary.paths[len(primary.paths)-1]; got != "/internal/v2/x" {
		t.Errorf("v2 reached the origin as %s", got)
	}
}
