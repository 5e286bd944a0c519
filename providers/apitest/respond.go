package apitest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Responder answers a request a stub matched. Any func with this signature is one: write the answer to w,
// read the request (body included) from r.
type Responder func(w http.ResponseWriter, r *Request)

// JSON answers status with v encoded as JSON. v is encoded once, now: a value that cannot be encoded is a
// mistake in the test and panics.
func JSON(status int, v any) Responder {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("apitest: JSON: %v", err))
	}
	return Bytes(status, "application/json", b)
}

// Bytes answers status with body; contentType may be empty.
func Bytes(status int, contentType string, body []byte) Responder {
	return func(w http.ResponseWriter, _ *Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

// WithHeader adds a response header to what next answers, such as an ETag.
func WithHeader(next Responder, name, value string) Responder {
	return func(w http.ResponseWriter, r *Request) {
		w.Header().Add(name, value)
		next(w, r)
	}
}

// RateLimited answers 429 Too Many Requests with Retry-After: seconds and a JSON error body.
func RateLimited(seconds int) Responder {
	return WithHeader(JSON(http.StatusTooManyRequests, map[string]string{"error": "apitest: rate limited"}),
		"Retry-After", strconv.Itoa(seconds))
}

// ServerError answers status, which must be a 5xx, with a JSON error body.
func ServerError(status int) Responder {
	if status < 500 || status > 599 {
		panic(fmt.Sprintf("apitest: ServerError(%d): not a 5xx status", status))
	}
	return JSON(status, map[string]string{"error": "apitest: " + http.StatusText(status)})
}

// PreconditionFailed answers 412 Precondition Failed, as a vendor does when If-Match names an old ETag.
func PreconditionFailed() Responder {
	return JSON(http.StatusPreconditionFailed, map[string]string{"error": "apitest: precondition failed"})
}

// RequireIfMatch is optimistic concurrency: a request whose If-Match is exactly etag gets next's answer;
// any other, a missing If-Match included, gets 412.
func RequireIfMatch(etag string, next Responder) Responder {
	failed := PreconditionFailed()
	return func(w http.ResponseWriter, r *Request) {
		if r.Header.Get("If-Match") != etag {
			failed(w, r)
			return
		}
		next(w, r)
	}
}

// Delay waits d, then lets next answer. When the client gives up first (its timeout), or the server is
// closing, it aborts the response (http.ErrAbortHandler: the connection closes with no answer) at once,
// so a test that expects a timeout does not wait out d.
func Delay(d time.Duration, next Responder) Responder {
	return func(w http.ResponseWriter, r *Request) {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
			next(w, r)
		case <-r.Context().Done():
			panic(http.ErrAbortHandler)
		}
	}
}

// ResetConnection takes over the connection and closes it with SO_LINGER 0, so the client sees a TCP
// reset (ECONNRESET) instead of an answer.
func ResetConnection() Responder {
	return func(w http.ResponseWriter, _ *Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("apitest: ResetConnection: the connection cannot be taken over (HTTP/2?)")
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			panic(fmt.Sprintf("apitest: ResetConnection: %v", err))
		}
		// Under TLS, close the TCP connection itself: closing the *tls.Conn would send close_notify first,
		// and the client would see a clean EOF.
		raw := conn
		if nc, ok := conn.(interface{ NetConn() net.Conn }); ok {
			raw = nc.NetConn()
		}
		if tcp, ok := raw.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
		_ = raw.Close()
	}
}

// FailFirst answers the first n requests with fault and every later one with then. The stub must allow
// n+1 calls or more: Register(m, FailFirst(2, ServerError(503), ok)).Times(3).
func FailFirst(n int, fault, then Responder) Responder {
	var mu sync.Mutex
	calls := 0
	return func(w http.ResponseWriter, r *Request) {
		mu.Lock()
		calls++
		failing := calls <= n
		mu.Unlock()
		if failing {
			fault(w, r)
			return
		}
		then(w, r)
	}
}
