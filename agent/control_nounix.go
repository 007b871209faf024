//go:build !unix

package agent

import (
	"errors"
	"os"
)

// The control socket is Unix-only for now (DESIGN.md: Windows gets an
// equivalent later).
func tryLock(*os.File) error {
	return errors.New("the agent's lock is not supported on this platform yet")
}

func fileOwner(os.FileInfo) (int, bool) { return 0, false }
