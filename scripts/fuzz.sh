#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME (default 10s) each:
# the parsers of untrusted input (WWW-Authenticate, metadata documents,
# JSON-RPC framing, SSE, device and JWT answers).
#
# A failure that the fuzzer attributes to an input (it writes the input to
# testdata/fuzz/) fails at once, with the log. Go's fuzzer can also stop
# without an input ("fuzzing process hung or terminated unexpectedly") when
# the machine is starved; that gets one more run, and fails if it recurs.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() { go test -run='^$' -fuzz="^$2\$" -fuzztime="$fuzztime" "$1" >"$log" 2>&1; }

for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "-- $pkg $target" >&2
    run "$pkg" "$target" && continue
    if grep -q 'Failing input written to' "$log"; then
      grep -v '^fuzz: elapsed' "$log" >&2
      exit 1
    fi
    echo "   the fuzzer stopped without a failing input; running it once more:" >&2
    grep -v '^fuzz: elapsed' "$log" | tail -5 | sed 's/^/   | /' >&2
    if ! run "$pkg" "$target"; then
      grep -v '^fuzz: elapsed' "$log" >&2
      exit 1
    fi
  done
done
