package keystore

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Memory is a Store in process memory, for unit tests of packages that use a
// Store. It is never used in production: mcpauth keeps secrets only in the
// OS keychain and fails closed without one (DESIGN.md, "Keychain").
//
// It enforces the same key contract as Keyring, copies values in and out,
// and can be made to fail like an unavailable keychain with SetUnavailable.
type Memory struct {
	mu          sync.Mutex
	items       map[string][]byte
	unavailable error
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory Store for tests.
func NewMemory() *Memory {
	return &Memory{items: make(map[string][]byte)}
}

// SetUnavailable makes every later call fail with *UnavailableError wrapping
// err, so tests can exercise the fail-closed path; nil makes it work again.
func (m *Memory) SetUnavailable(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unavailable = err
}

// Keys returns the keys that hold a value, sorted, so tests can check that
// nothing was left behind.
func (m *Memory) Keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]string, 0, len(m.items))
	for k := range m.items {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, key string) ([]byte, error) {
	if err := check(ctx, "get", key); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.failure("get"); err != nil {
		return nil, err
	}
	v, ok := m.items[key]
	if !ok {
		return nil, ErrNotFound
	}
	return slices.Clone(v), nil
}

// Set implements Store.
func (m *Memory) Set(ctx context.Context, key string, value []byte) error {
	if err := check(ctx, "set", key); err != nil {
		return err
	}
	if len(value) > MaxValueSize {
		return fmt.Errorf("keystore set %s: value of %d bytes is over the %d-byte limit", key, len(value), MaxValueSize)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.failure("set"); err != nil {
		return err
	}
	m.items[key] = append([]byte{}, value...)
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := check(ctx, "delete", key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.failure("delete"); err != nil {
		return err
	}
	delete(m.items, key)
	return nil
}

func check(ctx context.Context, op, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("keystore %s: %w", op, err)
	}
	return nil
}

// failure is the error SetUnavailable asked for, or nil. m.mu is held.
func (m *Memory) failure(op string) error {
	if m.unavailable == nil {
		return nil
	}
	return &UnavailableError{Op: op, Err: m.unavailable, Hint: hintFor(m.unavailable)}
}
