package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mcpauth/keystore"
)

// newLocalAgent is an agent on a fresh home with an in-memory keystore and
// a settable clock, for the bridge-side state (clients, audit, cache).
func newLocalAgent(t *testing.T, home string, clock *manualClock, opts ...func(*Options)) *Agent {
	t.Helper()
	if home == "" {
		home = t.TempDir()
	}
	o := Options{Home: home, Store: keystore.NewMemory(), Now: clock.Now}
	for _, f := range opts {
		f(&o)
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// manualClock is a clock tests move by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func newManualClock() *manualClock {
	return &manualClock{t: time.Date(2026, 7, 28, 12, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestLocalClientKeys(t *testing.T) {
	ctx := context.Background()
	clock := newManualClock()
	a := newLocalAgent(t, "", clock)

	key, err := a.AddClient(ctx, "cursor")
	if err != nil {
		t.Fatal(err)
	}
	// "mcpa_" and 32 random bytes in unpadded base64url.
	if !strings.HasPrefix(key, ClientKeyPrefix) || len(key) != len(ClientKeyPrefix)+43 {
		t.Errorf("the key has the wrong form (length %d)", len(key))
	}
	key2, err := a.AddClient(ctx, "vscode")
	if err != nil {
		t.Fatal(err)
	}
	if key2 == key {
		t.Error("two clients got the same key")
	}

	// clients.json holds the hash, never the key, and only its owner reads it.
	path := filepath.Join(a.home, "clients.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), key) || strings.Contains(string(data), strings.TrimPrefix(key, ClientKeyPrefix)) {
		t.Error("LEAK: clients.json holds a key in clear")
	}
	sum := sha256.Sum256([]byte(key))
	if !strings.Contains(string(data), hex.EncodeToString(sum[:])) {
		t.Error("clients.json lacks the key's SHA-256")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("clients.json: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}

	for _, tt := range []struct {
		key, want string
		ok        bool
	}{
		{key, "cursor", true},
		{key2, "vscode", true},
		{"", "", false},
		{key + "x", "", false},
		{key[:len(key)-1], "", false},
		{strings.TrimPrefix(key, ClientKeyPrefix), "", false},
		{hex.EncodeToString(sum[:]), "", false}, // the stored hash is not a key
	} {
		if got, ok := a.ClientForKey(tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("ClientForKey(key #%d) = %q, %v; want %q, %v", len(tt.key), got, ok, tt.want, tt.ok)
		}
	}

	list, err := a.ListClients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "cursor" || list[1].Name != "vscode" || !list[0].Created.Equal(clock.Now()) {
		t.Errorf("ListClients = %+v", list)
	}

	var ce *ClientExistsError
	if _, err := a.AddClient(ctx, "cursor"); !errors.As(err, &ce) || ce.Client != "cursor" {
		t.Errorf("adding cursor again: %v, want *ClientExistsError", err)
	}
	if got, _ := a.ClientForKey(key); got != "cursor" {
		t.Error("a refused AddClient changed the existing key")
	}
	if _, err := a.AddClient(ctx, "../x"); err == nil {
		t.Error("AddClient accepted the name ../x")
	}

	if err := a.RemoveClient(ctx, "cursor"); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.ClientForKey(key); ok {
		t.Error("the removed client's key still works")
	}
	if got, ok := a.ClientForKey(key2); !ok || got != "vscode" {
		t.Error("removing cursor broke vscode's key")
	}
	var cnf *ClientNotFoundError
	if err := a.RemoveClient(ctx, "cursor"); !errors.As(err, &cnf) {
		t.Errorf("removing cursor twice: %v, want *ClientNotFoundError", err)
	}
}

// TestClientForKeySeesOtherProcess: the bridge's agent caches the hashes,
// and must still honour a key added, or revoked, by another process (an
// in-process `mcpauth client` when the agent was not yet running).
func TestClientForKeySeesOtherProcess(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	bridge := newLocalAgent(t, home, newManualClock())
	cli := newLocalAgent(t, home, newManualClock())

	if _, ok := bridge.ClientForKey("mcpa_nothing"); ok {
		t.Fatal("a key worked with no clients")
	}
	key, err := cli.AddClient(ctx, "cursor")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := bridge.ClientForKey(key); !ok || got != "cursor" {
		t.Fatal("the bridge did not see a client added by another process")
	}
	if err := cli.RemoveClient(ctx, "cursor"); err != nil {
		t.Fatal(err)
	}
	if _, ok := bridge.ClientForKey(key); ok {
		t.Fatal("the bridge still honours a key another process revoked")
	}
}

func TestClientForKeyDamagedFile(t *testing.T) {
	a := newLocalAgent(t, "", newManualClock())
	key, err := a.AddClient(context.Background(), "cursor")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.home, "clients.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.ClientForKey(key); ok {
		t.Error("a damaged clients.json must refuse every key, not keep the old ones")
	}
	if _, err := a.ListClients(context.Background()); err == nil || !strings.Contains(err.Error(), "fix or delete") {
		t.Errorf("ListClients: %v", err)
	}
}

func TestServerURLSeesChanges(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	a := newLocalAgent(t, home, newManualClock())
	other := newLocalAgent(t, home, newManualClock())

	var nf *NotFoundError
	if _, err := a.ServerURL("linear"); !errors.As(err, &nf) {
		t.Fatalf("ServerURL before add: %v", err)
	}
	if err := other.Add(ctx, AddRequest{Name: "linear", URL: "https://mcp.linear.app/mcp"}); err != nil {
		t.Fatal(err)
	}
	if u, err := a.ServerURL("linear"); err != nil || u != "https://mcp.linear.app/mcp" {
		t.Fatalf("ServerURL = %q, %v", u, err)
	}
	if err := other.Remove(ctx, "linear"); err != nil {
		t.Fatal(err)
	}
	if err := other.Add(ctx, AddRequest{Name: "linear", URL: "https://elsewhere.example/mcp"}); err != nil {
		t.Fatal(err)
	}
	if u, err := a.ServerURL("linear"); err != nil || u != "https://elsewhere.example/mcp" {
		t.Fatalf("after re-adding elsewhere: ServerURL = %q, %v", u, err)
	}
}
