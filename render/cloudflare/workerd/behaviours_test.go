package workerd

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest"
)

const behavioursSecret = "behaviours-secret-0123456789abcdef-xyz"

func hs256(claims string) string { return signHS(behavioursSecret, claims) }

func signHS(secret, claims string) string {
	b := base64.RawURLEncoding
	in := b.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b.EncodeToString([]byte(claims))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(in))
	return in + "." + b.EncodeToString(m.Sum(nil))
}

// step is one request of a sequence, at an offset from the case clock.
type step struct {
	at     time.Duration
	method string
	target string
	host   string
	header map[string]string
	body   string
}

// TestBehavioursDifferential runs request sequences through the reference gateway and the Worker in
// workerd, each with fresh state and the same clock, and requires the same decision at every step. The
// origins are scripted by path: /fo/down answers 503 on the primary, /slow sleeps past the timeout, /fo/stream
// sends its headers at once and the rest of its body after the timeout, /v2/redirect answers a Location on
// the origin's own URL.
func TestBehavioursDifferential(t *testing.T) {
	requireEngine(t)
	g, diags := manifest.Load("testdata/behaviours.yaml")
	if g == nil {
		t.Fatalf("behaviours.yaml does not load: %v", diags)
	}
	exp := caseClock.Add(time.Hour).Unix()
	good := hs256(fmt.Sprintf(`{"sub":"alice","iss":"https://auth.example.com/","aud":"api","exp":%d,"n":1.50}`, exp))
	expired := hs256(fmt.Sprintf(`{"sub":"alice","iss":"https://auth.example.com/","aud":"api","exp":%d}`, caseClock.Add(-time.Hour).Unix()))
	wrongAud := hs256(fmt.Sprintf(`{"sub":"alice","iss":"https://auth.example.com/","aud":"web","exp":%d}`, exp))
	get := func(at time.Duration, target string, h ...string) step {
		s := step{at: at, method: "GET", target: target, host: "api.example.com", header: map[string]string{}}
		for i := 0; i+1 < len(h); i += 2 {
			s.header[h[i]] = h[i+1]
		}
		return s
	}
	sequences := map[string][]step{
		"sliding window per ip, Retry-After, then the window moves": {
			get(0, "/limited"), get(time.Second, "/limited"), get(2*time.Second, "/limited"), get(9*time.Second, "/limited"),
			get(10*time.Second+500*time.Millisecond, "/limited"), get(11*time.Second+500*time.Millisecond, "/limited"),
		},
		"header key, and the IP when the header is missing": {
			get(0, "/keyed", "X-Api-Key", "k1"), get(time.Second, "/keyed", "X-Api-Key", "k1"), get(time.Second, "/keyed", "X-Api-Key", "k2"),
			get(2*time.Second, "/keyed"), get(3*time.Second, "/keyed"),
		},
		"failover on 503, breaker opens after 2, cooldown, half-open": {
			get(0, "/fo/down"), get(time.Second, "/fo/down"), get(2*time.Second, "/fo/down"), get(3*time.Second, "/fo/up"),
			get(33*time.Second, "/fo/up"), get(34*time.Second, "/fo/down"),
		},
		"timeout is 504; a body streaming past the timeout is not cut": {get(0, "/slow/x"), get(0, "/fo/stream")},
		"hs256 from the secret binding, claims forwarded, rewrite": {
			get(0, "/secure/a?q=1", "Authorization", "Bearer "+good), get(0, "/secure/a", "Authorization", "Bearer "+expired),
			get(0, "/secure/a", "Authorization", "Bearer "+wrongAud), get(0, "/secure/a", "Authorization", "Basic x"),
			get(0, "/secure/a", "Authorization", "Bearer "+good+"x"), get(0, "/secure/a", "Authorization", "Bearer a.b"),
			get(0, "/secure/a", "X-User", "mallory", "Authorization", "Bearer "+good),
		},
		"cors preflight and simple requests": {
			{method: "OPTIONS", target: "/fo/up", host: "api.example.com", header: map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}},
			{method: "OPTIONS", target: "/fo/up", host: "api.example.com", header: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}},
			get(0, "/fo/up", "Origin", "https://app.example.com"), get(0, "/fo/up", "Origin", "https://evil.example"),
			get(0, "/nowhere", "Origin", "https://app.example.com"),
		},
		"template rewrite, methods, request id kept, tenants, unknown host": {
			get(0, "/users/7/posts/9", "X-Request-ID", "client-id-1"), {method: "DELETE", target: "/users/7/posts/9", host: "api.example.com"},
			{method: "GET", target: "/fo/up", host: "acme.t.example.com", header: map[string]string{"X-Tenant": "spoofed"}},
			{method: "GET", target: "/fo/up", host: "a.b.t.example.com"}, {method: "GET", target: "/fo/up", host: "API.Example.com:8443"},
		},
		"redirects and Location mapping": {
			get(0, "/moved/x?b=2"), get(0, "/moved"), get(0, "/v2/redirect"), get(0, "/v2/elsewhere"),
		},
		"a POST body is replayed on failover": {
			{method: "POST", target: "/post", host: "api.example.com", header: map[string]string{"Content-Type": "text/plain"}, body: "payload"},
		},
	}
	env := testrun.Env{Getenv: func(k string) string {
		if k == "BEHAVIOURS_HS_SECRET" {
			return behavioursSecret
		}
		return ""
	}, Now: func() time.Time { return caseClock }}
	total, same := 0, 0
	for name, seq := range sequences {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			origins, urls := newOrigins(t, g)
			script(origins)
			gw, err := gateway.New(g, gateway.Options{Now: func() time.Time { return now }, Getenv: env.Getenv, OriginURLs: urls})
			if err != nil {
				t.Fatal(err)
			}
			in, err := engine.Open(ctx, g, urls, env)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			for i, s := range seq {
				total++
				h := http.Header{}
				for k, v := range s.header {
					h.Set(k, v)
				}
				now = caseClock.Add(s.at)
				req := &testrun.ClientRequest{Method: s.method, Target: s.target, Host: s.host, Header: h, Body: []byte(s.body), ClientIP: testrun.DefaultClientIP, Now: now}
				ref, err := refDo(t, gw, req, true)
				if err != nil {
					t.Fatal(err)
				}
				ref.upstream = take(origins)
				got, err := workerdDo(ctx, in, req)
				if err != nil {
					t.Fatal(err)
				}
				got.upstream = take(origins)
				d := compare(ref, got)
				for _, x := range d {
					t.Errorf("step %d %s %s: %s", i, s.method, s.target, x)
				}
				if len(d) == 0 {
					same++
				}
				t.Logf("step %d %s %s → %d %s %s", i, s.method, s.target, got.status, got.reason, got.origin)
			}
		})
	}
	t.Logf("behaviour sequences: %d/%d requests decided as the reference", same, total)
}

