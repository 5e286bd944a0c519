package main

import (
	"os"
	"strings"
	"testing"
)

// TestMain lets the tests run this test binary as the edgegw command (EDGEGW_RUN_MAIN=1): a child process
// measured on its own, or killed on its own. It writes its peak RSS (VmHWM, Linux) to EDGEGW_HWM_FILE as it
// exits: the rusage of a child started by os/exec is no use, since Linux carries the parent's peak over
// the exec.
func TestMain(m *testing.M) {
	if os.Getenv("EDGEGW_RUN_MAIN") == "1" {
		code := run()
		if name := os.Getenv("EDGEGW_HWM_FILE"); name != "" {
			status, _ := os.ReadFile("/proc/self/status")
			for _, l := range strings.Split(string(status), "\n") {
				if strings.HasPrefix(l, "VmHWM:") {
					_ = os.WriteFile(name, []byte(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(l, "VmHWM:"), "kB"))), 0o644)
				}
			}
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}
