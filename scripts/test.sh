#!/usr/bin/env bash
# Runs every test mcpauth has: vet and gofmt, the unit tests, a short run of
# each fuzz target, the end-to-end tests and the MCP conformance suite
# (test/conformance), against a real keychain (gnome-keyring in a throwaway
# D-Bus session and keyring directory) and a real authorization server
# (oidc-provider). This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test

echo "== gofmt and go vet" >&2
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt: these files need formatting:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...

# The fast loop stays fast: only ui and cmd/mcpauth-tray need cgo (fyne).
# mcpauth itself, what host apps spawn for every session, links neither
# fyne nor the demo's mcp-go server (cli.TrayBinary).
echo "== mcpauth and the packages without the GUI build and vet without cgo" >&2
CGO_ENABLED=0 go vet . ./agent/... ./keystore/... ./localproxy/...
heavy=$(go list -deps . | grep -E '^fyne\.io/|^github\.com/mark3labs/mcp-go|^mcpauth/(ui|test/)' || true)
if [ -n "$heavy" ]; then
  echo "mcpauth (the root package) must not link these; they belong in cmd/mcpauth-tray:" >&2
  echo "$heavy" >&2
  exit 1
fi

# A throwaway keyring: an old keyring with another password can't get in
# the way, and the tests leave nothing in the user's own.
XDG_DATA_HOME=$(mktemp -d)
export XDG_DATA_HOME
trap 'rm -rf "$XDG_DATA_HOME"' EXIT
export FUZZTIME=${FUZZTIME:-10s}

dbus-run-session -- bash -euo pipefail -c '
  printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  echo "== go test -race ./... (real keychain, end-to-end)" >&2
  MCPAUTH_TEST_KEYRING=1 MCPAUTH_E2E=1 go test -race -count=1 ./...
  echo "== MCP conformance suite, client scenarios, against mcpauth connect" >&2
  test/conformance/run.sh

  # The benchmark harness, smoke run: one short iteration of every figure
  # against every target (mcp-remote included), checking that it works;
  # nothing is timed and docs/ is left alone (the full run is `make bench`).
  echo "== benchmark harness, smoke run (bench/run.sh --smoke)" >&2
  bench/run.sh --smoke --in-session
'

echo "== fuzz targets, $FUZZTIME each" >&2
scripts/fuzz.sh

echo "== the tray app's screenshots under Xvfb, failing on a blank one" >&2
shots=$(mktemp -d)
SCREENSHOTS_DIR=$shots scripts/screenshots.sh
rm -rf "$shots"
echo "== the Linux package (fyne package)" >&2
scripts/package.sh
