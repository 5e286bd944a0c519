// Package clitest runs the edgegw command tree in-process for tests, exactly as the binary would (same
// root, same exit-code mapping), with a controlled environment and captured output.
package clitest

import (
	"bytes"
	"strings"
	"time"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/root"
)

// Result is what one run printed and its exit code.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Run executes `edgegw args...` with env as the whole environment. Only the commands linked into the test
// binary (by blank imports of their packages) exist.
func Run(env map[string]string, args ...string) Result {
	var out, errOut bytes.Buffer
	f := &cmdutil.Factory{IO: cmdutil.TestIO(strings.NewReader(""), &out, &errOut), Version: "test", Now: time.Now,
		Getenv: func(k string) string { return env[k] }}
	code := root.Run(f, args)
	return Result{Code: code, Stdout: out.String(), Stderr: errOut.String()}
}
