// Package apitest is the test server that provider tests point a vendor SDK at: a loopback HTTP server
// with a registry of stubs (a matcher and a responder each, in the manner of cli/cli's httpmock), faults a
// vendor API produces (rate limits, 5xx, failed preconditions, slow answers, reset connections), a log of
// every request, and the endpoint variables (providers/endpoint) that send an SDK to it.
//
// A test fails when a request matches no stub and when a stub was called fewer times than it said, so a
// provider test states every call the provider makes. The package is test support: only _test.go files
// may import it, and it never listens beyond 127.0.0.1.
package apitest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxBody bounds a request body the server records (a Workers script upload is a few MiB).
const maxBody = 64 << 20

// Request is one request the server received, as recorded in the log and given to a responder.
type Request struct {
	Method string
	// Path is the decoded path; EscapedPath keeps the escapes the client sent.
	Path, EscapedPath string
	Query             url.Values
	Header            http.Header
	Body              []byte
	Time              time.Time
	// Params holds the {name} segments of the Route that matched the stub answering it.
	Params map[string]string
	// Stub describes the stub that answered, or is empty when none matched.
	Stub string

	ctx context.Context
}

// Context is the request's context: done when the client goes away or the server closes.
func (r *Request) Context() context.Context {
	if r.ctx == nil {
		return context.Background()
	}
	return r.ctx
}

func (r *Request) clone() Request {
	c := *r
	c.Query = cloneValues(r.Query)
	c.Header = r.Header.Clone()
	c.Body = append([]byte(nil), r.Body...)
	if r.Params != nil {
		c.Params = make(map[string]string, len(r.Params))
		for k, v := range r.Params {
			c.Params[k] = v
		}
	}
	c.ctx = nil
	return c
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// Stub is a registered matcher and responder. By default it answers one request; Times and Always change
// that.
type Stub struct {
	matcher   Matcher
	responder Responder
	where     string
	mu        *sync.Mutex // the registry's

	// guarded by the registry's mutex
	limit int // requests it may answer; 0 means any number
	want  int // requests it must have answered by the end of the test
	calls int
}

// Times lets the stub answer n requests and fails the test if it answered fewer.
func (s *Stub) Times(n int) *Stub {
	if n < 1 {
		panic(fmt.Sprintf("apitest: Times(%d): a stub answers at least one request", n))
	}
	s.mu.Lock()
	s.limit, s.want = n, n
	s.mu.Unlock()
	return s
}

// Always lets the stub answer any number of requests; the test still fails if it answered none.
func (s *Stub) Always() *Stub {
	s.mu.Lock()
	s.limit, s.want = 0, 1
	s.mu.Unlock()
	return s
}

// String names the stub by its matcher and the line that registered it.
func (s *Stub) String() string { return fmt.Sprintf("%s (registered at %s)", s.matcher, s.where) }

// Registry holds the stubs and the request log. It is an http.Handler; New serves it on a loopback server.
type Registry struct {
	t         testing.TB
	mu        sync.Mutex
	stubs     []*Stub
	log       []*Request
	unmatched []string
}

// NewRegistry returns an empty registry reporting to t. Verify must run at the end of the test; New
// arranges it.
func NewRegistry(t testing.TB) *Registry { return &Registry{t: t} }

// Register adds a stub. Stubs are tried in registration order; the first that matches and has calls left
// answers.
func (reg *Registry) Register(m Matcher, r Responder) *Stub {
	if r == nil {
		panic("apitest: Register: nil responder")
	}
	s := &Stub{matcher: m, responder: r, where: caller(), mu: &reg.mu, limit: 1, want: 1}
	reg.mu.Lock()
	reg.stubs = append(reg.stubs, s)
	reg.mu.Unlock()
	return s
}

// caller is the first frame outside this package: the test line that registered a stub.
func caller() string {
	for skip := 2; skip < 10; skip++ {
		_, file, line, ok := runtime.Caller(skip)
		if !ok {
			break
		}
		if !strings.HasSuffix(filepath.Dir(file), filepath.Join("providers", "apitest")) || strings.HasSuffix(file, "_test.go") {
			return fmt.Sprintf("%s:%d", filepath.Base(file), line)
		}
	}
	return "unknown"
}

// ServeHTTP records the request, finds its stub and lets the stub's responder answer. A request no stub
// matches gets 501 and fails the test at Verify.
func (reg *Registry) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, hr.Body, maxBody))
	if err != nil {
		reg.t.Errorf("apitest: %s %s: reading the body: %v", hr.Method, hr.URL.Path, err)
	}
	r := &Request{
		Method:      hr.Method,
		Path:        hr.URL.Path,
		EscapedPath: hr.URL.EscapedPath(),
		Query:       hr.URL.Query(),
		Header:      hr.Header.Clone(),
		Body:        body,
		ctx:         hr.Context(),
	}

	reg.mu.Lock()
	r.Time = time.Now() // under the lock, so the log's order is the order of the times
	var stub *Stub
	for _, s := range reg.stubs {
		if (s.limit == 0 || s.calls < s.limit) && s.matcher.Match(r) {
			stub = s
			s.calls++
			break
		}
	}
	if stub != nil {
		r.Params = stub.matcher.params(r)
		r.Stub = stub.String()
	} else {
		reg.unmatched = append(reg.unmatched, describe(r)+"\n"+reg.listLocked())
	}
	reg.log = append(reg.log, r)
	reg.mu.Unlock()

	if stub == nil {
		http.Error(w, "apitest: no stub matches "+describe(r), http.StatusNotImplemented)
		return
	}
	stub.responder(w, r)
}

