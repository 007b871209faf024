#!/usr/bin/env bash
# Runs `mcpauth demo`: a demo OAuth server and a protected MCP server on
# loopback, registered as server "demo", then a login.
#
# On a desktop this uses your keychain and browser. On a headless machine
# (no Secret Service, no display) it says so and brings its own: a
# throwaway gnome-keyring in a private D-Bus session, whose tokens vanish
# when the demo ends, and a scripted browser that clicks Approve.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-bin/mcpauth}")
shift || true

if [ -z "${BROWSER:-}" ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  go build -o bin/fakebrowser ./test/fakebrowser/cmd/fakebrowser
  BROWSER=$(realpath bin/fakebrowser)
  export BROWSER
  echo "demo: no display, so a scripted browser ($BROWSER) will click Approve on the consent page." >&2
fi

keychain_works() {
  [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || return 1
  printf probe | timeout 5 secret-tool store --label="mcpauth probe" service mcpauth-probe user probe 2>/dev/null || return 1
  timeout 5 secret-tool clear service mcpauth-probe user probe 2>/dev/null || true
}

if keychain_works; then
  exec "$bin" demo "$@"
fi
echo "demo: no usable Secret Service in this session; starting a throwaway gnome-keyring (its tokens vanish when the demo ends)." >&2
XDG_DATA_HOME=$(mktemp -d)
export XDG_DATA_HOME
MCPAUTH_HOME=${MCPAUTH_HOME:-$XDG_DATA_HOME/mcpauth}
export MCPAUTH_HOME
exec dbus-run-session -- bash -c 'printf demo | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$@"' _ "$bin" demo "$@"
