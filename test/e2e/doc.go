// Package e2e holds mcpauth's end-to-end tests: the real `mcpauth` binary,
// run as separate processes, against a real authorization server
// (oidc-provider, test/oidc), a real keychain (gnome-keyring over D-Bus) and
// test/fakebrowser as $BROWSER.
//
// The tests run only with MCPAUTH_E2E=1, which `make test` (scripts/test.sh)
// sets inside a throwaway D-Bus session with gnome-keyring unlocked:
//
//	make test
//
// or, for this package alone, from the repository root:
//
//	XDG_DATA_HOME=$(mktemp -d) dbus-run-session -- bash -c \
//	  'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
//	   MCPAUTH_TEST_KEYRING=1 MCPAUTH_E2E=1 go test -count=1 -v ./test/e2e'
//
// The benchmarks (BenchmarkColdLogin, BenchmarkTokenWarm) are gated the same
// way; add -run='^$' -bench=. to the go test command above.
//
// The tests never log a token: every output they print on failure is
// redacted first, and they check that no token they saw appears in any
// command's output (other than `mcpauth token`'s stdout) or in any file
// under MCPAUTH_HOME.
package e2e
