package testrun

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/manifest/ir"
)

// RefTarget is the target whose engine is the reference gateway: the local target deploys the IR and
// `edgegw dev` serves it with that gateway.
const RefTarget = "local"

func init() { RegisterEngine(RefTarget, RefEngine{}) }

// RefEngine runs the reference gateway in process. Its clock is the request's Now and its client address
// the request's ClientIP; its origins are the loopback URLs it is opened with, like any target's.
type RefEngine struct{}

var _ Engine = RefEngine{}

// Open compiles g for the reference gateway.
func (RefEngine) Open(_ context.Context, g *ir.Gateway, origins map[string]string, env Env) (Instance, error) {
	inst := &refInstance{}
	gw, err := gateway.New(g, gateway.Options{Now: inst.clock, Getenv: env.Getenv, OriginURLs: origins})
	if err != nil {
		return nil, fmt.Errorf("testrun: reference: %w", err)
	}
	inst.gw = gw
	return inst, nil
}

type refInstance struct {
	gw  *gateway.Gateway
	mu  sync.Mutex
	now time.Time
}

func (i *refInstance) clock() time.Time {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.now.IsZero() {
		return time.Now()
	}
	return i.now
}

func (i *refInstance) Do(ctx context.Context, cr *ClientRequest) (*ClientResponse, error) {
	i.mu.Lock()
	i.now = cr.Now
	i.mu.Unlock()
	req, err := cr.HTTPRequest()
	if err != nil {
		return nil, err
	}
	var d gateway.Decision
	rec := httptest.NewRecorder()
	i.gw.ServeHTTP(rec, req.WithContext(gateway.WithDecision(ctx, &d)))
	dec := map[string]string{}
	for k, v := range map[string]string{"route": d.Route, "pool": d.Pool, "reason": d.Reason} {
		if v != "" {
			dec[k] = v
		}
	}
	return &ClientResponse{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes(), Decision: dec}, nil
}

func (i *refInstance) Close() error { return nil }

// HTTPRequest builds the server-side request an edge receives for cr, with the request-target exactly as
// written (no normalization by net/url), RemoteAddr from ClientIP and TLS set for https. An in-process
// engine serves it; a runtime behind a socket sends cr itself.
func (cr *ClientRequest) HTTPRequest() (*http.Request, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", cr.Method, cr.Target, cr.Host)
	for name, vals := range cr.Header {
		for _, v := range vals {
			fmt.Fprintf(&b, "%s: %s\r\n", name, v)
		}
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(cr.Body))
	b.Write(cr.Body)
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(b.String())))
	if err != nil {
		return nil, fmt.Errorf("testrun: request %s %s: %w", cr.Method, cr.Target, err)
	}
	ip := cr.ClientIP
	if ip == "" {
		ip = DefaultClientIP
	}
	req.RemoteAddr = net.JoinHostPort(ip, "50000")
	if cr.Scheme != "http" {
		req.TLS = &tls.ConnectionState{}
	}
	return req, nil
}

// DefaultClientIP is the client address of a request that names none: fixed, so limits keyed by IP behave
// the same every run.
const DefaultClientIP = "192.0.2.1"
