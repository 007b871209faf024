package agent

import (
	"context"
	"fmt"

	"mcpauth/agent/oauthex"
)

// Logout revokes name's tokens at the authorization server (RFC 7009,
// step 8), the refresh token first because revoking it ends the grant.
// Each local secret is deleted only after its revocation succeeded; on a
// failure the error says what failed, and what is kept lets a retry finish.
func (a *Agent) Logout(ctx context.Context, name string) error {
	e, err := a.reg.get(name)
	if err != nil {
		return err
	}
	// Hold the refresh lock: a refresh racing the revocation could
	// otherwise store a fresh token after we deleted the old one.
	l, err := lockFile(ctx, a.lockPath(name, "refresh"))
	if err != nil {
		return err
	}
	defer l.Unlock()

	rt, hasRT, err := a.secrets.refresh(ctx, name)
	if err != nil {
		return err
	}
	acc, hasAT, err := a.secrets.access(ctx, name)
	if err != nil {
		return err
	}
	if hasRT || hasAT {
		if e.State.RevocationURL == "" {
			a.log.Warn("the authorization server has no revocation endpoint; deleting the tokens locally, they stay valid until they expire",
				"server", name, "issuer", e.State.Issuer)
		} else {
			auth, err := a.clientAuth(ctx, name, e)
			if err != nil {
				return fmt.Errorf("could not revoke the tokens of %s: %w", name, err)
			}
			client := a.policyClient(e.Config)
			if hasRT {
				if err := oauthex.Revoke(ctx, client, e.State.RevocationURL, auth, rt.RefreshToken, "refresh_token"); err != nil {
					if !a.revokedClientGone(ctx, name, e, err) {
						return fmt.Errorf("could not revoke the refresh token of %s at %s: %w; nothing was deleted, run `mcpauth logout %s` to try again",
							name, e.State.RevocationURL, err, name)
					}
					hasAT = false // died with the client
				}
				if err := a.secrets.delete(ctx, refreshKey(name)); err != nil {
					return err
				}
			}
			if hasAT {
				err := oauthex.Revoke(ctx, client, e.State.RevocationURL, auth, acc.AccessToken, "access_token")
				switch {
				case err == nil, a.revokedClientGone(ctx, name, e, err):
				case oauthErrorCode(err) == "unsupported_token_type":
					// RFC 7009 §2.2.1: this AS doesn't revoke access
					// tokens. A retry would fail the same way forever;
					// the token expires on its own.
					a.log.Warn("the authorization server does not revoke access tokens; the access token stays valid until it expires",
						"server", name, "issuer", e.State.Issuer, "expiry", acc.Expiry)
				default:
					return fmt.Errorf("revoked the refresh token of %s, but could not revoke its access token at %s: %w; run `mcpauth logout %s` to try again",
						name, e.State.RevocationURL, err, name)
				}
			}
		}
	}
	if err := a.secrets.delete(ctx, refreshKey(name), accessKey(name)); err != nil {
		return err
	}
	if err := a.dropUnusedRegistration(ctx, name, e.State); err != nil {
		return err
	}
	return a.reg.updateState(ctx, name, func(s *serverState) {
		s.Scopes, s.LastError, s.LoggedOut = nil, "", true
	})
}

// revokedClientGone reports whether a revocation failed because the AS no
// longer knows our dynamic client (invalid_client). Its tokens died with
// it, as refresh assumes too, so there is nothing left to revoke and
// retrying could never succeed: the dead registration is dropped and the
// logout goes on. A pre-registered client's error is the user's to fix.
func (a *Agent) revokedClientGone(ctx context.Context, name string, e *serverEntry, err error) bool {
	if e.State.ClientKind != ClientDynamic || oauthErrorCode(err) != "invalid_client" {
		return false
	}
	if ci, ok, _ := a.secrets.registration(ctx, e.State.Issuer); ok && ci.ClientID == e.State.ClientID {
		a.secrets.delete(ctx, registrationKey(e.State.Issuer))
	}
	a.log.Warn("the authorization server no longer knows mcpauth's registration; its tokens are void, deleting them locally",
		"server", name, "issuer", e.State.Issuer)
	return true
}

// dropUnusedRegistration deletes the dynamic registration name used, unless
// another signed-in server shares its issuer. Logging out leaves no secret
// of a dynamic client behind; the next login registers again.
func (a *Agent) dropUnusedRegistration(ctx context.Context, name string, st serverState) error {
	if st.ClientKind != ClientDynamic || st.Issuer == "" {
		return nil
	}
	f, err := a.reg.load()
	if err != nil {
		return err
	}
	for other, e := range f.Servers {
		if other != name && e.State.Issuer == st.Issuer && e.State.ClientKind == ClientDynamic && !e.State.LoggedOut {
			return nil
		}
	}
	return a.secrets.delete(ctx, registrationKey(st.Issuer))
}
