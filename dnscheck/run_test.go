package dnscheck

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

const soaNS = `
$TTL 300
@ IN SOA ns1 hostmaster 2025030101 3600 600 86400 300
@ IN NS ns1
ns1 IN A 127.0.0.1
`

// edgeZone plays the CDN: the zone that holds the edge hostname, so CNAME
// targets can be looked up without leaving loopback.
const edgeZone = `
$ORIGIN edge.test.
$TTL 300
@ IN SOA ns1 hostmaster 1 3600 600 86400 300
@ IN NS ns1
ns1 IN A 127.0.0.1
gw IN A 192.0.2.10
`

func run(t *testing.T, cfg Config, opts Options) *Report {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.Timeout == 0 {
		opts.Timeout = 500 * time.Millisecond
	}
	rep, err := Run(context.Background(), cfg, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

func ids(r *Report) []string {
	var out []string
	for _, f := range r.Findings {
		if !f.Suppressed {
			out = append(out, f.ID)
		}
	}
	return out
}

func finding(t *testing.T, r *Report, id string) Finding {
	t.Helper()
	for _, f := range r.Findings {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no %s finding; got %v", id, r.Findings)
	return Finding{}
}

func TestChecks(t *testing.T) {
	edgeAddr := netip.MustParseAddr("192.0.2.10")
	cases := []struct {
		name string
		zone string // zone file body for example.test., after SOA/NS
		host Host
		max  time.Duration
		axfr bool
		want []string
	}{
		{name: "clean subdomain", zone: "api 300 IN CNAME gw.edge.test.",
			host: Host{Name: "api.example.test", ExpectCNAME: "gw.edge.test"}, max: 300 * time.Second},
		{name: "clean apex", zone: "@ 300 IN A 192.0.2.10",
			host: Host{Name: "example.test", ExpectAddrs: []netip.Addr{edgeAddr}}, max: 300 * time.Second},
		{name: "ttl above max", zone: "api 86400 IN CNAME gw.edge.test.",
			host: Host{Name: "api.example.test", ExpectCNAME: "gw.edge.test"}, max: 300 * time.Second,
			want: []string{IDTTLAboveMax}},
		{name: "apex cname", zone: "@ 300 IN CNAME gw.edge.test.",
			host: Host{Name: "example.test", ExpectAddrs: []netip.Addr{edgeAddr}},
			want: []string{IDApexCNAME}},
		{name: "apex wrong address", zone: "@ 300 IN A 198.51.100.7\n@ 300 IN AAAA 2001:db8::7",
			host: Host{Name: "example.test", ExpectAddrs: []netip.Addr{edgeAddr}},
			want: []string{IDAddrNotEdge}},
		{name: "wrong cname target", zone: "api 300 IN CNAME old.example.test.\nold 300 IN A 198.51.100.7",
			host: Host{Name: "api.example.test", ExpectCNAME: "gw.edge.test"},
			want: []string{IDCNAMENotEdge}},
		{name: "a record instead of cname", zone: "api 300 IN A 198.51.100.7",
			host: Host{Name: "api.example.test", ExpectCNAME: "gw.edge.test"},
			want: []string{IDCNAMENotEdge}},
		{name: "host missing", zone: "",
			host: Host{Name: "api.example.test", ExpectCNAME: "gw.edge.test"},
			want: []string{IDCNAMENotEdge}},
		{name: "dangling cname in zone", zone: "old 300 IN CNAME gone.example.test.",
			host: Host{Name: "old.example.test"},
			want: []string{IDDanglingCNAME}},
		{name: "dangling edge hostname", zone: "api 300 IN CNAME unclaimed.edge.test.",
			host: Host{Name: "api.example.test", ExpectCNAME: "unclaimed.edge.test"},
			want: []string{IDDanglingCNAME}},
		{name: "wildcard covered", zone: "* 300 IN CNAME gw.edge.test.",
			host: Host{Name: "*.example.test", ExpectCNAME: "gw.edge.test"}},
		{name: "wildcard missing", zone: "www 300 IN CNAME gw.edge.test.",
			host: Host{Name: "*.t.example.test", ExpectCNAME: "gw.edge.test"},
			want: []string{IDWildcardMissing}},
		{name: "wildcard to wrong target", zone: "*.t 300 IN CNAME old.edge.test.",
			host: Host{Name: "*.t.example.test", ExpectCNAME: "gw.edge.test"},
			want: []string{IDCNAMENotEdge, IDDanglingCNAME}},
		{name: "wildcard shadowed", axfr: true,
			zone: "*.t 300 IN CNAME gw.edge.test.\nacme.t 300 IN A 198.51.100.7\nok.t 300 IN CNAME gw.edge.test.\n_acme-challenge.t 300 IN TXT x",
			host: Host{Name: "*.t.example.test", ExpectCNAME: "gw.edge.test"},
			want: []string{IDWildcardShadow}},
		{name: "caa forbids", zone: "api 300 IN CNAME gw.edge.test.\n@ 300 IN CAA 0 issue \"digicert.com\"",
			host: Host{Name: "api.example.test", ExpectCNAME: "gw.edge.test", AllowedCAs: []string{"letsencrypt.org", "pki.goog"}},
			want: []string{IDCAAForbids}},
		{name: "caa allows one", zone: "api 300 IN CNAME gw.edge.test.\n@ 300 IN CAA 0 issue \"digicert.com\"\n@ 300 IN CAA 0 issue \"pki.goog; cansignhttpexchanges=yes\"",
			host: Host{Name: "api.example.test", ExpectCNAME: "gw.edge.test", AllowedCAs: []string{"letsencrypt.org", "pki.goog"}}},
		{name: "caa closest set wins", zone: "api 300 IN CNAME gw.edge.test.\napi 300 IN CAA 0 issue \";\"\n@ 300 IN CAA 0 issue \"letsencrypt.org\"",
			host: Host{Name: "api.example.test", ExpectCNAME: "gw.edge.test", AllowedCAs: []string{"letsencrypt.org"}},
			want: []string{IDCAAForbids}},
		{name: "caa issuewild governs wildcards", zone: "* 300 IN CNAME gw.edge.test.\n@ 300 IN CAA 0 issue \"letsencrypt.org\"\n@ 300 IN CAA 0 issuewild \"digicert.com\"",
			host: Host{Name: "*.example.test", ExpectCNAME: "gw.edge.test", AllowedCAs: []string{"letsencrypt.org"}},
			want: []string{IDCAAForbids}},
		{name: "caa unknown critical tag", zone: "@ 300 IN A 192.0.2.10\n@ 300 IN CAA 128 tbs \"x\"\n@ 300 IN CAA 0 issue \"letsencrypt.org\"",
			host: Host{Name: "example.test", ExpectAddrs: []netip.Addr{edgeAddr}, AllowedCAs: []string{"letsencrypt.org"}},
			want: []string{IDCAAForbids}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			auth := startAuth(t, "$ORIGIN example.test.\n"+soaNS+tc.zone+"\n"+edgeZone, func(f *fakeAuth) { f.axfr = tc.axfr })
			tc.host.Zone = "example.test"
			rep := run(t, Config{Hosts: []Host{tc.host}, MaxTTL: tc.max}, Options{
				Nameservers: map[string][]string{"example.test": {auth.addr}, "edge.test.": {auth.addr}},
			})
			got := ids(rep)
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("findings %v, want %v\n%s", got, want, human(rep))
			}
			if rep.Blocking() != slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Severity == SeverityError }) {
				t.Errorf("Blocking() = %v disagrees with the findings", rep.Blocking())
			}
			for _, f := range rep.Findings {
				if len(f.Evidence) == 0 || f.Fix == "" || f.Summary == "" {
					t.Errorf("%s lacks evidence, summary or fix: %+v", f.ID, f)
				}
			}
		})
	}
}

