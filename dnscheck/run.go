package dnscheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Run checks every host in cfg against its zone's authoritative servers and
// returns what it found. The error is for a run that could not be carried out
// as asked (invalid config, the global deadline); DNS problems are findings.
// On a deadline the partial report is returned with the error.
func Run(ctx context.Context, cfg Config, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Deadline)
	defer cancel()

	r := &runner{
		cfg:   cfg,
		opts:  opts,
		q:     newQuerier(opts),
		now:   opts.Now(),
		zones: map[string]*zoneState{},
		known: map[string][]string{},
	}
	for z, addrs := range opts.Nameservers {
		r.known[canonical(z)] = addrs
	}
	for _, h := range cfg.Hosts {
		r.ownZones = append(r.ownZones, canonical(h.Zone))
	}
	defer r.q.close()
	started := time.Now()

	results := make([]HostResult, len(cfg.Hosts))
	var wg sync.WaitGroup
	for i, h := range cfg.Hosts {
		wg.Go(func() { results[i] = r.checkHost(ctx, h) })
	}
	wg.Wait()

	rep := &Report{
		Findings: r.findings,
		Hosts:    results,
		Queries:  r.q.count.Load(),
		Started:  started,
		Elapsed:  time.Since(started),
	}
	for _, z := range uniq(r.ownZones) {
		rep.Zones = append(rep.Zones, r.zones[z].result())
	}
	rep.finish(cfg)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || r.q.expired.Load() {
		return rep, fmt.Errorf("dnscheck: deadline of %s exceeded before every host was checked; raise Options.Deadline or check fewer hosts: %w", opts.Deadline, context.DeadlineExceeded)
	}
	return rep, ctx.Err()
}

func (c Config) validate() error {
	for _, h := range c.Hosts {
		name := strings.TrimPrefix(h.Name, "*.")
		if h.Name == "" || h.Zone == "" {
			return fmt.Errorf("dnscheck/config: host %q: name and zone are both required", h.Name)
		}
		if _, ok := dns.IsDomainName(name); !ok || strings.Contains(name, "*") {
			return fmt.Errorf("dnscheck/config: host %q is not a valid hostname (only a leading \"*.\" wildcard label is allowed)", h.Name)
		}
		if _, ok := dns.IsDomainName(h.Zone); !ok {
			return fmt.Errorf("dnscheck/config: host %q: zone %q is not a valid domain name", h.Name, h.Zone)
		}
		if !dns.IsSubDomain(canonical(h.Zone), canonical(h.Name)) {
			return fmt.Errorf("dnscheck/config: host %q is not inside its zone %q; fix the host's zone in the manifest", h.Name, h.Zone)
		}
		if h.ExpectCNAME != "" {
			if _, ok := dns.IsDomainName(h.ExpectCNAME); !ok {
				return fmt.Errorf("dnscheck/config: host %q: expected CNAME target %q is not a valid hostname", h.Name, h.ExpectCNAME)
			}
		}
		if h.FlattenedTo != "" {
			if _, ok := dns.IsDomainName(h.FlattenedTo); !ok || strings.Contains(h.FlattenedTo, "*") {
				return fmt.Errorf("dnscheck/config: host %q: flattened_to %q is not a valid hostname", h.Name, h.FlattenedTo)
			}
		}
	}
	return nil
}

// wildcardProbe is the label asked for in place of "*": a name no one
// creates, so an answer can only come from the wildcard record.
const wildcardProbe = "edgegw-wildcard-probe"

type runner struct {
	cfg      Config
	opts     Options
	q        *querier
	now      time.Time
	known    map[string][]string // canonical zone -> host:port from Options.Nameservers
	ownZones []string            // zones of the configured hosts: only these get zone findings

	mu        sync.Mutex
	zones     map[string]*zoneState
	findings  []Finding
	resolvers []string
	resErr    error
	resOnce   sync.Once
}

