package agent

import (
	"errors"
	"strings"
	"testing"
	"time"

	"mcpauth/agent/oauthex"
	"mcpauth/test/fakeas"
)

const idpClient = "mcpauth-at-idp"

// newXAAEnv starts an enterprise IdP and a resource AS that trusts it, and
// adds testServer for cross-app access with idToken (may be "").
func newXAAEnv(t *testing.T, idToken func(idp *fakeas.Server) string, asCfg fakeas.Config) (*testEnv, *fakeas.Server) {
	t.Helper()
	idp, err := fakeas.Start(fakeas.Config{
		IdP:             &fakeas.IdPConfig{ResourceClientID: ccClient, IDTokens: map[string]string{}},
		PreRegistered:   map[string]string{idpClient: ""},
		ScopesSupported: []string{"openid", "offline_access"},
		Subject:         "alice@corp.example",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	asCfg.TrustIdP = &fakeas.IdPTrust{Issuer: idp.Issuer(), Key: idp.IdPKey()}
	if asCfg.PreRegistered == nil {
		asCfg.PreRegistered = map[string]string{ccClient: ccSecret}
	}
	e := newTestEnv(t, asCfg, func(r *AddRequest) {
		r.ClientID, r.ClientSecret = ccClient, ccSecret
		r.CrossApp = &CrossAppRequest{IdPIssuer: idp.Issuer(), IdPClientID: idpClient}
		if idToken != nil {
			r.CrossApp.IDToken = idToken(idp)
		}
	})
	return e, idp
}

// TestCrossAppAccess: an ID token given at add is exchanged at the IdP for
// an ID-JAG, which the AS takes with the JWT bearer grant; no browser.
func TestCrossAppAccess(t *testing.T) {
	e, idp := newXAAEnv(t, func(idp *fakeas.Server) string { return idp.IDToken("alice", idpClient, 2*time.Hour) }, fakeas.Config{})
	tok := e.token(t, testServer)
	if !e.AS.Introspect(tok.Value) {
		t.Fatal("the token is not active at the AS")
	}
	if n := e.Browser.Opens(); n != 0 {
		t.Errorf("the browser opened %d times", n)
	}
	ex := idp.TokenRequests()
	if len(ex) != 1 {
		t.Fatalf("%d requests at the IdP, want 1 token exchange", len(ex))
	}
	for k, want := range map[string]string{
		"grant_type": oauthex.GrantTypeTokenExchange, "subject_token_type": oauthex.TokenTypeIDToken,
		"requested_token_type": oauthex.TokenTypeIDJAG, "audience": e.AS.Issuer(), "resource": e.AS.URL(),
		"client_id": idpClient, "scope": "admin mcp",
	} {
		if got := ex[0].Get(k); got != want {
			t.Errorf("token exchange %s = %q, want %q", k, got, want)
		}
	}
	bearer := e.AS.TokenRequests()
	if len(bearer) != 1 || bearer[0].Get("grant_type") != oauthex.GrantTypeJWTBearer || bearer[0].Get("resource") != e.AS.URL() {
		t.Fatalf("AS requests: %d, grant %q", len(bearer), bearer[0].Get("grant_type"))
	}
	if m := e.AS.TokenAuthMethods()[0]; m != fakeas.AuthClientSecretBasic {
		t.Errorf("the MCP client authenticated with %s at the AS", m)
	}

	// Renewal runs both steps again with the held ID token.
	e.Clock.Advance(59*time.Minute + 30*time.Second)
	e.token(t, testServer)
	if n, m := idp.Stats().TokenExchanges, e.AS.Stats().JWTBearerGrants; n != 2 || m != 2 {
		t.Errorf("after renewal: %d exchanges, %d bearer grants; want 2, 2", n, m)
	}
}

// TestCrossAppAccessIdPLogin: without an ID token, Token needs a login;
// Login signs in at the IdP (OIDC, PKCE, nonce), and later renewals refresh
// the ID token at the IdP without the browser.
func TestCrossAppAccessIdPLogin(t *testing.T) {
	e, idp := newXAAEnv(t, nil, fakeas.Config{})
	var lr *LoginRequiredError
	if _, err := e.Token(t.Context(), testServer); !errors.As(err, &lr) || !strings.Contains(err.Error(), "enterprise IdP") {
		t.Fatalf("Token without an ID token: %v, want LoginRequiredError naming the IdP", err)
	}
	e.login(t)
	if n := e.Browser.Opens(); n != 1 {
		t.Fatalf("the browser opened %d times, want 1 (the IdP sign-in)", n)
	}
	q := idp.LastAuthorizeQuery()
	if q.Get("scope") != "openid offline_access" || q.Get("nonce") == "" || q.Get("code_challenge_method") != "S256" {
		t.Errorf("IdP authorization request: scope %q nonce set %v method %q", q.Get("scope"), q.Get("nonce") != "", q.Get("code_challenge_method"))
	}
	tok := e.token(t, testServer)
	if !e.AS.Introspect(tok.Value) {
		t.Fatal("the token is not active")
	}
	// Two hours on, the held ID token has expired for the agent: it
	// refreshes it at the IdP, then runs the exchange, with no browser.
	e.Clock.Advance(2 * time.Hour)
	e.token(t, testServer)
	if n := idp.Stats().Refreshes; n != 1 {
		t.Errorf("%d refreshes at the IdP, want 1", n)
	}
	if n := e.Browser.Opens(); n != 1 {
		t.Errorf("the browser opened again (%d)", n)
	}
	for _, k := range []string{idpTokensKey(testServer)} {
		if _, err := e.Store.Get(t.Context(), k); err != nil {
			t.Errorf("keychain item %s: %v", k, err)
		}
	}
	if err := e.Remove(t.Context(), testServer); err != nil {
		t.Fatal(err)
	}
	if keys := e.serverKeys(testServer); len(keys) != 0 {
		t.Errorf("Remove left %v", keys)
	}
}

func TestCrossAppAccessErrors(t *testing.T) {
	tests := []struct {
		name    string
		idToken func(idp *fakeas.Server) string
		as      fakeas.Config
		wantErr string
		wantAs  any
	}{
		{name: "ID token refused", idToken: func(*fakeas.Server) string { return "not-an-id-token-secret" },
			wantErr: "needs a login", wantAs: new(*LoginRequiredError)},
		{name: "MCP client refused at the AS", idToken: func(idp *fakeas.Server) string { return idp.IDToken("a", idpClient, time.Hour) },
			as: fakeas.Config{PreRegistered: map[string]string{ccClient: "other"}}, wantErr: "invalid_client", wantAs: new(*RegistrationGoneError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newXAAEnv(t, tt.idToken, tt.as)
			_, err := e.Token(t.Context(), testServer)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, tt.wantAs) {
				t.Fatalf("Token: %v (%T), want %q", err, err, tt.wantErr)
			}
			assertNoSecret(t, "the error", err.Error(), "not-an-id-token-secret", ccSecret)
		})
	}
}

// TestCrossAppAccessNotOffered: an AS that does not offer the JWT bearer
// grant is refused before the ID token leaves the agent.
func TestCrossAppAccessNotOffered(t *testing.T) {
	e, idp := newXAAEnv(t, func(idp *fakeas.Server) string { return idp.IDToken("a", idpClient, time.Hour) }, fakeas.Config{})
	e.AS.Close()
	as, err := fakeas.Start(fakeas.Config{PreRegistered: map[string]string{ccClient: ccSecret}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	req := AddRequest{Name: "plain", URL: as.URL(), ClientID: ccClient, ClientSecret: ccSecret,
		CrossApp: &CrossAppRequest{IdPIssuer: idp.Issuer(), IdPClientID: idpClient, IDToken: idp.IDToken("a", idpClient, time.Hour)}}
	if err := e.Add(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	_, err = e.Token(t.Context(), "plain")
	if err == nil || !strings.Contains(err.Error(), "does not offer the "+oauthex.GrantTypeJWTBearer) {
		t.Fatalf("Token: %v", err)
	}
	if n := idp.Stats().TokenExchanges; n != 0 {
		t.Errorf("%d exchanges at the IdP, want none", n)
	}
}
