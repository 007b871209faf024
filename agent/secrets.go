package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"mcpauth/agent/oauthex"
	"mcpauth/keystore"
)

// The keystore items, one secret each, so a large registration never makes
// a token item exceed a platform limit and each can be deleted on its own:
//
//	server/NAME/access         storedAccess
//	server/NAME/refresh        storedRefresh
//	server/NAME/client_secret  the pre-registered client secret
//	server/NAME/headers        map of header name to value
//	client/ISSUER              oauthex.ClientInformation (dynamic registration)
func accessKey(name string) string       { return "server/" + name + "/access" }
func refreshKey(name string) string      { return "server/" + name + "/refresh" }
func clientSecretKey(name string) string { return "server/" + name + "/client_secret" }
func headersKey(name string) string      { return "server/" + name + "/headers" }
func registrationKey(issuer string) string {
	return "client/" + issuer
}

// storedAccess is the access token item. Expiry and scopes live beside the
// token so they can never disagree with it.
type storedAccess struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"`
	Scopes      []string  `json:"scopes,omitempty"`
	ObtainedAt  time.Time `json:"obtained_at"`
}

func (s storedAccess) String() string { return "storedAccess{REDACTED}" }

// storedRefresh binds the refresh token to the client and issuer that got
// it: a refresh must use that same client.
type storedRefresh struct {
	RefreshToken string `json:"refresh_token"`
	Issuer       string `json:"issuer"`
	ClientID     string `json:"client_id"`
}

func (s storedRefresh) String() string { return "storedRefresh{REDACTED}" }

// secrets reads and writes the items above. Its methods return keystore
// errors wrapped once; keystore.ErrNotFound passes through as (zero, false).
type secrets struct{ store keystore.Store }

func (s secrets) getJSON(ctx context.Context, key string, v any) (bool, error) {
	data, err := s.store.Get(ctx, key)
	if errors.Is(err, keystore.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("could not read %s from the keychain: %w", key, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		// The message names the item, never its content.
		return false, fmt.Errorf("keychain item %s is corrupt; run `mcpauth logout` and log in again", key)
	}
	return true, nil
}

func (s secrets) setJSON(ctx context.Context, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := s.store.Set(ctx, key, data); err != nil {
		return fmt.Errorf("could not save %s to the keychain: %w", key, err)
	}
	return nil
}

// delete removes keys in one keystore.DeleteMany: on the real keychain,
// keys that hold nothing (most of those Add clears) then cost one search
// together instead of several calls each.
func (s secrets) delete(ctx context.Context, keys ...string) error {
	if err := keystore.DeleteMany(ctx, s.store, keys...); err != nil {
		return fmt.Errorf("could not delete %s from the keychain: %w", strings.Join(keys, ", "), err)
	}
	return nil
}

// DeleteMany makes the token cache's watchedStore (tokencache.go) a
// keystore.ManyDeleter, so that secrets.delete reaches the Keyring's
// DeleteMany through it. Like its Delete, it drops the entries of the
// servers whose items it touched after the keystore call returns, also on
// failure.
func (s watchedStore) DeleteMany(ctx context.Context, keys ...string) error {
	defer func() {
		for _, k := range keys {
			s.changed(k)
		}
	}()
	return keystore.DeleteMany(ctx, s.Store, keys...)
}

func (s secrets) access(ctx context.Context, name string) (storedAccess, bool, error) {
	var a storedAccess
	ok, err := s.getJSON(ctx, accessKey(name), &a)
	return a, ok && a.AccessToken != "", err
}

func (s secrets) refresh(ctx context.Context, name string) (storedRefresh, bool, error) {
	var r storedRefresh
	ok, err := s.getJSON(ctx, refreshKey(name), &r)
	return r, ok && r.RefreshToken != "", err
}

func (s secrets) registration(ctx context.Context, issuer string) (*oauthex.ClientInformation, bool, error) {
	var ci oauthex.ClientInformation
	ok, err := s.getJSON(ctx, registrationKey(issuer), &ci)
	if !ok || err != nil || ci.ClientID == "" {
		return nil, false, err
	}
	return &ci, true, nil
}

func (s secrets) clientSecret(ctx context.Context, name string) (string, error) {
	data, err := s.store.Get(ctx, clientSecretKey(name))
	if errors.Is(err, keystore.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("could not read the client secret of %s from the keychain: %w", name, err)
	}
	return string(data), nil
}

func (s secrets) headers(ctx context.Context, name string) (map[string]string, error) {
	h := map[string]string{}
	_, err := s.getJSON(ctx, headersKey(name), &h)
	return h, err
}
