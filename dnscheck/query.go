package dnscheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// ednsSize is the DNS Flag Day 2020 buffer size: big enough for most answers,
// small enough to avoid IP fragmentation; larger answers come back truncated
// and are retried over TCP.
const ednsSize = 1232

// querier sends every query of a run. It bounds queries in flight with a
// semaphore and answers a repeated question (same server, name, type) from
// the first exchange, so checks that share a name (CAA at the apex, a common
// CNAME target) cost one query.
type querier struct {
	timeout time.Duration
	retries int
	sem     chan struct{}
	count   atomic.Int64
	expired atomic.Bool // a query was cut short by the run's deadline

	mu    sync.Mutex
	calls map[queryKey]*queryCall
	idle  map[string]chan *dns.Conn // connected UDP sockets per server, ready for reuse
}

type queryKey struct {
	server string
	name   string
	qtype  uint16
	rd     bool
}

type queryCall struct {
	done chan struct{}
	msg  *dns.Msg
	err  error
}

func newQuerier(o Options) *querier {
	return &querier{
		timeout: o.Timeout,
		retries: o.Retries,
		sem:     make(chan struct{}, o.Concurrency),
		calls:   map[queryKey]*queryCall{},
		idle:    map[string]chan *dns.Conn{},
	}
}

// conn returns an idle connected UDP socket to server, or a new one.
// Reusing sockets saves a socket/connect/close per query, which is most of
// the cost of a query on loopback or a LAN; a late answer to an earlier
// query on a reused socket is told apart by message id and question.
func (q *querier) conn(ctx context.Context, server string, deadline time.Time) (*dns.Conn, error) {
	q.mu.Lock()
	ch := q.idle[server]
	if ch == nil {
		ch = make(chan *dns.Conn, cap(q.sem))
		q.idle[server] = ch
	}
	q.mu.Unlock()
	select {
	case c := <-ch:
		return c, nil
	default:
	}
	d := net.Dialer{Deadline: deadline}
	nc, err := d.DialContext(ctx, "udp", server)
	if err != nil {
		return nil, err
	}
	return &dns.Conn{Conn: nc, UDPSize: ednsSize}, nil
}

// release keeps a socket that ended with an answer for the next query.
func (q *querier) release(server string, c *dns.Conn) {
	q.mu.Lock()
	ch := q.idle[server]
	q.mu.Unlock()
	select {
	case ch <- c:
	default:
		c.Close()
	}
}

// close closes every idle socket; called once the run is over.
func (q *querier) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, ch := range q.idle {
		for {
			select {
			case c := <-ch:
				c.Close()
				continue
			default:
			}
			break
		}
	}
}

// ask returns server's answer to (name, qtype). rd=false for authoritative
// servers: a recursion-desired query to an authoritative server can be
// answered from a cache on servers that also recurse, which is exactly what
// this package must not look at.
func (q *querier) ask(ctx context.Context, server, name string, qtype uint16, rd bool) (*dns.Msg, error) {
	key := queryKey{server, strings.ToLower(dns.Fqdn(name)), qtype, rd}
	q.mu.Lock()
	if c, ok := q.calls[key]; ok {
		q.mu.Unlock()
		select {
		case <-c.done:
			return c.msg, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := &queryCall{done: make(chan struct{})}
	q.calls[key] = c
	q.mu.Unlock()

	c.msg, c.err = q.exchange(ctx, server, key.name, qtype, rd)
	close(c.done)
	return c.msg, c.err
}

func (q *querier) exchange(ctx context.Context, server, name string, qtype uint16, rd bool) (*dns.Msg, error) {
	select {
	case q.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-q.sem }()
	q.count.Add(1)

	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = rd
	m.SetEdns0(ednsSize, false)

	r, err := q.exchangeUDP(ctx, server, m)
	if err != nil {
		return nil, err
	}
	if r.Truncated {
		q.count.Add(1)
		c := &dns.Client{Net: "tcp", Timeout: q.timeout}
		tctx, cancel := context.WithTimeout(ctx, q.timeout)
		defer cancel()
		r, _, err = c.ExchangeContext(tctx, m, server)
		if err != nil {
			return nil, fmt.Errorf("tcp after truncated udp answer: %w", err)
		}
	}
	return r, nil
}

// exchangeUDP sends m and waits up to the query timeout, retransmitting the
// same message at even intervals inside that window. Retransmitting inside
// the window (instead of starting a new full timeout per retry) is what keeps
// a dead server from costing more than one timeout per question.
func (q *querier) exchangeUDP(ctx context.Context, server string, m *dns.Msg) (*dns.Msg, error) {
	deadline := time.Now().Add(q.timeout)
	runDeadline := false
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, runDeadline = d, true
	}
	conn, err := q.conn(ctx, server, deadline)
	if err != nil {
		return nil, err
	}
	nc := conn.Conn
	ok := false
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		// After a timeout the socket may still receive the late answer;
		// only a socket that ended cleanly goes back to the pool.
		if stop() && ok {
			q.release(server, conn)
		} else {
			conn.Close()
		}
	}()

	interval := q.timeout / time.Duration(q.retries+1)
	sent := 0
	var next time.Time
	for {
		now := time.Now()
		if sent <= q.retries && !now.Before(next) {
			if err := conn.WriteMsg(m); err != nil {
				return nil, err
			}
			sent++
			next = now.Add(interval)
		}
		wait := deadline
		if sent <= q.retries && next.Before(wait) {
			wait = next
		}
		nc.SetReadDeadline(wait)
		r, err := conn.ReadMsg()
		if err == nil {
			if r.Id != m.Id || len(r.Question) != 1 || !strings.EqualFold(r.Question[0].Name, m.Question[0].Name) || r.Question[0].Qtype != m.Question[0].Qtype {
				continue // a late answer to an earlier query on a reused socket
			}
			ok = true
			return r, nil
		}
		if ctx.Err() != nil {
			q.expired.Store(true)
			return nil, ctx.Err()
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if !time.Now().Before(deadline) {
				if runDeadline {
					// The run's deadline, not the server, ended the wait:
					// that must not be reported as a lame server.
					q.expired.Store(true)
					return nil, context.DeadlineExceeded
				}
				return nil, errTimeout{q.timeout}
			}
			continue
		}
		return nil, err
	}
}

type errTimeout struct{ d time.Duration }

func (e errTimeout) Error() string { return fmt.Sprintf("no answer within %s", e.d) }

// unreachable reports errors that say this machine has no route to the
// server (typically IPv6 on an IPv4-only host): that says nothing about the
// server, so it must not be reported as lame.
func unreachable(err error) bool {
	return errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.EADDRNOTAVAIL)
}
