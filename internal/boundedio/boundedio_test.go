package boundedio

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// allocated returns the bytes fn allocated.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestBoundedReadRefusesDevicesAndFIFOs(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/dev/zero", "/dev/urandom", fifo, t.TempDir()} {
		done := make(chan error, 1)
		go func() { _, err := ReadFile(path, 1<<20); done <- err }()
		select {
		case err := <-done:
			var nr *NotRegularError
			if !errors.As(err, &nr) {
				t.Errorf("ReadFile(%s) = %v, want a NotRegularError", path, err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("ReadFile(%s) still reading after 2s", path) // a FIFO open blocks; /dev/zero never ends
		}
	}
}

func TestBoundedReadStopsAtLimit(t *testing.T) {
	// A sparse file: 1 GiB long, no disk used. Refused without reading it.
	big := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var rerr error
	if n := allocated(func() { _, rerr = ReadFile(big, 1<<20) }); n > 4<<20 {
		t.Errorf("refusing a 1 GiB file allocated %d bytes", n)
	}
	if !IsTooLarge(rerr) {
		t.Errorf("ReadFile(1 GiB, limit 1 MiB) = %v, want a TooLargeError", rerr)
	}
	// At the limit is fine; one byte more is not.
	exact := filepath.Join(t.TempDir(), "exact")
	os.WriteFile(exact, make([]byte, 100), 0o644)
	if b, err := ReadFile(exact, 100); err != nil || len(b) != 100 {
		t.Errorf("ReadFile(100 bytes, limit 100) = %d bytes, %v", len(b), err)
	}
	if _, err := ReadFile(exact, 99); !IsTooLarge(err) {
		t.Errorf("ReadFile(100 bytes, limit 99) = %v, want a TooLargeError", err)
	}
}

// TestBoundedReadStdinPipe feeds 52 MB through a pipe as the standard input: it is refused after the limit,
// not read whole.
func TestBoundedReadStdinPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	saved := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = saved }()
	var written atomic.Int64
	go func() {
		defer w.Close()
		chunk := make([]byte, 64<<10)
		for written.Load() < 52<<20 {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	const limit = 1 << 20
	for _, name := range []string{"/dev/stdin", "-"} {
		if _, err := ReadInput(name, limit); !IsTooLarge(err) {
			t.Fatalf("ReadInput(%s) = %v, want a TooLargeError", name, err)
		}
	}
	// Two reads of limit+1 bytes, plus what the pipe buffers and one chunk in flight.
	if n := written.Load(); n > 2*(limit+1)+(1<<20) {
		t.Errorf("%d bytes were taken from the pipe for two reads limited to %d", n, limit)
	}
	_, _ = io.Copy(io.Discard, r)
}