func (r *runner) add(f Finding) {
	info := checkInfo(f.ID)
	f.Severity = info.Severity
	if f.Fix == "" {
		f.Fix = info.Fix
	}
	r.mu.Lock()
	r.findings = append(r.findings, f)
	r.mu.Unlock()
}

// canonical is the form names are compared in: lower case, fully qualified.
func canonical(name string) string { return strings.ToLower(dns.Fqdn(name)) }

// display is the form names are shown in: as a user writes them.
func display(name string) string { return strings.TrimSuffix(name, ".") }

func uniq(s []string) []string {
	var out []string
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func parent(name string) string {
	i, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[i:]
}

// hostAnswers is what the authoritative servers said about one question.
type hostAnswers struct {
	qtype   uint16
	primary *dns.Msg            // first server that answered
	server  nameserver          // who that was
	all     map[string]*dns.Msg // every answering server, by String()
}

func (r *runner) checkHost(ctx context.Context, h Host) HostResult {
	name := canonical(h.Name)
	zone := canonical(h.Zone)
	wildcard := strings.HasPrefix(name, "*.")
	qname := name
	if wildcard {
		qname = wildcardProbe + name[1:]
	}
	res := HostResult{Name: display(h.Name), Zone: display(h.Zone)}

	zs := r.zone(ctx, zone)
	for _, s := range zs.live {
		res.Servers = append(res.Servers, s.String())
	}
	if len(zs.live) == 0 {
		res.Notes = append(res.Notes, "not checked: no authoritative server answered for "+display(zone))
		return res
	}

	apex := name == zone
	qtypes := []uint16{dns.TypeA}
	if len(h.ExpectAddrs) > 0 || h.FlattenedTo != "" || apex {
		qtypes = append(qtypes, dns.TypeAAAA)
	}
	var answers []*hostAnswers
	for _, qt := range qtypes {
		a := r.askAll(ctx, zs, qname, qt)
		if a.primary == nil {
			res.Notes = append(res.Notes, fmt.Sprintf("not checked: no authoritative server answered %s %s", display(qname), dns.TypeToString[qt]))
			return res
		}
		answers = append(answers, a)
	}
	r.compareServers(h, qname, answers)

	// Records as the user would see them; for a wildcard the synthesized
	// owner is shown as the wildcard itself.
	var rrs []dns.RR
	seen := map[string]bool{}
	for _, a := range answers {
		for _, rr := range a.primary.Answer {
			if wildcard && strings.EqualFold(rr.Header().Name, qname) {
				rr = dns.Copy(rr)
				rr.Header().Name = name
			}
			if s := rr.String(); !seen[s] {
				seen[s] = true
				rrs = append(rrs, rr)
				res.Records = append(res.Records, digLine(rr))
			}
		}
	}
	owner := name // owner of the records at the host, after wildcard rewriting
	first := answers[0].primary
	var cname *dns.CNAME
	for _, rr := range rrs {
		if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, owner) {
			cname = c
		}
	}

	if wildcard && (first.Rcode == dns.RcodeNameError || len(first.Answer) == 0) {
		r.add(Finding{ID: IDWildcardMissing, Host: res.Name,
			Summary:  fmt.Sprintf("no wildcard record covers %s: %s answers %s for %s", res.Name, answers[0].server, rcodeText(first), display(qname)),
			Evidence: []string{fmt.Sprintf("; %s IN A: %s (from %s)", qname, rcodeText(first), answers[0].server)},
			Fix:      fmt.Sprintf("add \"%s %d IN CNAME %s\" (or the edge's A/AAAA) so every tenant resolves", name, ttlSuggestion(r.cfg.MaxTTL), orPlaceholder(h.ExpectCNAME))})
	} else {
		r.checkExpectations(h, res.Name, apex, owner, first, answers, rrs, cname)
		if h.FlattenedTo != "" && !(apex && cname != nil) { // DNS006 already says what is wrong with the apex
			r.checkFlattened(ctx, &res, h, owner, first, answers)
		}
	}
	r.checkTTL(h, res.Name, owner, rrs)
	if cname != nil {
		r.checkDangling(ctx, &res, cname)
	}
	if len(h.AllowedCAs) > 0 {
		r.checkCAA(ctx, &res, h, zs, name)
	}
	if wildcard {
		r.checkShadow(ctx, &res, h, zs, name, rrs)
	}
	if r.opts.HTTP && !wildcard {
		r.checkHTTP(ctx, &res, h)
	}
	return res
}

