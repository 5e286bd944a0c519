package knottest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel stop knotd when the process that started
// it dies without calling Close (a killed test binary, a broken pipe), so no
// server is left holding the port.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
