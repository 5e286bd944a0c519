//go:build unix

package testrun

import (
	"fmt"
	"io"
	"net"
	"syscall"
)

// refusedAddr returns a loopback address where a connection is refused, and what keeps it so. The port is
// bound but never listened on: the kernel answers a connection with a reset, and, unlike a port that was
// listened on and closed, no other server (another case, another test process) can take it meanwhile and
// answer in the down origin's place.
func refusedAddr() (string, io.Closer, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return "", nil, fmt.Errorf("testrun: a socket for a down origin: %w", err)
	}
	syscall.CloseOnExec(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		_ = syscall.Close(fd)
		return "", nil, fmt.Errorf("testrun: binding a down origin's port: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		_ = syscall.Close(fd)
		return "", nil, fmt.Errorf("testrun: a down origin's port: %w", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		_ = syscall.Close(fd)
		return "", nil, fmt.Errorf("testrun: a down origin's address is %T, not IPv4", sa)
	}
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(in4.Port)), fdCloser(fd), nil
}

type fdCloser int

func (fd fdCloser) Close() error { return syscall.Close(int(fd)) }
