package keystore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"time"
)

// DefaultTimeout bounds each keychain call. gh uses the same 3 s: Secret
// Service activation over D-Bus can hang instead of failing.
const DefaultTimeout = 3 * time.Second

// MaxValueSize is the largest value Set accepts. Tokens and client
// registrations are a few KB; the cap keeps a chunked value to a bounded
// number of items (about 175), which matters where every item is a
// process spawn (macOS) or a D-Bus round trip.
const MaxValueSize = 256 << 10

// Keyring is the Store over the OS keychain. Its entries live under the
// service ServiceName(home), so two mcpauth homes never see each other's
// secrets; values that are too big for one item are chunked (see chunk.go).
//
// A Keyring is safe for concurrent use; its operations run one at a time.
// Open one Keyring per home per process: two Keyrings for the same home do
// not serialise against each other, and neither do two processes, so writers
// of the same key in different processes need their own lock (the agent
// holds a cross-process lock per server).
type Keyring struct {
	service string
	timeout time.Duration
	b       backend
	gate    chan struct{} // admits one backend call; see osGate
	mu      chan struct{} // held for a whole operation, so chunk writes and cleanups never interleave
}

var (
	_ Store       = (*Keyring)(nil)
	_ ManyDeleter = (*Keyring)(nil)
)

// Option configures Open.
type Option func(*Keyring)

// WithTimeout sets how long one keychain call may take before the operation
// fails with *UnavailableError. A value of zero or less means DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(k *Keyring) {
		if d > 0 {
			k.timeout = d
		}
	}
}

// withBackend replaces the OS keychain, for tests.
func withBackend(b backend) Option {
	return func(k *Keyring) {
		k.b = b
		k.gate = make(chan struct{}, 1)
	}
}

// Open returns the keychain Store for the mcpauth home directory home. It
// does not touch the keychain: an unavailable keychain shows up as
// *UnavailableError from the first call, so commands that need no secret
// still work without one.
func Open(home string, opts ...Option) *Keyring {
	k := &Keyring{
		service: ServiceName(home),
		timeout: DefaultTimeout,
		b:       osKeyring{},
		gate:    osGate,
		mu:      make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(k)
	}
	return k
}

// ServiceName is the keychain service under which the Keyring for home keeps
// its items: "mcpauth:" and the first 16 hex digits of the SHA-256 of the
// absolute, cleaned home path. Symlinks are not resolved, since home may not
// exist yet. End-to-end tests use it to check that nothing was left behind:
//
//	secret-tool search --all service "$(name)"
//
// Every item's account ("username" attribute on Linux) is a Store key, or a
// key with a "#" suffix for a chunk. go-keyring sets the label that keychain
// UIs show itself ("Password for 'KEY' on 'mcpauth:…'") and offers no way to
// change it.
func ServiceName(home string) string {
	abs, err := filepath.Abs(home)
	if err != nil { // only when the working directory is gone
		abs = filepath.Clean(home)
	}
	sum := sha256.Sum256([]byte(abs))
	return "mcpauth:" + hex.EncodeToString(sum[:])[:16]
}

// Service returns the keychain service name of k's items.
func (k *Keyring) Service() string { return k.service }

// Get returns the value stored under key, ErrNotFound, an error wrapping
// ErrCorrupt, or *UnavailableError.
func (k *Keyring) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := k.lock(ctx, "get"); err != nil {
		return nil, err
	}
	defer k.unlock()
	return k.load(ctx, key)
}

// Set stores value under key. Values are base64-encoded, because go-keyring
// takes strings and secrets are bytes. If Set fails or ctx ends part way,
// the key holds either the old or the new value, never a mix (see chunk.go).
func (k *Keyring) Set(ctx context.Context, key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if len(value) > MaxValueSize {
		return fmt.Errorf("keystore set %s: value of %d bytes is over the %d-byte limit", key, len(value), MaxValueSize)
	}
	if err := k.lock(ctx, "set"); err != nil {
		return err
	}
	defer k.unlock()
	return k.store(ctx, key, base64.StdEncoding.EncodeToString(value), shortSum(value))
}

