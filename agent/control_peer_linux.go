package agent

import "golang.org/x/sys/unix"

// sockoptUID reads a Unix socket's peer uid with SO_PEERCRED.
func sockoptUID(fd int) (int, error) {
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return 0, err
	}
	return int(cred.Uid), nil
}
