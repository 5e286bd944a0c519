package dnscheck

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeAuth is a small authoritative server for tests: it serves the zones
// parsed from zone-file text, on 127.0.0.1 (UDP and TCP, same port 0-picked
// port), and can be told to misbehave the ways real servers do.
type fakeAuth struct {
	addr     string
	rrs      []dns.RR
	zones    []string
	truncate map[string]bool // names whose UDP answers come back truncated
	refuse   bool            // answer REFUSED to everything (a lame server)
	noAA     bool            // answer without the AA flag (a recursor that is not authoritative)
	axfr     bool            // allow zone transfers
	tcp      atomic.Int64    // queries received over TCP
	udp      atomic.Int64
}

func parseZone(t *testing.T, text string) []dns.RR {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), "", "test.zone")
	var out []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone text: %v", err)
	}
	return out
}

func startAuth(t *testing.T, zoneText string, setup ...func(*fakeAuth)) *fakeAuth {
	t.Helper()
	f := &fakeAuth{rrs: parseZone(t, zoneText), truncate: map[string]bool{}}
	for _, rr := range f.rrs {
		if rr.Header().Rrtype == dns.TypeSOA {
			f.zones = append(f.zones, strings.ToLower(rr.Header().Name))
		}
	}
	for _, s := range setup {
		s(f)
	}
	pc, l := listenPair(t)
	f.addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(f.serve)}
	tcp := &dns.Server{Listener: l, Handler: dns.HandlerFunc(f.serve)}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
	return f
}

// listenPair binds UDP and TCP on the same loopback port.
func listenPair(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l
		}
		pc.Close()
	}
	t.Fatal("no free loopback port for UDP and TCP")
	return nil, nil
}

func (f *fakeAuth) serve(w dns.ResponseWriter, req *dns.Msg) {
	_, isTCP := w.RemoteAddr().(*net.TCPAddr)
	if isTCP {
		f.tcp.Add(1)
	} else {
		f.udp.Add(1)
	}
	m := new(dns.Msg)
	m.SetReply(req)
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	zone := ""
	for _, z := range f.zones {
		if dns.IsSubDomain(z, name) && len(z) > len(zone) {
			zone = z
		}
	}
	switch {
	case f.refuse || zone == "":
		m.Rcode = dns.RcodeRefused
		w.WriteMsg(m)
		return
	case q.Qtype == dns.TypeAXFR:
		if !f.axfr || !isTCP {
			m.Rcode = dns.RcodeRefused
			w.WriteMsg(m)
			return
		}
		soa := f.lookup(zone, dns.TypeSOA)
		m.Answer = append(append(soa, f.inZone(zone)...), soa...)
		w.WriteMsg(m)
		return
	case !isTCP && f.truncate[name]:
		m.Truncated = true
		w.WriteMsg(m)
		return
	}
	m.Authoritative = !f.noAA
	f.answer(m, zone, name, q.Qtype, 0)
	w.WriteMsg(m)
}

func (f *fakeAuth) inZone(zone string) []dns.RR {
	var out []dns.RR
	for _, rr := range f.rrs {
		if rr.Header().Rrtype != dns.TypeSOA && dns.IsSubDomain(zone, strings.ToLower(rr.Header().Name)) {
			out = append(out, rr)
		}
	}
	return out
}

func (f *fakeAuth) lookup(name string, qtype uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range f.rrs {
		if strings.EqualFold(rr.Header().Name, name) && (qtype == dns.TypeANY || rr.Header().Rrtype == qtype) {
			out = append(out, rr)
		}
	}
	return out
}

// answer follows RFC 1034 4.3.2 closely enough for the checks: exact match,
// CNAME chase inside the zone, wildcard synthesis, NODATA and NXDOMAIN.
func (f *fakeAuth) answer(m *dns.Msg, zone, name string, qtype uint16, depth int) {
	rrs := f.lookup(name, qtype)
	if qtype != dns.TypeCNAME && len(rrs) == 0 {
		if c := f.lookup(name, dns.TypeCNAME); len(c) > 0 {
			m.Answer = append(m.Answer, c...)
			target := strings.ToLower(c[0].(*dns.CNAME).Target)
			if depth < 8 && dns.IsSubDomain(zone, target) {
				f.answer(m, zone, target, qtype, depth+1)
			}
			return
		}
	}
	if len(f.lookup(name, dns.TypeANY)) == 0 && !f.hasDescendant(name) && name != zone {
		wild := "*." + parent(name)
		if w := f.lookup(wild, dns.TypeANY); len(w) > 0 {
			for _, rr := range w {
				if rr.Header().Rrtype == qtype || rr.Header().Rrtype == dns.TypeCNAME {
					c := dns.Copy(rr)
					c.Header().Name = name
					m.Answer = append(m.Answer, c)
				}
			}
			return
		}
		if depth == 0 {
			m.Rcode = dns.RcodeNameError
		}
		m.Ns = f.lookup(zone, dns.TypeSOA)
		return
	}
	m.Answer = append(m.Answer, rrs...)
	if len(rrs) == 0 {
		m.Ns = f.lookup(zone, dns.TypeSOA)
	}
}

func (f *fakeAuth) hasDescendant(name string) bool {
	for _, rr := range f.rrs {
		n := strings.ToLower(rr.Header().Name)
		if n != name && dns.IsSubDomain(name, n) {
			return true
		}
	}
	return false
}

// silentServer takes UDP and TCP queries on loopback and never answers:
// a nameserver that is down behind a firewall that drops packets.
func silentServer(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	pc, l := listenPair(t)
	var received atomic.Int64
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			received.Add(1)
		}
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	t.Cleanup(func() { pc.Close(); l.Close() })
	return pc.LocalAddr().String(), &received
}

var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
