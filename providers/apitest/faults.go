package apitest

import (
	"sync"
	"testing"
)

// Faults are one-shot answers a fake gives instead of its own: each answers the first request it matches,
// once, in the order they were added. A fake calls Take first in its handler. Every fault a test adds must
// be used by its end, or the fault was aimed at a call that never came and the test proves nothing: New
// checks that when the test ends.
type Faults struct {
	mu   sync.Mutex
	list []*oneShot
}

type oneShot struct {
	match   Matcher
	respond Responder
	used    bool
}

// NewFaults returns an empty list whose unused faults fail t when it ends; who names the fake in the error.
func NewFaults(t testing.TB, who string) *Faults {
	fs := &Faults{}
	t.Cleanup(func() {
		for _, m := range fs.Unused() {
			t.Errorf("%s: fault never used: %s", who, m)
		}
	})
	return fs
}

// Add makes the next request m matches get respond's answer.
func (fs *Faults) Add(m Matcher, respond Responder) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list = append(fs.list, &oneShot{match: m, respond: respond})
}

// Take returns the answer of the first unused fault r matches, and marks it used.
func (fs *Faults) Take(r *Request) (Responder, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.list {
		if !f.used && f.match.Match(r) {
			f.used = true
			return f.respond, true
		}
	}
	return nil, false
}

// Unused describes the faults no request has matched yet.
func (fs *Faults) Unused() []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []string
	for _, f := range fs.list {
		if !f.used {
			out = append(out, f.match.String())
		}
	}
	return out
}
