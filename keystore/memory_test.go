package keystore

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMemory(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	value := []byte("secret")
	if err := m.Set(ctx, "server/a/refresh", value); err != nil {
		t.Fatal(err)
	}
	value[0] = 'X'
	got, err := m.Get(ctx, "server/a/refresh")
	if err != nil || string(got) != "secret" {
		t.Fatalf("Get = %q, %v; want the value as it was when set", got, err)
	}
	got[0] = 'Y'
	if again, _ := m.Get(ctx, "server/a/refresh"); string(again) != "secret" {
		t.Errorf("changing a returned value changed the store: %q", again)
	}
	if diff := cmp.Diff([]string{"server/a/refresh"}, m.Keys()); diff != "" {
		t.Errorf("Keys (-want +got):\n%s", diff)
	}
	if err := m.Delete(ctx, "server/a/refresh"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "server/a/refresh"); err != ErrNotFound {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := m.Set(ctx, "bad#key", value); err == nil {
		t.Error("Set accepted a key with '#'")
	}
}

func TestMemoryUnavailable(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	m.SetUnavailable(errors.New("failed to unlock correct collection '/x'"))
	var ue *UnavailableError
	if _, err := m.Get(ctx, "k"); !errors.As(err, &ue) || ue.Op != "get" || ue.Hint != hintLocked {
		t.Errorf("Get = %v, want *UnavailableError for get with the locked hint", err)
	}
	if err := m.Set(ctx, "k", []byte("v")); !errors.As(err, &ue) {
		t.Errorf("Set = %v, want *UnavailableError", err)
	}
	m.SetUnavailable(nil)
	if err := m.Set(ctx, "k", []byte("v")); err != nil {
		t.Errorf("Set after SetUnavailable(nil): %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Get(cctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context = %v", err)
	}
}
