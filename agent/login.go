package agent

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"mcpauth/agent/oauthex"
)

// DefaultLoginTimeout bounds how long a login waits for the browser.
const DefaultLoginTimeout = 5 * time.Minute

// Login runs the authorization-code flow with PKCE (steps 1–6). Only one
// interactive login per server runs at a time on the whole machine: a
// caller that finds one running waits for it and shares its outcome, so
// that many waiting requests make one approval and one browser tab. While
// the tray runs, the login first waits for the user's approval
// (approvals.go).
func (a *Agent) Login(ctx context.Context, name string, opts LoginOptions) error {
	e, err := a.reg.get(name)
	if err != nil {
		return err
	}
	seen := e.State.LoginSeq
	l, err := lockFile(ctx, a.lockPath(name, "login"))
	if err != nil {
		return err
	}
	defer l.Unlock()
	if e, err = a.reg.get(name); err != nil {
		return err
	}
	if e.State.LoginSeq != seen {
		// Someone else's login ended while we waited for the lock.
		if shared, err := sharedOutcome(name, e.State, opts.Scopes); shared {
			return err
		}
	}
	asked, err := a.awaitApproval(ctx, name, opts, e)
	if err != nil {
		if errors.Is(err, errApprovalTimeout) {
			err = fmt.Errorf("could not log in to %s: %w", name, err)
		}
		if ctx.Err() == nil {
			a.endLogin(ctx, name, err, "")
		}
		return err
	}
	lctx, cancel := context.WithTimeout(ctx, a.loginTimeout)
	defer cancel()
	if err := a.login(lctx, name, opts); err != nil {
		cause := err.Error()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("the login to %s timed out waiting for the browser; run `mcpauth login %s` again", name, name)
		} else {
			err = fmt.Errorf("could not log in to %s: %w", name, err)
		}
		if ctx.Err() != nil {
			// Our caller gave up: the callers waiting behind us try
			// themselves, rather than share a cancellation.
			a.reg.updateState(context.WithoutCancel(ctx), name, func(s *serverState) { s.LastError = cause })
			return err
		}
		a.endLogin(ctx, name, err, cause)
		return err
	}
	if asked || opts.Approved {
		a.reg.updateState(context.WithoutCancel(ctx), name, func(s *serverState) { s.Approved = true })
	}
	return nil
}

// sharedOutcome is the outcome, for a caller that waited for it, of the
// login that ended while it waited: the denial, the failure, or success if
// the tokens it left cover the scopes wanted. shared is false when the
// caller must run a login of its own (it wants more scopes).
func sharedOutcome(name string, st serverState, scopes []string) (shared bool, err error) {
	switch {
	case st.LoginDenied:
		return true, &LoginDeniedError{Server: name}
	case st.LoginError != "":
		return true, errors.New(st.LoginError)
	case !st.LoggedOut && coversScopes(st.Scopes, scopes):
		return true, nil
	}
	return false, nil
}

// endLogin records a login that failed (or was denied), for the callers
// waiting behind it (sharedOutcome). cause, if not "", is the server's
// LastError, as `mcpauth list` shows it.
func (a *Agent) endLogin(ctx context.Context, name string, err error, cause string) {
	var denied *LoginDeniedError
	a.reg.updateState(context.WithoutCancel(ctx), name, func(s *serverState) {
		s.LoginSeq++
		s.LoginDenied = errors.As(err, &denied)
		s.LoginError = ""
		if !s.LoginDenied {
			s.LoginError = err.Error()
		}
		if cause != "" {
			s.LastError = cause
		}
	})
}

func (a *Agent) login(ctx context.Context, name string, opts LoginOptions) error {
	e, err := a.reg.get(name)
	if err != nil {
		return err
	}
	cfg := e.Config
	if cfg.Grant != "" {
		return a.loginGrant(ctx, name, e, opts) // no browser (grants.go)
	}
	d, err := a.discover(ctx, name, cfg)
	if err != nil {
		return err
	}
	client := a.policyClient(cfg)
	scopes := requestScopes(cfg, d, append(slices.Clone(e.State.Scopes), opts.Scopes...), len(opts.Scopes) > 0)
	if device, err := a.useDevice(name, d.as, opts); err != nil || device { // device.go
		if err != nil {
			return err
		}
		return a.deviceLogin(ctx, name, cfg, d, client, scopes, opts)
	}

	state, err := randomString()
	if err != nil {
		return err
	}
	cs, err := listenCallback(a.preferredPort(ctx, cfg, d.as), state)
	if err != nil {
		return err
	}
	defer cs.close()
	ident, err := a.resolveClient(ctx, client, name, cfg, d.as, cs.redirectURI())
	if err != nil {
		return err
	}

	verifier := oauth2.GenerateVerifier()
	oc := oauth2.Config{
		ClientID:    ident.auth.ClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: d.as.AuthorizationEndpoint},
		RedirectURL: cs.redirectURI(),
		Scopes:      scopes, // AuthCodeURL omits scope when empty (step 6)
	}
	authOpts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if !cfg.NoResource {
		authOpts = append(authOpts, oauth2.SetAuthURLParam("resource", d.resource))
	}
	for k, v := range cfg.AuthorizeParams {
		authOpts = append(authOpts, oauth2.SetAuthURLParam(k, v))
	}
	authURL := oc.AuthCodeURL(state, authOpts...)

	if opts.OnURL != nil {
		opts.OnURL(authURL)
	}
	if !opts.NoBrowser && a.browser != nil {
		if err := a.browser.Open(ctx, authURL); err != nil {
			if deviceFallback(d.as, opts) { // device.go
				a.log.Warn("could not open the browser; signing in with a code instead", "server", name, "err", err)
				return a.deviceLogin(ctx, name, cfg, d, client, scopes, opts)
			}
			a.log.Warn("could not open the browser; open the URL yourself", "server", name, "err", err)
		}
	}
	res, err := cs.wait(ctx)
	if err != nil {
		return err
	}
	if err := checkIss(d.as, res); err != nil {
		return err
	}

	params := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {res.Code},
		"redirect_uri":  {cs.redirectURI()},
		"code_verifier": {verifier},
	}
	if !cfg.NoResource {
		params.Set("resource", d.resource)
	}
	tok, err := oauthex.TokenRequest(ctx, client, d.as.TokenEndpoint, ident.auth, params, a.now)
	if err != nil {
		if ident.kind == ClientDynamic && oauthErrorCode(err) == "invalid_client" {
			a.secrets.delete(ctx, registrationKey(d.as.Issuer))
			return &RegistrationGoneError{Server: name, Issuer: d.as.Issuer}
		}
		return fmt.Errorf("could not exchange the authorization code at %s: %w", d.as.TokenEndpoint, err)
	}
	return a.saveLogin(ctx, name, d, ident, scopes, tok)
}

