package keystore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// openFakes runs test against a fake backend that is a finder (as on
// Secret Service) and one that is not (macOS, Windows).
func openFakes(t *testing.T, test func(t *testing.T, k *Keyring, f *fakeBackend)) {
	for _, find := range []bool{true, false} {
		name := "finder"
		if !find {
			name = "no finder"
		}
		t.Run(name, func(t *testing.T) {
			f := newFake()
			var b backend = f
			if !find {
				b = noFinder{f}
			}
			test(t, Open(t.TempDir(), withBackend(b)), f)
		})
	}
}

// Every shape a key can be left in, by keystore itself or by an operation
// that was interrupted, is removed by Delete and DeleteMany, and nothing
// else is.
func TestDeleteManyRemovesEveryShape(t *testing.T) {
	ctx := context.Background()
	keys := []string{"missing", "single", "chunked", "orphans", "half-set", "both-slots"}
	setUp := func(t *testing.T, k *Keyring, f *fakeBackend) {
		t.Helper()
		for key, size := range map[string]int{"single": 100, "chunked": 10 << 10, "keep": 10 << 10, "keep-single": 5} {
			if err := k.Set(ctx, key, randomBytes(size)); err != nil {
				t.Fatal(err)
			}
		}
		// An interrupted Delete: chunks without their key.
		for _, u := range []string{"orphans#a1", "orphans#a2", "orphans#b1"} {
			f.put(u, "AAAA")
		}
		// An interrupted Set over a single item: the item and new chunks.
		f.put("half-set", valuePrefix+"AAAA")
		for _, u := range []string{"half-set#a1", "half-set#a2", "half-set#a3"} {
			f.put(u, "AAAA")
		}
		// An interrupted Set over a chunked value: both slots in use.
		if err := k.Set(ctx, "both-slots", randomBytes(10<<10)); err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"both-slots#b1", "both-slots#b2"} {
			f.put(u, "AAAA")
		}
	}
	want := chunkUsers("keep", 'a', wantChunks(10<<10))
	want = append(want, "keep-single")

	t.Run("DeleteMany", func(t *testing.T) {
		openFakes(t, func(t *testing.T, k *Keyring, f *fakeBackend) {
			setUp(t, k, f)
			if err := k.DeleteMany(ctx, keys...); err != nil {
				t.Fatalf("DeleteMany: %v", err)
			}
			if diff := cmp.Diff(want, f.users()); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
		})
	})
	t.Run("Delete", func(t *testing.T) {
		openFakes(t, func(t *testing.T, k *Keyring, f *fakeBackend) {
			setUp(t, k, f)
			for _, key := range keys {
				if err := k.Delete(ctx, key); err != nil {
					t.Fatalf("Delete %s: %v", key, err)
				}
			}
			if diff := cmp.Diff(want, f.users()); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
		})
	})
	t.Run("DeleteMany helper on a Keyring", func(t *testing.T) {
		openFakes(t, func(t *testing.T, k *Keyring, f *fakeBackend) {
			setUp(t, k, f)
			if err := DeleteMany(ctx, k, keys...); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, f.users()); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
		})
	})
}