func human(r *Report) string {
	var b strings.Builder
	WriteHuman(&b, r)
	return b.String()
}

func TestTTLFixSaysWhenItIsSafe(t *testing.T) {
	auth := startAuth(t, "$ORIGIN example.test.\n"+soaNS+"api 86400 IN CNAME gw.edge.test.\n"+edgeZone)
	rep := run(t, Config{MaxTTL: 5 * time.Minute, Hosts: []Host{{Name: "api.example.test", Zone: "example.test", ExpectCNAME: "gw.edge.test"}}},
		Options{Nameservers: map[string][]string{"example.test": {auth.addr}, "edge.test": {auth.addr}}})
	f := finding(t, rep, IDTTLAboveMax)
	if want := "safe to cut over after 2025-03-02T12:00:00Z"; !strings.Contains(f.Fix, want) {
		t.Errorf("fix %q does not contain %q", f.Fix, want)
	}
	if want := "api.example.test. 86400 IN CNAME gw.edge.test."; !slices.Contains(f.Evidence, want) {
		t.Errorf("evidence %q lacks the dig line %q", f.Evidence, want)
	}
	if f.Severity != SeverityWarning || rep.Blocking() {
		t.Errorf("a high TTL is a warning and must not block: %+v blocking=%v", f, rep.Blocking())
	}
}

