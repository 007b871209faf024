package agent

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mcpauth/keystore"
	"mcpauth/keystore/keystoretest"
)

func TestAddRemovesStaleSecrets(t *testing.T) {
	testAddRemovesStaleSecrets(t, t.TempDir(), keystore.NewMemory())
}

// testAddRemovesStaleSecrets: an Add interrupted after it stored secrets
// but before it wrote the config leaves them in the keychain, unlisted;
// the next Add of the name without them removes them all, chunks included,
// and leaves every other item alone.
func testAddRemovesStaleSecrets(t *testing.T, home string, store keystore.Store) {
	ctx := context.Background()
	a, err := New(Options{Home: home, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 10<<10) // several chunks in the keychain
	stale := map[string]string{
		clientSecretKey("s"): "stale secret",
		headersKey("s"):      `{"X-Api-Key":"` + big + `"}`,
		clientKeyKey("s"):    big,
		idpSecretKey("s"):    "stale idp secret",
		idpTokensKey("s"):    `{"id_token":"x"}`,
	}
	kept := map[string]string{
		headersKey("other"):      `{"X-Api-Key":"k"}`,
		clientSecretKey("other"): big,
		accessKey("s"):           `{"access_token":"not Add's to delete"}`,
	}
	for _, items := range []map[string]string{stale, kept} {
		for k, v := range items {
			if err := store.Set(ctx, k, []byte(v)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := a.Add(ctx, AddRequest{Name: "s", URL: "https://s.example/mcp"}); err != nil {
		t.Fatalf("Add: %v", err)
	}
	for k := range stale {
		if _, err := store.Get(ctx, k); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("after Add, %s: %v; want it deleted", k, err)
		}
	}
	for k, v := range kept {
		if got, err := store.Get(ctx, k); err != nil || string(got) != v {
			t.Errorf("after Add, %s = %d bytes, %v; want it unchanged", k, len(got), err)
		}
	}
	if h, err := a.secrets.headers(ctx, "s"); err != nil || len(h) != 0 {
		t.Errorf("headers of s = %v, %v; want none", h, err)
	}
	if k, ok := store.(*keystore.Keyring); ok {
		// Nothing else is left either: no chunk ("KEY#a1") of a deleted key.
		if users, ok := keychainUsers(t, k.Service()); ok {
			for _, u := range users {
				if key, _, _ := strings.Cut(u, "#"); kept[key] == "" {
					t.Errorf("keychain item %s is left after Add", u)
				}
			}
		}
	}

	// Adding the name again with secrets stores them; again without
	// deletes them.
	if err := a.Add(ctx, AddRequest{Name: "s", URL: "https://s.example/mcp", ClientID: "c", ClientSecret: "cs",
		Headers: map[string]string{"X-Api-Key": big}}); err != nil {
		t.Fatal(err)
	}
	if got, err := a.secrets.clientSecret(ctx, "s"); err != nil || got != "cs" {
		t.Errorf("client secret = %q, %v", got, err)
	}
	if err := a.Add(ctx, AddRequest{Name: "s", URL: "https://s.example/mcp"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{clientSecretKey("s"), headersKey("s")} {
		if _, err := store.Get(ctx, k); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("after the Add without secrets, %s: %v; want it deleted", k, err)
		}
	}
}

// keychainUsers lists the accounts of service's items with secret-tool, or
// returns false without it.
func keychainUsers(t *testing.T, service string) ([]string, bool) {
	t.Helper()
	users, ok, err := keystoretest.SecretToolUsers(service)
	if err != nil {
		t.Fatal(err)
	}
	return users, ok
}

// manyDeleterStore is a Memory that is a keystore.ManyDeleter, recording
// how it is called.
type manyDeleterStore struct {
	*keystore.Memory
	mu      sync.Mutex
	deletes []string // "Delete k" or "DeleteMany k1 k2 ..."
}

func (s *manyDeleterStore) Delete(ctx context.Context, key string) error {
	s.record("Delete " + key)
	return s.Memory.Delete(ctx, key)
}

func (s *manyDeleterStore) DeleteMany(ctx context.Context, keys ...string) error {
	s.record("DeleteMany " + strings.Join(keys, " "))
	for _, k := range keys {
		if err := s.Memory.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func (s *manyDeleterStore) record(call string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deletes = append(s.deletes, call)
}

// Add and Remove delete what they delete in one DeleteMany, through the
// token cache's wrapper, which still drops the server's cached token.
func TestAddDeletesInOneCall(t *testing.T) {
	ctx := context.Background()
	store := &manyDeleterStore{Memory: keystore.NewMemory()}
	a, err := New(Options{Home: t.TempDir(), Store: store, TokenCacheTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Add(ctx, AddRequest{Name: "s", URL: "https://s.example/mcp"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"DeleteMany " + strings.Join([]string{clientSecretKey("s"), headersKey("s"),
		clientKeyKey("s"), idpSecretKey("s"), idpTokensKey("s")}, " ")}
	if diff := cmp.Diff(want, store.deletes); diff != "" {
		t.Errorf("keystore deletes of Add (-want +got):\n%s", diff)
	}

	now := time.Now()
	a.tokens.put("s", a.tokens.generation("s"), &AccessToken{Value: "at"}, now, time.Minute)
	if err := a.secrets.delete(ctx, refreshKey("s"), accessKey("s")); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.tokens.get("s", now, time.Minute); ok {
		t.Error("deleting the token items left the cached token")
	}
}

// A failing delete names the keys and keeps the keystore's error.
func TestSecretsDeleteError(t *testing.T) {
	m := keystore.NewMemory()
	m.SetUnavailable(errors.New("no keychain"))
	err := secrets{store: m}.delete(context.Background(), refreshKey("s"), accessKey("s"))
	var ue *keystore.UnavailableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), refreshKey("s")) {
		t.Errorf("delete = %v", err)
	}
}
