// Package grants holds the end-to-end tests of the grants beyond the
// browser login: the device authorization grant (RFC 8628) and client
// credentials (RFC 6749 §4.4) with a client secret and with private_key_jwt
// (RFC 7523 §2.2), against a real authorization server (oidc-provider,
// test/oidc, with Options.Grants) and the real keychain (gnome-keyring over
// D-Bus), through the real mcpauth binary and the agent in-process.
// Cross-app access has no real IdP here: the conformance suite's
// auth/cross-app-access-complete-flow covers it (test/conformance).
//
// They run only with MCPAUTH_E2E=1, which `make test` sets inside a
// throwaway D-Bus session with gnome-keyring unlocked; for this package
// alone, from the repository root:
//
//	XDG_DATA_HOME=$(mktemp -d) dbus-run-session -- bash -c \
//	  'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
//	   MCPAUTH_TEST_KEYRING=1 MCPAUTH_E2E=1 go test -race -count=1 ./test/e2e/grants/'
//
// No test prints a token, a client secret or a private key.
package grants

import (
	"testing"

	"mcpauth/test/e2e/e2ekit"
)

func TestMain(m *testing.M) { e2ekit.Main(m, "mcpauth-grants-e2e-", false) }

// requireE2E skips unless MCPAUTH_E2E=1; when it is set, a missing
// prerequisite is fatal, so CI never passes by skipping.
func requireE2E(tb testing.TB) {
	tb.Helper()
	e2ekit.Require(tb)
	e2ekit.RequireNode(tb)
}