func TestTruncatedUDPFallsBackToTCP(t *testing.T) {
	auth := startAuth(t, "$ORIGIN example.test.\n"+soaNS+"api 300 IN CNAME gw.edge.test.\n"+edgeZone, func(f *fakeAuth) {
		f.truncate["api.example.test."] = true
	})
	rep := run(t, Config{Hosts: []Host{{Name: "api.example.test", Zone: "example.test", ExpectCNAME: "gw.edge.test"}}},
		Options{Nameservers: map[string][]string{"example.test": {auth.addr}, "edge.test": {auth.addr}}})
	if got := ids(rep); len(got) != 0 {
		t.Fatalf("the CNAME is only in the TCP answer and is right; got findings %v\n%s", got, human(rep))
	}
	if auth.tcp.Load() == 0 {
		t.Fatal("no query arrived over TCP after a truncated UDP answer")
	}
	if want := "api.example.test. 300 IN CNAME gw.edge.test."; !slices.Contains(rep.Hosts[0].Records, want) {
		t.Errorf("records %q lack %q", rep.Hosts[0].Records, want)
	}
}

func TestDeadServerEndsWithinBound(t *testing.T) {
	const timeout = 400 * time.Millisecond
	dead, received := silentServer(t)
	start := time.Now()
	rep := run(t, Config{Hosts: []Host{
		{Name: "api.example.test", Zone: "example.test", ExpectCNAME: "gw.edge.test", AllowedCAs: []string{"letsencrypt.org"}},
		{Name: "www.example.test", Zone: "example.test", ExpectCNAME: "gw.edge.test"},
	}}, Options{Timeout: timeout, Retries: 2, Nameservers: map[string][]string{"example.test": {dead}}})
	elapsed := time.Since(start)
	if limit := 2*timeout + time.Second; elapsed > limit {
		t.Fatalf("run against a dead server took %s, limit %s", elapsed, limit)
	}
	// Retransmissions happen inside the one timeout and the lame server is
	// asked nothing more: the whole run costs one timeout, three packets.
	if elapsed > timeout+300*time.Millisecond {
		t.Errorf("run took %s: a dead server should cost one %s timeout", elapsed, timeout)
	}
	if n := received.Load(); n != 3 {
		t.Errorf("the dead server received %d queries, want 3 (1 + Retries 2)", n)
	}
	got := ids(rep)
	if !slices.Equal(got, []string{IDNoAuthoritative, IDLame}) {
		t.Fatalf("findings %v, want [%s %s]", got, IDNoAuthoritative, IDLame)
	}
	if !strings.Contains(finding(t, rep, IDLame).Summary, "no answer within") {
		t.Errorf("lame summary should say it timed out: %q", finding(t, rep, IDLame).Summary)
	}
	for _, h := range rep.Hosts {
		if len(h.Notes) == 0 || !strings.Contains(h.Notes[0], "not checked") {
			t.Errorf("host %s should be marked not checked: %v", h.Name, h.Notes)
		}
	}
}

