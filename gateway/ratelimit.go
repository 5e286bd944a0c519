package gateway

import (
	"container/list"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/manifest/ir"
)

const defaultRateLimitMaxKeys = 100_000

// slidingWindow is an exact sliding-window limit: per key, the times of the requests allowed in the last
// window. Exact rather than the two-bucket estimate, because it is the oracle targets are compared against.
// Memory is bounded: at most maxKeys keys (least recently seen evicted first), at most limit times per key.
type slidingWindow struct {
	name    string
	kind    string
	header  string
	limit   int
	window  time.Duration
	maxKeys int

	mu   sync.Mutex
	keys map[string]*list.Element
	lru  *list.List // front: most recently seen
}

type windowEntry struct {
	key  string
	hits []time.Time // ascending
}

func newSlidingWindow(rl ir.RateLimit, maxKeys int) *slidingWindow {
	if maxKeys <= 0 {
		maxKeys = defaultRateLimitMaxKeys
	}
	kind, header := rl.KeyKind()
	return &slidingWindow{name: rl.Name, kind: kind, header: header, limit: rl.Limit, window: rl.Window.D(),
		maxKeys: maxKeys, keys: map[string]*list.Element{}, lru: list.New()}
}

// keyFor picks the request's key. A request without the configured key (no verified sub, no header) is
// counted by client IP, so leaving the key out never escapes the limit.
func (s *slidingWindow) keyFor(r *http.Request, claims *jwtverify.Claims) string {
	switch s.kind {
	case "jwt.sub":
		if claims != nil && claims.Subject != "" {
			return "sub:" + claims.Subject
		}
	case "header":
		if v := r.Header.Get(s.header); v != "" {
			return "hdr:" + v
		}
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return "ip:" + ip
}

// allow counts one request for key at now; when the key is over its limit it returns false and how long
// until the oldest counted request leaves the window.
func (s *slidingWindow) allow(key string, now time.Time) (bool, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var e *windowEntry
	if el, ok := s.keys[key]; ok {
		s.lru.MoveToFront(el)
		e = el.Value.(*windowEntry)
	} else {
		if len(s.keys) >= s.maxKeys {
			old := s.lru.Back()
			s.lru.Remove(old)
			delete(s.keys, old.Value.(*windowEntry).key)
		}
		e = &windowEntry{key: key}
		s.keys[key] = s.lru.PushFront(e)
	}
	cutoff := now.Add(-s.window)
	i := 0
	for i < len(e.hits) && !e.hits[i].After(cutoff) {
		i++
	}
	e.hits = e.hits[i:]
	if len(e.hits) >= s.limit {
		return false, e.hits[0].Add(s.window).Sub(now)
	}
	e.hits = append(e.hits, now)
	return true, 0
}

// size is the number of keys held (for tests of the memory bound).
func (s *slidingWindow) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}
