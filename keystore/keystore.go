// Package keystore keeps mcpauth's secrets in the OS keychain.
//
// It wraps github.com/zalando/go-keyring (macOS Keychain, Windows Credential
// Manager, Secret Service on Linux) behind a small interface with a context
// and a timeout, chunks values over the platform limits, and namespaces every
// entry by the agent's home directory so two homes never share secrets.
//
// It fails closed: when no keychain is available the error says so and names
// the fix. There is no plaintext fallback. Memory exists for unit tests only.
package keystore

import (
	"context"
	"errors"
)

// ErrNotFound is returned by Get when the key holds no value.
var ErrNotFound = errors.New("keystore: secret not found")

// ErrCorrupt is wrapped by Get when the key holds something it cannot turn
// back into the value that was set: a chunk is missing or altered, or the
// item was not written by keystore. Get never returns wrong bytes instead.
// Callers treat it like a lost secret (log in again); the next Set or Delete
// of the key replaces it.
var ErrCorrupt = errors.New("keystore: stored secret is corrupt")

// Store holds secrets by key. Keys are short ASCII paths such as
// "server/linear/refresh"; values are opaque bytes.
//
// Implementations must be safe for concurrent use by multiple goroutines.
// Every call honours ctx and returns at the latest when ctx is done.
type Store interface {
	// Get returns the value stored under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key, replacing any earlier value.
	Set(ctx context.Context, key string, value []byte) error
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// ManyDeleter is a Store that deletes several keys for less than a Delete
// each. Keyring is one.
type ManyDeleter interface {
	// DeleteMany removes each of keys, like Delete, stopping at the first
	// failure.
	DeleteMany(ctx context.Context, keys ...string) error
}

// DeleteMany removes keys from s: with s.DeleteMany if s is a ManyDeleter,
// else with one Delete per key, stopping at the first failure.
func DeleteMany(ctx context.Context, s Store, keys ...string) error {
	if m, ok := s.(ManyDeleter); ok {
		return m.DeleteMany(ctx, keys...)
	}
	for _, key := range keys {
		if err := s.Delete(ctx, key); err != nil {
			return err
		}
	}
	return nil
}
