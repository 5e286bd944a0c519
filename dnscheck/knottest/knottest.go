// Package knottest runs a real Knot DNS server (knotd) on a loopback port
// for the dnscheck integration tests and the DNS benchmark. It only starts,
// waits for and stops the server; the zones are the caller's.
package knottest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// Server is a running knotd.
type Server struct {
	Addr string // 127.0.0.1:port, UDP and TCP

	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
}

// Binary returns the path of knotd, looking in the sbin directories too:
// Debian installs it in /usr/sbin, which a non-root PATH often lacks.
func Binary() (string, error) {
	if p, err := exec.LookPath("knotd"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/knotd", "/usr/local/sbin/knotd"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("knotd not found (Debian/Ubuntu: apt-get install -y knot)")
}

// Start writes a knot.conf into dir and runs knotd in the foreground with
// zones (zone name -> zone file path), allowing zone transfers to loopback.
// It returns once every zone answers its SOA authoritatively.
func Start(dir string, zones map[string]string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	var lastErr error
	// The port is picked by binding and releasing it; another process can
	// take it in between, so a failed start is retried on a fresh port.
	for range 3 {
		s, err := start(bin, dir, zones)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func start(bin, dir string, zones map[string]string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	run, db := filepath.Join(dir, "run"), filepath.Join(dir, "db")
	for _, d := range []string{run, db} {
		os.RemoveAll(d)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, `server:
    rundir: %q
    listen: 127.0.0.1@%d
    # one of each is plenty on loopback and keeps startup fast
    udp-workers: 2
    tcp-workers: 2
    background-workers: 1
database:
    storage: %q
control:
    listen: %q
log:
  - target: stderr
    any: notice
acl:
  - id: loopback-transfer
    address: [127.0.0.0/8]
    action: transfer
template:
  - id: default
    # soft: load zones even when they break a mandatory check (a CNAME at the
    # apex is one); finding such zones is what the tests are for
    semantic-checks: soft
    # never write back into the zone files, they live in the repository
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    acl: loopback-transfer
zone:
`, run, port, db, filepath.Join(run, "knot.sock"))
	for zone, file := range zones {
		abs, err := filepath.Abs(file)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&conf, "  - domain: %s\n    file: %q\n", dns.Fqdn(zone), abs)
	}
	confPath := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		return nil, err
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), log: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "-c", confPath)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	dieWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("knottest: start %s: %w", bin, err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	if err := s.waitReady(zones, 15*time.Second); err != nil {
		s.Close()
		return nil, fmt.Errorf("knottest: %w\nknotd log:\n%s", err, s.log.String())
	}
	return s, nil
}

func (s *Server) waitReady(zones map[string]string, limit time.Duration) error {
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	deadline := time.Now().Add(limit)
	for zone := range zones {
		for {
			m := new(dns.Msg)
			m.SetQuestion(dns.Fqdn(zone), dns.TypeSOA)
			m.RecursionDesired = false
			r, _, err := c.Exchange(m, s.Addr)
			if err == nil && r.Rcode == dns.RcodeSuccess && r.Authoritative {
				break
			}
			select {
			case <-s.done:
				return fmt.Errorf("knotd exited before serving %s", zone)
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("knotd did not serve %s within %s (last: %v)", zone, limit, errOrRcode(r, err))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

func errOrRcode(r *dns.Msg, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%s aa=%v", dns.RcodeToString[r.Rcode], r.Authoritative)
}

// Log is what knotd printed so far.
func (s *Server) Log() string { return s.log.String() }

// Close stops knotd (SIGTERM, then SIGKILL after 5s) and waits for it.
func (s *Server) Close() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// freePort finds a loopback port free for both UDP and TCP.
func freePort() (int, error) {
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		pc.Close()
		if err == nil {
			l.Close()
			return port, nil
		}
	}
	return 0, errors.New("knottest: no free loopback port")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
