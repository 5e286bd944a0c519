//go:build !unix

package testrun

import (
	"io"
	"net"
)

// refusedAddr returns a loopback address where nothing listens: a port listened on and closed again. Another
// server may take the port before the case ends; unix systems keep it bound instead (refused_unix.go).
func refusedAddr() (string, io.Closer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	return addr, io.NopCloser(nil), l.Close()
}
