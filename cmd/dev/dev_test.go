package dev

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/gateway"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const manifestYAML = `version: 1
name: devtest
domains:
  - {host: api.example.com, zone: example.com}
origins:
  app: {url: "https://app.internal"}
pools:
  app: {origins: [app]}
transform:
  request: {request_id: X-Request-ID}
routes:
  - name: health
    match: {path: {exact: /health}}
    respond: {status: 200, body: BODY}
  - name: api
    match: {path: {prefix: /api}}
    pool: app
targets:
  local: {}
`

type devRun struct {
	addr   string
	out    *syncBuffer
	errOut *syncBuffer
	path   string
}

func startDev(t *testing.T, logFormat string) *devRun {
	t.Helper()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "from origin "+r.URL.Path)
	}))
	t.Cleanup(origin.Close)
	dir := t.TempDir()
	p := filepath.Join(dir, "edgegw.yaml")
	if err := os.WriteFile(p, []byte(strings.Replace(manifestYAML, "BODY", "ok", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut := &syncBuffer{}, &syncBuffer{}
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	o := &DevOptions{
		IO: cmdutil.TestIO(strings.NewReader(""), out, errOut), ManifestPath: p, Listen: "127.0.0.1:0",
		Origins: []string{"app=" + origin.URL}, LogFormat: logFormat, Getenv: func(string) string { return "" },
		Now: time.Now, Context: ctx, PollInterval: 10 * time.Millisecond, Ready: func(a string) { ready <- a },
	}
	done := make(chan error, 1)
	go func() { done <- Run(o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev returned %v", err)
		}
	})
	select {
	case a := <-ready:
		return &devRun{addr: a, out: out, errOut: errOut, path: p}
	case err := <-done:
		t.Fatalf("dev exited: %v\n%s", err, errOut.String())
	case <-time.After(10 * time.Second):
		t.Fatal("dev did not start")
	}
	return nil
}

func (d *devRun) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + d.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls cond until it holds: the watcher runs on its own ticker, so a reload is an event to wait
// for, not a duration to sleep.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDevServesLogsAndReloads(t *testing.T) {
	d := startDev(t, "pretty")
	if code, body := d.get(t, "/health"); code != 200 || body != "ok" {
		t.Fatalf("health: %d %q", code, body)
	}
	if code, body := d.get(t, "/api/orders"); code != 200 || body != "from origin /api/orders" {
		t.Fatalf("proxied: %d %q", code, body)
	}
	d.get(t, "/nothing")
	eventually(t, "three log lines", func() bool { return strings.Count(d.out.String(), "\n") >= 3 })
	logs := d.out.String()
	for _, want := range []string{
		"GET /health -> 200 OK (", ") route=health",
		"GET /api/orders -> 200 OK (", ") route=api pool=app origin=app",
		"GET /nothing -> 404 Not Found (", "[NO_ROUTE]",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}

	// An invalid edit: diagnostics printed, the last good configuration keeps serving.
	if err := os.WriteFile(d.path, []byte("version: 1\nname: devtest\nroutez: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "diagnostics", func() bool { return strings.Contains(d.errOut.String(), "still serving the last good configuration") })
	if !strings.Contains(d.errOut.String(), d.path+":3:1: error[") {
		t.Errorf("no file:line:col diagnostic:\n%s", d.errOut.String())
	}
	if code, body := d.get(t, "/health"); code != 200 || body != "ok" {
		t.Errorf("after a bad edit: %d %q", code, body)
	}

	// A valid edit is picked up.
	if err := os.WriteFile(d.path, []byte(strings.Replace(manifestYAML, "BODY", "ok2", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "reload", func() bool { _, body := d.get(t, "/health"); return body == "ok2" })
	if !strings.Contains(d.errOut.String(), "reloaded") {
		t.Errorf("no reload message:\n%s", d.errOut.String())
	}
}

func TestDevJSONLogCarriesRequestID(t *testing.T) {
	d := startDev(t, "json")
	d.get(t, "/api/x")
	eventually(t, "a log line", func() bool { return strings.Contains(d.out.String(), "\n") })
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(d.out.String(), "\n", 2)[0]), &line); err != nil {
		t.Fatal(err)
	}
	if line["route"] != "api" || line["origin"] != "app" || line["status"] != float64(200) {
		t.Errorf("json line %v", line)
	}
	if id, _ := line["request_id"].(string); len(id) != 36 {
		t.Errorf("request_id %v, want a UUID", line["request_id"])
	}
}

func TestDevRejectsBadFlags(t *testing.T) {
	base := DevOptions{IO: cmdutil.TestIO(strings.NewReader(""), io.Discard, io.Discard), LogFormat: "pretty"}
	o := base
	o.Origins = []string{"primary"}
	if err := Run(&o); err == nil || !strings.Contains(err.Error(), "name=url") {
		t.Errorf("--origin without =: %v", err)
	}
	o = base
	o.LogFormat = "xml"
	if err := Run(&o); err == nil || !strings.Contains(err.Error(), "pretty or json") {
		t.Errorf("--log-format xml: %v", err)
	}
}

func TestPrettyLine(t *testing.T) {
	cases := []struct {
		d    gateway.Decision
		want string
	}{
		{gateway.Decision{Method: "GET", Path: "/v2/users", Status: 200, Duration: 12 * time.Millisecond, Route: "v2", Pool: "api", Origin: "primary"},
			"GET /v2/users -> 200 OK (12ms) route=v2 pool=api origin=primary"},
		{gateway.Decision{Method: "POST", Path: "/v2/auth", Status: 401, Duration: 4 * time.Millisecond, Route: "v2", Reason: "JWT_MISSING"},
			"POST /v2/auth -> 401 Unauthorized (4ms) route=v2 [JWT_MISSING]"},
		{gateway.Decision{Method: "GET", Path: "/v1", Status: 200, Route: "v1", Pool: "api", Origin: "secondary",
			Attempts: []gateway.Attempt{{Origin: "primary", Status: 503}, {Origin: "secondary", Status: 200}}},
			"GET /v1 -> 200 OK (0ms) route=v1 pool=api origin=secondary tried=primary:503,secondary:200"},
	}
	for _, c := range cases {
		if got := PrettyLine(c.d); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}

// A busy port says so, and says how to serve on another one.
func TestDevBusyPortSuggestsListen(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	p := filepath.Join(t.TempDir(), "edgegw.yaml")
	if err := os.WriteFile(p, []byte(strings.Replace(manifestYAML, "BODY", "ok", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	o := &DevOptions{IO: cmdutil.TestIO(strings.NewReader(""), io.Discard, io.Discard), ManifestPath: p, Listen: busy.Addr().String(),
		LogFormat: "pretty", Getenv: func(string) string { return "" }, Now: time.Now, Context: context.Background(), PollInterval: time.Second}
	err = Run(o)
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "--listen 127.0.0.1:") {
		t.Errorf("busy port: %v", err)
	}
}
