package fastly

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry policy of the API client (go-fastly retries nothing itself).
const (
	// MaxAttempts is how many times one request is sent at most.
	MaxAttempts = 3
	// MaxRetryWait is the longest wait before a retry; a 429 whose reset is further away (the hourly
	// limit of mutating calls) is returned at once, with its reset time, instead of holding the apply.
	MaxRetryWait = 30 * time.Second
)

// RetryTransport retries a request that Fastly answered 429 or 5xx, at most MaxAttempts times in all:
//
//   - 429 Too Many Requests is retried for every method: the rate limiter refused the call before it ran,
//     so sending it again repeats nothing. The wait is the answer's Retry-After (seconds or a date), else
//     its Fastly-RateLimit-Reset (Unix time); a wait over MaxRetryWait is not waited for.
//   - 5xx and a connection that fails are retried only for requests that may safely run twice: reads
//     (GET, HEAD) and PUTs, which set a version's fields, a VCL's content or the active version to the
//     same value again. A clone (PUT …/clone) makes a new version each time, and a POST creates an
//     object (a repeat would fail as a duplicate), a DELETE deletes (a repeat would fail as not found)
//     and a PATCH of dictionary items may hold deletions: those are not retried, and the error names the
//     call. The wait is 1 s, then 2 s, unless the answer says otherwise.
type RetryTransport struct {
	next  http.RoundTripper
	sleep func(time.Duration)
	now   func() time.Time
}

// NewRetryTransport wraps next (http.DefaultTransport when nil); sleep waits between attempts
// (time.Sleep when nil; tests record the waits instead).
func NewRetryTransport(next http.RoundTripper, sleep func(time.Duration)) *RetryTransport {
	if next == nil {
		next = http.DefaultTransport
	}
	if sleep == nil {
		sleep = time.Sleep
	}
	return &RetryTransport{next: next, sleep: sleep, now: time.Now}
}

// RoundTrip implements http.RoundTripper.
func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			if req.Body != nil && req.Body != http.NoBody {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r = req.Clone(req.Context())
				r.Body = body
			}
		}
		resp, err := t.next.RoundTrip(r)
		if attempt >= MaxAttempts || !t.retriable(req, resp, err) {
			return resp, err
		}
		wait, ok := t.wait(resp, attempt)
		if !ok {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, ctxErr
		}
		t.sleep(wait)
	}
}

// retriable decides whether the answer (or the failure) of req may be retried.
func (t *RetryTransport) retriable(req *http.Request, resp *http.Response, err error) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false // the body cannot be sent again
	}
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		return true
	}
	if err == nil && resp.StatusCode < 500 {
		return false
	}
	if req.Context().Err() != nil {
		return false
	}
	return repeatable(req)
}

// repeatable reports whether running req twice leaves the same state as running it once.
func repeatable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodPut:
		return !strings.HasSuffix(req.URL.Path, "/clone")
	}
	return false
}

// wait returns how long to wait before attempt+1, and false when the answer asks for longer than
// MaxRetryWait.
func (t *RetryTransport) wait(resp *http.Response, attempt int) (time.Duration, bool) {
	d := time.Duration(1<<(attempt-1)) * time.Second
	if resp != nil {
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			if s, err := strconv.Atoi(strings.TrimSpace(ra)); err == nil {
				d = time.Duration(s) * time.Second
			} else if at, err := http.ParseTime(ra); err == nil {
				d = at.Sub(t.now())
			}
		} else if resp.StatusCode == http.StatusTooManyRequests {
			if reset, err := strconv.ParseInt(resp.Header.Get("Fastly-RateLimit-Reset"), 10, 64); err == nil {
				d = time.Unix(reset, 0).Sub(t.now())
			}
		}
	}
	if d < 0 {
		d = 0
	}
	return d, d <= MaxRetryWait
}
