package agent

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"mcpauth/test/fakeas"
)

// TestRegressionRefreshOverwritesConcurrentLogin pins a race: a login
// stored its tokens without the per-server refresh lock, so a refresh
// already in flight (a bridge's Token, or the agent's proactive refresh)
// finished after it and wrote the old grant's rotated tokens over the new
// login's. A step-up was lost that way: the stored token lacked the scope
// the user had just granted, and the new grant's refresh token was
// dropped without being revoked.
func TestRegressionRefreshOverwritesConcurrentLogin(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{ChallengeScope: "mcp"})
	e.login(t)

	// Hold the next refresh at a proxy in front of the token endpoint
	// until the test releases it. The login that follows stores the real
	// token endpoint again, so only this one refresh goes through it.
	release := make(chan struct{})
	held := make(chan struct{})
	target := e.state(t, testServer).TokenURL
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if form, _ := url.ParseQuery(string(body)); form.Get("grant_type") == "refresh_token" {
			close(held)
			<-release
		}
		fwd, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		fwd.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(fwd)
		if err != nil {
			http.Error(w, "forward failed", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	if err := e.reg.updateState(t.Context(), testServer, func(s *serverState) { s.TokenURL = proxy.URL }); err != nil {
		t.Fatal(err)
	}

	e.Clock.Advance(time.Hour) // the token needs a refresh
	tokenDone := make(chan error, 1)
	go func() { _, err := e.Token(t.Context(), testServer); tokenDone <- err }()
	<-held

	loginDone := make(chan error, 1)
	go func() { loginDone <- e.Login(t.Context(), testServer, LoginOptions{Scopes: []string{"admin"}}) }()
	select {
	case err := <-loginDone: // the login did not wait for the refresh
		loginDone <- err
	case <-time.After(500 * time.Millisecond): // it waits: good
	}
	close(release)
	if err := <-tokenDone; err != nil {
		t.Fatalf("Token: %v", err)
	}
	if err := <-loginDone; err != nil {
		t.Fatalf("Login: %v", err)
	}

	tok := e.token(t, testServer)
	if !slices.Contains(tok.Scopes, "admin") {
		t.Errorf("stored token has scopes %q: the refresh overwrote the step-up login's token", tok.Scopes)
	}
	if !slices.Contains(e.state(t, testServer).Scopes, "admin") {
		t.Errorf("state scopes %q lack the step-up's admin", e.state(t, testServer).Scopes)
	}
	_, rt := e.heldTokens(t, testServer)
	if !e.AS.Introspect(rt) {
		t.Error("the stored refresh token is not active")
	}
}
