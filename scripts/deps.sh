#!/usr/bin/env bash
# Installs what building and testing mcpauth needs on Debian 12, and nothing
# that is already there. Safe to run again. Used by `make test`, `make demo`
# and .ci/run.
#
#   scripts/deps.sh run    # what `mcpauth demo` needs: a Secret Service
#   scripts/deps.sh test   # plus dbus, Node packages for oidc-provider, Go modules
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-test}

pkgs=(gnome-keyring libsecret-tools dbus)
if [ "$what" = test ]; then
  pkgs+=(dbus-x11 xvfb)
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
  go mod download
fi
