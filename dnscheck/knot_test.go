package dnscheck

import (
	"context"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/internal/testenv"

	"github.com/edgegw/edgegw/dnscheck/knottest"
	"github.com/miekg/dns"
)

// startKnot serves the zone files in dir with a real knotd. Without knotd
// the test is skipped, except on CI where a missing runtime is a failure.
func startKnot(t *testing.T, dir string) *knottest.Server {
	t.Helper()
	_, err := knottest.Binary()
	testenv.Require(t, "knotd (apt-get install -y knot)", err)
	files, err := filepath.Glob(filepath.Join(dir, "*.zone"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no zone files in %s: %v", dir, err)
	}
	zones := map[string]string{}
	for _, f := range files {
		zones[strings.TrimSuffix(filepath.Base(f), ".zone")] = f
	}
	s, err := knottest.Start(t.TempDir(), zones)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestKnotZones runs every check against a real authoritative server: each
// zone in testdata/zones is built to break exactly one check (clean.example
// breaks none), and must produce exactly that finding.
func TestKnotZones(t *testing.T) {
	primary := startKnot(t, "../testdata/zones")
	secondary := startKnot(t, "../testdata/zones/secondary")

	edgeAddrs := []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::10")}
	cas := []string{"letsencrypt.org"}
	edge := "gw.edge.example"
	hosts := []Host{
		{Name: "clean.example", Zone: "clean.example", ExpectAddrs: edgeAddrs, AllowedCAs: cas},
		{Name: "www.clean.example", Zone: "clean.example", ExpectCNAME: edge, AllowedCAs: cas},
		{Name: "*.tenants.clean.example", Zone: "clean.example", ExpectCNAME: edge, AllowedCAs: cas},
		{Name: "apex-cname.example", Zone: "apex-cname.example", ExpectAddrs: edgeAddrs},
		{Name: "apex-wrong-addr.example", Zone: "apex-wrong-addr.example", ExpectAddrs: edgeAddrs},
		{Name: "www.ttl-high.example", Zone: "ttl-high.example", ExpectCNAME: edge},
		{Name: "www.wrong-cname.example", Zone: "wrong-cname.example", ExpectCNAME: edge},
		{Name: "www.dangling.example", Zone: "dangling.example"},
		{Name: "*.tenants.no-wildcard.example", Zone: "no-wildcard.example", ExpectCNAME: edge},
		{Name: "*.tenants.wildcard-shadow.example", Zone: "wildcard-shadow.example", ExpectCNAME: edge},
		{Name: "www.caa-block.example", Zone: "caa-block.example", ExpectCNAME: edge, AllowedCAs: []string{"letsencrypt.org", "pki.goog"}},
		{Name: "www.disagree.example", Zone: "disagree.example"},
		{Name: "www.lame.example", Zone: "lame.example", ExpectCNAME: edge},
	}
	want := map[string][]string{
		"clean.example":           nil,
		"apex-cname.example":      {IDApexCNAME},
		"apex-wrong-addr.example": {IDAddrNotEdge},
		"ttl-high.example":        {IDTTLAboveMax},
		"wrong-cname.example":     {IDCNAMENotEdge},
		"dangling.example":        {IDDanglingCNAME},
		"no-wildcard.example":     {IDWildcardMissing},
		"wildcard-shadow.example": {IDWildcardShadow},
		"caa-block.example":       {IDCAAForbids},
		"disagree.example":        {IDSerialMismatch, IDAnswerMismatch},
		"lame.example":            {IDLame},
	}
	ns := map[string][]string{"edge.example": {primary.Addr}}
	for _, h := range hosts {
		ns[h.Zone] = []string{primary.Addr}
	}
	ns["disagree.example"] = []string{primary.Addr, secondary.Addr}
	ns["lame.example"] = []string{primary.Addr, secondary.Addr}

	rep, err := Run(context.Background(), Config{Hosts: hosts, MaxTTL: 5 * time.Minute},
		Options{Nameservers: ns, Timeout: time.Second, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, f := range rep.Findings {
		zone := ""
		for z := range want {
			if dns.IsSubDomain(z, f.Host) {
				zone = z
			}
		}
		got[zone] = append(got[zone], f.ID)
	}
	for zone, ids := range want {
		g := got[zone]
		slices.Sort(g)
		slices.Sort(ids)
		if !slices.Equal(g, ids) {
			t.Errorf("%s: findings %v, want %v", zone, g, ids)
		}
	}
	if len(got[""]) > 0 {
		t.Errorf("findings outside the test zones: %v", got[""])
	}
	for _, h := range rep.Hosts {
		if len(h.Servers) == 0 || slices.ContainsFunc(h.Notes, func(n string) bool { return strings.Contains(n, "not checked") }) {
			t.Errorf("%s was not fully checked: servers %v notes %v", h.Name, h.Servers, h.Notes)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("report:\n%s", human(rep))
	}
	if f := finding(t, rep, IDLame); !strings.Contains(f.Summary, secondary.Addr) || !strings.Contains(f.Summary, "REFUSED") {
		t.Errorf("the lame server is the secondary, which answers REFUSED for a zone it does not serve: %q", f.Summary)
	}
	if f := finding(t, rep, IDApexCNAME); !slices.Contains(f.Evidence, "apex-cname.example. 300 IN CNAME gw.edge.example.") {
		t.Errorf("apex CNAME evidence: %q", f.Evidence)
	}
	if f := finding(t, rep, IDWildcardShadow); !strings.Contains(f.Summary, "acme.tenants.wildcard-shadow.example") || strings.Contains(f.Summary, "_acme-challenge") {
		t.Errorf("shadow finding should name acme.tenants and not the _acme-challenge TXT: %q", f.Summary)
	}
}

// TestKnotFlattening checks dns.expect flattened_to against two real authoritative servers: one serves the
// apex zones, the other the CDN's zone, so the edge hostname's addresses can only come from its own zone's
// servers. A flattened apex passes; a stale one and one flattened to a name that does not exist give one
// DNS007 finding each that names both address sets.
func TestKnotFlattening(t *testing.T) {
	apexes := startKnot(t, "../testdata/zones/flatten")
	provider := startKnot(t, "../testdata/zones/flatten/provider")

	hosts := []Host{
		{Name: "flat-ok.example", Zone: "flat-ok.example", FlattenedTo: "gw.cdn-provider.test"},
		{Name: "flat-chain.example", Zone: "flat-chain.example", FlattenedTo: "alias.cdn-provider.test."},
		{Name: "flat-stale.example", Zone: "flat-stale.example", FlattenedTo: "gw.cdn-provider.test"},
		{Name: "flat-typo.example", Zone: "flat-typo.example", FlattenedTo: "gw-typo.cdn-provider.test"},
	}
	ns := map[string][]string{"cdn-provider.test": {provider.Addr}}
	for _, h := range hosts {
		ns[h.Zone] = []string{apexes.Addr}
	}
	rep, err := Run(context.Background(), Config{Hosts: hosts}, Options{Nameservers: ns, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("report:\n%s", human(rep))
	}
	byHost := map[string][]Finding{}
	for _, f := range rep.Findings {
		byHost[f.Host] = append(byHost[f.Host], f)
	}
	for _, h := range rep.Hosts {
		if len(h.Notes) > 0 {
			t.Errorf("%s: notes %q: every host must be checked", h.Name, h.Notes)
		}
	}
	for _, host := range []string{"flat-ok.example", "flat-chain.example"} {
		if len(byHost[host]) != 0 {
			t.Errorf("%s answers the edge's set: findings %+v", host, byHost[host])
		}
	}
	stale := byHost["flat-stale.example"]
	if len(stale) != 1 || stale[0].ID != IDAddrNotEdge {
		t.Fatalf("flat-stale.example: findings %+v, want one %s", stale, IDAddrNotEdge)
	}
	for _, s := range []string{"{198.51.100.7, 203.0.113.99}", "{198.51.100.7, 198.51.100.8, 2001:db8::7}", "gw.cdn-provider.test"} {
		if !strings.Contains(stale[0].Summary, s) {
			t.Errorf("flat-stale.example: the summary should name %s: %q", s, stale[0].Summary)
		}
	}
	if !slices.Contains(stale[0].Evidence, "gw.cdn-provider.test. 300 IN AAAA 2001:db8::7") ||
		!slices.ContainsFunc(stale[0].Evidence, func(l string) bool { return strings.Contains(l, provider.Addr) }) {
		t.Errorf("flat-stale.example: the evidence should show the edge's records and the server that gave them: %q", stale[0].Evidence)
	}
	typo := byHost["flat-typo.example"]
	if len(typo) != 1 || typo[0].ID != IDAddrNotEdge || !strings.Contains(typo[0].Summary, "gw-typo.cdn-provider.test has no A/AAAA records") {
		t.Errorf("flat-typo.example: findings %+v, want one %s saying the edge hostname has no addresses", typo, IDAddrNotEdge)
	}
	if !rep.Blocking() {
		t.Error("a stale flattened apex must block the cutover")
	}
}
