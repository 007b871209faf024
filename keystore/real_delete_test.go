package keystore

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Delete and DeleteMany against Secret Service: every shape a key can be
// left in is removed, nothing else is, and keys that hold nothing are
// found to hold nothing.
func TestRealKeychainDelete(t *testing.T) {
	ctx := context.Background()
	k := openReal(t)
	put := func(user, value string) {
		t.Helper()
		if err := mapError("set", (osKeyring{}).Set(k.Service(), user, value)); err != nil {
			t.Fatal(err)
		}
	}
	for key, size := range map[string]int{"single": 100, "chunked": 10 << 10, "keep": 100, "alone": 10 << 10} {
		if err := k.Set(ctx, key, randomBytes(size)); err != nil {
			t.Fatal(err)
		}
	}
	put("orphans#a1", "AAAA") // an interrupted Delete
	put("orphans#a2", "AAAA")
	put("orphans#b1", "AAAA")
	put("half-set#a1", "AAAA") // an interrupted Set over a missing key
	put("half-set#a2", "AAAA")

	if f, ok := k.b.(finder); ok {
		users := []string{"single", "chunked#a1", "chunked#a2", "chunked#b1", "orphans", "orphans#b1", "nothing"}
		found, err := f.exists(k.Service(), users)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]bool{true, true, true, false, false, true, false}, found); diff != "" {
			t.Errorf("exists(%q) (-want +got):\n%s", users, diff)
		}
	}

	if err := k.DeleteMany(ctx, "missing", "single", "chunked", "orphans", "half-set", "missing2"); err != nil {
		t.Fatalf("DeleteMany: %v", err)
	}
	if err := k.Delete(ctx, "alone"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := k.Delete(ctx, "alone"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	if users, ok := secretToolUsers(t, k.Service()); ok {
		if diff := cmp.Diff([]string{"keep"}, users); diff != "" {
			t.Errorf("items left (-want +got):\n%s", diff)
		}
	}
	for _, key := range []string{"single", "chunked", "orphans", "alone"} {
		if _, err := k.Get(ctx, key); err != ErrNotFound {
			t.Errorf("Get %s after Delete = %v, want ErrNotFound", key, err)
		}
	}
	for _, user := range []string{"orphans#a1", "orphans#a2", "orphans#b1", "half-set#a1", "chunked#a1", "alone#a7"} {
		if _, err := (osKeyring{}).Get(k.Service(), user); mapError("get", err) != ErrNotFound {
			t.Errorf("item %s after Delete: %v, want it gone", user, err)
		}
	}
	if _, err := k.Get(ctx, "keep"); err != nil {
		t.Errorf("Get of the key that was not deleted: %v", err)
	}
}

// BenchmarkRealDelete measures Delete through the real keychain (see
// real_test.go for how to run it): of a key that holds nothing, which is
// what agent.Add does for every secret a new server does not have, and of
// a key holding a token-sized value or a 10 KB (7 chunk) one.
func BenchmarkRealDelete(b *testing.B) {
	ctx := context.Background()
	k := openReal(b)
	b.Run("missing", func(b *testing.B) {
		for b.Loop() {
			if err := k.Delete(ctx, "bench/missing"); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, size := range []struct {
		name string
		n    int
	}{{"small", 200}, {"10KB", 10 << 10}} {
		value := randomBytes(size.n)
		b.Run("existing/"+size.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if err := k.Set(ctx, "bench/"+size.name, value); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := k.Delete(ctx, "bench/"+size.name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
