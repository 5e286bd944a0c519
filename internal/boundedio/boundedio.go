// Package boundedio reads the files edgegw is given (manifests, key files, plans, deploy records, locks)
// and response bodies it fetches, never more than a limit: the limit plus one byte is read, so an input
// that is too large is refused after limit+1 bytes, not after it was read whole. A path that must be a file
// is refused when it is a device, a FIFO or a directory, before it is opened: /dev/zero or /dev/urandom
// never end, and opening a FIFO blocks.
//
// The package owns only the reading. It must not know what the bytes mean, nor word errors for a user:
// callers turn TooLargeError and NotRegularError into their own diagnostics.
package boundedio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// TooLargeError reports an input over its limit.
type TooLargeError struct {
	Name  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("boundedio: %s is larger than %d bytes", e.Name, e.Limit)
}

// NotRegularError reports a path that is not a regular file where one is meant.
type NotRegularError struct {
	Name string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("boundedio: %s is not a regular file (%s)", e.Name, kind(e.Mode))
}

// Kind says what the path is instead, e.g. "a character device".
func (e *NotRegularError) Kind() string { return kind(e.Mode) }

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

// IsStdin reports whether name stands for the standard input: "-" or /dev/stdin.
func IsStdin(name string) bool { return name == "-" || name == "/dev/stdin" }

// ReadFile reads the regular file at path, refusing it when it is not a regular file or holds more than
// limit bytes.
func ReadFile(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &NotRegularError{Name: path, Mode: st.Mode()}
	}
	if st.Size() > limit {
		return nil, &TooLargeError{Name: path, Limit: limit}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may have been replaced between Stat and Open: check what was opened, too.
	if st, err = f.Stat(); err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &NotRegularError{Name: path, Mode: st.Mode()}
	}
	return read(f, path, limit)
}

// ReadInput is ReadFile, except that "-" and /dev/stdin read the standard input, which may be a pipe or a
// terminal; it is bounded all the same.
func ReadInput(path string, limit int64) ([]byte, error) {
	if IsStdin(path) {
		return read(os.Stdin, path, limit)
	}
	return ReadFile(path, limit)
}

// ReadAll reads r to its end, refusing it after limit+1 bytes; name is used in the error.
func ReadAll(r io.Reader, name string, limit int64) ([]byte, error) { return read(r, name, limit) }

func read(r io.Reader, name string, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Name: name, Limit: limit}
	}
	return b, nil
}

// IsTooLarge reports whether err is a TooLargeError.
func IsTooLarge(err error) bool {
	var e *TooLargeError
	return errors.As(err, &e)
}
