package keystore

// Tests against the real OS keychain. CI runs them inside dbus-run-session
// with gnome-keyring unlocked (DESIGN.md, "Testing"):
//
//	XDG_DATA_HOME=$(mktemp -d) dbus-run-session -- bash -c \
//	  'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
//	   MCPAUTH_TEST_KEYRING=1 go test -race ./keystore'

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"mcpauth/keystore/keystoretest"

	"github.com/google/go-cmp/cmp"
)

const realEnv = "MCPAUTH_TEST_KEYRING"

// openReal returns a Keyring for a fresh home in the real keychain, removed
// again when the test ends. Without MCPAUTH_TEST_KEYRING=1 the test is
// skipped; with it, an unavailable keychain fails the test.
func openReal(tb testing.TB) *Keyring {
	tb.Helper()
	if os.Getenv(realEnv) != "1" {
		tb.Skip("needs the real OS keychain: set " + realEnv + "=1; on Linux run inside dbus-run-session " +
			"with gnome-keyring unlocked (see the comment at the top of real_test.go)")
	}
	k := Open(tb.TempDir())
	tb.Cleanup(func() {
		if err := k.DeleteAll(context.Background()); err != nil && !tb.Failed() {
			tb.Errorf("cleaning up %s: %v", k.Service(), err)
		}
	})
	return k
}

// secretToolUsers lists the accounts of the items under service, as the
// end-to-end tests see them, or returns nil, false without secret-tool.
func secretToolUsers(t *testing.T, service string) ([]string, bool) {
	t.Helper()
	users, ok, err := keystoretest.SecretToolUsers(service)
	if err != nil {
		t.Fatal(err)
	}
	return users, ok
}

func TestRealKeychain(t *testing.T) {
	ctx := context.Background()
	k, other := openReal(t), openReal(t)
	const key = "server/real/access"
	value := randomBytes(10 << 10)
	if err := k.Set(ctx, key, value); err != nil {
		t.Fatalf("Set: %v", err) // an *UnavailableError here fails: CI promised a keychain
	}
	got, err := k.Get(ctx, key)
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("Get = %d bytes, %v; want the %d bytes set", len(got), err, len(value))
	}
	if users, ok := secretToolUsers(t, k.Service()); ok {
		if diff := cmp.Diff(chunkUsers(key, 'a', wantChunks(len(value))), users); diff != "" {
			t.Errorf("items in the keychain (-want +got):\n%s", diff)
		}
	}

	if _, err := other.Get(ctx, key); err != ErrNotFound {
		t.Errorf("another home's Get = %v, want ErrNotFound", err)
	}
	if err := other.Set(ctx, key, []byte("other home")); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(ctx, key); err != nil || !bytes.Equal(got, value) {
		t.Errorf("after another home's Set, Get = %d bytes, %v; want the value unchanged", len(got), err)
	}

	if err := k.Set(ctx, key, []byte("short")); err != nil {
		t.Fatal(err)
	}
	if users, ok := secretToolUsers(t, k.Service()); ok {
		if diff := cmp.Diff([]string{key}, users); diff != "" {
			t.Errorf("items after shrinking (-want +got):\n%s", diff)
		}
	}

	if err := k.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get(ctx, key); err != ErrNotFound {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if users, ok := secretToolUsers(t, k.Service()); ok && len(users) > 0 {
		t.Errorf("items left after Delete: %v", users)
	}
	if got, err := other.Get(ctx, key); err != nil || string(got) != "other home" {
		t.Errorf("another home's value after Delete = %q, %v", got, err)
	}
}

// The fail-closed path on Linux, against the real go-keyring. It runs in a
// child process because godbus keeps one session bus connection per process:
// once any test has connected, DBUS_SESSION_BUS_ADDRESS is not read again.
func TestUnavailableWithoutSessionBus(t *testing.T) {
	if mode := os.Getenv("MCPAUTH_KEYSTORE_CHILD"); mode != "" {
		_, err := Open(t.TempDir()).Get(context.Background(), "key")
		var ue *UnavailableError
		if !errors.As(err, &ue) {
			t.Fatalf("Get = %v, want *UnavailableError", err)
		}
		os.Stdout.WriteString("\nHINT=" + ue.Hint + "\nMESSAGE=" + err.Error() + "\n")
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("only Secret Service uses D-Bus")
	}
	dir := t.TempDir()
	// A dbus-launch that leaves a mark: the keystore must not run it, since
	// the bus it starts would outlive mcpauth.
	mark := filepath.Join(dir, "dbus-launch-ran")
	if err := os.WriteFile(filepath.Join(dir, "dbus-launch"), []byte("#!/bin/sh\ntouch "+mark+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, statErr := os.Stat(filepath.Join("/run/user", strconv.Itoa(os.Getuid()), "bus"))
	for name, addr := range map[string]string{
		"dead socket": "unix:path=" + filepath.Join(dir, "no-such-bus"),
		"unset":       "",
	} {
		t.Run(name, func(t *testing.T) {
			if addr == "" && statErr == nil {
				t.Skip("this machine has a session bus at /run/user/UID/bus")
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestUnavailableWithoutSessionBus$", "-test.count=1")
			cmd.Env = append(os.Environ(), "MCPAUTH_KEYSTORE_CHILD=1", "DBUS_SESSION_BUS_ADDRESS="+addr,
				"PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "\nHINT="+hintNoBus+"\n") {
				t.Errorf("child output lacks the no-bus hint:\n%s", out)
			}
			if !strings.Contains(string(out), Fix) {
				t.Errorf("child output lacks the fix:\n%s", out)
			}
			if _, err := os.Stat(mark); err == nil {
				t.Error("the keystore ran dbus-launch")
			}
		})
	}
}

// BenchmarkRealKeychain measures one Get or Set through the real keychain,
// for a token-sized value (one item) and a 10 KB one (7 chunks).
func BenchmarkRealKeychain(b *testing.B) {
	ctx := context.Background()
	k := openReal(b)
	for _, size := range []struct {
		name string
		n    int
	}{{"small", 200}, {"10KB", 10 << 10}} {
		value := randomBytes(size.n)
		b.Run("Set/"+size.name, func(b *testing.B) {
			for b.Loop() {
				if err := k.Set(ctx, "bench/"+size.name, value); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Get/"+size.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := k.Get(ctx, "bench/"+size.name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