// now is the reference gateway's clock during a sequence.
var now time.Time

// script makes the origins answer by path: the primary is down (503) under /fo/down, the slow origin
// sleeps past its 200ms timeout, /internal/v2/redirect answers a Location on the origin's own URL.
func script(origins map[string]*origin) {
	for name, o := range origins {
		name, o := name, o
		base := o.srv.URL
		inner := o.srv.Config.Handler
		o.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case name == "primary" && strings.HasPrefix(r.URL.Path, "/fo/down"):
				inner.ServeHTTP(noBody{w}, r)
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			case name == "slow":
				inner.ServeHTTP(noBody{w}, r) // recorded on arrival, answered too late
				time.Sleep(600 * time.Millisecond)
				return
			case r.URL.Path == "/fo/stream":
				inner.ServeHTTP(noBody{w}, r)
				w.Header().Set("Content-Type", "text/plain")
				_, _ = io.WriteString(w, "first ")
				w.(http.Flusher).Flush()
				time.Sleep(1800 * time.Millisecond) // past the primary's 1500ms timeout
				_, _ = io.WriteString(w, "and last\n")
				return
			case r.URL.Path == "/internal/v2/redirect":
				w.Header().Set("Location", base+"/internal/v2/next?x=1#frag")
				w.Header().Set("Content-Location", "/internal/v2/doc")
				w.Header().Set("X-Internal", "secret")
				w.Header().Set("X-Trace", "t1")
				inner.ServeHTTP(noBody{w}, r)
				w.WriteHeader(http.StatusFound)
				return
			case r.URL.Path == "/internal/v2/elsewhere":
				w.Header().Set("Location", "https://other.example.net/internal/v2/a")
				inner.ServeHTTP(noBody{w}, r)
				w.WriteHeader(http.StatusFound)
				return
			}
			inner.ServeHTTP(w, r)
		})
	}
}

// noBody records through the origin's handler without writing its status or body.
type noBody struct{ http.ResponseWriter }

func (noBody) WriteHeader(int)             {}
func (noBody) Write(b []byte) (int, error) { return len(b), nil }
func (n noBody) Header() http.Header       { return http.Header{} }
