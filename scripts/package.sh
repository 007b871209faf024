#!/usr/bin/env bash
# Builds the Linux desktop package, dist/mcpauth-linux-ARCH.tar.xz:
# usr/local/bin/mcpauth (the commands and bridges) and
# usr/local/bin/mcpauth-tray (the tray app, which `mcpauth` runs for the
# tray and the demo), the .desktop file that starts the tray and its icon
# (cmd/mcpauth-tray/FyneApp.toml, assets/). Install it with
# `sudo tar -xJf FILE -C /`.
#
# The binaries are built here, stripped and stamped with the version (as
# `make build` does); fyne's packager, pinned in scripts/tools/go.mod so
# that mcpauth's go.mod doesn't carry its dependencies, only wraps
# mcpauth-tray (-executable) in the desktop entry and icon.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=$(go env GOARCH)
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
work=$(mktemp -d)
# fyne package bumps Build in FyneApp.toml and rewrites it: keep ours.
cp cmd/mcpauth-tray/FyneApp.toml "$work/FyneApp.toml"
trap 'cp "$work/FyneApp.toml" cmd/mcpauth-tray/FyneApp.toml; rm -rf "$work"' EXIT

ldflags="-s -w -X main.version=$version"
go build -trimpath -ldflags "$ldflags" -o "$work/mcpauth" .
go build -trimpath -ldflags "$ldflags" -o "$work/mcpauth-tray" ./cmd/mcpauth-tray
mkdir -p dist
out=$(pwd)/dist/mcpauth-linux-$arch.tar.xz
rm -f mcpauth.tar.xz
go tool -modfile=scripts/tools/go.mod fyne package -os linux \
  -src cmd/mcpauth-tray -executable "$work/mcpauth-tray" -name mcpauth
# fyne's tarball (written to the working directory) has the tray; add the
# bridge beside it.
mkdir "$work/root"
tar -xJf mcpauth.tar.xz -C "$work/root"
rm mcpauth.tar.xz
install -m 0755 "$work/mcpauth" "$work/root/usr/local/bin/mcpauth"
tar -cJf "$out" -C "$work/root" .
for f in usr/local/bin/mcpauth usr/local/bin/mcpauth-tray; do
  if ! tar -tJf "$out" | sed 's|^\./||' | grep -x "$f" >/dev/null; then
    echo "package: $out has no $f" >&2
    exit 1
  fi
done
if ! tar -xJOf "$out" --wildcards '*.desktop' | grep -x 'Exec=mcpauth-tray' >/dev/null; then
  echo "package: the .desktop file of $out does not start mcpauth-tray" >&2
  exit 1
fi
echo "package: $out (mcpauth $version)" >&2
