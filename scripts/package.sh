#!/usr/bin/env bash
# Builds the Linux desktop package, dist/mcpauth-linux-ARCH.tar.xz:
# usr/local/bin/mcpauth, its .desktop file and icon (from FyneApp.toml and
# assets/), ready for `sudo tar -xJf FILE -C /` or the Makefile fyne puts in it.
#
# fyne's packager is pinned in scripts/tools/go.mod, so mcpauth's own go.mod
# doesn't carry its dependencies. -release strips the binary (the package is
# 10 MB instead of 18 MB); it costs one more build of the cgo parts with
# other flags, about 3 minutes on these 2-core machines, which CI accepts for
# the shipped artifact (tests and screenshots share the default build's cache).
set -euo pipefail
cd "$(dirname "$0")/.."
arch=$(go env GOARCH)
mkdir -p dist
rm -f mcpauth.tar.xz
# fyne package bumps Build in FyneApp.toml and rewrites it: keep ours.
cp FyneApp.toml dist/.FyneApp.toml
trap 'mv dist/.FyneApp.toml FyneApp.toml' EXIT
go tool -modfile=scripts/tools/go.mod fyne package -os linux -release
mv mcpauth.tar.xz "dist/mcpauth-linux-$arch.tar.xz"
if ! tar -tJf "dist/mcpauth-linux-$arch.tar.xz" | grep -x usr/local/bin/mcpauth >/dev/null; then
  echo "package: dist/mcpauth-linux-$arch.tar.xz has no usr/local/bin/mcpauth" >&2
  exit 1
fi
echo "package: dist/mcpauth-linux-$arch.tar.xz" >&2
