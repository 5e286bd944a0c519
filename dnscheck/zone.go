package dnscheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// nameserver is one address of one authoritative server.
type nameserver struct {
	Name string // NS target, or the address itself for an override
	Addr string // host:port
}

func (n nameserver) String() string {
	if n.Name == "" || n.Name == n.Addr {
		return n.Addr
	}
	return n.Name + " (" + n.Addr + ")"
}

// zoneState is everything learnt about one zone, computed once per run and
// shared by every host in it.
type zoneState struct {
	name    string
	own     bool // a configured zone: its problems are findings
	done    chan struct{}
	servers []nameserver
	live    []nameserver // answered the SOA probe authoritatively
	serials map[string]uint32
	problem map[string]string // server -> why it is not live
	err     error

	mu         sync.Mutex
	failedOnce map[string]bool

	xfrOnce sync.Once
	xfrRRs  []dns.RR
	xfrErr  error
}

func (z *zoneState) result() ZoneResult {
	out := ZoneResult{Name: display(z.name)}
	if z.err != nil {
		out.Error = z.err.Error()
	}
	for _, s := range z.servers {
		out.Servers = append(out.Servers, ServerResult{Server: s.String(), Serial: z.serials[s.String()], Problem: z.problem[s.String()]})
	}
	return out
}

// zone returns the state of a configured zone, probing it on first use.
func (r *runner) zone(ctx context.Context, zone string) *zoneState {
	r.mu.Lock()
	if zs, ok := r.zones[zone]; ok {
		r.mu.Unlock()
		<-zs.done
		return zs
	}
	zs := &zoneState{name: zone, done: make(chan struct{}), serials: map[string]uint32{}, problem: map[string]string{}, failedOnce: map[string]bool{}}
	for _, z := range r.ownZones {
		zs.own = zs.own || z == zone
	}
	r.zones[zone] = zs
	r.mu.Unlock()
	defer close(zs.done)

	zs.servers, zs.err = r.discover(ctx, zone)
	r.probe(ctx, zs)
	return zs
}

// zoneOf finds the zone that holds name: a zone this run already knows
// (configured or overridden), else the one the resolver names in its SOA.
func (r *runner) zoneOf(ctx context.Context, name string) (*zoneState, error) {
	best := ""
	consider := func(z string) {
		if dns.IsSubDomain(z, name) && dns.CountLabel(z) > dns.CountLabel(best) {
			best = z
		}
	}
	for _, z := range r.ownZones {
		consider(z)
	}
	for z := range r.known {
		consider(z)
	}
	if best == "" {
		m, err := r.resolve(ctx, name, dns.TypeSOA)
		if err != nil {
			return nil, fmt.Errorf("cannot find the zone of %s: %w", display(name), err)
		}
		for _, rr := range append(m.Answer, m.Ns...) {
			if soa, ok := rr.(*dns.SOA); ok {
				best = canonical(soa.Hdr.Name)
				break
			}
		}
		if best == "" {
			return nil, fmt.Errorf("cannot find the zone of %s: the resolver's answer has no SOA", display(name))
		}
	}
	zs := r.zone(ctx, best)
	if zs.err != nil {
		return nil, zs.err
	}
	return zs, nil
}

