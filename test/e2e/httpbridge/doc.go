// Package httpbridge is the end-to-end test of the loopback HTTP bridge: the
// real `mcpauth` binary runs `mcpauth agent` with the real keychain
// (gnome-keyring over D-Bus) and test/fakebrowser as $BROWSER, and an mcp-go
// Streamable HTTP client, as Cursor or VS Code would, uses a server of
// test/fakeas through http://127.0.0.1:PORT/servers/NAME/mcp with a key from
// `mcpauth client add`.
//
// It runs only with MCPAUTH_E2E=1, which `make test` sets inside a throwaway
// D-Bus session with gnome-keyring unlocked; or, for this package alone:
//
//	XDG_DATA_HOME=$(mktemp -d) dbus-run-session -- bash -c \
//	  'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
//	   MCPAUTH_E2E=1 go test -count=1 -v ./test/e2e/httpbridge'
//
// It never prints a token or a local key: outputs are redacted before they
// are shown, and it fails if one appears in any output or any file under
// MCPAUTH_HOME.
package httpbridge
