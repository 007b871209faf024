package agent

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"mcpauth/agent/oauthex"
	"mcpauth/test/fakeas"
)

// TestProactiveRefresh: Token refreshes a token that expires within the
// margin (DefaultRefreshMargin, 60 s) and not one that doesn't.
func TestProactiveRefresh(t *testing.T) {
	tests := []struct {
		name        string
		advance     time.Duration // from the login; tokens live 1 h
		wantRefresh bool
	}{
		{"fresh", 0, false},
		{"outside the margin", time.Hour - 2*time.Minute, false},
		{"inside the margin", time.Hour - 30*time.Second, true},
		{"expired", time.Hour + time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, fakeas.Config{})
			e.login(t)
			before, _ := e.heldTokens(t, testServer)
			e.Clock.Advance(tt.advance)
			tok := e.token(t, testServer)
			refreshed := tok.Value != before
			if refreshed != tt.wantRefresh || e.AS.Stats().Refreshes != map[bool]int{false: 0, true: 1}[tt.wantRefresh] {
				t.Fatalf("refreshed = %v (AS saw %d), want %v", refreshed, e.AS.Stats().Refreshes, tt.wantRefresh)
			}
			if !e.AS.Introspect(tok.Value) {
				t.Error("the token Token returned is not active")
			}
			if tt.wantRefresh && !tok.Expiry.After(e.Clock.Now().Add(DefaultRefreshMargin)) {
				t.Errorf("refreshed token expires at %v, within the margin of now", tok.Expiry)
			}
		})
	}
}

// TestRefreshRotation: each rotated refresh token is stored before the
// next refresh, so fakeas's reuse detection never fires.
func TestRefreshRotation(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	_, rt := e.heldTokens(t, testServer)
	seen := []string{rt}
	for i := range 3 {
		e.Clock.Advance(time.Hour)
		tok := e.token(t, testServer)
		_, rt := e.heldTokens(t, testServer)
		if slices.Contains(seen, rt) {
			t.Fatalf("refresh %d: the stored refresh token was not rotated", i+1)
		}
		seen = append(seen, rt)
		if !e.AS.Introspect(tok.Value) || !e.AS.Introspect(rt) {
			t.Fatalf("refresh %d: the new tokens are not active", i+1)
		}
	}
	if s := e.AS.Stats(); s.Refreshes != 3 || s.ReuseDetected != 0 {
		t.Errorf("stats = %+v, want 3 refreshes and no reuse", s)
	}
}

// burnRefreshToken uses the stored refresh token behind the agent's back,
// as a second client sharing it would, so the agent's copy is a rotated
// one and fakeas's reuse detection revokes the grant when it is replayed.
func burnRefreshToken(t *testing.T, e *testEnv) {
	t.Helper()
	_, rt := e.heldTokens(t, testServer)
	st := e.state(t, testServer)
	_, err := oauthex.TokenRequest(t.Context(), http.DefaultClient, st.TokenURL,
		oauthex.ClientAuth{ClientID: st.ClientID, Method: st.AuthMethod},
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, nil)
	if err != nil {
		t.Fatalf("could not use the refresh token: %v", err)
	}
}

// TestRefreshInvalidGrant: a refused refresh token means a login is
// needed; both tokens are forgotten and List says why.
func TestRefreshInvalidGrant(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	at, rt := e.heldTokens(t, testServer)
	burnRefreshToken(t, e)
	e.Clock.Advance(time.Hour)
	_, err := e.Token(t.Context(), testServer)
	var lr *LoginRequiredError
	if !errors.As(err, &lr) || lr.Server != testServer {
		t.Fatalf("Token error = %v, want *LoginRequiredError", err)
	}
	assertNoSecret(t, "the error", err.Error(), at, rt)
	if e.AS.Stats().ReuseDetected != 1 {
		t.Errorf("ReuseDetected = %d, want 1", e.AS.Stats().ReuseDetected)
	}
	if keys := e.serverKeys(testServer); len(keys) != 0 {
		t.Errorf("keystore still holds %v", keys)
	}
	if !e.hasRegistration(t) {
		t.Error("invalid_grant dropped the client registration; only the tokens are dead")
	}
	list, err := e.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if list[0].State != StateError || list[0].Error == "" {
		t.Errorf("List state = %q (%q), want %q with a reason", list[0].State, list[0].Error, StateError)
	}
	// A new login recovers, with the same registration.
	e.login(t)
	e.token(t, testServer)
	if e.AS.Stats().Registrations != 1 {
		t.Errorf("Registrations = %d, want 1", e.AS.Stats().Registrations)
	}
}