// With a finder, keys that hold nothing cost one backend call together,
// and a single item costs that call and its delete.
func TestDeleteCalls(t *testing.T) {
	ctx := context.Background()
	k, f := openFake(t)
	if err := k.Set(ctx, "single", []byte("x")); err != nil {
		t.Fatal(err)
	}
	calls := func(do func() error) int {
		t.Helper()
		before := f.callCount()
		if err := do(); err != nil {
			t.Fatal(err)
		}
		return f.callCount() - before
	}
	if n := calls(func() error { return k.Delete(ctx, "missing") }); n != 1 {
		t.Errorf("Delete of a missing key: %d backend calls, want 1", n)
	}
	if n := calls(func() error { return k.DeleteMany(ctx, "m1", "m2", "m3", "m4", "m5") }); n != 1 {
		t.Errorf("DeleteMany of 5 missing keys: %d backend calls, want 1", n)
	}
	if n := calls(func() error { return k.DeleteMany(ctx) }); n != 0 {
		t.Errorf("DeleteMany of no keys: %d backend calls, want 0", n)
	}
	if n := calls(func() error { return k.DeleteMany(ctx, "m1", "single") }); n != 2 {
		t.Errorf("DeleteMany of a missing key and a single item: %d backend calls, want 2", n)
	}
	if users := f.users(); len(users) != 0 {
		t.Errorf("items left: %v", users)
	}

	// Without a finder, a missing key is looked up and probed, not deleted.
	k2 := Open(t.TempDir(), withBackend(noFinder{f}))
	if n := calls(func() error { return k2.Delete(ctx, "missing") }); n != 3 {
		t.Errorf("Delete of a missing key without a finder: %d backend calls, want 3", n)
	}
}

// A failing search fails the Delete, closed, and deletes nothing.
func TestDeleteManySearchFails(t *testing.T) {
	ctx := context.Background()
	k, f := openFake(t)
	if err := k.Set(ctx, "key", randomBytes(10<<10)); err != nil {
		t.Fatal(err)
	}
	before := f.users()
	f.setFail(func(op, user string) error {
		if op == "exists" {
			return errors.New("org.freedesktop.DBus.Error.NoReply: connection reset")
		}
		return nil
	})
	var ue *UnavailableError
	if err := k.DeleteMany(ctx, "key", "other"); !errors.As(err, &ue) || ue.Op != "delete" {
		t.Fatalf("DeleteMany = %v, want *UnavailableError for delete", err)
	}
	if diff := cmp.Diff(before, f.users()); diff != "" {
		t.Errorf("items changed (-before +after):\n%s", diff)
	}
}

// An interrupted DeleteMany leaves each key removed, untouched, or without
// its key but with a run of chunks from #1, which the next one finishes.
func TestInterruptedDeleteManyIsFinishedLater(t *testing.T) {
	ctx := context.Background()
	openFakes(t, func(t *testing.T, k *Keyring, f *fakeBackend) {
		for _, key := range []string{"k1", "k2", "k3"} {
			if err := k.Set(ctx, key, randomBytes(10<<10)); err != nil {
				t.Fatal(err)
			}
		}
		f.setFail(func(op, user string) error {
			if op == "delete" && user == "k2#a3" {
				return errors.New("connection reset")
			}
			return nil
		})
		if err := k.DeleteMany(ctx, "k1", "k2", "k3"); err == nil {
			t.Fatal("interrupted DeleteMany succeeded")
		}
		f.setFail(nil)
		for _, u := range f.users() {
			if !strings.HasPrefix(u, "k2#a") && !strings.HasPrefix(u, "k3") {
				t.Errorf("after the interrupted DeleteMany, %s is left", u)
			}
		}
		if err := k.DeleteMany(ctx, "k1", "k2", "k3"); err != nil {
			t.Fatal(err)
		}
		if users := f.users(); len(users) != 0 {
			t.Errorf("items left: %v", users)
		}
	})
}

func TestDeleteManyInvalidKey(t *testing.T) {
	k, f := openFake(t)
	if err := k.DeleteMany(context.Background(), "ok", "bad#key"); err == nil || !strings.Contains(err.Error(), "invalid key") {
		t.Errorf("DeleteMany with an invalid key = %v", err)
	}
	if n := f.callCount(); n != 0 {
		t.Errorf("%d backend calls, want 0", n)
	}
}

// The DeleteMany helper falls back to Delete for a Store without it.
func TestDeleteManyHelperOnMemory(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	for _, key := range []string{"a", "b", "c"} {
		if err := m.Set(ctx, key, []byte(key)); err != nil {
			t.Fatal(err)
		}
	}
	if err := DeleteMany(ctx, m, "a", "missing", "c"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b"}, m.Keys()); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}
