package agent

import (
	"context"
	"log/slog"
	"time"
)

// API is what every client of the agent calls: the CLI, the bridges in
// localproxy and the UI. *Agent implements it in-process; *Client implements
// it over the control socket (control.go), so a command works the same with
// or without a running agent.
//
// Implementations must be safe for concurrent use.
type API interface {
	// Add registers a remote MCP server. Secrets in req go to the keychain;
	// the config file only ever holds non-secret fields.
	Add(ctx context.Context, req AddRequest) error
	// Remove logs out (revoking at the authorization server) and forgets
	// the server. If the revocation fails the server is kept and the error
	// says why.
	Remove(ctx context.Context, name string) error
	// List returns every server with its state. It never returns a secret.
	List(ctx context.Context) ([]ServerStatus, error)
	// Login runs the interactive authorization-code flow now. Concurrent
	// logins for one server share one flow.
	Login(ctx context.Context, name string, opts LoginOptions) error
	// Logout revokes the tokens at the authorization server (RFC 7009),
	// refresh token first, and deletes them locally only on success.
	Logout(ctx context.Context, name string) error
	// Token returns a valid access token, refreshing it first if it expires
	// within the refresh margin. It returns *LoginRequiredError when only an
	// interactive login can help.
	Token(ctx context.Context, name string) (*AccessToken, error)
	// Retry is called when the server refused a token (401, or 403
	// insufficient_scope) and returns the token to retry with. See
	// Challenge and Transport.
	Retry(ctx context.Context, name string, c Challenge) (*AccessToken, error)
	// Headers returns the server's configured extra headers (secrets),
	// for requests sent before any token is held: a server that needs no
	// OAuth may still need its API key.
	Headers(ctx context.Context, name string) (map[string]string, error)

	// AddClient issues a key for a new local client of the HTTP bridge
	// (`mcpauth client add`). The key is returned once and never stored:
	// the agent keeps only its SHA-256. It returns *ClientExistsError if
	// the name is taken.
	AddClient(ctx context.Context, name string) (key string, err error)
	// ListClients returns the local clients, never their keys.
	ListClients(ctx context.Context) ([]LocalClient, error)
	// RemoveClient revokes a local client's key at once. It returns
	// *ClientNotFoundError if there is no such client.
	RemoveClient(ctx context.Context, name string) error
}

// TrayAPI is what the tray app needs beyond API: the approval queue, the
// change feed, per-server settings and the agent's status. *Agent and
// *Client implement it. Implementations must be safe for concurrent use.
type TrayAPI interface {
	API
	// Approvals lists the logins waiting for approval, oldest first.
	Approvals(ctx context.Context) ([]Approval, error)
	// Approve lets a waiting login go on (the browser opens); Deny fails
	// it, and every request waiting on it, with *LoginDeniedError.
	Approve(ctx context.Context, id string) error
	Deny(ctx context.Context, id string) error
	// Subscribe reports changes until ctx ends or the agent goes away,
	// then closes the channel. The subscription is in place when it
	// returns: subscribe, then read, and no change is missed.
	Subscribe(ctx context.Context) (<-chan Event, error)
	// AttachTray is Subscribe for a tray app: while it is attached, logins
	// wait for the user's approval, except those with
	// LoginOptions.Approved.
	AttachTray(ctx context.Context) (<-chan Event, error)
	// Update changes a server's settings.
	Update(ctx context.Context, name string, u ServerUpdate) error
	// Status reports the agent's pid, version, home and HTTP bridge.
	Status(ctx context.Context) (*AgentStatus, error)
}

// ServerUpdate changes a server's settings; nil fields are left alone.
type ServerUpdate struct {
	// ClientID sets a pre-registered client ID ("" removes it), for an
	// authorization server that supports no automatic registration
	// (*ClientIDRequiredError).
	ClientID *string `json:"client_id,omitempty"`
	// ClientSecret goes to the keychain ("" deletes it). A secret; String
	// redacts it.
	ClientSecret *string `json:"client_secret,omitempty"`
	// AutoApprove lets the server sign in again without asking in the
	// tray, once a sign-in to it has been approved.
	AutoApprove *bool `json:"auto_approve,omitempty"`
}

// String never shows the client secret.
func (u ServerUpdate) String() string { return "ServerUpdate{REDACTED}" }