func describe(r *Request) string {
	s := r.Method + " " + r.EscapedPath
	if len(r.Query) > 0 {
		s += "?" + r.Query.Encode()
	}
	return s
}

func (reg *Registry) listLocked() string {
	if len(reg.stubs) == 0 {
		return "  no stubs are registered"
	}
	var b strings.Builder
	b.WriteString("  registered stubs:")
	for _, s := range reg.stubs {
		fmt.Fprintf(&b, "\n    %s, called %d", s, s.calls)
		if s.limit > 0 {
			fmt.Fprintf(&b, " of %d", s.limit)
		}
	}
	return b.String()
}

// Verify fails the test for every request that matched no stub and every stub called fewer times than it
// said. New runs it when the test ends.
func (reg *Registry) Verify() {
	reg.t.Helper()
	reg.mu.Lock()
	defer reg.mu.Unlock()
	for _, u := range reg.unmatched {
		reg.t.Errorf("apitest: no stub matches %s", u)
	}
	for _, s := range reg.stubs {
		if s.calls < s.want {
			if s.calls == 0 {
				reg.t.Errorf("apitest: stub never called: %s", s)
			} else {
				reg.t.Errorf("apitest: stub called %d of %d times: %s", s.calls, s.want, s)
			}
		}
	}
}

// Requests returns a copy of the log: every request received, in arrival order.
func (reg *Registry) Requests() []Request {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	out := make([]Request, len(reg.log))
	for i, r := range reg.log {
		out[i] = r.clone()
	}
	return out
}

// Count returns how many logged requests m matches.
func (reg *Registry) Count(m Matcher) int {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	n := 0
	for _, r := range reg.log {
		if m.Match(r) {
			n++
		}
	}
	return n
}

// Server is a Registry served on 127.0.0.1.
type Server struct {
	*Registry
	// URL is the server's base URL, such as http://127.0.0.1:41234, with no trailing slash.
	URL string

	ts *httptest.Server
}

// Option configures New.
type Option func(*options)

type options struct{ tls bool }

// TLS serves HTTPS with httptest's certificate; Client trusts it. Azure's token authority and
// bearer-token policy refuse plain http.
func TLS() Option { return func(o *options) { o.tls = true } }

// New starts a server on a free 127.0.0.1 port. When the test ends it stops the server (ending the
// handlers still waiting, such as Delay's) and runs Verify.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("apitest: listen on 127.0.0.1: %v", err)
	}
	reg := NewRegistry(t)
	base, cancel := context.WithCancel(context.Background())
	ts := &httptest.Server{
		Listener: l,
		Config: &http.Server{
			Handler:     reg,
			BaseContext: func(net.Listener) context.Context { return base },
		},
	}
	if o.tls {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(func() {
		cancel()
		ts.Close()
		reg.Verify()
	})
	return &Server{Registry: reg, URL: ts.URL, ts: ts}
}

// Client returns an HTTP client for the server; with TLS it trusts the server's certificate.
func (s *Server) Client() *http.Client { return s.ts.Client() }
