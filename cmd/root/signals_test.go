package root_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/edgegw/edgegw/cmd" // every command, as the binary has them
	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/root"
)

// TestMain lets a signal test re-run this test binary as edgegw: with EDGEGW_TEST_AS_EDGEGW set, the child
// runs the command tree with the arguments after "--" and exits with its code, as the real binary does.
func TestMain(m *testing.M) {
	if os.Getenv("EDGEGW_TEST_AS_EDGEGW") == "1" {
		for i, a := range os.Args {
			if a == "--" {
				os.Args = append([]string{"edgegw"}, os.Args[i+1:]...)
				break
			}
		}
		os.Exit(root.Main())
	}
	os.Exit(m.Run())
}

// TestSignalStopsValidateAtOnce interrupts a validate that is still reading its manifest from a pipe that
// never ends: it holds no vendor calls, so the first signal must end it at once, with the signal's exit code.
func TestSignalStopsValidateAtOnce(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, cmdutil.ExitTerminated}, {syscall.SIGINT, cmdutil.ExitInterrupted}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "validate", "-f", "/dev/stdin")
			cmd.Env = append(os.Environ(), "EDGEGW_TEST_AS_EDGEGW=1")
			stdin, err := cmd.StdinPipe() // held open: the manifest never ends
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Write a little so the child is surely inside validate, reading, when the signal comes.
			if _, err := stdin.Write([]byte("version: 1\nname: slow\n")); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
					t.Fatalf("validate after %v: %v, want exit code %d; stderr:\n%s", tc.sig, err, tc.code, stderr.String())
				}
			case <-time.After(time.Second):
				_ = cmd.Process.Kill()
				<-exited
				t.Fatalf("validate still running 1s after %v; stderr:\n%s", tc.sig, stderr.String())
			}
		})
	}
}

// TestSignalDefersOnlyForVendorCalls pins which commands finish calls in flight on the first signal: only
// the ones that change live state at a vendor. Any other command marked so would ignore a first Ctrl-C.
func TestSignalDefersOnlyForVendorCalls(t *testing.T) {
	tree := root.NewCmdRoot(&cmdutil.Factory{IO: cmdutil.TestIO(nil, &bytes.Buffer{}, &bytes.Buffer{}), Getenv: os.Getenv})
	var got []string
	for _, c := range tree.Commands() {
		if _, ok := c.Annotations[cmdutil.AnnotationFinishInFlight]; ok {
			got = append(got, c.Name())
		}
	}
	if want := []string{"apply", "rollback"}; !slices.Equal(got, want) {
		t.Errorf("commands that defer the first signal: %v, want %v", got, want)
	}
}

// TestSignalEndsJSONStream: a command stopped by a signal still ends its --format json stream with the
// summary line, carrying the signal's exit code.
func TestSignalEndsJSONStream(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "validate", "-f", "/dev/stdin", "--format", "json")
	cmd.Env = append(os.Environ(), "EDGEGW_TEST_AS_EDGEGW=1")
	stdin, err := cmd.StdinPipe() // held open: the manifest never ends
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := stdin.Write([]byte("version: 1\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(2 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Fatal("validate still running 2s after SIGINT")
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"type":"version"`) ||
		!strings.Contains(lines[1], `"type":"summary"`) || !strings.Contains(lines[1], `"exit_code":130`) {
		t.Errorf("stream after SIGINT:\n%s", stdout.String())
	}
}
