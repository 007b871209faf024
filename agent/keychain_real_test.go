package agent

// Add and Remove against the real OS keychain, which is where the cost of
// their keychain calls shows. Run inside a throwaway keyring:
//
//	XDG_DATA_HOME=$(mktemp -d) dbus-run-session -- bash -c \
//	  'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
//	   MCPAUTH_TEST_KEYRING=1 go test -run RealKeychain -bench RealAdd ./agent/'

import (
	"context"
	"fmt"
	"os"
	"testing"

	"mcpauth/keystore"
)

// openRealStore returns the real keychain Store for home, emptied again
// when the test ends, or skips without MCPAUTH_TEST_KEYRING=1.
func openRealStore(tb testing.TB, home string) *keystore.Keyring {
	tb.Helper()
	if os.Getenv("MCPAUTH_TEST_KEYRING") != "1" {
		tb.Skip("needs the real OS keychain: set MCPAUTH_TEST_KEYRING=1 (see keystore/real_test.go)")
	}
	k := keystore.Open(home)
	tb.Cleanup(func() {
		if err := k.DeleteAll(context.Background()); err != nil && !tb.Failed() {
			tb.Errorf("cleaning up %s: %v", k.Service(), err)
		}
	})
	return k
}

// TestRealKeychainAddRemovesStaleSecrets: an Add interrupted after it
// stored a secret but before it wrote the config leaves that secret in the
// keychain; the next Add of the name without it must remove it.
func TestRealKeychainAddRemovesStaleSecrets(t *testing.T) {
	home := t.TempDir()
	k := openRealStore(t, home)
	testAddRemovesStaleSecrets(t, home, k)
}

// BenchmarkRealAdd measures Add of a new server with no secrets (what
// `mcpauth connect URL` does first), in a home whose keychain already holds
// another server's tokens.
func BenchmarkRealAdd(b *testing.B) {
	ctx := context.Background()
	home := b.TempDir()
	k := openRealStore(b, home)
	a, err := New(Options{Home: home, Store: k})
	if err != nil {
		b.Fatal(err)
	}
	for _, key := range []string{accessKey("other"), refreshKey("other")} {
		if err := k.Set(ctx, key, []byte(`{"access_token":"x"}`)); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("s%d", i)
		if err := a.Add(ctx, AddRequest{Name: name, URL: "https://mcp.example.com/mcp"}); err != nil {
			b.Fatal(err)
		}
		// Forget it again, so that the registry does not grow with b.N.
		b.StopTimer()
		if err := a.reg.update(ctx, func(f *registryFile) error { delete(f.Servers, name); return nil }); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