func TestGlobalDeadline(t *testing.T) {
	dead, _ := silentServer(t)
	start := time.Now()
	rep, err := Run(context.Background(), Config{Hosts: []Host{{Name: "a.example.test", Zone: "example.test"}}},
		Options{Timeout: 5 * time.Second, Deadline: 300 * time.Millisecond, Nameservers: map[string][]string{"example.test": {dead}}})
	if err == nil || !strings.HasPrefix(err.Error(), "dnscheck: deadline of 300ms exceeded") {
		t.Fatalf("err = %v, want the deadline error", err)
	}
	if rep == nil {
		t.Fatal("a partial report must come back with the deadline error")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the 300ms deadline let the run go on for %s", d)
	}
}

func TestDisagreeingServers(t *testing.T) {
	a := startAuth(t, "$ORIGIN example.test.\n"+soaNS+"api 300 IN A 192.0.2.10\n")
	b := startAuth(t, strings.Replace("$ORIGIN example.test.\n"+soaNS+"api 300 IN A 198.51.100.7\n", "2025030101", "2025022801", 1))
	rep := run(t, Config{Hosts: []Host{{Name: "api.example.test", Zone: "example.test"}}},
		Options{Nameservers: map[string][]string{"example.test": {a.addr, b.addr}}})
	got := ids(rep)
	if !slices.Equal(got, []string{IDSerialMismatch, IDAnswerMismatch}) {
		t.Fatalf("findings %v, want [DNS003 DNS004]\n%s", got, human(rep))
	}
	ev := strings.Join(finding(t, rep, IDAnswerMismatch).Evidence, "\n")
	for _, want := range []string{"192.0.2.10", "198.51.100.7", a.addr, b.addr} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
}

func TestLameServer(t *testing.T) {
	zone := "$ORIGIN example.test.\n" + soaNS + "api 300 IN CNAME gw.edge.test.\n" + edgeZone
	good := startAuth(t, zone)
	refusing := startAuth(t, zone, func(f *fakeAuth) { f.refuse = true })
	notAuth := startAuth(t, zone, func(f *fakeAuth) { f.noAA = true })
	rep := run(t, Config{Hosts: []Host{{Name: "api.example.test", Zone: "example.test", ExpectCNAME: "gw.edge.test"}}},
		Options{Nameservers: map[string][]string{"example.test": {good.addr, refusing.addr, notAuth.addr}, "edge.test": {good.addr}}})
	got := ids(rep)
	if !slices.Equal(got, []string{IDLame, IDLame}) {
		t.Fatalf("findings %v, want two DNS002\n%s", got, human(rep))
	}
	all := rep.Findings[0].Summary + "\n" + rep.Findings[1].Summary
	for _, want := range []string{refusing.addr + " is lame", "REFUSED", notAuth.addr + " is lame", "without the authoritative (AA) flag"} {
		if !strings.Contains(all, want) {
			t.Errorf("lame findings lack %q:\n%s", want, all)
		}
	}
	if len(rep.Hosts[0].Servers) != 1 || rep.Hosts[0].Servers[0] != good.addr {
		t.Errorf("only the good server should have been asked about the host: %v", rep.Hosts[0].Servers)
	}
}

