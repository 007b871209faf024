//go:build unix

package localproxy

import (
	"io"
	"os"
	"syscall"
)

// PollableStdin returns a reader for the bridge's stdin that the Go
// runtime's network poller waits on, and a func that undoes it.
//
// Why (docs/benchmarks.md, "Fixes"): os.Stdin is a blocking file, so the
// goroutine reading it holds a thread in read(2). Each message it reads is
// handed to a new goroutine (upstream.Conn.Send), and because the reader
// goes straight back into read(2), another thread has to be woken to run
// that goroutine: a futex wake-up per message, about 50 µs of a 1 KB round
// trip on a 2-core machine. Read through the poller, the reader parks and
// the new goroutine runs at once on the same thread.
//
// Only a pipe or a socket is switched to non-blocking mode (what host apps
// give a bridge); the reader is a duplicate of the descriptor, so os.Stdin
// stays as it is, but the mode belongs to the open file they share: undo
// restores it. Anything else (a terminal, a file, a non-*os.File) is
// returned unchanged.
func PollableStdin(in io.Reader) (io.Reader, func()) {
	f, ok := in.(*os.File)
	if !ok {
		return in, func() {}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return in, func() {}
	}
	if t := st.Mode & syscall.S_IFMT; t != syscall.S_IFIFO && t != syscall.S_IFSOCK {
		return in, func() {}
	}
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		return in, func() {}
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return in, func() {}
	}
	// With O_NONBLOCK set, os.NewFile registers the descriptor with the
	// poller.
	pf := os.NewFile(uintptr(fd), f.Name())
	return pf, func() { syscall.SetNonblock(fd, false) }
}
