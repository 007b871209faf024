#!/usr/bin/env bash
# Benchmarks mcpauth's bridges against a direct connection and mcp-remote
# (bench/cmd/mcpbench) and writes docs/benchmarks.md and docs/benchmarks.png.
#
#   bench/run.sh                  # the full run, ~10 min: writes docs/
#   bench/run.sh --smoke          # one short iteration of everything (CI): writes a temp dir
#   bench/run.sh --out DIR        # write somewhere else
#   bench/run.sh --rounds N       # default 5
#   bench/run.sh --in-session     # use the current D-Bus session and its unlocked keyring
#                                 # (scripts/test.sh); otherwise a throwaway one is started
#
# Needs what `make test` needs (scripts/deps.sh) plus mcp-remote, pinned in
# bench/package.json and installed with `npm ci --prefix bench`.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=0 out="" rounds="" in_session=0
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --out) out=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --in-session) in_session=1 ;;
    *) echo "usage: bench/run.sh [--smoke] [--out DIR] [--rounds N] [--in-session]" >&2; exit 2 ;;
  esac
  shift
done

if [ "$in_session" = 0 ]; then
  scripts/deps.sh run
fi
command -v node >/dev/null || { echo "bench: Node.js is needed for mcp-remote (apt install nodejs npm)" >&2; exit 1; }
if [ ! -d bench/node_modules ] || [ bench/package-lock.json -nt bench/node_modules ]; then
  echo "bench: npm ci in bench (mcp-remote)" >&2
  npm ci --prefix bench --no-audit --no-fund --loglevel=error
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$smoke" = 1 ] && [ -z "$out" ]; then
  out="$work/out" # never docs/
fi
out=${out:-docs}

echo "== bench: building" >&2
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
# mcpauth as shipped: static, no cgo, neither the tray nor the demo server.
# mcpauth-tray (the tray and the demo server, cgo) runs the same connect,
# for the table of what linking them would cost every bridge process.
CGO_ENABLED=0 go build -ldflags "-X main.version=$version" -o "$work/mcpauth" .
go build -ldflags "-X main.version=$version" -o "$work/mcpauth-tray" ./cmd/mcpauth-tray
go build -o "$work/mcpbench" ./bench/cmd/mcpbench

versions="mcpauth $version ($(go version | cut -d' ' -f3)), mcp-remote $(node -p 'require("./bench/node_modules/mcp-remote/package.json").version') on Node $(node --version), gnome-keyring $(dpkg-query -W -f='${Version}' gnome-keyring 2>/dev/null || echo '?')"
args=(-mcpauth "$work/mcpauth" -mcpauth-tray "$work/mcpauth-tray" -node "$(command -v node)"
  -mcp-remote bench/node_modules/mcp-remote/dist/proxy.js -npx-dir bench
  -out "$out" -versions "$versions" -notes bench/notes.md)
[ "$smoke" = 1 ] && args+=(-smoke)
[ -n "$rounds" ] && args+=(-rounds "$rounds")

echo "== bench: mcpbench ${args[*]}" >&2
if [ "$in_session" = 1 ]; then
  "$work/mcpbench" "${args[@]}"
else
  # A throwaway D-Bus session and keyring, as scripts/test.sh does: the
  # benchmark leaves nothing in the user's own keyring.
  XDG_DATA_HOME="$work/xdg" dbus-run-session -- bash -euo pipefail -c '
    printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$0" "$@"' "$work/mcpbench" "${args[@]}"
fi
if [ "$smoke" = 1 ]; then
  test -s "$out/benchmarks.md" && test -s "$out/benchmarks.png"
  echo "== bench: smoke run OK (nothing timed)" >&2
fi
