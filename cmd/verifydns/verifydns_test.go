package verifydns_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/internal/clitest"

	"github.com/edgegw/edgegw/internal/testenv"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/verifydns"
	"github.com/edgegw/edgegw/dnscheck/knottest"
)

func startKnot(t *testing.T) *knottest.Server {
	t.Helper()
	_, err := knottest.Binary()
	testenv.Require(t, "knotd (apt-get install -y knot)", err)
	zones := map[string]string{}
	for _, z := range []string{"clean.example", "ttl-high.example", "edge.example", "apex-cname.example"} {
		p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "zones", z+".zone"))
		if err != nil {
			t.Fatal(err)
		}
		zones[z] = p
	}
	srv, err := knottest.Start(t.TempDir(), zones)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func writeManifest(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edgegw.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(args ...string) (string, string, int) {
	r := clitest.Run(nil, args...)
	return r.Stdout, r.Stderr, r.Code
}

const gateway = `version: 1
name: dns-test
origins: {o: {url: https://o.internal}}
pools: {p: {origins: [o]}}
routes: [{name: all, match: {fallback: true}, pool: p}]
`

func TestVerifyDNSAgainstKnot(t *testing.T) {
	srv := startKnot(t)
	ns := func(zone string) string { return "--nameserver=" + zone + "=" + srv.Addr }

	clean := writeManifest(t, gateway+`domains:
  - {host: clean.example, zone: clean.example}
  - {host: www.clean.example, zone: clean.example}
  - {host: "*.tenants.clean.example", zone: clean.example, tenant: {header: X-Tenant}}
dns:
  max_ttl: 300
  expect:
    clean.example: {a: [192.0.2.10], aaaa: ["2001:db8::10"]}
    www.clean.example: {cname: gw.edge.example}
    "*.tenants.clean.example": {cname: gw.edge.example}
  caa: [letsencrypt.org]
`)
	stdout, stderr, code := run("verify-dns", "-f", clean, ns("clean.example"), ns("edge.example"), "--format", "json")
	if code != 0 {
		t.Fatalf("clean zone: exit %d\n%s\n%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var summary map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil || summary["type"] != "summary" || summary["blocking"] != false {
		t.Fatalf("clean zone: summary %q (%v)", lines[len(lines)-1], err)
	}
	if len(lines) != 2 {
		t.Errorf("clean zone: want no findings, got:\n%s", stdout)
	}

	bad := writeManifest(t, gateway+`domains:
  - {host: apex-cname.example, zone: apex-cname.example}
  - {host: www.ttl-high.example, zone: ttl-high.example}
dns:
  max_ttl: 60
  expect:
    www.ttl-high.example: {cname: gw.edge.example}
`)
	args := []string{"verify-dns", "-f", bad, ns("apex-cname.example"), ns("ttl-high.example"), ns("edge.example")}
	stdout, stderr, code = run(args...)
	if code != cmdutil.ExitBlocked {
		t.Fatalf("misconfigured zones: exit %d, want 5\n%s\n%s", code, stdout, stderr)
	}
	for _, id := range []string{"DNS006", "DNS005"} {
		if !strings.Contains(stdout, id) {
			t.Errorf("misconfigured zones: %s missing from the report:\n%s", id, stdout)
		}
	}
	if _, _, code = run(append(args, "--warn-only")...); code != 0 {
		t.Errorf("--warn-only: exit %d, want 0", code)
	}
	stdout, _, code = run(append(args, "--format", "github")...)
	if code != cmdutil.ExitBlocked || !strings.Contains(stdout, "::error title=DNS006::") {
		t.Errorf("github format: exit %d\n%s", code, stdout)
	}
}

func TestVerifyDNSSuppression(t *testing.T) {
	srv := startKnot(t)
	m := writeManifest(t, gateway+`domains:
  - {host: apex-cname.example, zone: apex-cname.example}
dns:
  suppress: [{id: DNS006, host: apex-cname.example, reason: "the provider flattens this CNAME"}]
`)
	stdout, stderr, code := run("verify-dns", "-f", m, "--nameserver", "apex-cname.example="+srv.Addr)
	if code != 0 {
		t.Fatalf("suppressed finding still blocks: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "the provider flattens this CNAME") {
		t.Errorf("the suppression reason is not shown:\n%s", stdout)
	}
}

func TestVerifyDNSFlagErrors(t *testing.T) {
	m := writeManifest(t, gateway+"domains: [{host: a.example.com, zone: example.com}]\n")
	if _, stderr, code := run("verify-dns", "-f", m, "--nameserver", "nonsense"); code != 1 || !strings.Contains(stderr, "write zone=host:port") {
		t.Errorf("bad --nameserver: exit %d %q", code, stderr)
	}
	if _, stderr, code := run("verify-dns", "-f", m, "--host", "b.example.com"); code != 1 || !strings.Contains(stderr, "not a domain of the manifest") {
		t.Errorf("bad --host: exit %d %q", code, stderr)
	}
}

// The README's table of check ids is generated from dnscheck.Checks; this fails when it is stale.
func TestREADMEChecksTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- dnschecks:begin -->\n", "<!-- dnschecks:end -->"
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README.md has no <!-- dnschecks:begin --> … <!-- dnschecks:end --> section")
	}
	if got, want := s[i+len(begin):j], verifydns.ChecksMarkdown(); got != want {
		t.Errorf("README.md's DNS check table is stale; replace it with:\n%s", want)
	}
}

// dns.expect flattened_to, end to end: the manifest's expectation reaches dnscheck, which reads the edge
// hostname's addresses from the CDN zone's own server (another knotd than the apex zones').
func TestVerifyDNSFlattenedTo(t *testing.T) {
	_, err := knottest.Binary()
	testenv.Require(t, "knotd (apt-get install -y knot)", err)
	start := func(zones ...string) *knottest.Server {
		m := map[string]string{}
		for _, z := range zones {
			p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "zones", "flatten", z+".zone"))
			if err != nil {
				t.Fatal(err)
			}
			m[filepath.Base(z)] = p
		}
		srv, err := knottest.Start(t.TempDir(), m)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		return srv
	}
	apexes := start("flat-ok.example", "flat-stale.example")
	provider := start("provider/cdn-provider.test")
	m := writeManifest(t, gateway+`domains:
  - {host: flat-ok.example, zone: flat-ok.example}
  - {host: flat-stale.example, zone: flat-stale.example}
dns:
  expect:
    flat-ok.example: {flattened_to: gw.cdn-provider.test}
    flat-stale.example: {flattened_to: gw.cdn-provider.test}
`)
	stdout, stderr, code := run("verify-dns", "-f", m, "--format", "json",
		"--nameserver=flat-ok.example="+apexes.Addr, "--nameserver=flat-stale.example="+apexes.Addr,
		"--nameserver=cdn-provider.test="+provider.Addr)
	if code != cmdutil.ExitBlocked {
		t.Fatalf("exit %d, want 5\n%s\n%s", code, stdout, stderr)
	}
	var findings []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		if v["type"] == "finding" {
			findings = append(findings, v)
		}
	}
	if len(findings) != 1 || findings[0]["host"] != "flat-stale.example" || findings[0]["id"] != "DNS007" {
		t.Fatalf("want one DNS007 for flat-stale.example, got:\n%s", stdout)
	}
	s, _ := findings[0]["summary"].(string)
	if !strings.Contains(s, "{198.51.100.7, 203.0.113.99}") || !strings.Contains(s, "{198.51.100.7, 198.51.100.8, 2001:db8::7}") {
		t.Errorf("the finding should name both address sets: %q", s)
	}
}
