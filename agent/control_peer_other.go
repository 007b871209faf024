//go:build !linux && !darwin

package agent

import "net"

// peerUID is not implemented here: the socket's 0700 directory is the only
// guard on these platforms.
func peerUID(net.Conn) (int, error) { return 0, errPeerUnsupported }
