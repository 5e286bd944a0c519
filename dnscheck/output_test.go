package dnscheck

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDocTableMatchesChecks keeps the package doc (and so the README table
// generated from Checks) in step with the checks that exist.
func TestDocTableMatchesChecks(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile(`(?m)^//\t(DNS\d{3})\s+(error|warning|info)\s`).FindAllStringSubmatch(string(src), -1)
	if len(rows) != len(Checks) {
		t.Fatalf("doc table has %d rows, Checks has %d", len(rows), len(Checks))
	}
	for i, c := range Checks {
		if rows[i][1] != c.ID || Severity(rows[i][2]) != c.Severity {
			t.Errorf("doc row %d is %s %s, Checks has %s %s", i, rows[i][1], rows[i][2], c.ID, c.Severity)
		}
		if c.Title == "" || c.Fix == "" {
			t.Errorf("%s lacks a title or fix", c.ID)
		}
	}
}

// httpsTo returns a client that sends every request to srv, whatever the
// hostname, the way DNS would once the host points at the edge.
func httpsTo(srv *httptest.Server) *http.Client {
	addr := srv.Listener.Addr().String()
	return &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		},
	}
}

func TestHTTPChecks(t *testing.T) {
	auth := startAuth(t, "$ORIGIN example.test.\n"+soaNS+"api 300 IN CNAME gw.edge.test.\nold 300 IN CNAME gw.edge.test.\ndown 300 IN CNAME gw.edge.test.\n*.t 300 IN CNAME gw.edge.test.\n"+edgeZone)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			t.Errorf("method %s, want HEAD", r.Method)
		}
		switch r.Host {
		case "api.example.test":
			w.Header().Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload")
			w.Header().Set("Cf-Ray", "8a1b2c3d4e5f-AMS")
		case "old.example.test":
			w.Header().Set("Strict-Transport-Security", "max-age=300")
			w.Header().Set("Server", "nginx")
		case "down.example.test":
			w.Header().Set("Cf-Ray", "8a1b2c3d4e5f-AMS")
			w.WriteHeader(http.StatusBadGateway)
			return
		default:
			t.Errorf("request for %s: wildcard hosts must not get an HTTPS check", r.Host)
		}
	}))
	defer srv.Close()
	hsts := &HSTSExpect{MaxAge: 365 * 24 * time.Hour, IncludeSubdomains: true, Preload: true}
	host := func(name string) Host {
		return Host{Name: name, Zone: "example.test", ExpectCNAME: "gw.edge.test", HSTS: hsts, EdgeHeaders: []string{"cf-ray"}}
	}
	rep := run(t, Config{Hosts: []Host{host("api.example.test"), host("old.example.test"), host("down.example.test"), host("*.t.example.test")}},
		Options{HTTP: true, HTTPClient: httpsTo(srv), Nameservers: map[string][]string{"example.test": {auth.addr}, "edge.test": {auth.addr}}})

	byHost := map[string][]string{}
	for _, f := range rep.Findings {
		byHost[f.Host] = append(byHost[f.Host], f.ID)
	}
	if got := byHost["api.example.test"]; len(got) != 0 {
		t.Errorf("api is served by the edge with the right HSTS; findings %v", got)
	}
	if got := strings.Join(byHost["old.example.test"], " "); got != "DNS014 DNS015" {
		t.Errorf("old: findings %q, want weak HSTS and missing edge headers", got)
	}
	if got := strings.Join(byHost["down.example.test"], " "); got != "DNS013 DNS014" {
		t.Errorf("down: findings %q, want the 502 and the missing HSTS", got)
	}
	f := finding(t, rep, IDHSTSWeak)
	for _, want := range []string{"max-age=300 is below the expected 31536000", "includeSubDomains is missing", "preload is missing"} {
		if !strings.Contains(f.Summary, want) {
			t.Errorf("HSTS summary %q lacks %q", f.Summary, want)
		}
	}
	if rep.Hosts[2].HTTPStatus != http.StatusBadGateway {
		t.Errorf("down's HTTP status %d, want 502", rep.Hosts[2].HTTPStatus)
	}
}

func sampleReport(t *testing.T) *Report {
	auth := startAuth(t, "$ORIGIN example.test.\n"+soaNS+"api 86400 IN CNAME old.example.test.\nold 300 IN A 198.51.100.7\n")
	return run(t, Config{MaxTTL: time.Minute,
		Hosts:    []Host{{Name: "api.example.test", Zone: "example.test", ExpectCNAME: "gw.edge.test"}},
		Suppress: []Suppression{{ID: IDTTLAboveMax, Reason: "lowered yesterday"}}},
		Options{Nameservers: map[string][]string{"example.test": {auth.addr}}})
}

func TestWriteJSON(t *testing.T) {
	rep := sampleReport(t)
	var b strings.Builder
	if err := WriteJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 2 findings + summary:\n%s", len(lines), b.String())
	}
	if lines[0]["type"] != "finding" || lines[0]["id"] != IDTTLAboveMax || lines[0]["suppressed"] != true || lines[0]["suppress_reason"] != "lowered yesterday" {
		t.Errorf("first line %v", lines[0])
	}
	if lines[1]["id"] != IDCNAMENotEdge || lines[1]["severity"] != "error" {
		t.Errorf("second line %v", lines[1])
	}
	sum := lines[2]
	if sum["type"] != "summary" || sum["blocking"] != true || sum["errors"] != 1.0 || sum["suppressed"] != 1.0 || sum["version"] != 1.0 {
		t.Errorf("summary %v", sum)
	}
}

func TestWriteGitHub(t *testing.T) {
	rep := sampleReport(t)
	var b strings.Builder
	if err := WriteGitHub(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("want one annotation (the suppressed finding is left out), got:\n%s", out)
	}
	if !strings.HasPrefix(out, "::error title=DNS008::api.example.test is a CNAME to old.example.test") {
		t.Errorf("annotation %q", out)
	}
	if !strings.Contains(out, "%0Aapi.example.test. 86400 IN CNAME old.example.test.%0Afix: ") {
		t.Errorf("evidence and fix must be on escaped new lines: %q", out)
	}
	if got := ghProperty("a:b,c%"); got != "a%3Ab%2Cc%25" {
		t.Errorf("ghProperty = %q", got)
	}
}

func TestWriteHuman(t *testing.T) {
	out := human(sampleReport(t))
	for _, want := range []string{
		"api.example.test  (zone example.test)  error",
		"records  api.example.test. 86400 IN CNAME old.example.test.",
		"error DNS008 api.example.test: api.example.test is a CNAME to old.example.test, not to the edge hostname gw.edge.test",
		"fix: change the CNAME target of api.example.test from old.example.test. to gw.edge.test.",
		"warning (suppressed) DNS005",
		"suppressed: lowered yesterday",
		"1 host(s), 1 error(s), 0 warning(s), 1 suppressed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("human output lacks %q:\n%s", want, out)
		}
	}
}