// Delete removes key and all its chunks. Deleting a missing key is not an
// error.
func (k *Keyring) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := k.lock(ctx, "delete"); err != nil {
		return err
	}
	defer k.unlock()
	return k.removeMany(ctx, []string{key})
}

// DeleteMany removes each of keys and all its chunks, like Delete for each,
// stopping at the first failure. On Secret Service it learns in one step
// which of them hold anything, so keys that hold nothing cost next to
// nothing; clearing the secrets a new server does not have is common.
func (k *Keyring) DeleteMany(ctx context.Context, keys ...string) error {
	for _, key := range keys {
		if err := checkKey(key); err != nil {
			return err
		}
	}
	if len(keys) == 0 {
		return nil
	}
	if err := k.lock(ctx, "delete"); err != nil {
		return err
	}
	defer k.unlock()
	return k.removeMany(ctx, keys)
}

// DeleteAll removes every item of this home from the keychain, for `mcpauth
// reset` and for tests cleaning up after themselves.
func (k *Keyring) DeleteAll(ctx context.Context) error {
	if err := k.lock(ctx, "delete"); err != nil {
		return err
	}
	defer k.unlock()
	_, err := call(ctx, k, "delete", func(b backend) (struct{}, error) {
		return struct{}{}, b.DeleteAll(k.service)
	})
	if err == ErrNotFound {
		return nil
	}
	return err
}

func (k *Keyring) lock(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("keystore %s: %w", op, err)
	}
	select {
	case k.mu <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("keystore %s: %w", op, ctx.Err())
	}
}

func (k *Keyring) unlock() { <-k.mu }

type result[T any] struct {
	v   T
	err error
}

// call runs f against the backend in its own goroutine and waits for it, for
// ctx, or for k.timeout, whichever comes first. go-keyring takes no context,
// so a call that is abandoned runs on; it keeps k.gate until it returns, so
// later calls wait for it within their own timeout instead of piling up.
//
// Errors come back mapped (mapError). When ctx ends, the error wraps
// ctx.Err() and is not an *UnavailableError: the caller gave up, the
// keychain did not fail.
func call[T any](ctx context.Context, k *Keyring, op string, f func(backend) (T, error)) (T, error) {
	var zero T
	timer := time.NewTimer(k.timeout)
	defer timer.Stop()
	noAnswer := func() error {
		err := &noAnswerError{after: k.timeout.String()}
		return &UnavailableError{Op: op, Err: err, Hint: hintFor(err)}
	}
	if err := ctx.Err(); err != nil {
		return zero, fmt.Errorf("keystore %s: %w", op, err)
	}
	select {
	case k.gate <- struct{}{}:
	case <-ctx.Done():
		return zero, fmt.Errorf("keystore %s: %w", op, ctx.Err())
	case <-timer.C:
		return zero, noAnswer()
	}
	done := make(chan result[T], 1)
	go func() {
		defer func() { <-k.gate }()
		defer func() {
			if r := recover(); r != nil { // go-keyring asserts on D-Bus replies
				done <- result[T]{err: fmt.Errorf("keychain backend panicked: %v", r)}
			}
		}()
		v, err := f(k.b)
		done <- result[T]{v, err}
	}()
	select {
	case r := <-done:
		return r.v, mapError(op, r.err)
	case <-ctx.Done():
		return zero, fmt.Errorf("keystore %s: %w", op, ctx.Err())
	case <-timer.C:
		return zero, noAnswer()
	}
}

// checkKey enforces Store's key contract: 1 to 256 bytes of printable ASCII
// without "#", which separates a key from its chunk suffix. The length
// keeps every item within macOS's ~4 KB command line with room to spare.
func checkKey(key string) error {
	if key == "" || len(key) > 256 {
		return fmt.Errorf("keystore: invalid key %q: must be 1 to 256 bytes", key)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c > 0x7e || c == '#' {
			return fmt.Errorf("keystore: invalid key %q: only printable ASCII without '#' is allowed", key)
		}
	}
	return nil
}
