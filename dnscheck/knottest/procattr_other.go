//go:build !linux

package knottest

import "os/exec"

func dieWithParent(*exec.Cmd) {}
