package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// fileLock is an exclusive advisory lock (flock) on a file under the agent's
// home. flock locks belong to the open file description, so two goroutines
// of one process that each call lockFile exclude each other just as two
// processes do: one mechanism serialises everything on the machine. This is
// kubelogin's pattern for "exactly one refresh" (lock → re-read → refresh →
// save), extended to every process that shares a home.
type fileLock struct{ f *os.File }

// lockFile blocks until it holds the lock on path or ctx is done.
func lockFile(ctx context.Context, path string) (*fileLock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("could not create lock directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("could not open lock file: %w", err)
	}
	// Poll with a non-blocking flock rather than a blocking one in a
	// goroutine: a blocked flock(2) can't be interrupted, and an abandoned
	// goroutine would later take the lock and hold it forever.
	delay := time.Millisecond
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return &fileLock{f: f}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("could not lock %s: %w", filepath.Base(path), err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("gave up waiting for %s: %w", filepath.Base(path), ctx.Err())
		case <-time.After(delay):
		}
		if delay < 20*time.Millisecond {
			delay *= 2
		}
	}
}

func (l *fileLock) Unlock() {
	unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	l.f.Close()
}
