package main

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel stop mcpauth connect when the
// driver dies: the suite kills the driver on its timeout, and a leftover
// bridge would hold the scenario's servers.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
