//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keystore

import (
	"errors"
	"fmt"
	"os"
)

// checkSessionBus fails when there is no D-Bus session bus to find, before
// go-keyring is called. Left to itself, godbus then runs `dbus-launch`,
// which starts a dbus-daemon that outlives mcpauth; D-Bus in turn starts
// gnome-keyring with no way to unlock it, and the call fails anyway with
// "failed to unlock correct collection" (seen on these machines). mcpauth
// must leave no process behind that it started, so it says what is missing
// instead. The places checked are the ones godbus looks at before it falls
// back to dbus-launch.
func checkSessionBus() error {
	if addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" && addr != "autolaunch:" {
		return nil
	}
	dir := fmt.Sprintf("/run/user/%d", os.Getuid())
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(dir + "/" + name); err == nil {
			return nil
		}
	}
	return errors.New("dbus: couldn't determine address of session bus: DBUS_SESSION_BUS_ADDRESS is unset and " +
		dir + "/bus does not exist")
}
