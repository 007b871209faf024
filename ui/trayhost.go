package ui

import (
	"runtime"

	"github.com/godbus/dbus/v5"
)

// trayHostRunning reports whether a tray host shows status icons: on
// Linux and the BSDs, whether anyone owns org.kde.StatusNotifierWatcher on
// the session bus (fyne's systray registers there, and only logs an error
// when nobody does). Elsewhere the system always has a tray.
func trayHostRunning() bool {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
	default:
		return true
	}
	// A private connection: fyne's systray uses the shared one.
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false
	}
	defer conn.Close()
	var has bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has); err != nil {
		return false
	}
	return has
}
