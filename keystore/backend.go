package keystore

import "github.com/zalando/go-keyring"

// backend is the part of go-keyring that keystore uses. It exists so the
// chunking, timeouts and error mapping can be tested against a fake that
// enforces the platform limits; production always uses osKeyring.
//
// Implementations must be safe for concurrent use.
type backend interface {
	Get(service, user string) (string, error)
	Set(service, user, value string) error
	Delete(service, user string) error
	DeleteAll(service string) error
}

// finder is a backend that can tell which of several items exist in one
// cheap step. go-keyring has nothing like it: its Get and Delete of a
// missing item each cost a search, and keystore's Delete of a missing key
// used to make four such calls (the key, then its delete, then a probe of
// each chunk slot). Delete of a key that holds nothing is common (agent.Add
// clears every secret a new server does not have), so on Secret Service,
// where every go-keyring call is several D-Bus round trips, osKeyring
// implements it (find_unix.go). Backends without it get the per-key path.
type finder interface {
	// exists reports, for each of users, whether service holds an item
	// for it. It reads no secret.
	exists(service string, users []string) ([]bool, error)
}

// osKeyring is the OS keychain through go-keyring: Keychain on macOS,
// Credential Manager on Windows, Secret Service (D-Bus) elsewhere.
type osKeyring struct{}

func (osKeyring) Get(service, user string) (string, error) {
	if err := checkSessionBus(); err != nil {
		return "", err
	}
	return keyring.Get(service, user)
}

func (osKeyring) Set(service, user, value string) error {
	if err := checkSessionBus(); err != nil {
		return err
	}
	return keyring.Set(service, user, value)
}

func (osKeyring) Delete(service, user string) error {
	if err := checkSessionBus(); err != nil {
		return err
	}
	return keyring.Delete(service, user)
}

func (osKeyring) DeleteAll(service string) error {
	if err := checkSessionBus(); err != nil {
		return err
	}
	return keyring.DeleteAll(service)
}

// osGate admits one go-keyring call at a time for the whole process. A call
// that timed out keeps holding it until it really returns, so a hung
// keychain costs one stuck goroutine, not one per attempt. go-keyring shares
// one D-Bus connection per process anyway.
var osGate = make(chan struct{}, 1)