func orPlaceholder(s string) string {
	if s == "" {
		return "<edge hostname>"
	}
	return dns.Fqdn(s)
}

func ttlSuggestion(max time.Duration) int {
	if max > 0 {
		return int(max.Seconds())
	}
	return 300
}

// askAll asks every live server of the zone the same question.
func (r *runner) askAll(ctx context.Context, zs *zoneState, name string, qtype uint16) *hostAnswers {
	out := &hostAnswers{qtype: qtype, all: map[string]*dns.Msg{}}
	msgs := make([]*dns.Msg, len(zs.live))
	var wg sync.WaitGroup
	for i, s := range zs.live {
		wg.Go(func() {
			m, err := r.q.ask(ctx, s.Addr, name, qtype, false)
			if reason := lameReason(m, err, ""); reason != "" {
				if ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
					zs.failed(r, s, fmt.Sprintf("%s %s: %s", display(name), dns.TypeToString[qtype], reason))
				}
				return
			}
			msgs[i] = m
		})
	}
	wg.Wait()
	for i, m := range msgs {
		if m == nil {
			continue
		}
		if out.primary == nil {
			out.primary, out.server = m, zs.live[i]
		}
		out.all[zs.live[i].String()] = m
	}
	return out
}

// lameReason says why a response is not an authoritative answer, or "" when
// it is one. wantSOA is the zone whose SOA must be in the answer ("" = any
// authoritative answer will do).
func lameReason(m *dns.Msg, err error, wantSOA string) string {
	switch {
	case err != nil:
		return err.Error()
	case m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError:
		return "answered " + dns.RcodeToString[m.Rcode]
	case !m.Authoritative:
		return "answered without the authoritative (AA) flag"
	case wantSOA != "":
		for _, rr := range m.Answer {
			if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, wantSOA) {
				return ""
			}
		}
		return "answered without the zone's SOA record"
	}
	return ""
}

func rcodeText(m *dns.Msg) string {
	if m.Rcode == dns.RcodeSuccess && len(m.Answer) == 0 {
		return "NOERROR with no records (NODATA)"
	}
	return dns.RcodeToString[m.Rcode]
}

// digLine formats rr the way dig prints it, single-spaced.
func digLine(rr dns.RR) string {
	return strings.Join(strings.Fields(rr.String()), " ")
}

