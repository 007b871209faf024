//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keystore

// checkSessionBus has nothing to check: only Secret Service uses D-Bus.
func checkSessionBus() error { return nil }
