//go:build linux || darwin

package agent

import (
	"net"
	"syscall"
)

// peerUID returns the uid of the process at the other end of a Unix
// socket, as the kernel recorded it at connect time (sockoptUID: the
// platform's getsockopt).
func peerUID(c net.Conn) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, errPeerUnsupported
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var uid int
	var uidErr error
	if err := raw.Control(func(fd uintptr) { uid, uidErr = sockoptUID(int(fd)) }); err != nil {
		return 0, err
	}
	return uid, uidErr
}