// checkIss applies RFC 9207: when the AS advertises the iss parameter it
// must be present, and when present it must equal the issuer. Either
// mismatch discards the code before it is used (mix-up defence).
func checkIss(as *oauthex.AuthServerMetadata, res callbackResult) error {
	if res.HasIss && res.Iss != as.Issuer {
		return fmt.Errorf("the authorization response names issuer %q but %q was expected (RFC 9207): the code was discarded",
			sanitize(res.Iss), as.Issuer)
	}
	if !res.HasIss && as.AuthorizationResponseIssParameterSupported {
		return fmt.Errorf("the authorization server %s promises the iss parameter (RFC 9207) but the response had none: the code was discarded", as.Issuer)
	}
	return nil
}

// saveLogin stores a login's tokens: the refresh token first, so that a
// crash never leaves an access token whose refresh token was lost.
func (a *Agent) saveLogin(ctx context.Context, name string, d *discovered, ident clientIdentity, requested []string, tok *oauth2.Token) error {
	// Under the refresh lock: a refresh already in flight would otherwise
	// finish after us and write the old grant's rotated tokens over ours
	// (losing a step-up, and this grant's refresh token with it).
	l, err := lockFile(ctx, a.lockPath(name, "refresh"))
	if err != nil {
		return err
	}
	defer l.Unlock()
	granted := grantedScopes(tok, requested)
	if tok.RefreshToken != "" {
		if err := a.secrets.setJSON(ctx, refreshKey(name), storedRefresh{
			RefreshToken: tok.RefreshToken, Issuer: d.as.Issuer, ClientID: ident.auth.ClientID,
		}); err != nil {
			return err
		}
	} else if err := a.secrets.delete(ctx, refreshKey(name)); err != nil {
		return err
	}
	if err := a.secrets.setJSON(ctx, accessKey(name), storedAccess{
		AccessToken: tok.AccessToken, TokenType: tok.Type(), Expiry: tok.Expiry, Scopes: granted, ObtainedAt: a.now(),
	}); err != nil {
		return err
	}
	now := a.now()
	return a.reg.updateState(ctx, name, func(s *serverState) {
		seq, approved := s.LoginSeq, s.Approved
		*s = serverState{
			LoginSeq:         seq + 1,
			Approved:         approved,
			Issuer:           d.as.Issuer,
			AuthorizationURL: d.as.AuthorizationEndpoint,
			TokenURL:         d.as.TokenEndpoint,
			RevocationURL:    d.as.RevocationEndpoint,
			Resource:         d.resource,
			ClientKind:       ident.kind,
			ClientID:         ident.auth.ClientID,
			AuthMethod:       ident.auth.Method,
			Scopes:           granted,
			LastLogin:        now,
		}
	})
}

// requestScopes applies step 6: the configured scopes plus the challenge's
// (and, on step-up, those already held and newly demanded), else all of the
// PRM's scopes_supported, else none, so that scope is omitted.
func requestScopes(cfg serverConfig, d *discovered, extra []string, stepUp bool) []string {
	var s []string
	s = append(s, cfg.Scopes...)
	s = append(s, d.challenge.Scopes...)
	if stepUp {
		s = append(s, extra...)
	}
	if len(s) == 0 && d.prm != nil {
		s = append(s, d.prm.ScopesSupported...)
	}
	slices.Sort(s)
	return slices.Compact(s)
}

// grantedScopes is the token response's scope, or what was requested when
// the AS leaves it out (RFC 6749 §5.1: then it granted what was asked).
func grantedScopes(tok *oauth2.Token, requested []string) []string {
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		return strings.Fields(s)
	}
	return slices.Clone(requested)
}

func coversScopes(held, want []string) bool {
	for _, w := range want {
		if !slices.Contains(held, w) {
			return false
		}
	}
	return true
}

func oauthErrorCode(err error) string {
	var er *oauthex.ErrorResponse
	if errors.As(err, &er) {
		return er.Code
	}
	return ""
}

func randomString() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (a *Agent) policyClient(cfg serverConfig) *http.Client {
	return oauthex.Policy{AllowHTTP: cfg.AllowHTTP, ServerURL: cfg.URL}.Client()
}
