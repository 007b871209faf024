package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// serverEntry is one server in servers.json. It never holds a secret:
// client secrets, header values and tokens live in the keystore.
type serverEntry struct {
	Config serverConfig `json:"config"`
	State  serverState  `json:"state"`
}

// serverConfig is what the user asked for with `mcpauth add`.
type serverConfig struct {
	URL               string            `json:"url"`
	ClientID          string            `json:"client_id,omitempty"`
	HasClientSecret   bool              `json:"has_client_secret,omitempty"`
	ClientMetadataURL string            `json:"client_metadata_url,omitempty"`
	Scopes            []string          `json:"scopes,omitempty"`
	HeaderNames       []string          `json:"header_names,omitempty"`
	NoResource        bool              `json:"no_resource,omitempty"`
	AuthorizeParams   map[string]string `json:"authorize_params,omitempty"`
	AllowHTTP         bool              `json:"allow_http,omitempty"`
	// Grant, ClientKeyAlg, HasClientKey, CrossApp: grants other than the
	// browser login (grants.go).
	Grant        string          `json:"grant,omitempty"`
	HasClientKey bool            `json:"has_client_key,omitempty"`
	ClientKeyAlg string          `json:"client_key_alg,omitempty"`
	CrossApp     *crossAppConfig `json:"cross_app,omitempty"`
	// AutoApprove: sign in again without asking in the tray, once a
	// sign-in has been approved (State.Approved).
	AutoApprove bool `json:"auto_approve,omitempty"`
}

// serverState is what the agent learned: discovery results and the
// non-secret facts about the tokens held in the keystore.
type serverState struct {
	Issuer           string     `json:"issuer,omitempty"`
	AuthorizationURL string     `json:"authorization_endpoint,omitempty"`
	TokenURL         string     `json:"token_endpoint,omitempty"`
	RevocationURL    string     `json:"revocation_endpoint,omitempty"`
	ClientKind       ClientKind `json:"client_kind,omitempty"`
	ClientID         string     `json:"client_id,omitempty"`
	AuthMethod       string     `json:"token_endpoint_auth_method,omitempty"`
	Scopes           []string   `json:"granted_scopes,omitempty"`
	LastLogin        time.Time  `json:"last_login,omitzero"`
	LastRefresh      time.Time  `json:"last_refresh,omitzero"`
	Resource         string     `json:"resource,omitempty"`
	LastError        string     `json:"last_error,omitempty"`
	LoggedOut        bool       `json:"logged_out,omitempty"`
	// LoginSeq counts the logins that ended, however they ended. A caller
	// that waited for the login lock and finds it changed shares the
	// outcome of the login it waited for (LoginDenied, LoginError, or the
	// tokens), rather than start a flow of its own: one approval and one
	// browser tab for many waiting requests. A counter, not a time, so no
	// clock can make a waiter miss or misread the outcome.
	LoginSeq    int    `json:"login_seq,omitempty"`
	LoginDenied bool   `json:"login_denied,omitempty"`
	LoginError  string `json:"login_error,omitempty"`
	// Approved: a sign-in was approved in the tray, or started from its
	// window, and succeeded (see Config.AutoApprove).
	Approved bool `json:"approved,omitempty"`
}

type registryFile struct {
	Servers map[string]*serverEntry `json:"servers"`
}

// registry is servers.json in the agent's home. Every process that shares
// the home reads it fresh and changes it under config.lock, so a CLI
// command run beside a running agent never loses the agent's writes.
type registry struct {
	home string
	// changed, if set, is called after each write (Agent's events).
	changed func()
}

func (r registry) path() string { return filepath.Join(r.home, "servers.json") }

func (r registry) load() (*registryFile, error) {
	data, err := os.ReadFile(r.path())
	if errors.Is(err, fs.ErrNotExist) {
		return &registryFile{Servers: map[string]*serverEntry{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("could not read %s: %w", r.path(), err)
	}
	var f registryFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("could not parse %s: %v (fix or delete the file)", r.path(), err)
	}
	if f.Servers == nil {
		f.Servers = map[string]*serverEntry{}
	}
	return &f, nil
}

// get returns one server's entry, or *NotFoundError.
func (r registry) get(name string) (*serverEntry, error) {
	f, err := r.load()
	if err != nil {
		return nil, err
	}
	e, ok := f.Servers[name]
	if !ok {
		return nil, &NotFoundError{Server: name}
	}
	return e, nil
}

func (r registry) names() ([]string, *registryFile, error) {
	f, err := r.load()
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(f.Servers))
	for n := range f.Servers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, f, nil
}

// update applies fn to the registry under the config lock and writes it
// back atomically (temp file + rename), so a crash never leaves a torn file.
func (r registry) update(ctx context.Context, fn func(*registryFile) error) error {
	if err := updateJSONFile(ctx, r.home, r.path(), "the server registry", r.load, fn); err != nil {
		return err
	}
	if r.changed != nil {
		r.changed()
	}
	return nil
}

// updateState changes one server's state; a server removed meanwhile is
// left removed.
func (r registry) updateState(ctx context.Context, name string, fn func(*serverState)) error {
	return r.update(ctx, func(f *registryFile) error {
		e, ok := f.Servers[name]
		if !ok {
			return &NotFoundError{Server: name}
		}
		fn(&e.State)
		return nil
	})
}
