//go:build unix

package localproxy

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A blocking pipe, as a host app gives a bridge, becomes a poller-backed
// reader (one that supports deadlines) that reads what was written and then
// EOF; undo puts the pipe back in blocking mode.
func TestPollableStdinPipe(t *testing.T) {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	r, w := os.NewFile(uintptr(p[0]), "stdin"), os.NewFile(uintptr(p[1]), "w")
	defer r.Close()
	if r.SetReadDeadline(time.Time{}) == nil {
		t.Fatal("a blocking pipe should not be poller-backed")
	}
	in, undo := PollableStdin(r)
	pf, ok := in.(*os.File)
	if !ok || pf == r {
		t.Fatalf("PollableStdin(pipe) = %T %v, want a new *os.File", in, in)
	}
	if err := pf.SetReadDeadline(time.Time{}); err != nil {
		t.Fatalf("the reader is not poller-backed: SetReadDeadline: %v", err)
	}
	go func() {
		io.WriteString(w, "{\"a\":1}\n{\"b\":2}\n")
		w.Close()
	}()
	var lines []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(lines, "|"); got != `{"a":1}|{"b":2}` {
		t.Errorf("read %q", got)
	}
	undo()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(p[0]), syscall.F_GETFL, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	if flags&syscall.O_NONBLOCK != 0 {
		t.Errorf("undo left the pipe non-blocking")
	}
}

// Anything but a pipe or socket is left alone.
func TestPollableStdinLeavesOthersAlone(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "in"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if in, _ := PollableStdin(f); in != io.Reader(f) {
		t.Errorf("PollableStdin(regular file) = %v, want it unchanged", in)
	}
	sr := strings.NewReader("x")
	if in, _ := PollableStdin(sr); in != io.Reader(sr) {
		t.Errorf("PollableStdin(strings.Reader) changed it")
	}
}
