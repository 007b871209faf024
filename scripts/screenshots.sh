#!/usr/bin/env bash
# Screenshots of the real tray app for the README: `mcpauth tray` under
# Xvfb, against the demo server, with one server signed in (demo), one
# needing a sign-in (linear) and one sign-in waiting for approval (wiki,
# asked for by the local client "cursor" through the HTTP bridge).
#
#   docs/screenshots/window.png  the manager window
#   docs/screenshots/menu.png    the tray menu, as fyne draws it (Xvfb has
#                                no tray host), with the approval's submenu
#
# It fails if a screenshot is blank. Needs Xvfb, imagemagick, xdotool,
# gnome-keyring and dbus (scripts/deps.sh test); CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${SCREENSHOTS_DIR:-docs/screenshots}

if [ "${1:-}" != --in-session ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "screenshots: building mcpauth and mcpauth-tray" >&2
  go build -o "$tmp/mcpauth" .
  go build -o "$tmp/mcpauth-tray" ./cmd/mcpauth-tray
  go build -o "$tmp/fakebrowser" ./test/fakebrowser/cmd/fakebrowser
  mkdir -p "$out"
  # A throwaway home, keyring and fyne config: nothing of the user's is
  # read or left behind.
  TMPDIR_SHOTS=$tmp OUT=$(cd "$out" && pwd) MCPAUTH_HOME=$tmp/home XDG_DATA_HOME=$tmp/data \
    XDG_CONFIG_HOME=$tmp/config LANG=en_US.UTF-8 BROWSER=$tmp/fakebrowser \
    dbus-run-session -- "$0" --in-session
  exit
fi

tmp=$TMPDIR_SHOTS
m=$tmp/mcpauth
pids=()
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
waitfor() { # waitfor WHAT COMMAND...: up to 30 s
  local what=$1
  shift
  for _ in $(seq 300); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "screenshots: timed out waiting for $what" >&2
  for f in "$tmp"/*.log; do echo "--- $f" >&2; cat "$f" >&2; done
  exit 1
}

printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
Xvfb -displayfd 3 -screen 0 1600x1000x24 -nolisten tcp 3>"$tmp/display" 2>"$tmp/xvfb.log" &
pids+=($!)
waitfor "Xvfb" test -s "$tmp/display"
export DISPLAY=:$(cat "$tmp/display")

# The demo server, registered as "demo" and signed in before the tray
# runs (so the fake browser is not asked for approval yet).
"$m" demo --no-login --port 0 >"$tmp/demo.log" 2>&1 &
pids+=($!)
waitfor "the demo server" grep -q "runs at" "$tmp/demo.log"
url=$(sed -n 's/.*runs at \(http[^ ]*\) until.*/\1/p' "$tmp/demo.log")
"$m" login demo >"$tmp/login.log" 2>&1
"$m" add wiki "$url"
"$m" add linear https://mcp.linear.app/mcp # never contacted: no sign-in is asked for
key=$("$m" client add cursor 2>/dev/null)
"$m" client add vscode >/dev/null 2>&1

MCPAUTH_TRAY_PREVIEW=1 "$m" tray --port 0 >"$tmp/tray.log" 2>&1 &
tray=$!
pids+=("$tray")
running() { "$m" status --json | grep '"running": true'; } # no -q: with pipefail, an early exit could fail the pipe
waitfor "the tray's agent" running
bridge=$("$m" status --json | sed -n 's/.*"bridge": "\([^"]*\)".*/\1/p')
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"cursor","version":"1"}}}'
post() { # post SERVER: an MCP initialize from "cursor" through the HTTP bridge
  curl -sS -m 60 -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' --data "$init" "$bridge/servers/$1/mcp"
}
post demo >/dev/null # "last used by cursor"
post wiki >"$tmp/wiki.log" 2>&1 & # waits for approval until the end
pids+=($!)
sni=org.kde.StatusNotifierItem-$tray-1
menu_has() { # the tray menu over D-Bus, as a tray host reads it
  dbus-send --session --print-reply --dest="$sni" /StatusNotifierMenu com.canonical.dbusmenu.GetLayout \
    int32:0 int32:-1 array:string:label | grep -F "$1"
}
waitfor "the approval in the tray menu" menu_has "Sign in to wiki (requested by cursor)"
waitfor "the manager window" xdotool search --name '^mcpauth$'
waitfor "the menu preview" xdotool search --name '^mcpauth menu$'
win=$(xdotool search --name '^mcpauth$' | head -1)
menu=$(xdotool search --name '^mcpauth menu$' | head -1)
xdotool windowmove "$win" 0 0 windowmove "$menu" 1000 40
sleep 2 # let fyne draw

shot() { # shot WINDOW FILE: the window's area of the screen (GL windows read back black)
  local x y w h
  eval "$(xdotool getwindowgeometry --shell "$1" | sed 's/^/local /')"
  import -window root -crop "${WIDTH}x${HEIGHT}+${X}+${Y}" +repage "$OUT/$2"
  local sd
  sd=$(convert "$OUT/$2" -format '%[fx:standard_deviation]' info:)
  if awk -v sd="$sd" 'BEGIN { exit !(sd < 0.02) }'; then
    echo "screenshots: $2 is blank (standard deviation $sd)" >&2
    exit 1
  fi
  echo "screenshots: $OUT/$2 (${WIDTH}x${HEIGHT}, standard deviation $sd)" >&2
}
shot "$win" window.png
shot "$menu" menu.png
