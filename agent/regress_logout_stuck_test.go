package agent

import (
	"testing"

	"mcpauth/test/fakeas"
)

// TestRegressionLogoutStuckOnUnsupportedTokenType pins a bug: an AS that
// does not revoke access tokens answers unsupported_token_type (RFC 7009
// §2.2.1). Logout revoked and deleted the refresh token, then failed on
// the access token and kept it, "to retry"; every retry failed the same
// way, so neither Logout nor Remove could ever finish.
func TestRegressionLogoutStuckOnUnsupportedTokenType(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	at, rt := e.heldTokens(t, testServer)
	rec := recordRevocations(t, e, testServer, at, rt)
	rec.fail = map[string]string{"access": "unsupported_token_type"}
	if err := e.Logout(t.Context(), testServer); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if e.AS.Introspect(rt) {
		t.Error("the refresh token is still active")
	}
	if keys := e.serverKeys(testServer); len(keys) != 0 {
		t.Errorf("keystore still holds %v", keys)
	}
	if err := e.Remove(t.Context(), testServer); err != nil {
		t.Errorf("Remove: %v", err)
	}
}

// TestRegressionLogoutStuckAfterRegistrationGone pins a bug: when the AS
// had deleted mcpauth's dynamic registration, revocation answered
// invalid_client forever, so Logout and Remove never finished, although
// the tokens of a deleted client are dead (refresh treats invalid_client
// the same way).
func TestRegressionLogoutStuckAfterRegistrationGone(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	e.AS.RevokeClient(e.state(t, testServer).ClientID)
	if err := e.Logout(t.Context(), testServer); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if keys := e.serverKeys(testServer); len(keys) != 0 {
		t.Errorf("keystore still holds %v", keys)
	}
	if e.hasRegistration(t) {
		t.Error("the dead registration is still stored")
	}
	if err := e.Remove(t.Context(), testServer); err != nil {
		t.Errorf("Remove: %v", err)
	}
}
