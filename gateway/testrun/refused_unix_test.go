//go:build unix

package testrun

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// A down origin's address refuses connections, and while its case runs no other server can take its port
// and answer in its place (a port listened on and closed again could be taken by a parallel test).
func TestDownOriginPortIsRefusedAndHeld(t *testing.T) {
	addr, hold, err := refusedAddr()
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("dial %s: connected, want refused", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}
	if l, err := net.Listen("tcp", addr); err == nil {
		l.Close()
		t.Fatalf("listen %s while the down origin holds it: succeeded", addr)
	}
	if err := hold.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s after the case: %v", addr, err)
	}
	l.Close()
}
