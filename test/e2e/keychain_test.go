package e2e

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2E_KeychainUnavailable: with no reachable Secret Service, add fails
// closed. It says the keychain is the problem and how to fix it, and writes
// no config (so no secret could have gone to a file instead).
func TestE2E_KeychainUnavailable(t *testing.T) {
	requireE2E(t)
	s := newSession(t, nil)
	for i, kv := range s.env {
		if strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
			s.env = append(s.env[:i:i], s.env[i+1:]...)
			break
		}
	}
	s.env = append(s.env, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent")

	// The plain add the contract names, then one with a header, whose
	// value is a secret that add would store in the keychain.
	const headerValue = "e2e-header-secret-value"
	s.addSecret(headerValue)
	for _, args := range [][]string{
		{"add", "x", "http://127.0.0.1:1/mcp"},
		{"add", "x", "http://127.0.0.1:1/mcp", "--header", "X-Api-Key: " + headerValue},
	} {
		r := s.run(args...)
		if r.code == 0 {
			t.Fatalf("%s", s.describe(r, "want a non-zero exit without a keychain"))
		}
		msg := strings.ToLower(r.stderr)
		if !strings.Contains(msg, "keychain") || !strings.Contains(msg, "gnome-keyring") {
			t.Errorf("%s", s.describe(r, "want stderr to name the keychain and the fix (gnome-keyring)"))
		}
		data, err := os.ReadFile(filepath.Join(s.home, "servers.json"))
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			t.Fatal(err)
		default:
			t.Errorf("servers.json was written although add failed:\n%s", s.redact(string(data)))
		}
		filepath.WalkDir(s.home, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && !strings.HasSuffix(path, ".lock") {
				t.Errorf("add without a keychain left %s behind", path)
			}
			return nil
		})
	}
	// The leak check (at cleanup) also looks for the header value in the
	// output and in every file under the home.
}