// discover lists the zone's authoritative server addresses. The resolver is
// used only here, to find names and addresses; every answer that is checked
// comes from the servers themselves.
func (r *runner) discover(ctx context.Context, zone string) ([]nameserver, error) {
	if addrs, ok := r.known[zone]; ok {
		var out []nameserver
		for _, a := range addrs {
			a = withPort(a)
			out = append(out, nameserver{Name: a, Addr: a})
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: the nameserver override lists no address", display(zone))
		}
		return out, nil
	}
	m, err := r.resolve(ctx, zone, dns.TypeNS)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", display(zone), err)
	}
	if m.Rcode == dns.RcodeNameError {
		return nil, fmt.Errorf("%s does not exist (NXDOMAIN from the resolver)", display(zone))
	}
	var names []string
	for _, rr := range m.Answer {
		if ns, ok := rr.(*dns.NS); ok && strings.EqualFold(ns.Hdr.Name, zone) {
			names = append(names, canonical(ns.Ns))
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s has no NS records: is it a zone apex? (set the host's zone to the apex)", display(zone))
	}
	glue := map[string][]string{}
	for _, rr := range m.Extra {
		switch v := rr.(type) {
		case *dns.A:
			glue[canonical(v.Hdr.Name)] = append(glue[canonical(v.Hdr.Name)], v.A.String())
		case *dns.AAAA:
			glue[canonical(v.Hdr.Name)] = append(glue[canonical(v.Hdr.Name)], v.AAAA.String())
		}
	}
	var mu sync.Mutex
	var out []nameserver
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() {
			ips := glue[n]
			if len(ips) == 0 {
				for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
					am, err := r.resolve(ctx, n, qt)
					if err != nil {
						continue
					}
					for _, rr := range am.Answer {
						switch v := rr.(type) {
						case *dns.A:
							ips = append(ips, v.A.String())
						case *dns.AAAA:
							ips = append(ips, v.AAAA.String())
						}
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(ips) == 0 {
				out = append(out, nameserver{Name: n}) // kept so the probe reports it
			}
			for _, ip := range ips {
				out = append(out, nameserver{Name: n, Addr: net.JoinHostPort(ip, authPort)})
			}
		})
	}
	wg.Wait()
	sortServers(out)
	return out, nil
}

func sortServers(s []nameserver) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].String() < s[j-1].String(); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// probe asks every server for the zone's SOA: a server that does not answer
// it authoritatively is lame, and is not asked anything else, so a dead
// server costs one query timeout for the whole run.
func (r *runner) probe(ctx context.Context, zs *zoneState) {
	if zs.err != nil {
		if zs.own {
			f := Finding{ID: IDNoAuthoritative, Host: display(zs.name), Summary: zs.err.Error()}
			var re *ResolverError
			if errors.As(zs.err, &re) {
				f.Fix = resolverFix
			}
			r.add(f)
		}
		return
	}
	type result struct {
		live   bool
		soa    *dns.SOA
		reason string
		skip   bool
	}
	results := make([]result, len(zs.servers))
	var wg sync.WaitGroup
	for i, s := range zs.servers {
		wg.Go(func() {
			if s.Addr == "" {
				results[i].reason = "its name has no A/AAAA address"
				return
			}
			m, err := r.q.ask(ctx, s.Addr, zs.name, dns.TypeSOA, false)
			if err != nil && unreachable(err) {
				results[i] = result{reason: "not reachable from here: " + err.Error(), skip: true}
				return
			}
			reason := lameReason(m, err, zs.name)
			if reason != "" && !(lameReason(m, err, "") == "" && hasApexCNAME(m, zs.name) != nil) {
				results[i].reason = reason
				return
			}
			// A server with a CNAME at the apex answers the SOA question with
			// the CNAME: it is authoritative, and DNS006 reports the CNAME.
			results[i].live = true
			for _, rr := range m.Answer {
				if soa, ok := rr.(*dns.SOA); ok {
					results[i].soa = soa
				}
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil || r.q.expired.Load() {
		return
	}
	for i, s := range zs.servers {
		res := results[i]
		if !res.live {
			zs.problem[s.String()] = res.reason
			if zs.own && !res.skip {
				r.add(Finding{ID: IDLame, Host: display(zs.name),
					Summary:  fmt.Sprintf("nameserver %s is lame for %s: %s", s, display(zs.name), res.reason),
					Evidence: []string{fmt.Sprintf("; %s IN SOA @%s: %s", zs.name, s, res.reason)},
					Fix:      fmt.Sprintf("load %s on %s, or remove %s from the zone's NS records (at the parent too)", display(zs.name), s, s.Name)})
			}
			continue
		}
		zs.live = append(zs.live, s)
		if res.soa != nil {
			zs.serials[s.String()] = res.soa.Serial
		}
	}
	if !zs.own {
		return
	}
	if len(zs.live) == 0 {
		r.add(Finding{ID: IDNoAuthoritative, Host: display(zs.name),
			Summary: fmt.Sprintf("none of the %d nameserver address(es) of %s answered authoritatively", len(zs.servers), display(zs.name))})
		return
	}
	var ev []string
	serials := map[uint32]bool{}
	for _, s := range zs.live {
		if soa := results[indexOf(zs.servers, s)].soa; soa != nil {
			ev = append(ev, fmt.Sprintf("; from %s", s), digLine(soa))
			serials[soa.Serial] = true
		}
	}
	differ := len(serials) > 1
	if differ {
		r.add(Finding{ID: IDSerialMismatch, Host: display(zs.name),
			Summary:  fmt.Sprintf("the authoritative servers of %s serve different SOA serials: some still serve an old copy of the zone", display(zs.name)),
			Evidence: ev})
	}
	r.checkApexCNAME(ctx, zs)
}

func indexOf(s []nameserver, v nameserver) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func (r *runner) checkApexCNAME(ctx context.Context, zs *zoneState) {
	s := zs.live[0]
	m, err := r.q.ask(ctx, s.Addr, zs.name, dns.TypeCNAME, false)
	if lameReason(m, err, "") != "" {
		return
	}
	if c := hasApexCNAME(m, zs.name); c != nil {
		{
			r.add(Finding{ID: IDApexCNAME, Host: display(zs.name),
				Summary:  fmt.Sprintf("%s has a CNAME at the zone apex, beside its SOA and NS: RFC 1034 forbids it and resolvers may ignore the zone's other records", display(zs.name)),
				Evidence: []string{digLine(c)},
				Fix:      fmt.Sprintf("delete the apex CNAME; use A/AAAA records for the edge's addresses, or the DNS provider's ALIAS/ANAME/CNAME flattening to %s", c.Target)})
		}
	}
}

// failed records the first failed question per server as a lame finding:
// a server that passed the SOA probe and then fails a question still sends
// some resolvers away empty-handed.
func (z *zoneState) failed(r *runner, s nameserver, what string) {
	z.mu.Lock()
	first := !z.failedOnce[s.String()]
	z.failedOnce[s.String()] = true
	z.mu.Unlock()
	if !first || !z.own {
		return
	}
	r.add(Finding{ID: IDLame, Host: display(z.name),
		Summary:  fmt.Sprintf("nameserver %s did not answer authoritatively for %s", s, what),
		Evidence: []string{fmt.Sprintf("; %s @%s", what, s)},
		Fix:      fmt.Sprintf("check %s: it answers the zone's SOA but not every question", s)})
}

// transfer fetches the zone's contents with AXFR from the first live
// server, once per run. Most production servers refuse it; that is reported
// by the caller as a check that could not run.
func (z *zoneState) transfer(ctx context.Context, r *runner) ([]dns.RR, error) {
	z.xfrOnce.Do(func() {
		select {
		case r.q.sem <- struct{}{}:
		case <-ctx.Done():
			z.xfrErr = ctx.Err()
			return
		}
		defer func() { <-r.q.sem }()
		s := z.live[0]
		t := &dns.Transfer{DialTimeout: r.opts.Timeout, ReadTimeout: r.opts.Timeout}
		m := new(dns.Msg)
		m.SetAxfr(z.name)
		ch, err := t.In(m, s.Addr)
		if err != nil {
			z.xfrErr = fmt.Errorf("zone transfer of %s from %s: %w", display(z.name), s, err)
			return
		}
		for env := range ch {
			if env.Error != nil {
				z.xfrErr = fmt.Errorf("zone transfer of %s from %s: %w", display(z.name), s, env.Error)
				continue
			}
			z.xfrRRs = append(z.xfrRRs, env.RR...)
		}
	})
	return z.xfrRRs, z.xfrErr
}

// authPort is the port discovered nameservers are asked on; a variable so
// tests can run discovery against loopback servers on a random port.
var authPort = "53"

func hasApexCNAME(m *dns.Msg, zone string) *dns.CNAME {
	if m == nil {
		return nil
	}
	for _, rr := range m.Answer {
		if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, zone) {
			return c
		}
	}
	return nil
}