func TestSuppression(t *testing.T) {
	auth := startAuth(t, "$ORIGIN example.test.\n"+soaNS+"api 300 IN CNAME old.example.test.\nold 300 IN A 198.51.100.7\nwww 300 IN CNAME old.example.test.\n")
	hosts := []Host{
		{Name: "api.example.test", Zone: "example.test", ExpectCNAME: "gw.edge.test"},
		{Name: "www.example.test", Zone: "example.test", ExpectCNAME: "gw.edge.test"},
	}
	opts := Options{Nameservers: map[string][]string{"example.test": {auth.addr}}}
	rep := run(t, Config{Hosts: hosts, Suppress: []Suppression{{ID: "DNS008", Host: "api.example.test", Reason: "moves next week"}}}, opts)
	if !rep.Blocking() {
		t.Fatal("www is not suppressed and must still block")
	}
	f := rep.Findings[0]
	if f.Host != "api.example.test" || !f.Suppressed || f.SuppressReason != "moves next week" {
		t.Fatalf("api finding not suppressed with its reason: %+v", f)
	}
	if rep.Findings[1].Suppressed {
		t.Fatalf("www finding suppressed by a host-scoped suppression: %+v", rep.Findings[1])
	}
	if rep.Hosts[0].Status != "" || rep.Hosts[1].Status != SeverityError {
		t.Errorf("statuses %q %q, want clean for the suppressed host and error for the other", rep.Hosts[0].Status, rep.Hosts[1].Status)
	}
	rep = run(t, Config{Hosts: hosts, Suppress: []Suppression{{ID: "DNS008", Reason: "all of them"}}}, opts)
	if rep.Blocking() {
		t.Fatalf("a suppression without a host covers every host; still blocking:\n%s", human(rep))
	}
}

func TestNSDiscoveryThroughResolver(t *testing.T) {
	auth := startAuth(t, "$ORIGIN example.test.\n"+soaNS+"api 300 IN A 192.0.2.10\n")
	// The resolver knows the NS and its address; it must not be asked the
	// host's records, so it serves a different (wrong) copy of them.
	_, port, _ := strings.Cut(auth.addr, ":")
	resolver := startAuth(t, "$ORIGIN example.test.\n"+soaNS+"api 300 IN A 203.0.113.66\n")
	old := authPort
	authPort = port
	t.Cleanup(func() { authPort = old })
	rep := run(t, Config{Hosts: []Host{{Name: "api.example.test", Zone: "example.test", ExpectAddrs: []netip.Addr{netip.MustParseAddr("192.0.2.10")}}}},
		Options{Resolver: resolver.addr})
	if got := ids(rep); len(got) != 0 {
		t.Fatalf("findings %v: the answer must come from the authoritative server, not the resolver\n%s", got, human(rep))
	}
	if want := "ns1.example.test. (" + auth.addr + ")"; !slices.Equal(rep.Hosts[0].Servers, []string{want}) {
		t.Errorf("servers %v, want [%s]", rep.Hosts[0].Servers, want)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		host Host
		want string
	}{
		{Host{Name: "api.other.test", Zone: "example.test"}, `dnscheck/config: host "api.other.test" is not inside its zone "example.test"`},
		{Host{Name: "api.*.example.test", Zone: "example.test"}, `dnscheck/config: host "api.*.example.test" is not a valid hostname`},
		{Host{Name: "api.example.test"}, `dnscheck/config: host "api.example.test": name and zone are both required`},
	} {
		_, err := Run(context.Background(), Config{Hosts: []Host{tc.host}}, Options{})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Run(%+v) error = %v, want prefix %q", tc.host, err, tc.want)
		}
	}
}

// A resolver that cannot be asked is not a broken delegation: DNS001 then says to use another resolver or
// name the nameservers, and no finding speaks of package names.
func TestUnreachableResolverFinding(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := pc.LocalAddr().String()
	pc.Close() // nothing listens there now: the resolver is unreachable
	rep := run(t, Config{Hosts: []Host{{Name: "api.example.com", Zone: "example.com"}}},
		Options{Resolver: closed, Timeout: 300 * time.Millisecond, Retries: -1})
	f := finding(t, rep, IDNoAuthoritative)
	if strings.Contains(f.Fix, "delegation") || !strings.Contains(f.Fix, "--resolver") || !strings.Contains(f.Fix, "--nameserver") {
		t.Errorf("fix for an unreachable resolver: %q", f.Fix)
	}
	if !strings.Contains(f.Summary, closed) || strings.Contains(f.Summary, "dnscheck") {
		t.Errorf("summary should name the resolver and no package: %q", f.Summary)
	}
}
