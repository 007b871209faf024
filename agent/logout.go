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
					return fmt.Errorf("could not revoke the refresh token of %s at %s: %w; nothing was deleted, run `mcpauth logout %s` to try again",
						name, e.State.RevocationURL, err, name)
				}
				if err := a.secrets.delete(ctx, refreshKey(name)); err != nil {
					return err
				}
			}
			if hasAT {
				if err := oauthex.Revoke(ctx, client, e.State.RevocationURL, auth, acc.AccessToken, "access_token"); err != nil {
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
