package agent

import (
	"context"
	"fmt"
)

// Update changes a server's settings (TrayAPI.Update): the pre-registered
// client the tray's window asks for when a server supports no automatic
// registration, and whether the server signs in again without asking.
// The secret goes to the keychain before the config changes, as in Add.
func (a *Agent) Update(ctx context.Context, name string, u ServerUpdate) error {
	e, err := a.reg.get(name)
	if err != nil {
		return err
	}
	clientID := e.Config.ClientID
	if u.ClientID != nil {
		clientID = *u.ClientID
	}
	if u.ClientSecret != nil && *u.ClientSecret != "" {
		if clientID == "" {
			return fmt.Errorf("could not update %s: a client secret needs a client ID", name)
		}
		if err := a.secrets.store.Set(ctx, clientSecretKey(name), []byte(*u.ClientSecret)); err != nil {
			return fmt.Errorf("could not save the client secret of %s to the keychain: %w", name, err)
		}
	} else if u.ClientSecret != nil || (u.ClientID != nil && clientID == "") {
		if err := a.secrets.delete(ctx, clientSecretKey(name)); err != nil {
			return err
		}
	}
	return a.reg.update(ctx, func(f *registryFile) error {
		e, ok := f.Servers[name]
		if !ok {
			return &NotFoundError{Server: name}
		}
		if u.ClientID != nil {
			e.Config.ClientID = clientID
		}
		if u.ClientSecret != nil {
			e.Config.HasClientSecret = *u.ClientSecret != ""
		}
		if clientID == "" {
			e.Config.HasClientSecret = false
		}
		if u.AutoApprove != nil {
			e.Config.AutoApprove = *u.AutoApprove
		}
		return nil
	})
}
