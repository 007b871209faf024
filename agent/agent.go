// Package agent owns all of mcpauth's state: the server registry, the OAuth
// engine, the keystore, every refresh, approvals and the audit record. The
// CLI, the bridges (localproxy) and the UI are its clients, through API.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"mcpauth/keystore"
)

// Options configure an Agent. Home and Store are required.
type Options struct {
	// Home is the config and runtime directory (MCPAUTH_HOME).
	Home string
	// Store holds the secrets. Production uses keystore.Open(Home).
	Store keystore.Store
	// Browser opens authorization URLs. Nil means never open one: the URL
	// is only reported through LoginOptions.OnURL.
	Browser Browser
	// Logger gets operational messages; never a secret. Nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. Tests inject one.
	Now func() time.Time
	// HTTPClient talks to the MCP servers themselves (the user-configured
	// URLs). Discovered URLs always go through oauthex.Policy's client.
	HTTPClient *http.Client
	// RefreshMargin is how long before expiry a token is refreshed
	// proactively. Zero means DefaultRefreshMargin.
	RefreshMargin time.Duration
	// LoginTimeout bounds an interactive login. Zero means
	// DefaultLoginTimeout.
	LoginTimeout time.Duration
	// TokenCacheTTL, if positive, lets Token answer from memory for that
	// long (see tokenCache). Long-running agents that serve bridges set
	// it; zero reads the keychain on every call.
	TokenCacheTTL time.Duration
}

// DefaultRefreshMargin is refreshed-before-expiry margin: long enough that a
// token handed to a bridge survives one slow request.
const DefaultRefreshMargin = 60 * time.Second

// DefaultHome returns MCPAUTH_HOME, or os.UserConfigDir()/mcpauth.
func DefaultHome() (string, error) {
	if h := os.Getenv("MCPAUTH_HOME"); h != "" {
		return filepath.Abs(h)
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", errors.New("could not find a config directory: set MCPAUTH_HOME")
	}
	return filepath.Join(dir, "mcpauth"), nil
}

var (
	_ API     = (*Agent)(nil)
	_ TrayAPI = (*Agent)(nil)
)

// Version is mcpauth's version, set by main (-ldflags -X). It is sent as
// software_version in dynamic registrations.
var Version = "dev"

// Agent is the state owner. Every method is safe for concurrent use, and
// for use beside other processes that share the same home: shared state
// lives in the keystore and servers.json, changed under file locks.
type Agent struct {
	home         string
	reg          registry
	secrets      secrets
	browser      Browser
	log          *slog.Logger
	now          func() time.Time
	httpClient   *http.Client
	margin       time.Duration
	loginTimeout time.Duration
	// sleep waits between device-flow polls; nil is a real timer. Tests
	// set it (device.go).
	sleep func(context.Context, time.Duration) error

	// For the bridges: see tokencache.go, clients.go, audit.go, bridge.go.
	tokens  tokenCache
	clients clientKeys
	audit   *auditLog
	urls    serverURLs
	bridge  bridgeState

	// For the tray: approvals.go, events.go.
	trays     trayCount
	approvals approvalQueue
	events    eventHub
}

// New returns an agent for opts.Home, creating the directory (0700).
func New(opts Options) (*Agent, error) {
	if opts.Home == "" || opts.Store == nil {
		return nil, errors.New("agent: Home and Store are required")
	}
	if err := os.MkdirAll(opts.Home, 0o700); err != nil {
		return nil, fmt.Errorf("could not create %s: %w", opts.Home, err)
	}
	a := &Agent{
		home:         opts.Home,
		reg:          registry{home: opts.Home},
		secrets:      secrets{store: opts.Store},
		browser:      opts.Browser,
		log:          opts.Logger,
		now:          opts.Now,
		httpClient:   opts.HTTPClient,
		margin:       opts.RefreshMargin,
		loginTimeout: opts.LoginTimeout,
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.httpClient == nil {
		a.httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	if a.margin == 0 {
		a.margin = DefaultRefreshMargin
	}
	if a.loginTimeout == 0 {
		a.loginTimeout = DefaultLoginTimeout
	}
	a.reg.changed = func() { a.events.publish(EventServers) }
	a.tokens.ttl = opts.TokenCacheTTL
	a.secrets.store = a.tokens.watch(opts.Store)
	a.clients.home = opts.Home
	a.audit = newAuditLog(opts.Home, a.now, a.log)
	return a, nil
}

// Close releases nothing today; it exists so callers needn't change when
// the agent grows resources.
func (a *Agent) Close() error { return nil }

func (a *Agent) lockPath(name, kind string) string {
	return filepath.Join(a.home, "locks", name+"."+kind+".lock")
}

// Run refreshes tokens proactively until ctx ends, so that a bridge asking
// for a token rarely waits for a refresh. Only `mcpauth agent` and the tray
// run it; short-lived commands refresh on demand in Token.
func (a *Agent) Run(ctx context.Context) error {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		a.refreshDue(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (a *Agent) refreshDue(ctx context.Context) {
	names, _, err := a.reg.names()
	if err != nil {
		a.log.Warn("could not read the server registry", "err", err)
		return
	}
	for _, name := range names {
		acc, ok, err := a.secrets.access(ctx, name)
		if err != nil || !ok || acc.Expiry.IsZero() {
			continue
		}
		// Due within twice the margin; capped at half the token's life, as
		// fresh caps the margin, so a short-lived token isn't refreshed on
		// every pass.
		window := 2 * a.margin
		if life := acc.Expiry.Sub(acc.ObtainedAt); !acc.ObtainedAt.IsZero() && life > 0 && window > life/2 {
			window = life / 2
		}
		if a.now().Add(window).Before(acc.Expiry) {
			continue
		}
		if _, ok, _ := a.secrets.refresh(ctx, name); !ok && !a.renewsItself(name) {
			continue
		}
		// Passed as "rejected" so refresh replaces this token although it
		// is outside the margin refresh itself applies, unless another
		// process already replaced it.
		if _, err := a.refresh(ctx, name, acc.AccessToken); err != nil {
			a.log.Warn("proactive refresh failed", "server", name, "err", err)
		}
	}
}
