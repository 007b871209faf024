package agent

// Local clients: the programs (IDEs, host apps) allowed to use the HTTP
// bridge, each with its own key, so that one can be revoked without the
// others and the audit record says which one used a server.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// ClientKeyPrefix starts every local client key, so that a key pasted into
// the wrong place (a log, a chat) is recognisable, as with GitHub's ghp_.
const ClientKeyPrefix = "mcpa_"

// clientsFile is clients.json in the agent's home. It never holds a key:
// only the SHA-256 of each. A plain hash is enough because a key is 32
// random bytes; a slow password hash protects guessable secrets only, and
// would cost every bridge request.
type clientsFile struct {
	Clients map[string]*clientEntry `json:"clients"`
}

type clientEntry struct {
	KeySHA256 string    `json:"key_sha256"` // hex
	Created   time.Time `json:"created"`
}

// clientKeys reads and writes clients.json. Writes happen under the
// registry's lock (config.lock) and replace the file atomically; reads for
// the bridge come from memory, reloaded when the file changes.
type clientKeys struct {
	home  string
	cache statCache[map[string][sha256.Size]byte]
}

func (c *clientKeys) path() string { return filepath.Join(c.home, "clients.json") }

func (c *clientKeys) load() (*clientsFile, error) {
	f := &clientsFile{Clients: map[string]*clientEntry{}}
	data, err := os.ReadFile(c.path())
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("could not read %s: %w", c.path(), err)
	}
	if err := json.Unmarshal(data, f); err != nil {
		return nil, fmt.Errorf("could not parse %s: %v (fix or delete the file; every local client then needs a new key)", c.path(), err)
	}
	if f.Clients == nil {
		f.Clients = map[string]*clientEntry{}
	}
	return f, nil
}

func (c *clientKeys) update(ctx context.Context, fn func(*clientsFile) error) error {
	defer c.cache.invalidate()
	return updateJSONFile(ctx, c.home, c.path(), "the local client keys", c.load, fn)
}

// hashes returns every client's key hash, from memory unless clients.json
// changed since it was read (one stat per call).
func (c *clientKeys) hashes() (map[string][sha256.Size]byte, error) {
	return c.cache.get(c.path(), func() (map[string][sha256.Size]byte, error) {
		f, err := c.load()
		if err != nil {
			return nil, err
		}
		m := make(map[string][sha256.Size]byte, len(f.Clients))
		for name, e := range f.Clients {
			var h [sha256.Size]byte
			if b, err := hex.DecodeString(e.KeySHA256); err == nil && len(b) == sha256.Size {
				copy(h[:], b)
				m[name] = h
			}
		}
		return m, nil
	})
}

// AddClient issues a key for a new local client (API.AddClient).
func (a *Agent) AddClient(ctx context.Context, name string) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("invalid client name %q: use letters, digits, '.', '_' and '-', at most 64", name)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	key := ClientKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(key))
	err := a.clients.update(ctx, func(f *clientsFile) error {
		if _, ok := f.Clients[name]; ok {
			return &ClientExistsError{Client: name}
		}
		f.Clients[name] = &clientEntry{KeySHA256: hex.EncodeToString(sum[:]), Created: a.now().UTC()}
		return nil
	})
	if err != nil {
		return "", err
	}
	a.log.Info("added a local client", "client", name)
	a.events.publish(EventClients)
	return key, nil
}

// ListClients returns the local clients by name (API.ListClients).
func (a *Agent) ListClients(ctx context.Context) ([]LocalClient, error) {
	f, err := a.clients.load()
	if err != nil {
		return nil, err
	}
	out := make([]LocalClient, 0, len(f.Clients))
	for name, e := range f.Clients {
		out = append(out, LocalClient{Name: name, Created: e.Created, LastUsed: a.audit.clientLastUse(name)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemoveClient revokes a local client's key (API.RemoveClient). A running
// agent's bridge refuses the key from its next request on.
func (a *Agent) RemoveClient(ctx context.Context, name string) error {
	err := a.clients.update(ctx, func(f *clientsFile) error {
		if _, ok := f.Clients[name]; !ok {
			return &ClientNotFoundError{Client: name}
		}
		delete(f.Clients, name)
		return nil
	})
	if err == nil {
		a.log.Info("removed a local client", "client", name)
		a.events.publish(EventClients)
	}
	return err
}

// ClientForKey returns the local client that key belongs to, for the HTTP
// bridge in this process. It compares SHA-256 hashes in constant time, and
// compares against every client, so the time taken says nothing about
// which hash, or how much of one, matched. It never logs the key.
func (a *Agent) ClientForKey(key string) (client string, ok bool) {
	if key == "" {
		return "", false
	}
	hashes, err := a.clients.hashes()
	if err != nil {
		a.log.Warn("could not read the local clients; refusing every key", "err", err)
		return "", false
	}
	sum := sha256.Sum256([]byte(key))
	for name, h := range hashes {
		if subtle.ConstantTimeCompare(sum[:], h[:]) == 1 {
			client, ok = name, true
		}
	}
	return client, ok
}

// statCache holds a value derived from a file and reloads it when the
// file's identity, size or modification time changes, so that a change
// made by another process is seen on the next call while an unchanged file
// costs one stat and no read.
type statCache[T any] struct {
	mu     sync.RWMutex
	fi     fs.FileInfo // nil: the file did not exist
	loaded bool
	val    T
}

func (c *statCache[T]) get(path string, load func() (T, error)) (T, error) {
	fi, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		var zero T
		return zero, err
	}
	c.mu.RLock()
	if c.loaded && sameVersion(c.fi, fi) {
		v := c.val
		c.mu.RUnlock()
		return v, nil
	}
	c.mu.RUnlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded && sameVersion(c.fi, fi) {
		return c.val, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.fi, c.val, c.loaded = fi, v, true
	return v, nil
}

// invalidate makes the next get reload, for writes within the same
// modification-time tick.
func (c *statCache[T]) invalidate() {
	c.mu.Lock()
	c.loaded = false
	c.mu.Unlock()
}

func sameVersion(a, b fs.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
