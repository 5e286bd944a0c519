package dnscheck

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// maxCNAMEHops bounds the CNAME chain followed from a flattening target, as a
// resolver bounds it: a longer chain is reported, never followed forever.
const maxCNAMEHops = 8

// checkFlattened compares the host's A/AAAA set, as its own zone's servers
// answer it, with the A/AAAA set of the edge hostname it is flattened to, as
// THAT name's zone's servers answer it. The edge's addresses are the
// provider's to change (anycast), so the manifest names the hostname and the
// addresses are read at check time, the way a flattening DNS provider does.
func (r *runner) checkFlattened(ctx context.Context, res *HostResult, h Host, owner string, first *dns.Msg, answers []*hostAnswers) {
	edge := canonical(h.FlattenedTo)
	want, edgeEv, err := r.edgeAddrs(ctx, edge)
	if err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("flattening to %s not checked: %v", display(edge), err))
		return
	}
	var got []netip.Addr
	var ev []string
	for _, a := range answers {
		for _, rr := range a.primary.Answer {
			if ip, ok := rrAddr(rr); ok {
				if !slices.Contains(got, ip) {
					got = append(got, ip)
				}
				ev = append(ev, digLine(rr))
			}
		}
	}
	unexpected, missing := addrDiff(got, want)
	if len(want) > 0 && len(unexpected) == 0 && len(missing) == 0 {
		return
	}
	if len(ev) == 0 {
		ev = []string{fmt.Sprintf("; %s IN A/AAAA: %s", owner, rcodeText(first))}
	}
	ev = append(ev, fmt.Sprintf("; flattened_to %s:", display(edge)))
	ev = append(ev, edgeEv...)
	host, to := res.Name, display(edge)
	summary := fmt.Sprintf("%s is not flattened to %s: %s answers %s, %s answers %s", host, to, host, addrSet(got), to, addrSet(want))
	fix := fmt.Sprintf("flatten %s to %s at the DNS provider (ALIAS/ANAME/CNAME flattening), or make it answer exactly %s", host, to, addrSet(want))
	if len(want) == 0 {
		summary = fmt.Sprintf("%s cannot be flattened to %s: %s answers %s, %s has no A/AAAA records", host, to, host, addrSet(got), to)
		fix = fmt.Sprintf("check dns.expect.%s.flattened_to: %s must be the edge hostname the provider gave you, and it must resolve", host, to)
	}
	r.add(Finding{ID: IDAddrNotEdge, Host: host, Summary: summary, Evidence: ev, Fix: fix})
}

// edgeAddrs is the A/AAAA set of name, each type asked of the authoritative
// servers of the zone that holds it, following CNAMEs into other zones.
// The evidence lines are the records seen, and who served them.
func (r *runner) edgeAddrs(ctx context.Context, name string) ([]netip.Addr, []string, error) {
	var addrs []netip.Addr
	var ev []string
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		a, e, err := r.chase(ctx, name, qt)
		if err != nil {
			return nil, nil, err
		}
		for _, ip := range a {
			if !slices.Contains(addrs, ip) {
				addrs = append(addrs, ip)
			}
		}
		for _, l := range e {
			if !slices.Contains(ev, l) {
				ev = append(ev, l)
			}
		}
	}
	return addrs, ev, nil
}

// chase asks for name/qtype at the zone's servers and follows the answer's
// CNAME chain, to the next zone's servers when the chain leaves the zone.
func (r *runner) chase(ctx context.Context, name string, qtype uint16) ([]netip.Addr, []string, error) {
	var ev []string
	seen := map[string]bool{}
	for range maxCNAMEHops + 1 {
		zs, err := r.zoneOf(ctx, name)
		if err != nil {
			return nil, nil, err
		}
		if len(zs.live) == 0 {
			return nil, nil, fmt.Errorf("no authoritative server of %s answered", display(zs.name))
		}
		a := r.askAll(ctx, zs, name, qtype)
		if a.primary == nil {
			return nil, nil, fmt.Errorf("no authoritative server of %s answered %s %s", display(zs.name), display(name), dns.TypeToString[qtype])
		}
		ev = append(ev, fmt.Sprintf("; %s IN %s from %s", display(name), dns.TypeToString[qtype], a.server))
		cur := name
		for {
			if seen[cur] {
				return nil, nil, fmt.Errorf("CNAME loop at %s", display(cur))
			}
			seen[cur] = true
			var found []netip.Addr
			next := ""
			for _, rr := range a.primary.Answer {
				if !strings.EqualFold(rr.Header().Name, cur) {
					continue
				}
				if c, ok := rr.(*dns.CNAME); ok {
					next = canonical(c.Target)
					ev = append(ev, digLine(rr))
				} else if ip, ok := rrAddr(rr); ok && rr.Header().Rrtype == qtype {
					found = append(found, ip)
					ev = append(ev, digLine(rr))
				}
			}
			if len(found) > 0 {
				return found, ev, nil
			}
			if next == "" {
				ev = append(ev, fmt.Sprintf("; %s IN %s: %s", display(cur), dns.TypeToString[qtype], rcodeText(a.primary)))
				return nil, ev, nil
			}
			cur = next
			if !slices.ContainsFunc(a.primary.Answer, func(rr dns.RR) bool { return strings.EqualFold(rr.Header().Name, cur) }) {
				break // the chain leaves this answer: ask the target's own zone
			}
		}
		name = cur
	}
	return nil, nil, fmt.Errorf("more than %d CNAMEs from %s", maxCNAMEHops, display(name))
}

func rrAddr(rr dns.RR) (netip.Addr, bool) {
	switch v := rr.(type) {
	case *dns.A:
		return netip.AddrFromSlice(v.A.To4())
	case *dns.AAAA:
		return netip.AddrFromSlice(v.AAAA)
	}
	return netip.Addr{}, false
}

// addrSet shows a set of addresses sorted, IPv4 first, or "no A/AAAA records".
func addrSet(a []netip.Addr) string {
	if len(a) == 0 {
		return "no A/AAAA records"
	}
	s := slices.Clone(a)
	slices.SortFunc(s, func(x, y netip.Addr) int { return x.Compare(y) })
	return "{" + joinAddrs(s) + "}"
}
