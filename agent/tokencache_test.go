package agent

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mcpauth/keystore"
)

// countingStore counts keychain reads of token and header items.
type countingStore struct {
	keystore.Store
	gets atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, key string) ([]byte, error) {
	if strings.HasPrefix(key, "server/") {
		s.gets.Add(1)
	}
	return s.Store.Get(ctx, key)
}

// cacheEnv is an agent with a registered server "linear" whose access token
// the test writes straight into the shared store, as a refresh would.
type cacheEnv struct {
	a     *Agent
	store *countingStore
	clock *manualClock
}

func newCacheEnv(t *testing.T, ttl time.Duration) *cacheEnv {
	t.Helper()
	e := &cacheEnv{store: &countingStore{Store: keystore.NewMemory()}, clock: newManualClock()}
	e.a = newLocalAgent(t, "", e.clock, func(o *Options) { o.Store = e.store; o.TokenCacheTTL = ttl })
	if err := e.a.Add(context.Background(), AddRequest{Name: "linear", URL: "https://linear.example/mcp",
		Headers: map[string]string{"X-Api-Key": "k"}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// storeToken writes an access token as another process would: through a
// secrets value that does not tell this agent's cache.
func (e *cacheEnv) storeToken(t *testing.T, value string, ttl time.Duration) {
	t.Helper()
	other := secrets{store: e.store.Store}
	if err := other.setJSON(context.Background(), accessKey("linear"),
		storedAccess{AccessToken: value, Expiry: e.clock.Now().Add(ttl)}); err != nil {
		t.Fatal(err)
	}
}

func (e *cacheEnv) token(t *testing.T) string {
	t.Helper()
	tok, err := e.a.Token(context.Background(), "linear")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Headers["X-Api-Key"] != "k" {
		t.Error("the token came without the configured headers")
	}
	return tok.Value
}

func TestTokenCacheServesFromMemory(t *testing.T) {
	e := newCacheEnv(t, 30*time.Second)
	e.storeToken(t, "at-1", time.Hour)
	if got := e.token(t); got != "at-1" {
		t.Fatalf("Token = %q", got)
	}
	reads := e.store.gets.Load()
	for range 100 {
		if got := e.token(t); got != "at-1" {
			t.Fatalf("Token = %q", got)
		}
	}
	if n := e.store.gets.Load() - reads; n != 0 {
		t.Errorf("100 cached Token calls read the keychain %d times, want 0", n)
	}

	// A caller changing what it got changes nothing for the next one.
	tok, _ := e.a.Token(context.Background(), "linear")
	tok.Headers["X-Api-Key"], tok.Value = "changed", "changed"
	if got := e.token(t); got != "at-1" {
		t.Errorf("after a caller changed its copy: %q", got)
	}

	// Another process's refresh is seen once the TTL has passed.
	e.storeToken(t, "at-2", time.Hour)
	if got := e.token(t); got != "at-1" {
		t.Errorf("within the TTL: %q, want the cached at-1", got)
	}
	e.clock.Add(31 * time.Second)
	if got := e.token(t); got != "at-2" {
		t.Errorf("after the TTL: %q, want at-2", got)
	}
}

// TestTokenCacheDroppedOnWrite: every write through this agent (refresh,
// login, logout, add) drops the entry at once.
func TestTokenCacheDroppedOnWrite(t *testing.T) {
	ctx := context.Background()
	e := newCacheEnv(t, time.Hour)
	e.storeToken(t, "at-1", 2*time.Hour)
	e.token(t)
	if err := e.a.secrets.setJSON(ctx, accessKey("linear"), storedAccess{AccessToken: "at-2", Expiry: e.clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := e.token(t); got != "at-2" {
		t.Errorf("after this agent stored at-2: %q", got)
	}
	if err := e.a.Logout(ctx, "linear"); err != nil {
		t.Fatal(err)
	}
	var lr *LoginRequiredError
	if _, err := e.a.Token(ctx, "linear"); !errors.As(err, &lr) {
		t.Errorf("after logout: %v, want *LoginRequiredError", err)
	}
	e.storeToken(t, "at-3", time.Hour)
	e.token(t)
	if err := e.a.Remove(ctx, "linear"); err != nil {
		t.Fatal(err)
	}
	var nf *NotFoundError
	if _, err := e.a.Token(ctx, "linear"); !errors.As(err, &nf) {
		t.Errorf("after remove: %v, want *NotFoundError", err)
	}
}

// TestTokenCacheNeverServesExpiringToken: a token within the refresh
// margin goes down Token's usual path (here: no refresh token, so a login
// is required), so the cache can't delay a refresh.
func TestTokenCacheNeverServesExpiringToken(t *testing.T) {
	e := newCacheEnv(t, time.Hour)
	e.storeToken(t, "at-1", 10*time.Minute)
	e.token(t)
	e.clock.Add(9*time.Minute + 30*time.Second) // 30 s left, margin 60 s
	var lr *LoginRequiredError
	if _, err := e.a.Token(context.Background(), "linear"); !errors.As(err, &lr) {
		t.Errorf("Token = %v, want *LoginRequiredError: an expiring token must not come from the cache", err)
	}
}

func TestTokenCacheOff(t *testing.T) {
	e := newCacheEnv(t, 0)
	e.storeToken(t, "at-1", time.Hour)
	e.token(t)
	reads := e.store.gets.Load()
	e.token(t)
	if e.store.gets.Load() == reads {
		t.Error("with TokenCacheTTL 0, Token must read the keychain every time")
	}
}

// TestTokenCacheStaleRead: a token read before a write must not be cached
// after it (the write's invalidation came first).
func TestTokenCacheStaleRead(t *testing.T) {
	c := &tokenCache{ttl: time.Hour}
	now := time.Now()
	gen := c.generation("s")
	c.invalidate("s") // a write while the reader was in the keychain
	c.put("s", gen, &AccessToken{Value: "old"}, now, time.Minute)
	if _, ok := c.get("s", now, time.Minute); ok {
		t.Error("a token read before a write was cached")
	}
	gen = c.generation("s")
	c.put("s", gen, &AccessToken{Value: "new"}, now, time.Minute)
	if tok, ok := c.get("s", now, time.Minute); !ok || tok.Value != "new" {
		t.Errorf("get = %v, %v", tok, ok)
	}
	c.watch(keystore.NewMemory()).Set(context.Background(), refreshKey("s"), []byte("x"))
	if _, ok := c.get("s", now, time.Minute); ok {
		t.Error("a write of the refresh token item left the entry")
	}
}
