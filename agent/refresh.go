package agent

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"mcpauth/agent/oauthex"
)

// Token returns a valid access token for name (API.Token). A token that
// expires within the refresh margin is refreshed first (proactive refresh,
// step 7); if that refresh fails for a passing reason while the old token
// is still valid, the old token is returned.
//
// With Options.TokenCacheTTL it answers from memory while it can (see
// tokenCache), so that bridge requests don't read the keychain.
func (a *Agent) Token(ctx context.Context, name string) (*AccessToken, error) {
	if tok, ok := a.tokens.get(name, a.now(), a.margin); ok {
		return tok, nil
	}
	gen := a.tokens.generation(name)
	tok, err := a.token(ctx, name)
	if err != nil {
		return nil, err
	}
	if tok.Headers, err = a.secrets.headers(ctx, name); err != nil {
		return nil, err
	}
	a.tokens.put(name, gen, tok, a.now(), a.margin)
	return tok, nil
}

// Headers returns name's configured extra headers (API.Headers).
func (a *Agent) Headers(ctx context.Context, name string) (map[string]string, error) {
	if _, err := a.reg.get(name); err != nil {
		return nil, err
	}
	return a.secrets.headers(ctx, name)
}

func (a *Agent) token(ctx context.Context, name string) (*AccessToken, error) {
	if _, err := a.reg.get(name); err != nil {
		return nil, err
	}
	acc, ok, err := a.secrets.access(ctx, name)
	if err != nil {
		return nil, err
	}
	if ok && a.fresh(acc) {
		return acc.public(), nil
	}
	tok, err := a.refresh(ctx, name, "")
	if err != nil && ok && a.now().Before(acc.Expiry) && isTransient(err) {
		a.log.Warn("could not refresh yet; using the current token", "server", name, "err", err)
		return acc.public(), nil
	}
	return tok, err
}

// fresh reports whether acc stays valid beyond the refresh margin. A token
// without an expiry is used until the server rejects it.
func (a *Agent) fresh(acc storedAccess) bool {
	if acc.Expiry.IsZero() {
		return true
	}
	// Fix (found by test/e2e, TestE2E_LoginRefreshLogout): the margin is at
	// most half the token's lifetime. A token that lives no longer than the
	// margin (60 s by default) was never fresh, so every Token call
	// refreshed, and a caller that took the per-server lock after another
	// had just refreshed refreshed again: 8 concurrent `mcpauth token`
	// made up to 8 refreshes with a 3 s token.
	margin := a.margin
	if life := acc.Expiry.Sub(acc.ObtainedAt); !acc.ObtainedAt.IsZero() && life > 0 && margin > life/2 {
		margin = life / 2
	}
	return a.now().Add(margin).Before(acc.Expiry)
}

func (s storedAccess) public() *AccessToken {
	return &AccessToken{Value: s.AccessToken, Type: s.TokenType, Expiry: s.Expiry, Scopes: s.Scopes}
}