// AddRequest describes a server to register. See `mcpauth add --help`.
type AddRequest struct {
	Name string `json:"name"`
	URL  string `json:"url"`

	// Pre-registered client. ClientSecret is a secret: it goes to the
	// keychain and is redacted by String.
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	// ClientMetadataURL is a Client ID Metadata Document URL, used as the
	// client_id when the authorization server supports it.
	ClientMetadataURL string `json:"client_metadata_url,omitempty"`

	Scopes []string `json:"scopes,omitempty"`
	// Headers are sent on every request to the server. Their values are
	// secrets (API keys, often) and go to the keychain.
	Headers map[string]string `json:"headers,omitempty"`
	// NoResource omits the RFC 8707 resource parameter, for authorization
	// servers that reject it (Entra ID).
	NoResource      bool              `json:"no_resource,omitempty"`
	AuthorizeParams map[string]string `json:"authorize_params,omitempty"`
	// AllowHTTP permits plain http to a non-loopback host.
	AllowHTTP bool `json:"allow_http,omitempty"`

	// ClientCredentials gets tokens with the client credentials grant
	// (RFC 6749 §4.4) instead of a browser login: the server is used by a
	// machine identity, ClientID with ClientSecret or ClientKey.
	ClientCredentials bool `json:"client_credentials,omitempty"`
	// ClientKey is a PEM private key: the client authenticates with
	// private_key_jwt (RFC 7523 §2.2) signed with ClientKeyAlg (empty:
	// the key's usual algorithm). A secret: it goes to the keychain.
	ClientKey    string `json:"client_key,omitempty"`
	ClientKeyAlg string `json:"client_key_alg,omitempty"`
	// CrossApp gets tokens by cross-app access (xaa.go) from an
	// enterprise IdP instead of a browser login.
	CrossApp *CrossAppRequest `json:"cross_app,omitempty"`
}

// String never shows the client secret or header values.
func (r AddRequest) String() string {
	return "AddRequest{" + r.Name + " " + r.URL + "}"
}

// LoginOptions tune an interactive login.
type LoginOptions struct {
	// NoBrowser only reports the URL through OnURL; it does not open it.
	NoBrowser bool `json:"no_browser,omitempty"`
	// OnURL, if set, receives the authorization URL as soon as it is known.
	// The URL holds no secret (PKCE sends only the challenge).
	OnURL func(url string) `json:"-"`
	// Scopes, if set, are requested in addition to the configured ones
	// (step-up).
	Scopes []string `json:"scopes,omitempty"`
	// Device signs in with the device authorization grant (RFC 8628)
	// instead of the browser on this machine: the user enters a code on
	// any device. Without it, the device flow is still chosen when no
	// browser can be opened (device.go says exactly when).
	Device bool `json:"device,omitempty"`
	// OnDeviceCode, if set, receives what the user needs for the device
	// flow, as soon as it is known. Without it the device flow is only
	// chosen when asked for (Device) or when no one gets the URL either.
	OnDeviceCode func(DeviceCode) `json:"-"`
	// Approved says the user asked for this login in the tray's window,
	// so it needs no approval there (see TrayAPI.AttachTray).
	Approved bool `json:"approved,omitempty"`
	// OnPending, if set, is called when the login starts waiting for the
	// user's approval in the tray.
	OnPending func() `json:"-"`
}

// State is a server's summary state.
type State string

const (
	StateSignedIn   State = "signed in"
	StateNeedsLogin State = "needs login"
	StateError      State = "error"
)

// ClientKind says how mcpauth identifies itself to a server's
// authorization server (MCP authorization, step 4).
type ClientKind string

const (
	ClientPreRegistered ClientKind = "pre-registered"
	ClientCIMD          ClientKind = "cimd"
	ClientDynamic       ClientKind = "dynamic"
)

// ServerStatus is one row of `mcpauth list`. It holds no secret.
type ServerStatus struct {
	Name        string     `json:"name"`
	URL         string     `json:"url"`
	State       State      `json:"state"`
	Error       string     `json:"error,omitempty"`
	Issuer      string     `json:"issuer,omitempty"`
	ClientKind  ClientKind `json:"client_kind,omitempty"`
	Scopes      []string   `json:"scopes,omitempty"`
	Expiry      time.Time  `json:"expiry,omitzero"`
	LastRefresh time.Time  `json:"last_refresh,omitzero"`
	LastLogin   time.Time  `json:"last_login,omitzero"`
	// LastUsed is when a local client last used the server through the
	// HTTP bridge, and LastUsedBy which one (from the audit record).
	LastUsed   time.Time `json:"last_used,omitzero"`
	LastUsedBy string    `json:"last_used_by,omitempty"`
	// AutoApprove: the server signs in again without asking in the tray,
	// once a sign-in to it has been approved (ServerUpdate.AutoApprove).
	AutoApprove bool `json:"auto_approve,omitempty"`
}

// LocalClient is a program allowed to use the HTTP bridge, such as an IDE,
// identified by its own key. It holds no secret.
type LocalClient struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	// LastUsed is when it last used the bridge, zero if never (as far as
	// the audit record's recent part tells).
	LastUsed time.Time `json:"last_used,omitzero"`
}

// AccessToken is a bearer token for one server. Value is a secret: String
// and LogValue redact it, so it is safe to pass to fmt and slog.
type AccessToken struct {
	Value  string    `json:"access_token"`
	Type   string    `json:"token_type,omitempty"`
	Expiry time.Time `json:"expiry,omitzero"`
	Scopes []string  `json:"scopes,omitempty"`
	// Headers are the server's configured extra headers (secrets too).
	Headers map[string]string `json:"headers,omitempty"`
}

func (t *AccessToken) String() string   { return "AccessToken{REDACTED}" }
func (t *AccessToken) GoString() string { return t.String() }

// LogValue keeps the token out of slog output.
func (t *AccessToken) LogValue() slog.Value {
	return slog.GroupValue(slog.Time("expiry", t.Expiry), slog.Any("scopes", t.Scopes))
}