// TestRefreshInvalidClient: an AS that forgot the dynamic registration
// answers invalid_client; the registration is dropped, and the next login
// registers again.
func TestRefreshInvalidClient(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	e.AS.RevokeClient(e.state(t, testServer).ClientID)
	e.Clock.Advance(time.Hour)
	_, err := e.Token(t.Context(), testServer)
	var rg *RegistrationGoneError
	if !errors.As(err, &rg) || rg.PreRegistered || rg.Issuer != e.AS.Issuer() {
		t.Fatalf("Token error = %v, want *RegistrationGoneError for a dynamic client of %s", err, e.AS.Issuer())
	}
	if e.hasRegistration(t) {
		t.Error("the dead registration is still stored")
	}
	if keys := e.serverKeys(testServer); len(keys) != 0 {
		t.Errorf("keystore still holds %v", keys)
	}
	e.login(t)
	e.token(t, testServer)
	if got := e.AS.Stats().Registrations; got != 2 {
		t.Errorf("Registrations = %d, want 2 (registered again)", got)
	}
}

// TestRefreshInvalidClientPreRegistered: a rejected pre-registered client
// is the user's to fix; the error says so.
func TestRefreshInvalidClientPreRegistered(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{PreRegistered: map[string]string{"app": ""}},
		func(r *AddRequest) { r.ClientID = "app" })
	e.login(t)
	e.AS.RevokeClient("app")
	e.Clock.Advance(time.Hour)
	_, err := e.Token(t.Context(), testServer)
	var rg *RegistrationGoneError
	if !errors.As(err, &rg) || !rg.PreRegistered {
		t.Fatalf("Token error = %v, want *RegistrationGoneError for a pre-registered client", err)
	}
}

// TestConcurrentRefresh: 20 goroutines asking for an expired token cause
// exactly one refresh; the per-server flock serialises goroutines of one
// process as it does processes.
func TestConcurrentRefresh(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	e.Clock.Advance(2 * time.Hour)
	const n = 20
	toks := make([]*AccessToken, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { toks[i], errs[i] = e.Token(t.Context(), testServer) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Token %d: %v", i, errs[i])
		}
		if toks[i].Value != toks[0].Value {
			t.Errorf("Token %d returned another token than Token 0", i)
		}
	}
	if s := e.AS.Stats(); s.Refreshes != 1 || s.ReuseDetected != 0 {
		t.Errorf("stats = %+v, want exactly 1 refresh and no reuse", s)
	}
	if !e.AS.Introspect(toks[0].Value) {
		t.Error("the shared token is not active")
	}
}

// TestConcurrentRefreshTwoAgents: two agents sharing a home and a keystore
// (two processes, in effect) also refresh once.
func TestConcurrentRefreshTwoAgents(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	e.Clock.Advance(2 * time.Hour)
	b, err := New(Options{Home: e.Home, Store: e.Store, Now: e.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		a := e.Agent
		if i%2 == 1 {
			a = b
		}
		wg.Go(func() { _, errs[i] = a.Token(t.Context(), testServer) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Token %d: %v", i, err)
		}
	}
	if s := e.AS.Stats(); s.Refreshes != 1 || s.ReuseDetected != 0 {
		t.Errorf("stats = %+v, want exactly 1 refresh", s)
	}
}

// TestRefreshTransientFailure: when the AS can't be reached, a token that
// is still valid is returned, an expired one is an error, and nothing is
// deleted either way.
func TestRefreshTransientFailure(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	at, rt := e.heldTokens(t, testServer)
	e.AS.Close()

	e.Clock.Advance(time.Hour - 30*time.Second) // inside the margin, not expired
	tok, err := e.Token(t.Context(), testServer)
	if err != nil || tok.Value != at {
		t.Fatalf("Token with the AS down and a valid token: err %v, same token %v", err, tok != nil && tok.Value == at)
	}
	e.Clock.Advance(time.Minute) // expired
	_, err = e.Token(t.Context(), testServer)
	var lr *LoginRequiredError
	if err == nil || errors.As(err, &lr) {
		t.Fatalf("Token with the AS down and an expired token: %v, want a plain error", err)
	}
	assertNoSecret(t, "the error", err.Error(), at, rt)
	if gotAT, gotRT := e.heldTokens(t, testServer); gotAT != at || gotRT != rt {
		t.Error("a transient failure changed the stored tokens")
	}
}

// TestTokenNotSignedIn: before any login, Token asks for one.
func TestTokenNotSignedIn(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	_, err := e.Token(t.Context(), testServer)
	var lr *LoginRequiredError
	if !errors.As(err, &lr) {
		t.Fatalf("Token error = %v, want *LoginRequiredError", err)
	}
	_, err = e.Token(t.Context(), "nope")
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("Token error for an unknown server = %v, want *NotFoundError", err)
	}
}
