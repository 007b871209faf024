package agent

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"mcpauth/keystore"
)

// tokenCache keeps each server's current access token, with its configured
// headers, in memory for a short while (Options.TokenCacheTTL), so that a
// request through a bridge costs no keychain read: keystore admits one
// Secret Service call at a time per process, which would serialise a busy
// bridge.
//
// It never changes what is stored, only which token Token hands out first:
//   - every write or delete of a server's keystore items in this process
//     (refresh, login, logout, remove, add) drops that server's entry, and
//     an entry read before such a write is never stored (generations);
//   - an entry is served only while it stays valid beyond the whole
//     refresh margin (never longer than Agent.fresh, which may shorten the
//     margin for short-lived tokens; those are then simply not cached), so
//     a token about to expire goes down Token's usual path (lock, re-read,
//     refresh exactly once);
//   - a change made by another process is seen within the TTL; until
//     then a server that refuses the cached token gets the usual Retry,
//     which refreshes under the cross-process lock after re-reading the
//     keystore, and so picks up the other process's token.
type tokenCache struct {
	ttl time.Duration // 0: off

	mu      sync.Mutex
	gen     map[string]uint64
	entries map[string]cachedToken
}

type cachedToken struct {
	tok *AccessToken
	at  time.Time // when it was read or written
}

func (c *tokenCache) get(name string, now time.Time, margin time.Duration) (*AccessToken, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	e, ok := c.entries[name]
	c.mu.Unlock()
	if !ok || now.Sub(e.at) >= c.ttl || !freshAt(e.tok.Expiry, now, margin) {
		return nil, false
	}
	return cloneToken(e.tok), true
}

// generation is read before the keystore, and passed to put afterwards.
func (c *tokenCache) generation(name string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen[name]
}

// put stores tok unless name's items changed since gen was read.
func (c *tokenCache) put(name string, gen uint64, tok *AccessToken, now time.Time, margin time.Duration) {
	if c.ttl <= 0 || !freshAt(tok.Expiry, now, margin) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen[name] != gen {
		return
	}
	if c.entries == nil {
		c.entries = map[string]cachedToken{}
	}
	c.entries[name] = cachedToken{tok: cloneToken(tok), at: now}
}

func (c *tokenCache) invalidate(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == nil {
		c.gen = map[string]uint64{}
	}
	c.gen[name]++
	delete(c.entries, name)
}

// watch wraps s so that every Set or Delete of a server's item drops that
// server's entry, after the keystore call returns (also on failure: the
// item's state is then unknown).
func (c *tokenCache) watch(s keystore.Store) keystore.Store {
	return watchedStore{Store: s, changed: func(key string) {
		if rest, ok := strings.CutPrefix(key, "server/"); ok {
			if name, _, ok := strings.Cut(rest, "/"); ok {
				c.invalidate(name)
			}
		}
	}}
}

type watchedStore struct {
	keystore.Store
	changed func(key string)
}

func (s watchedStore) Set(ctx context.Context, key string, value []byte) error {
	defer s.changed(key)
	return s.Store.Set(ctx, key, value)
}

func (s watchedStore) Delete(ctx context.Context, key string) error {
	defer s.changed(key)
	return s.Store.Delete(ctx, key)
}

// freshAt reports whether a token with this expiry stays valid beyond the
// whole margin (or has no expiry): at least as strict as Agent.fresh.
func freshAt(expiry, now time.Time, margin time.Duration) bool {
	return expiry.IsZero() || now.Add(margin).Before(expiry)
}

// cloneToken copies tok so that no caller can change the cached one.
func cloneToken(tok *AccessToken) *AccessToken {
	cp := *tok
	cp.Scopes = slices.Clone(tok.Scopes)
	cp.Headers = maps.Clone(tok.Headers)
	return &cp
}