func (r *runner) compareServers(h Host, qname string, answers []*hostAnswers) {
	for _, a := range answers {
		if len(a.all) < 2 {
			continue
		}
		sets := map[string]string{}
		for srv, m := range a.all {
			sets[srv] = answerKey(m)
		}
		var first string
		differ := false
		for _, v := range sets {
			if first == "" {
				first = v
			} else if v != first {
				differ = true
			}
		}
		if !differ {
			continue
		}
		var ev []string
		for _, srv := range slices.Sorted(mapKeys(sets)) {
			m := a.all[srv]
			ev = append(ev, fmt.Sprintf("; from %s: %s", srv, dns.RcodeToString[m.Rcode]))
			for _, rr := range m.Answer {
				ev = append(ev, digLine(rr))
			}
		}
		r.add(Finding{ID: IDAnswerMismatch, Host: display(h.Name),
			Summary:  fmt.Sprintf("authoritative servers disagree on %s %s", display(qname), dns.TypeToString[a.qtype]),
			Evidence: ev})
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// answerKey is an answer without TTLs and order, for comparing servers:
// TTLs may legitimately differ while a TTL change propagates.
func answerKey(m *dns.Msg) string {
	var parts []string
	for _, rr := range m.Answer {
		c := dns.Copy(rr)
		c.Header().Ttl = 0
		parts = append(parts, strings.ToLower(c.String()))
	}
	sort.Strings(parts)
	return dns.RcodeToString[m.Rcode] + "\n" + strings.Join(parts, "\n")
}

func (r *runner) checkExpectations(h Host, host string, apex bool, owner string, first *dns.Msg, answers []*hostAnswers, rrs []dns.RR, cname *dns.CNAME) {
	if h.ExpectCNAME != "" && !apex {
		want := canonical(h.ExpectCNAME)
		switch {
		case cname == nil:
			ev := recordLines(rrs)
			if len(ev) == 0 {
				ev = []string{fmt.Sprintf("; %s IN A: %s", owner, rcodeText(first))}
			}
			r.add(Finding{ID: IDCNAMENotEdge, Host: host,
				Summary:  fmt.Sprintf("%s has no CNAME to %s (%s)", host, display(want), describe(first, rrs)),
				Evidence: ev,
				Fix:      fmt.Sprintf("replace the records of %s with \"%s %d IN CNAME %s\"", host, owner, ttlSuggestion(r.cfg.MaxTTL), want)})
		case !strings.EqualFold(cname.Target, want):
			r.add(Finding{ID: IDCNAMENotEdge, Host: host,
				Summary:  fmt.Sprintf("%s is a CNAME to %s, not to the edge hostname %s", host, display(cname.Target), display(want)),
				Evidence: []string{digLine(cname)},
				Fix:      fmt.Sprintf("change the CNAME target of %s from %s to %s", host, cname.Target, want)})
		}
	}
	if len(h.ExpectAddrs) > 0 {
		if apex && cname != nil {
			return // DNS006 already says what is wrong with the apex
		}
		var got []netip.Addr
		var ev []string
		for _, a := range answers {
			for _, rr := range a.primary.Answer {
				switch v := rr.(type) {
				case *dns.A:
					ip, _ := netip.AddrFromSlice(v.A.To4())
					got = append(got, ip)
					ev = append(ev, digLine(rr))
				case *dns.AAAA:
					ip, _ := netip.AddrFromSlice(v.AAAA)
					got = append(got, ip)
					ev = append(ev, digLine(rr))
				}
			}
		}
		want := slices.Clone(h.ExpectAddrs)
		for i := range want {
			want[i] = want[i].Unmap()
		}
		unexpected, missing := addrDiff(got, want)
		if len(unexpected) > 0 || len(missing) > 0 {
			if len(ev) == 0 {
				ev = recordLines(rrs)
			}
			if len(ev) == 0 {
				ev = []string{fmt.Sprintf("; %s IN A/AAAA: %s", owner, rcodeText(first))}
			}
			summary := fmt.Sprintf("%s does not resolve to the edge", host)
			if len(unexpected) > 0 {
				summary += "; answers " + joinAddrs(unexpected) + " which the edge does not use"
			}
			if len(missing) > 0 {
				summary += "; missing " + joinAddrs(missing)
			}
			r.add(Finding{ID: IDAddrNotEdge, Host: host, Summary: summary, Evidence: ev,
				Fix: fmt.Sprintf("make %s answer exactly %s (A/AAAA or the provider's ALIAS/flattening)", host, joinAddrs(want))})
		}
	}
}

func addrDiff(got, want []netip.Addr) (unexpected, missing []netip.Addr) {
	for _, g := range got {
		if !slices.Contains(want, g) && !slices.Contains(unexpected, g) {
			unexpected = append(unexpected, g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	return
}

func joinAddrs(a []netip.Addr) string {
	s := make([]string, len(a))
	for i, v := range a {
		s[i] = v.String()
	}
	return strings.Join(s, ", ")
}

func recordLines(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, digLine(rr))
	}
	return out
}

func describe(m *dns.Msg, rrs []dns.RR) string {
	if len(rrs) == 0 {
		return "it answers " + rcodeText(m)
	}
	var types []string
	for _, rr := range rrs {
		t := dns.TypeToString[rr.Header().Rrtype]
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	return "it has " + strings.Join(types, "/") + " records"
}

func (r *runner) checkTTL(h Host, host, owner string, rrs []dns.RR) {
	if r.cfg.MaxTTL <= 0 {
		return
	}
	max := uint32(r.cfg.MaxTTL / time.Second)
	var ev []string
	var oldest uint32
	for _, rr := range rrs {
		hdr := rr.Header()
		if !strings.EqualFold(hdr.Name, owner) || hdr.Ttl <= max {
			continue
		}
		ev = append(ev, digLine(rr))
		oldest = max32(oldest, hdr.Ttl)
	}
	if len(ev) == 0 {
		return
	}
	old := time.Duration(oldest) * time.Second
	safe := r.now.Add(old).UTC().Format(time.RFC3339)
	r.add(Finding{ID: IDTTLAboveMax, Host: host,
		Summary:  fmt.Sprintf("%s has a TTL of %s, above max_ttl %s", host, old, r.cfg.MaxTTL),
		Evidence: ev,
		Fix: fmt.Sprintf("lower the TTL of %s to %d or less now; resolvers may keep the current records for up to %s: safe to cut over after %s",
			host, max, old, safe)})
}

func max32(a, b uint32) uint32 {
	if a > b {
		return a
	}
	return b
}

// checkDangling asks the CNAME target's own authoritative servers whether it
// exists. A target that does not exist can be registered by anyone at the
// provider it points to, who then serves content on this host.
func (r *runner) checkDangling(ctx context.Context, res *HostResult, c *dns.CNAME) {
	target := canonical(c.Target)
	zs, err := r.zoneOf(ctx, target)
	if err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("dangling CNAME not checked: %v", err))
		return
	}
	for _, s := range zs.live {
		m, err := r.q.ask(ctx, s.Addr, target, dns.TypeA, false)
		if lameReason(m, err, "") != "" {
			continue
		}
		if m.Rcode == dns.RcodeNameError {
			r.add(Finding{ID: IDDanglingCNAME, Host: res.Name,
				Summary:  fmt.Sprintf("%s is a CNAME to %s, which does not exist (NXDOMAIN): whoever claims that name serves %s", res.Name, display(target), res.Name),
				Evidence: []string{digLine(c), fmt.Sprintf("; %s IN A: NXDOMAIN (from %s)", target, s)},
				Fix:      fmt.Sprintf("delete the CNAME of %s, or create %s at its provider before anyone else does", res.Name, display(target))})
		}
		return
	}
	res.Notes = append(res.Notes, fmt.Sprintf("dangling CNAME not checked: no authoritative server of %s answered for %s", display(zs.name), display(target)))
}

// checkCAA finds the CAA record set that applies to the host the way a CA
// does (RFC 8659: climb from the name towards the root, first non-empty set
// wins) but stops at the zone apex: a TLD's CAA is out of the user's hands.
func (r *runner) checkCAA(ctx context.Context, res *HostResult, h Host, zs *zoneState, name string) {
	wildcard := strings.HasPrefix(name, "*.")
	n := strings.TrimPrefix(name, "*.")
	for ; dns.IsSubDomain(zs.name, n); n = parent(n) {
		var set []*dns.CAA
		answered := false
		for _, s := range zs.live {
			m, err := r.q.ask(ctx, s.Addr, n, dns.TypeCAA, false)
			if lameReason(m, err, "") != "" {
				continue
			}
			answered = true
			for _, rr := range m.Answer {
				if caa, ok := rr.(*dns.CAA); ok {
					set = append(set, caa)
				}
			}
			break
		}
		if !answered {
			res.Notes = append(res.Notes, "CAA not checked: no authoritative server answered for "+display(n))
			return
		}
		if len(set) == 0 {
			if n == zs.name {
				return
			}
			continue
		}
		if ok, why := caaPermits(set, h.AllowedCAs, wildcard); !ok {
			var ev []string
			for _, c := range set {
				ev = append(ev, digLine(c))
			}
			r.add(Finding{ID: IDCAAForbids, Host: res.Name,
				Summary:  fmt.Sprintf("CAA at %s forbids the edge's CAs (%s) from issuing for %s: %s", display(n), strings.Join(h.AllowedCAs, ", "), res.Name, why),
				Evidence: ev,
				Fix:      fmt.Sprintf("add \"%s %d IN CAA 0 %s \\\"%s\\\"\" next to the existing CAA records", n, ttlSuggestion(r.cfg.MaxTTL), caaTag(set, wildcard), h.AllowedCAs[0])})
		}
		return
	}
}

// caaKnownTags are the property tags CAs understand; an unknown tag with the
// critical flag set forbids issuance by every CA (RFC 8659 section 4.1).
var caaKnownTags = []string{"issue", "issuewild", "iodef", "contactemail", "contactphone", "issuemail", "issuevmc"}

func caaPermits(set []*dns.CAA, allowed []string, wildcard bool) (bool, string) {
	var issue, issuewild []*dns.CAA
	for _, c := range set {
		tag := strings.ToLower(c.Tag)
		switch {
		case tag == "issue":
			issue = append(issue, c)
		case tag == "issuewild":
			issuewild = append(issuewild, c)
		case c.Flag&128 != 0 && !slices.Contains(caaKnownTags, tag):
			return false, fmt.Sprintf("unknown critical property %q", c.Tag)
		}
	}
	relevant := issue
	if wildcard && len(issuewild) > 0 {
		relevant = issuewild // issuewild overrides issue for wildcard certificates
	}
	if len(relevant) == 0 {
		return true, ""
	}
	var issuers []string
	for _, c := range relevant {
		issuer := strings.TrimSpace(strings.SplitN(c.Value, ";", 2)[0])
		for _, a := range allowed {
			if issuer != "" && strings.EqualFold(issuer, a) {
				return true, ""
			}
		}
		if issuer == "" {
			issuer = `"" (no CA)`
		}
		issuers = append(issuers, issuer)
	}
	return false, "only " + strings.Join(issuers, ", ") + " may issue"
}

func caaTag(set []*dns.CAA, wildcard bool) string {
	if wildcard {
		for _, c := range set {
			if strings.EqualFold(c.Tag, "issuewild") {
				return "issuewild"
			}
		}
	}
	return "issue"
}

// checkShadow looks for explicit names one label under a wildcard that do
// not lead to the edge: RFC 4592 wildcards never match a name that exists, so
// such a tenant is served by the explicit record instead. Finding them needs
// the zone's contents; without a zone transfer it is noted, not guessed.
func (r *runner) checkShadow(ctx context.Context, res *HostResult, h Host, zs *zoneState, name string, wildRRs []dns.RR) {
	rrs, err := zs.transfer(ctx, r)
	if err != nil {
		res.Notes = append(res.Notes, "wildcard shadowing not checked: "+err.Error())
		return
	}
	base := name[2:]
	byName := map[string][]dns.RR{}
	var names []string
	for _, rr := range rrs {
		n := strings.ToLower(rr.Header().Name)
		if parent(n) != base || strings.HasPrefix(n, "*.") || strings.HasPrefix(n, "_") || n == canonical(wildcardProbe+"."+base) {
			continue
		}
		if _, ok := byName[n]; !ok {
			names = append(names, n)
		}
		byName[n] = append(byName[n], rr)
	}
	var configured []string
	for _, ch := range r.cfg.Hosts {
		configured = append(configured, canonical(ch.Name))
	}
	var ev []string
	var shadowed []string
	for _, n := range names {
		if slices.Contains(configured, n) || r.leadsToEdge(h, byName[n], wildRRs) {
			continue
		}
		shadowed = append(shadowed, display(n))
		for _, rr := range byName[n] {
			ev = append(ev, digLine(rr))
		}
	}
	if len(shadowed) == 0 {
		return
	}
	r.add(Finding{ID: IDWildcardShadow, Host: res.Name,
		Summary:  fmt.Sprintf("%d explicit name(s) under %s shadow the wildcard and do not lead to the edge: %s", len(shadowed), res.Name, strings.Join(shadowed, ", ")),
		Evidence: ev,
		Fix:      fmt.Sprintf("delete those records (the wildcard then serves them) or point them at %s", orPlaceholder(h.ExpectCNAME))})
}

// leadsToEdge reports whether an explicit name's records go where the
// wildcard's would: the expected edge if one is given, else the wildcard's
// own records.
func (r *runner) leadsToEdge(h Host, rrs, wildRRs []dns.RR) bool {
	var cnames []string
	var addrs []netip.Addr
	for _, rr := range rrs {
		switch v := rr.(type) {
		case *dns.CNAME:
			cnames = append(cnames, canonical(v.Target))
		case *dns.A:
			ip, _ := netip.AddrFromSlice(v.A.To4())
			addrs = append(addrs, ip)
		case *dns.AAAA:
			ip, _ := netip.AddrFromSlice(v.AAAA)
			addrs = append(addrs, ip)
		}
	}
	switch {
	case h.ExpectCNAME != "":
		return len(cnames) == 1 && cnames[0] == canonical(h.ExpectCNAME)
	case len(h.ExpectAddrs) > 0:
		u, m := addrDiff(addrs, h.ExpectAddrs)
		return len(addrs) > 0 && len(u) == 0 && len(m) == 0
	}
	key := func(set []dns.RR) string {
		var p []string
		for _, rr := range set {
			switch rr.(type) {
			case *dns.CNAME, *dns.A, *dns.AAAA:
				c := dns.Copy(rr)
				c.Header().Name, c.Header().Ttl = ".", 0
				p = append(p, strings.ToLower(c.String()))
			}
		}
		sort.Strings(p)
		return strings.Join(p, "\n")
	}
	return key(rrs) != "" && key(rrs) == key(wildRRs)
}

func (r *runner) resolverAddrs() ([]string, error) {
	r.resOnce.Do(func() {
		if r.opts.Resolver != "" {
			r.resolvers = []string{withPort(r.opts.Resolver)}
			return
		}
		cc, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil {
			r.resErr = &ResolverError{Err: fmt.Errorf("no resolver to find nameservers with: %w", err)}
			return
		}
		for _, s := range cc.Servers {
			r.resolvers = append(r.resolvers, net.JoinHostPort(s, cc.Port))
		}
		if len(r.resolvers) == 0 {
			r.resErr = &ResolverError{Err: errors.New("/etc/resolv.conf lists no nameserver")}
		}
	})
	return r.resolvers, r.resErr
}

// resolve asks the recursive resolvers, first answer wins.
func (r *runner) resolve(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	servers, err := r.resolverAddrs()
	if err != nil {
		return nil, err
	}
	var last error
	for _, s := range servers {
		m, err := r.q.ask(ctx, s, name, qtype, true)
		if err == nil && (m.Rcode == dns.RcodeSuccess || m.Rcode == dns.RcodeNameError) {
			return m, nil
		}
		if err == nil {
			err = errors.New(dns.RcodeToString[m.Rcode])
		}
		last = fmt.Errorf("resolver %s: %s %s: %w", s, display(name), dns.TypeToString[qtype], err)
	}
	return nil, &ResolverError{Err: last}
}

// ResolverError says the recursive resolver, used only to find nameservers, could not be asked: the
// zone's delegation may be fine, and the fix is another resolver or naming the nameservers.
type ResolverError struct{ Err error }

func (e *ResolverError) Error() string { return e.Err.Error() }
func (e *ResolverError) Unwrap() error { return e.Err }

// resolverFix is DNS001's fix when the resolver, not the zone, failed.
const resolverFix = "the resolver used to find the zone's nameservers did not answer from here: pass --resolver host:port of one that does, or --nameserver zone=host:port to ask the zone's servers directly"

func withPort(addr string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.Trim(addr, "[]"), "53")
}
