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
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"mcpauth/test/oidc"
)

// Built once by TestMain when MCPAUTH_E2E=1.
var (
	mcpauthBin string
	buildErr   error
)

func TestMain(m *testing.M) {
	if os.Getenv("MCPAUTH_E2E") != "1" {
		os.Exit(m.Run()) // every test skips
	}
	dir, err := os.MkdirTemp("", "mcpauth-grants-e2e-")
	if err != nil {
		buildErr = err
		os.Exit(m.Run())
	}
	mcpauthBin = filepath.Join(dir, "mcpauth")
	if out, err := exec.Command("go", "build", "-o", mcpauthBin, "mcpauth").CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("go build mcpauth: %v\n%s", err, out)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireE2E skips unless MCPAUTH_E2E=1; when it is set, a missing
// prerequisite is fatal, so CI never passes by skipping.
func requireE2E(tb testing.TB) {
	tb.Helper()
	if os.Getenv("MCPAUTH_E2E") != "1" {
		tb.Skip("end-to-end test: run `make test` (it sets MCPAUTH_E2E=1 inside a D-Bus session with gnome-keyring unlocked; see scripts/test.sh)")
	}
	if buildErr != nil {
		tb.Fatalf("building mcpauth: %v", buildErr)
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		tb.Fatal("MCPAUTH_E2E=1 but there is no D-Bus session bus: run inside dbus-run-session with gnome-keyring unlocked, as scripts/test.sh does")
	}
	if err := oidc.NodeAvailable(); err != nil {
		tb.Fatalf("MCPAUTH_E2E=1 but the oidc-provider server can't run: %v", err)
	}
}
