// Command dnsbench measures dnscheck.Run on 1,000 hostnames served by a local
// Knot DNS, against zdns doing plain A lookups of the same names against the
// same server in the same run, and checks that a dead nameserver ends a run
// within 2 x the per-query timeout + 1s. Run it with bench/dns/run.sh, which
// builds zdns from bench/dns/tools.mod (kept out of the main go.mod).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/edgegw/edgegw/dnscheck"
	"github.com/edgegw/edgegw/dnscheck/knottest"
)

func main() {
	n := flag.Int("n", 1000, "hostnames in the zone")
	runs := flag.Int("runs", 7, "timed runs of each side")
	zdns := flag.String("zdns", "", "path to the zdns binary (run.sh builds it)")
	threads := flag.Int("zdns-threads", 100, "zdns --threads (100 is zdns's default)")
	flag.Parse()
	if err := run(*n, *runs, *zdns, *threads); err != nil {
		fmt.Fprintln(os.Stderr, "dnsbench:", err)
		os.Exit(1)
	}
}

func run(n, runs int, zdnsBin string, threads int) error {
	dir, err := os.MkdirTemp("", "dnsbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	names, zones, err := writeZones(dir, n)
	if err != nil {
		return err
	}
	knot, err := knottest.Start(filepath.Join(dir, "knot"), zones)
	if err != nil {
		return err
	}
	defer knot.Close()
	namesFile := filepath.Join(dir, "names.txt")
	if err := os.WriteFile(namesFile, []byte(strings.Join(names, "\n")+"\n"), 0o644); err != nil {
		return err
	}

	cfg := dnscheck.Config{MaxTTL: 5 * time.Minute}
	for _, name := range names {
		cfg.Hosts = append(cfg.Hosts, dnscheck.Host{Name: name, Zone: "bench.example",
			ExpectCNAME: "gw.edge.example", AllowedCAs: []string{"letsencrypt.org"}})
	}
	opts := dnscheck.Options{Nameservers: map[string][]string{"bench.example": {knot.Addr}, "edge.example": {knot.Addr}}}

	fmt.Printf("knotd on %s, %d hostnames, %d runs each, %d CPUs\n", knot.Addr, n, runs, numCPU())
	var edge, zd []time.Duration
	var queries int64
	for i := 0; i < runs+1; i++ { // run 0 warms both up and is not counted
		start := time.Now()
		rep, err := dnscheck.Run(context.Background(), cfg, opts)
		d := time.Since(start)
		if err != nil {
			return err
		}
		if len(rep.Findings) != 0 {
			return fmt.Errorf("the benchmark zone should be clean, got %d findings, first: %s %s", len(rep.Findings), rep.Findings[0].ID, rep.Findings[0].Summary)
		}
		queries = rep.Queries
		if zdnsBin != "" {
			zt, answered, err := runZdns(zdnsBin, namesFile, filepath.Join(dir, "zdns.json"), knot.Addr, threads)
			if err != nil {
				return err
			}
			if answered != n {
				return fmt.Errorf("zdns answered %d of %d names with NOERROR", answered, n)
			}
			if i > 0 {
				zd = append(zd, zt)
			}
		}
		if i > 0 {
			edge = append(edge, d)
		}
	}
	em := median(edge)
	fmt.Printf("edgegw dnscheck.Run (full check set, %d queries): median %s  runs %s\n", queries, ms(em), list(edge))
	if zdnsBin != "" {
		zm := median(zd)
		fmt.Printf("zdns A lookups (process wall, --threads %d):        median %s  runs %s\n", threads, ms(zm), list(zd))
		fmt.Printf("ratio edgegw/zdns: %.2f\n", float64(em)/float64(zm))
	} else {
		fmt.Println("zdns: skipped (no -zdns binary; use bench/dns/run.sh)")
	}
	fmt.Printf("goal: edgegw <= 250ms: %v\n", em <= 250*time.Millisecond)

	return deadServer()
}

// deadServer times a run whose only nameserver swallows every query.
func deadServer() error {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	const timeout = 2 * time.Second
	var hosts []dnscheck.Host
	for i := range 50 {
		hosts = append(hosts, dnscheck.Host{Name: fmt.Sprintf("h%d.dead.example", i), Zone: "dead.example", ExpectCNAME: "gw.edge.example"})
	}
	start := time.Now()
	rep, err := dnscheck.Run(context.Background(), dnscheck.Config{Hosts: hosts},
		dnscheck.Options{Timeout: timeout, Nameservers: map[string][]string{"dead.example": {pc.LocalAddr().String()}}})
	d := time.Since(start)
	if err != nil {
		return err
	}
	limit := 2*timeout + time.Second
	fmt.Printf("dead nameserver, 50 hosts, timeout %s: %s (limit %s, blocking=%v): %v\n", timeout, ms(d), limit, rep.Blocking(), d <= limit)
	return nil
}

func runZdns(bin, names, out, server string, threads int) (time.Duration, int, error) {
	cmd := exec.Command(bin, "A", "--name-servers="+server, "--input-file="+names, "--output-file="+out,
		"--threads", fmt.Sprint(threads), "--quiet", "--verbosity=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("zdns: %v\n%s", err, stderr.String())
	}
	d := time.Since(start)
	f, err := os.Open(out)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	answered := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"status":"NOERROR"`) {
			answered++
		}
	}
	return d, answered, sc.Err()
}

// writeZones writes bench.example (n hosts, each a CNAME to the edge) and
// edge.example (the edge hostname), and returns the host names.
func writeZones(dir string, n int) ([]string, map[string]string, error) {
	var b strings.Builder
	b.WriteString("$ORIGIN bench.example.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\n@ IN CAA 0 issue \"letsencrypt.org\"\n")
	var names []string
	for i := range n {
		fmt.Fprintf(&b, "h%04d IN CNAME gw.edge.example.\n", i)
		names = append(names, fmt.Sprintf("h%04d.bench.example", i))
	}
	edge := "$ORIGIN edge.example.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\ngw IN A 192.0.2.10\n"
	zones := map[string]string{"bench.example": filepath.Join(dir, "bench.example.zone"), "edge.example": filepath.Join(dir, "edge.example.zone")}
	if err := os.WriteFile(zones["bench.example"], []byte(b.String()), 0o644); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(zones["edge.example"], []byte(edge), 0o644); err != nil {
		return nil, nil, err
	}
	return names, zones, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

func list(d []time.Duration) string {
	var s []string
	for _, v := range d {
		s = append(s, ms(v))
	}
	return "[" + strings.Join(s, " ") + "]"
}

func numCPU() int { return runtime.NumCPU() }
