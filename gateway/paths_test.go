package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest/ir"
)

// rawGet sends exactly target as the request-target, bypassing net/url, and returns the response.
func rawGet(t *testing.T, addr, host, target string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, host)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %q: %v", target, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestPathsTSV sends every row of shared/testvectors/paths.tsv through the running gateway and checks the
// decision: 400 (with HSTS), or the origin receiving exactly the normalized path.
func TestPathsTSV(t *testing.T) {
	data, err := os.ReadFile(sharedFile(t, "testvectors/paths.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	g := baseIR()
	g.AuthPolicies, g.RateLimits = nil, nil
	g.Routes = []ir.Route{{Name: "all", Match: ir.Match{Kind: ir.PathFallback}, Pool: "canary"}}
	h := newHarness(t, g)
	addr := strings.TrimPrefix(h.srv.URL, "http://")
	rows, passed := 0, 0
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 {
			t.Fatalf("bad row %q", line)
		}
		rows++
		raw, want := f[0], f[1]
		before := h.canary.count()
		resp := rawGet(t, addr, "api.example.com", raw)
		ok := true
		if resp.Header.Get("Strict-Transport-Security") == "" {
			t.Errorf("%q: no HSTS on the %d", raw, resp.StatusCode)
			ok = false
		}
		if want == "400" {
			if resp.StatusCode != 400 || h.canary.count() != before {
				t.Errorf("%q: got %d (origin hit: %v), want 400 and no upstream request", raw, resp.StatusCode, h.canary.count() != before)
				ok = false
			}
		} else {
			if resp.StatusCode != 200 {
				t.Errorf("%q: got %d, want 200 forwarding %q", raw, resp.StatusCode, want)
				ok = false
			} else if got := h.canary.last(t).RequestURI; got != want {
				t.Errorf("%q: origin received %q, want %q", raw, got, want)
				ok = false
			}
		}
		if ok {
			passed++
		}
	}
	t.Logf("paths.tsv: %d/%d rows decided as listed", passed, rows)
	if rows < 30 {
		t.Errorf("only %d rows read", rows)
	}
}
