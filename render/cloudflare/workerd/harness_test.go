package workerd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/internal/testenv"
	"github.com/edgegw/edgegw/manifest/ir"
)

// engine is the one workerd engine of this test binary (one node process, started on first use).
var engine = Default

func TestMain(m *testing.M) {
	code := m.Run()
	engine.Close()
	os.Exit(code)
}

// requireEngine skips (fails under CI) when node or the installed miniflare is missing.
func requireEngine(t *testing.T) {
	t.Helper()
	testenv.Require(t, "node and miniflare (npm ci in render/cloudflare/workerd)", engine.Available())
}

// origin is a loopback origin that answers 200 "origin NAME" and records every request it gets.
type origin struct {
	name string
	srv  *httptest.Server
	mu   sync.Mutex
	got  []seen
}

type seen struct {
	uri    string
	header http.Header
}

func newOrigins(t *testing.T, g *ir.Gateway) (map[string]*origin, map[string]string) {
	t.Helper()
	os, urls := map[string]*origin{}, map[string]string{}
	for _, o := range g.Origins {
		ro := &origin{name: o.Name}
		ro.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			ro.mu.Lock()
			ro.got = append(ro.got, seen{uri: r.RequestURI, header: r.Header.Clone()})
			ro.mu.Unlock()
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, "origin "+ro.name+"\n")
		}))
		t.Cleanup(ro.srv.Close)
		os[o.Name], urls[o.Name] = ro, ro.srv.URL
	}
	return os, urls
}

// take returns and forgets what the origins received, by origin name.
func take(os map[string]*origin) map[string][]seen {
	out := map[string][]seen{}
	for name, o := range os {
		o.mu.Lock()
		if len(o.got) > 0 {
			out[name] = o.got
		}
		o.got = nil
		o.mu.Unlock()
	}
	return out
}

// observation is what one runtime did with one request, seen from the client and the origins.
type observation struct {
	status   int
	header   http.Header
	body     string
	upstream map[string][]seen
	route    string
	pool     string
	origin   string
	reason   string
	detail   string
}

// refDo sends req through the reference gateway (fresh from gw) as a client would.
func refDo(t *testing.T, gw *gateway.Gateway, req *testrun.ClientRequest, https bool) (observation, error) {
	var b bytes.Buffer
	method := req.Method
	if method == "" {
		method = "GET"
	}
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, req.Target, req.Host)
	for name, vals := range req.Header {
		for _, v := range vals {
			fmt.Fprintf(&b, "%s: %s\r\n", name, v)
		}
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(req.Body))
	b.Write(req.Body)
	hr, err := http.ReadRequest(bufio.NewReader(&b))
	if err != nil {
		return observation{}, err
	}
	hr.RemoteAddr = req.ClientIP + ":50000"
	if https {
		hr.TLS = &tls.ConnectionState{}
	}
	var d gateway.Decision
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, hr.WithContext(gateway.WithDecision(context.Background(), &d)))
	return observation{status: rec.Code, header: rec.Header(), body: rec.Body.String(), route: d.Route, pool: d.Pool,
		origin: d.Origin, reason: d.Reason, detail: d.Detail}, nil
}

func workerdDo(ctx context.Context, in testrun.Instance, req *testrun.ClientRequest) (observation, error) {
	resp, err := in.Do(ctx, req)
	if err != nil {
		return observation{}, err
	}
	return observation{status: resp.Status, header: resp.Header, body: string(resp.Body), route: resp.Decision["route"],
		pool: resp.Decision["pool"], origin: resp.Decision["origin"], reason: resp.Decision["reason"], detail: resp.Decision["detail"]}, nil
}

// runtimeHeaders are set by one runtime's HTTP stack and not by the gateway's decision: never compared.
var runtimeHeaders = map[string]bool{
	"Date": true, "Content-Length": true, "Accept-Encoding": true, "User-Agent": true, "Connection": true,
	"Cf-Worker": true, "Cf-Ray": true, "Cf-Connecting-Ip": true, "Cf-Ew-Via": true, "Cdn-Loop": true,
}

// randomHeaders carry a fresh value on every request: compared by presence only.
var randomHeaders = map[string]bool{"X-Request-Id": true}

func headerDiffs(what string, ref, got http.Header) []string {
	names := map[string]bool{}
	for k := range ref {
		names[http.CanonicalHeaderKey(k)] = true
	}
	for k := range got {
		names[http.CanonicalHeaderKey(k)] = true
	}
	var sorted []string
	for k := range names {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var out []string
	for _, k := range sorted {
		if runtimeHeaders[k] {
			continue
		}
		rv, gv := strings.Join(ref.Values(k), ", "), strings.Join(got.Values(k), ", ")
		_, rok := ref[k]
		_, gok := got[k]
		if rok != gok {
			out = append(out, fmt.Sprintf("%s %s: reference %q (present %v), workerd %q (present %v)", what, k, rv, rok, gv, gok))
		} else if rv != gv && !randomHeaders[k] {
			out = append(out, fmt.Sprintf("%s %s: reference %q, workerd %q", what, k, rv, gv))
		}
	}
	return out
}

// compare lists every difference between the reference's and workerd's handling of one request.
func compare(ref, got observation) []string {
	var out []string
	if ref.status != got.status {
		out = append(out, fmt.Sprintf("status: reference %d, workerd %d", ref.status, got.status))
	}
	if ref.body != got.body {
		out = append(out, fmt.Sprintf("body: reference %q, workerd %q", trunc(ref.body), trunc(got.body)))
	}
	for _, f := range [][3]string{{"route", ref.route, got.route}, {"pool", ref.pool, got.pool}, {"origin", ref.origin, got.origin}, {"reason", ref.reason, got.reason}} {
		if f[1] != f[2] {
			out = append(out, fmt.Sprintf("%s: reference %q, workerd %q", f[0], f[1], f[2]))
		}
	}
	out = append(out, headerDiffs("response header", ref.header, got.header)...)
	var names []string
	for n := range ref.upstream {
		names = append(names, n)
	}
	for n := range got.upstream {
		if _, ok := ref.upstream[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		r, g := ref.upstream[n], got.upstream[n]
		if len(r) != len(g) {
			out = append(out, fmt.Sprintf("origin %s: reference sent %d requests, workerd %d", n, len(r), len(g)))
			continue
		}
		for i := range r {
			if r[i].uri != g[i].uri {
				out = append(out, fmt.Sprintf("origin %s request %d: reference %q, workerd %q", n, i, r[i].uri, g[i].uri))
			}
			out = append(out, headerDiffs(fmt.Sprintf("origin %s upstream header", n), r[i].header, g[i].header)...)
		}
	}
	return out
}

func trunc(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// caseClock is the clock of every case: fixed, so both runtimes decide at the same instant.
var caseClock = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
