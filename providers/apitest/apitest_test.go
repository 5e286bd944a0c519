package apitest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/edgegw/edgegw/providers/apitest"
)

// recorder is a testing.TB that records what the harness reports, so a test can assert on a failure the
// harness must cause without failing itself.
type recorder struct {
	testing.TB // the real test, for everything not overridden
	mu         sync.Mutex
	errors     []string
	cleanups   []func()
	env        map[string]string
}

func newRecorder(t *testing.T) *recorder { return &recorder{TB: t, env: map[string]string{}} }

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *recorder) Setenv(k, v string) { r.env[k] = v }

// finish runs the cleanups, as the end of a test would, and returns what was reported.
func (r *recorder) finish() []string {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errors
}

// do sends a request with a plain net/http client and returns the status and body.
func do(t *testing.T, c *http.Client, method, url, body string, header ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func TestUnmatchedRequestFailsTheTest(t *testing.T) {
	rec := newRecorder(t)
	srv := apitest.New(rec)
	srv.Register(apitest.Route("GET", "/zones"), apitest.JSON(200, []string{}))

	status, body, _ := do(t, srv.Client(), "DELETE", srv.URL+"/zones/abc?force=true", "")
	if status != http.StatusNotImplemented || !strings.Contains(body, "DELETE /zones/abc") {
		t.Errorf("unmatched request answered %d %q, want 501 naming the request", status, body)
	}

	errs := rec.finish()
	if len(errs) != 2 {
		t.Fatalf("reported %d errors, want 2 (the request, the uncalled stub):\n%s", len(errs), strings.Join(errs, "\n"))
	}
	for _, want := range []string{"no stub matches DELETE /zones/abc?force=true", "registered stubs:", "GET /zones (registered at apitest_test.go:"} {
		if !strings.Contains(errs[0], want) {
			t.Errorf("unmatched-request error lacks %q:\n%s", want, errs[0])
		}
	}
	if !strings.Contains(errs[1], "stub never called: GET /zones (registered at apitest_test.go:") {
		t.Errorf("uncalled stub not named:\n%s", errs[1])
	}
}

func TestNoStubsListedWhenNoneRegistered(t *testing.T) {
	rec := newRecorder(t)
	srv := apitest.New(rec)
	do(t, srv.Client(), "GET", srv.URL+"/", "")
	errs := rec.finish()
	if len(errs) != 1 || !strings.Contains(errs[0], "no stubs are registered") {
		t.Errorf("errors = %q, want one saying no stubs are registered", errs)
	}
}

func TestEveryStubCalledPasses(t *testing.T) {
	rec := newRecorder(t)
	srv := apitest.New(rec)
	srv.Register(apitest.Route("GET", "/a"), apitest.JSON(200, "a"))
	srv.Register(apitest.Route("POST", "/b"), apitest.JSON(201, "b")).Times(2)
	srv.Register(apitest.Route("GET", "/c"), apitest.JSON(200, "c")).Always()
	do(t, srv.Client(), "GET", srv.URL+"/a", "")
	do(t, srv.Client(), "POST", srv.URL+"/b", "")
	do(t, srv.Client(), "POST", srv.URL+"/b", "")
	for range 5 {
		do(t, srv.Client(), "GET", srv.URL+"/c", "")
	}
	if errs := rec.finish(); len(errs) != 0 {
		t.Errorf("reported %q, want nothing", errs)
	}
}

func TestStubCounts(t *testing.T) {
	t.Run("one-shot by default", func(t *testing.T) {
		rec := newRecorder(t)
		srv := apitest.New(rec)
		srv.Register(apitest.Route("GET", "/a"), apitest.JSON(200, "a"))
		first, _, _ := do(t, srv.Client(), "GET", srv.URL+"/a", "")
		second, _, _ := do(t, srv.Client(), "GET", srv.URL+"/a", "")
		errs := rec.finish()
		if first != 200 || second != 501 {
			t.Errorf("statuses %d, %d; want 200 then 501", first, second)
		}
		if len(errs) != 1 || !strings.Contains(errs[0], "no stub matches GET /a") || !strings.Contains(errs[0], "called 1 of 1") {
			t.Errorf("errors = %q, want the second request reported with the stub used up", errs)
		}
	})
	t.Run("Times reports a shortfall", func(t *testing.T) {
		rec := newRecorder(t)
		srv := apitest.New(rec)
		srv.Register(apitest.Route("GET", "/a"), apitest.JSON(200, "a")).Times(3)
		do(t, srv.Client(), "GET", srv.URL+"/a", "")
		errs := rec.finish()
		if len(errs) != 1 || !strings.Contains(errs[0], "stub called 1 of 3 times: GET /a") {
			t.Errorf("errors = %q, want the shortfall", errs)
		}
	})
	t.Run("Always still needs one call", func(t *testing.T) {
		rec := newRecorder(t)
		srv := apitest.New(rec)
		srv.Register(apitest.Route("GET", "/a"), apitest.JSON(200, "a")).Always()
		errs := rec.finish()
		if len(errs) != 1 || !strings.Contains(errs[0], "stub never called: GET /a") {
			t.Errorf("errors = %q, want the uncalled stub", errs)
		}
	})
}

func TestStubsMatchInRegistrationOrder(t *testing.T) {
	srv := apitest.New(t)
	srv.Register(apitest.Route("GET", "/v"), apitest.JSON(200, "first"))
	srv.Register(apitest.Route("GET", "/v"), apitest.JSON(200, "second")).Times(2)
	var got []string
	for range 3 {
		_, body, _ := do(t, srv.Client(), "GET", srv.URL+"/v", "")
		got = append(got, body)
	}
	if want := `"first" "second" "second"`; strings.Join(got, " ") != want {
		t.Errorf("bodies %s, want %s", strings.Join(got, " "), want)
	}
}

func TestMatchers(t *testing.T) {
	type req struct{ method, target, body, header string }
	cases := []struct {
		name    string
		m       apitest.Matcher
		match   []req
		nomatch []req
	}{
		{"exact path", apitest.Route("GET", "/zones"),
			[]req{{"GET", "/zones", "", ""}, {"GET", "/zones?x=1", "", ""}},
			[]req{{"POST", "/zones", "", ""}, {"get", "/zones", "", ""}, {"GET", "/zones/", "", ""}, {"GET", "/zones/1", "", ""}}},
		{"path params", apitest.Route("PUT", "/zones/{zone}/dns_records/{id}"),
			[]req{{"PUT", "/zones/z1/dns_records/r1", "", ""}, {"PUT", "/zones/a%2Fb/dns_records/r1", "", ""}},
			[]req{{"PUT", "/zones//dns_records/r1", "", ""}, {"PUT", "/zones/z1/dns_records", "", ""}, {"PUT", "/zones/z1/dns_records/r1/x", "", ""}}},
		{"one-segment glob", apitest.Route("GET", "/service/*/version"),
			[]req{{"GET", "/service/abc/version", "", ""}},
			[]req{{"GET", "/service/abc/def/version", "", ""}}},
		{"rest glob", apitest.Route("GET", "/kv/**"),
			[]req{{"GET", "/kv", "", ""}, {"GET", "/kv/a", "", ""}, {"GET", "/kv/a/b/c", "", ""}},
			[]req{{"GET", "/kvx", "", ""}, {"GET", "/", "", ""}}},
		{"query", apitest.Route("GET", "/list").And(apitest.Query("page", "2")),
			[]req{{"GET", "/list?page=2", "", ""}, {"GET", "/list?page=1&page=2", "", ""}},
			[]req{{"GET", "/list", "", ""}, {"GET", "/list?page=3", "", ""}}},
		{"header presence", apitest.Header("If-Match"),
			[]req{{"PUT", "/x", "", "If-Match: *"}},
			[]req{{"PUT", "/x", "", "If-None-Match: *"}}},
		{"header value", apitest.HeaderValue("If-Match", `"e2"`),
			[]req{{"PUT", "/x", "", `If-Match: "e2"`}},
			[]req{{"PUT", "/x", "", `If-Match: "e1"`}}},
		{"json predicate", apitest.JSONBody("two routes", func(v struct{ Routes []string }) bool { return len(v.Routes) == 2 }),
			[]req{{"POST", "/x", `{"routes":["a","b"]}`, ""}},
			[]req{{"POST", "/x", `{"routes":["a"]}`, ""}, {"POST", "/x", `not json`, ""}, {"POST", "/x", ``, ""}}},
		{"json field", apitest.JSONField("metadata.ttl", 60),
			[]req{{"POST", "/x", `{"metadata":{"ttl":60}}`, ""}},
			[]req{{"POST", "/x", `{"metadata":{"ttl":"60"}}`, ""}, {"POST", "/x", `{"ttl":60}`, ""}, {"POST", "/x", `[]`, ""}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := apitest.New(t)
			send := func(r req) {
				var h []string
				if k, v, ok := strings.Cut(r.header, ": "); ok {
					h = []string{k, v}
				}
				do(t, srv.Client(), r.method, srv.URL+r.target, r.body, h...)
			}
			// Everything is answered by a catch-all, so the log holds every request; Count applies c.m.
			srv.Register(apitest.MatchFunc("anything", func(*apitest.Request) bool { return true }), apitest.JSON(200, nil)).Always()
			for _, r := range c.match {
				send(r)
			}
			if n := srv.Count(c.m); n != len(c.match) {
				t.Errorf("%s matched %d of the %d requests it should match", c.m, n, len(c.match))
			}
			for _, r := range c.nomatch {
				before := srv.Count(c.m)
				send(r)
				if srv.Count(c.m) != before {
					t.Errorf("%s matched %s %s %q %q", c.m, r.method, r.target, r.body, r.header)
				}
			}
		})
	}
}

func TestRouteParamsReachTheResponder(t *testing.T) {
	srv := apitest.New(t)
	srv.Register(apitest.Route("GET", "/zones/{zone}/records/{id}"), func(w http.ResponseWriter, r *apitest.Request) {
		_ = json.NewEncoder(w).Encode(r.Params)
	})
	_, body, _ := do(t, srv.Client(), "GET", srv.URL+"/zones/z%2F1/records/r9", "")
	if want := `{"id":"r9","zone":"z/1"}`; strings.TrimSpace(body) != want {
		t.Errorf("params %s, want %s", body, want)
	}
}

func TestRequestLog(t *testing.T) {
	srv := apitest.New(t)
	srv.Register(apitest.Route("PUT", "/kv/{key}"), apitest.Bytes(204, "", nil)).Times(20)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/kv/k%d?ttl=60", srv.URL, i), strings.NewReader(fmt.Sprintf(`{"n":%d}`, i)))
			req.Header.Set("Authorization", "Bearer test")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()

	reqs := srv.Requests()
	if len(reqs) != 20 {
		t.Fatalf("logged %d requests, want 20", len(reqs))
	}
	seen := map[string]bool{}
	for i, r := range reqs {
		var body struct{ N int }
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Errorf("request %d body %q: %v", i, r.Body, err)
		}
		if r.Path != fmt.Sprintf("/kv/k%d", body.N) || r.Query.Get("ttl") != "60" || r.Header.Get("Authorization") != "Bearer test" {
			t.Errorf("request %d logged as %s %s %v %v", i, r.Method, r.Path, r.Query, r.Header)
		}
		if r.Params["key"] != fmt.Sprintf("k%d", body.N) || !strings.Contains(r.Stub, "PUT /kv/{key}") {
			t.Errorf("request %d: params %v, stub %q", i, r.Params, r.Stub)
		}
		if i > 0 && r.Time.Before(reqs[i-1].Time) {
			t.Errorf("request %d logged before the one ahead of it", i)
		}
		seen[string(r.Body)] = true
	}
	if len(seen) != 20 {
		t.Errorf("%d distinct bodies logged, want 20", len(seen))
	}
	if n := srv.Count(apitest.JSONField("n", 7)); n != 1 {
		t.Errorf("Count(n=7) = %d, want 1", n)
	}

	reqs[0].Body[0] = 'X'
	reqs[0].Header.Set("Authorization", "changed")
	if again := srv.Requests()[0]; again.Body[0] != '{' || again.Header.Get("Authorization") != "Bearer test" {
		t.Error("changing what Requests returned changed the log")
	}
}

func TestTLS(t *testing.T) {
	srv := apitest.New(t, apitest.TLS())
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") {
		t.Errorf("URL %s, want https on 127.0.0.1", srv.URL)
	}
	srv.Register(apitest.Route("GET", "/"), apitest.JSON(200, "ok"))
	if status, _, _ := do(t, srv.Client(), "GET", srv.URL+"/", ""); status != 200 {
		t.Errorf("status %d, want 200", status)
	}
}

func TestListensOnLoopbackOnly(t *testing.T) {
	srv := apitest.New(t)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL %s, want 127.0.0.1", srv.URL)
	}
}
