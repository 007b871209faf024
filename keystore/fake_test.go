package keystore

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/zalando/go-keyring"
)

// windowsLimit is the strictest per-item limit of the supported platforms
// (Windows Credential Manager; macOS allows about 3000 bytes after base64).
const windowsLimit = 2560

// fakeBackend is an in-memory backend that behaves like go-keyring on the
// strictest platform: it refuses values over limit with ErrSetDataTooBig.
type fakeBackend struct {
	mu    sync.Mutex
	items map[string]string // user -> value; one service per fake
	limit int
	calls int
	// fail, if set, is asked before every call; a non-nil error fails it.
	fail func(op, user string) error
	// block, if set, makes every call wait until it is closed.
	block chan struct{}
}

func newFake() *fakeBackend {
	return &fakeBackend{items: make(map[string]string), limit: windowsLimit}
}

func (f *fakeBackend) enter(op, user string) error {
	f.mu.Lock()
	block, fail := f.block, f.fail
	f.calls++
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	if fail != nil {
		return fail(op, user)
	}
	return nil
}

func (f *fakeBackend) Get(service, user string) (string, error) {
	if err := f.enter("get", user); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.items[user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeBackend) Set(service, user, value string) error {
	if err := f.enter("set", user); err != nil {
		return err
	}
	if len(value) > f.limit {
		return keyring.ErrSetDataTooBig
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[user] = value
	return nil
}

func (f *fakeBackend) Delete(service, user string) error {
	if err := f.enter("delete", user); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.items[user]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.items, user)
	return nil
}

// exists makes the fake a finder, as osKeyring is on Secret Service; wrap
// it in noFinder for the path the other platforms take.
func (f *fakeBackend) exists(service string, users []string) ([]bool, error) {
	if err := f.enter("exists", strings.Join(users, " ")); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	found := make([]bool, len(users))
	for i, u := range users {
		_, found[i] = f.items[u]
	}
	return found, nil
}

// noFinder hides a backend's finder method: only backend's methods are
// promoted.
type noFinder struct{ backend }

func (f *fakeBackend) DeleteAll(service string) error {
	if err := f.enter("deleteall", ""); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.items)
	return nil
}

// users returns the stored item names, sorted.
func (f *fakeBackend) users() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.items))
}

func (f *fakeBackend) put(user, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[user] = value
}

func (f *fakeBackend) setFail(fail func(op, user string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

func (f *fakeBackend) setBlock(block chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.block = block
}

func (f *fakeBackend) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// chunkUsers is the item names of a value of n chunks in slot under key.
func chunkUsers(key string, slot byte, n int) []string {
	users := []string{key}
	for i := 1; i <= n; i++ {
		users = append(users, fmt.Sprintf("%s#%c%d", key, slot, i))
	}
	slices.Sort(users)
	return users
}
