package keystore

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func openFake(t *testing.T) (*Keyring, *fakeBackend) {
	t.Helper()
	f := newFake()
	return Open(t.TempDir(), withBackend(f)), f
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// wantChunks is how many chunks a value of size bytes takes (0: one item).
func wantChunks(size int) int {
	enc := (size + 2) / 3 * 4
	if len(valuePrefix)+enc <= itemLimit {
		return 0
	}
	return (enc + itemLimit - 1) / itemLimit
}

func TestRoundTrip(t *testing.T) {
	for _, size := range []int{0, 1, 1488, 1489, 3000, 10 << 10, 100 << 10, MaxValueSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			ctx := context.Background()
			k, f := openFake(t)
			want := randomBytes(size)
			if err := k.Set(ctx, "server/x/access", want); err != nil {
				t.Fatalf("Set: %v", err)
			}
			got, err := k.Get(ctx, "server/x/access")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Get returned %d bytes that differ from the %d set", len(got), len(want))
			}
			if diff := cmp.Diff(chunkUsers("server/x/access", 'a', wantChunks(size)), f.users()); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetRejectsOversizedValue(t *testing.T) {
	k, f := openFake(t)
	if err := k.Set(context.Background(), "k", make([]byte, MaxValueSize+1)); err == nil {
		t.Fatal("Set of an oversized value succeeded")
	}
	if n := f.callCount(); n != 0 {
		t.Errorf("Set made %d keychain calls, want 0", n)
	}
}

// Each step's value replaces the last one's; afterwards exactly its items
// must exist, whatever the old value left.
func TestSetReplacesAndRemovesSurplusChunks(t *testing.T) {
	ctx := context.Background()
	k, f := openFake(t)
	slot := byte('a')
	prevChunked := false
	for _, size := range []int{100 << 10, 10 << 10, 50, 10 << 10, 20 << 10, 5 << 10, 0} {
		value := randomBytes(size)
		if err := k.Set(ctx, "key", value); err != nil {
			t.Fatalf("Set %d bytes: %v", size, err)
		}
		n := wantChunks(size)
		switch {
		case n > 0 && prevChunked:
			slot = other(slot)
		case n > 0:
			slot = 'a'
		}
		prevChunked = n > 0
		if diff := cmp.Diff(chunkUsers("key", slot, n), f.users()); diff != "" {
			t.Fatalf("after Set of %d bytes, items (-want +got):\n%s", size, diff)
		}
		got, err := k.Get(ctx, "key")
		if err != nil || !bytes.Equal(got, value) {
			t.Fatalf("after Set of %d bytes, Get = %d bytes, %v", size, len(got), err)
		}
	}
}

func TestDeleteRemovesAllChunks(t *testing.T) {
	ctx := context.Background()
	k, f := openFake(t)
	if err := k.Set(ctx, "key", randomBytes(10<<10)); err != nil {
		t.Fatal(err)
	}
	if err := k.Set(ctx, "other", []byte("keep me")); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete(ctx, "key"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if diff := cmp.Diff([]string{"other"}, f.users()); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if _, err := k.Get(ctx, "key"); err != ErrNotFound {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := k.Delete(ctx, "key"); err != nil {
		t.Errorf("Delete of a missing key: %v, want nil", err)
	}
}

// Regression: a Set that dies between chunks must leave the old value
// readable, and the next Set must clean up what it wrote.
func TestInterruptedSetKeepsOldValue(t *testing.T) {
	ctx := context.Background()
	for _, oldSize := range []int{100, 10 << 10} {
		t.Run(fmt.Sprint(oldSize), func(t *testing.T) {
			k, f := openFake(t)
			old := randomBytes(oldSize)
			if err := k.Set(ctx, "key", old); err != nil {
				t.Fatal(err)
			}
			f.setFail(func(op, user string) error {
				if op == "set" && strings.HasSuffix(user, "4") {
					return errors.New("connection reset")
				}
				return nil
			})
			var ue *UnavailableError
			if err := k.Set(ctx, "key", randomBytes(20<<10)); !errors.As(err, &ue) {
				t.Fatalf("interrupted Set: %v, want *UnavailableError", err)
			}
			f.setFail(nil)
			if got, err := k.Get(ctx, "key"); err != nil || !bytes.Equal(got, old) {
				t.Fatalf("Get after interrupted Set = %d bytes, %v; want the old value", len(got), err)
			}
			if err := k.Set(ctx, "key", []byte("small")); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"key"}, f.users()); diff != "" {
				t.Errorf("items after the next Set (-want +got):\n%s", diff)
			}
		})
	}
}

// Regression: chunks are removed from the top down, so a Delete that dies
// part way leaves a run from #1 that the next Delete finds.
func TestInterruptedDeleteIsFinishedLater(t *testing.T) {
	ctx := context.Background()
	k, f := openFake(t)
	if err := k.Set(ctx, "key", randomBytes(10<<10)); err != nil {
		t.Fatal(err)
	}
	f.setFail(func(op, user string) error {
		if op == "delete" && user == "key#a4" {
			return errors.New("connection reset")
		}
		return nil
	})
	if err := k.Delete(ctx, "key"); err == nil {
		t.Fatal("interrupted Delete succeeded")
	}
	f.setFail(nil)
	if _, err := k.Get(ctx, "key"); err != ErrNotFound {
		t.Errorf("Get after interrupted Delete: %v, want ErrNotFound", err)
	}
	if err := k.Delete(ctx, "key"); err != nil {
		t.Fatal(err)
	}
	if users := f.users(); len(users) != 0 {
		t.Errorf("items left: %v", users)
	}
}

func TestOrphanChunksAreRemoved(t *testing.T) {
	ctx := context.Background()
	k, f := openFake(t)
	for _, u := range []string{"key#a1", "key#a2", "key#a3", "key#b1", "key2#a1"} {
		f.put(u, "AAAA")
	}
	if err := k.Delete(ctx, "key"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"key2#a1"}, f.users()); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}

func TestCorruptValues(t *testing.T) {
	secret := randomBytes(10 << 10)
	tests := []struct {
		name   string
		mangle func(f *fakeBackend)
	}{
		{"missing chunk", func(f *fakeBackend) { f.Delete("", "key#a3") }},
		{"altered chunk", func(f *fakeBackend) { f.put("key#a2", strings.Repeat("A", itemLimit)) }},
		{"truncated chunk", func(f *fakeBackend) { f.put("key#a7", "AAAA") }},
		{"malformed manifest", func(f *fakeBackend) { f.put("key", manifestPrefix+"a:x:0123456789abcdef") }},
		{"manifest over the limit", func(f *fakeBackend) { f.put("key", manifestPrefix+"a:99999:0123456789abcdef") }},
		{"manifest with wrong sum", func(f *fakeBackend) { f.put("key", manifestPrefix+"a:7:0123456789abcdef") }},
		{"single item not base64", func(f *fakeBackend) { f.put("key", valuePrefix+"!!!") }},
		{"foreign item", func(f *fakeBackend) { f.put("key", "hunter2") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			k, f := openFake(t)
			if err := k.Set(ctx, "key", secret); err != nil {
				t.Fatal(err)
			}
			tt.mangle(f)
			got, err := k.Get(ctx, "key")
			if !errors.Is(err, ErrCorrupt) || got != nil {
				t.Fatalf("Get = %d bytes, %v; want ErrCorrupt", len(got), err)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "AAAA") {
				t.Errorf("error shows stored data: %v", err)
			}
			if err := k.Set(ctx, "key", []byte("fresh")); err != nil {
				t.Fatalf("Set over a corrupt value: %v", err)
			}
			if got, err := k.Get(ctx, "key"); err != nil || string(got) != "fresh" {
				t.Errorf("Get after Set = %q, %v", got, err)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	k, _ := openFake(t)
	values := [][]byte{randomBytes(10), randomBytes(5 << 10), randomBytes(12 << 10)}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				if (g+i)%2 == 0 {
					if err := k.Set(ctx, "key", values[(g+i)%3]); err != nil {
						t.Errorf("Set: %v", err)
					}
					continue
				}
				got, err := k.Get(ctx, "key")
				if err == ErrNotFound {
					continue
				}
				if err != nil || !slices.ContainsFunc(values, func(v []byte) bool { return bytes.Equal(v, got) }) {
					t.Errorf("Get = %d bytes, %v; want one of the values set", len(got), err)
				}
			}
		})
	}
	wg.Wait()
}

func TestServiceName(t *testing.T) {
	t.Chdir(t.TempDir())
	abs, _ := filepath.Abs("home")
	a := ServiceName(abs)
	if !strings.HasPrefix(a, "mcpauth:") || len(a) != len("mcpauth:")+16 {
		t.Errorf("ServiceName = %q, want mcpauth: and 16 hex digits", a)
	}
	for _, same := range []string{"home", "./home/", abs + "/../home"} {
		if got := ServiceName(same); got != a {
			t.Errorf("ServiceName(%q) = %q, want %q as for %q", same, got, a, abs)
		}
	}
	if b := ServiceName(abs + "2"); b == a {
		t.Errorf("two homes share the service name %q", a)
	}
}

func TestInvalidKeys(t *testing.T) {
	ctx := context.Background()
	k, f := openFake(t)
	for _, key := range []string{"", "a#1", "line\nbreak", "ünicode", strings.Repeat("k", 257)} {
		if err := k.Set(ctx, key, []byte("v")); err == nil {
			t.Errorf("Set(%q) succeeded", key)
		}
		if _, err := k.Get(ctx, key); err == nil {
			t.Errorf("Get(%q) succeeded", key)
		}
	}
	if n := f.callCount(); n != 0 {
		t.Errorf("invalid keys reached the keychain %d times", n)
	}
}
