//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keystore

import (
	dbus "github.com/godbus/dbus/v5"
	ss "github.com/zalando/go-keyring/secret_service"
)

var _ finder = osKeyring{}

// exists asks Secret Service which of users have an item under service,
// with go-keyring's own search (same collection, same unlock, the same
// "service" and "username" attributes its Get looks up) but without what
// Get adds for the secret itself: a session, a second unlock and GetSecret.
// The searches are sent together and their answers collected afterwards,
// so n users cost about one round trip more than one user: D-Bus keeps the
// order, and the daemon answers each as fast as a single search.
func (osKeyring) exists(service string, users []string) ([]bool, error) {
	if err := checkSessionBus(); err != nil {
		return nil, err
	}
	svc, err := ss.NewSecretService()
	if err != nil {
		return nil, err
	}
	collection := svc.GetLoginCollection()
	if err := svc.Unlock(collection.Path()); err != nil {
		return nil, err
	}
	calls := make([]*dbus.Call, len(users))
	for i, user := range users {
		calls[i] = collection.Go("org.freedesktop.Secret.Collection.SearchItems", 0, nil,
			map[string]string{"username": user, "service": service})
	}
	found := make([]bool, len(users))
	var firstErr error
	for i, c := range calls { // wait for every answer, even after an error
		<-c.Done
		var items []dbus.ObjectPath
		if err := c.Store(&items); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		found[i] = len(items) > 0
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return found, nil
}
