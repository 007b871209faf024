//go:build !linux

package main

import "os/exec"

// setParentDeathSignal has no portable equivalent outside Linux; the suite
// runs on Linux in CI.
func setParentDeathSignal(*exec.Cmd) {}