// refresh performs one refresh for name, exactly once across all processes
// on the machine: it takes the per-server lock, re-reads the keystore (a
// token some other process refreshed meanwhile is used as is, unless it is
// the one a server just rejected), refreshes, and writes the rotated
// refresh token back before the new access token is stored or used.
//
// x/oauth2's refresh can't carry the RFC 8707 resource parameter and its
// RetrieveError prints the response body, so the request is oauthex's.
func (a *Agent) refresh(ctx context.Context, name, rejected string) (*AccessToken, error) {
	l, err := lockFile(ctx, a.lockPath(name, "refresh"))
	if err != nil {
		return nil, err
	}
	defer l.Unlock()

	acc, ok, err := a.secrets.access(ctx, name)
	if err != nil {
		return nil, err
	}
	if ok && acc.AccessToken != rejected && a.fresh(acc) {
		return acc.public(), nil
	}
	e, err := a.reg.get(name)
	if err != nil {
		return nil, err
	}
	if e.Config.Grant != "" {
		return a.renewGrant(ctx, name, e) // the grant renews itself (grants.go)
	}
	rt, ok, err := a.secrets.refresh(ctx, name)
	if err != nil {
		return nil, err
	}
	if !ok || e.State.TokenURL == "" {
		reason := "not signed in"
		if !e.State.LastLogin.IsZero() {
			reason = "the access token expired and there is no refresh token"
		}
		return nil, &LoginRequiredError{Server: name, Reason: reason}
	}
	auth, err := a.clientAuth(ctx, name, e)
	if err != nil {
		return nil, err
	}
	params := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt.RefreshToken}}
	if !e.Config.NoResource && e.State.Resource != "" {
		params.Set("resource", e.State.Resource)
	}
	tok, err := oauthex.TokenRequest(ctx, a.policyClient(e.Config), e.State.TokenURL, auth, params, a.now)
	switch code := oauthErrorCode(err); {
	case err == nil:
	case code == "invalid_grant":
		// The refresh token is dead (expired, revoked, or reused
		// elsewhere): only a login helps. Forget both tokens.
		a.secrets.delete(ctx, refreshKey(name), accessKey(name))
		a.noteError(ctx, name, "the refresh token was refused (invalid_grant)")
		return nil, &LoginRequiredError{Server: name, Reason: "the authorization server refused the refresh token"}
	case code == "invalid_client":
		return nil, a.registrationGone(ctx, name, e)
	default:
		return nil, &transientError{fmt.Errorf("could not refresh the token for %s: %w", name, err)}
	}

	if tok.RefreshToken != "" && tok.RefreshToken != rt.RefreshToken {
		rt.RefreshToken = tok.RefreshToken
		if err := a.secrets.setJSON(ctx, refreshKey(name), rt); err != nil {
			return nil, fmt.Errorf("refreshed %s but could not save the rotated refresh token: %w", name, err)
		}
	}
	next := storedAccess{
		AccessToken: tok.AccessToken, TokenType: tok.Type(), Expiry: tok.Expiry,
		Scopes: grantedScopes(tok, e.State.Scopes), ObtainedAt: a.now(),
	}
	if err := a.secrets.setJSON(ctx, accessKey(name), next); err != nil {
		return nil, err
	}
	now := a.now()
	a.reg.updateState(ctx, name, func(s *serverState) {
		s.LastRefresh, s.Scopes, s.LastError = now, next.Scopes, ""
	})
	a.log.Info("refreshed token", "server", name, "expiry", next.Expiry)
	return next.public(), nil
}

// clientAuth rebuilds the client authentication a login used.
func (a *Agent) clientAuth(ctx context.Context, name string, e *serverEntry) (oauthex.ClientAuth, error) {
	if e.Config.HasClientKey {
		return a.keyClientAuth(ctx, name, e) // private_key_jwt (grants.go)
	}
	auth := oauthex.ClientAuth{ClientID: e.State.ClientID, Method: e.State.AuthMethod}
	switch e.State.ClientKind {
	case ClientPreRegistered:
		secret, err := a.secrets.clientSecret(ctx, name)
		if err != nil {
			return auth, err
		}
		auth.ClientSecret = secret
	case ClientDynamic:
		ci, ok, err := a.secrets.registration(ctx, e.State.Issuer)
		if err != nil {
			return auth, err
		}
		switch {
		case ok && ci.ClientID == e.State.ClientID:
			auth.ClientSecret = ci.ClientSecret
		case e.State.AuthMethod == oauthex.AuthMethodNone:
			// The issuer's slot holds another server's newer
			// registration (a taken loopback port forces one), or
			// none. That doesn't make ours invalid, and a public
			// client needs nothing stored beyond its ID; if the AS
			// did forget it, it answers invalid_client.
		default:
			return auth, a.registrationGone(ctx, name, e)
		}
	}
	return auth, nil
}

// registrationGone handles invalid_client: a dynamic registration is
// dropped so the next login registers again; tokens issued to it are
// useless now.
func (a *Agent) registrationGone(ctx context.Context, name string, e *serverEntry) error {
	pre := e.State.ClientKind == ClientPreRegistered
	if e.State.ClientKind == ClientDynamic {
		// Only if it is the registration this server used: another
		// server of the issuer may have replaced it with a newer one,
		// which is still good.
		if ci, ok, _ := a.secrets.registration(ctx, e.State.Issuer); ok && ci.ClientID == e.State.ClientID {
			a.secrets.delete(ctx, registrationKey(e.State.Issuer))
		}
	}
	a.secrets.delete(ctx, refreshKey(name), accessKey(name))
	a.noteError(ctx, name, "the authorization server no longer knows the client (invalid_client)")
	return &RegistrationGoneError{Server: name, Issuer: e.State.Issuer, PreRegistered: pre}
}

func (a *Agent) noteError(ctx context.Context, name, msg string) {
	a.reg.updateState(context.WithoutCancel(ctx), name, func(s *serverState) { s.LastError = msg })
}

// transientError marks a failure that may pass: the network, a 5xx, a
// timeout. The tokens are kept.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func isTransient(err error) bool {
	var t *transientError
	return errors.As(err, &t)
}
