package agent

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mcpauth/test/fakeas"
)

// TestLoginScopes checks step 6's scope choice on the authorize request:
// the challenge's scope, else all of PRM scopes_supported, else none (the
// parameter omitted), plus the configured --scope.
func TestLoginScopes(t *testing.T) {
	tests := []struct {
		name       string
		cfg        fakeas.Config
		configured []string
		// want is the requested scope set; nil means no scope parameter.
		want []string
		// wantGranted is what the stored token holds.
		wantGranted []string
	}{
		{
			name:        "challenge scope wins over PRM scopes_supported",
			cfg:         fakeas.Config{ChallengeScope: "mcp"},
			want:        []string{"mcp"},
			wantGranted: []string{"mcp"},
		},
		{
			name:        "PRM scopes_supported when the challenge has none",
			cfg:         fakeas.Config{},
			want:        []string{"admin", "mcp"},
			wantGranted: []string{"admin", "mcp"},
		},
		{
			name:        "omitted without PRM or challenge scope (2025-03-26 server)",
			cfg:         fakeas.Config{Layout: fakeas.LayoutLegacy},
			want:        nil,
			wantGranted: []string{"mcp"}, // fakeas's DefaultScope
		},
		{
			name:        "omitted without PRM, no metadata at all",
			cfg:         fakeas.Config{Layout: fakeas.LayoutLegacyNoMeta},
			want:        nil,
			wantGranted: []string{"mcp"},
		},
		{
			name:        "configured scope replaces PRM scopes_supported",
			cfg:         fakeas.Config{},
			configured:  []string{"admin"},
			want:        []string{"admin"},
			wantGranted: []string{"admin"},
		},
		{
			name:        "configured scope joins the challenge scope",
			cfg:         fakeas.Config{ChallengeScope: "mcp"},
			configured:  []string{"admin"},
			want:        []string{"admin", "mcp"},
			wantGranted: []string{"admin", "mcp"},
		},
		{
			name:        "configured scope on a 2025-03-26 server",
			cfg:         fakeas.Config{Layout: fakeas.LayoutLegacy},
			configured:  []string{"admin"},
			want:        []string{"admin"},
			wantGranted: []string{"admin"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, tt.cfg, func(r *AddRequest) { r.Scopes = tt.configured })
			e.login(t)
			q := e.AS.LastAuthorizeQuery()
			if tt.want == nil {
				if q.Has("scope") {
					t.Errorf("authorize request has scope %q, want no scope parameter", q.Get("scope"))
				}
			} else {
				got := strings.Fields(q.Get("scope"))
				slices.Sort(got)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("requested scopes (-want +got):\n%s", diff)
				}
			}
			tok := e.token(t, testServer)
			got := slices.Sorted(slices.Values(tok.Scopes))
			if diff := cmp.Diff(tt.wantGranted, got); diff != "" {
				t.Errorf("token scopes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResourceParameter checks RFC 8707's resource on the authorize, token
// and refresh requests, and that NoResource omits it everywhere (for
// authorization servers like Entra ID that reject it).
func TestResourceParameter(t *testing.T) {
	tests := []struct {
		name       string
		cfg        fakeas.Config
		noResource bool
	}{
		{name: "sent", cfg: fakeas.Config{RequireResource: true}},
		{name: "omitted with NoResource", cfg: fakeas.Config{RejectResource: true}, noResource: true},
		{name: "sent to a 2025-03-26 server", cfg: fakeas.Config{Layout: fakeas.LayoutLegacy, RequireResource: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, tt.cfg, func(r *AddRequest) { r.NoResource = tt.noResource })
			e.login(t)
			e.Clock.Advance(time.Hour)
			e.token(t, testServer) // refreshes
			want := e.AS.URL()
			check := func(what string, has bool, got string) {
				t.Helper()
				switch {
				case tt.noResource && has:
					t.Errorf("%s has resource %q, want none", what, got)
				case !tt.noResource && got != want:
					t.Errorf("%s resource = %q, want %q", what, got, want)
				}
			}
			q := e.AS.LastAuthorizeQuery()
			check("authorize request", q.Has("resource"), q.Get("resource"))
			reqs := e.AS.TokenRequests()
			if len(reqs) != 2 {
				t.Fatalf("%d token requests, want 2", len(reqs))
			}
			for i, grant := range []string{"authorization_code", "refresh_token"} {
				if got := reqs[i].Get("grant_type"); got != grant {
					t.Fatalf("token request %d is %q, want %q", i, got, grant)
				}
				check(grant+" request", reqs[i].Has("resource"), reqs[i].Get("resource"))
			}
		})
	}
}

// TestAuthorizeRequest checks the fixed parts of the authorization request:
// PKCE S256, a random state, the loopback redirect URI and the configured
// --authorize-param.
func TestAuthorizeRequest(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{}, func(r *AddRequest) {
		r.AuthorizeParams = map[string]string{"prompt": "consent"}
	})
	e.login(t)
	first := e.AS.LastAuthorizeQuery()
	e.login(t)
	second := e.AS.LastAuthorizeQuery()
	for k, want := range map[string]string{"response_type": "code", "code_challenge_method": "S256", "prompt": "consent"} {
		if got := first.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if len(first.Get("code_challenge")) != 43 {
		t.Errorf("code_challenge has %d characters, want 43 (S256)", len(first.Get("code_challenge")))
	}
	if len(first.Get("state")) < 32 || first.Get("state") == second.Get("state") {
		t.Error("state is short or repeats across logins")
	}
	if first.Get("code_challenge") == second.Get("code_challenge") {
		t.Error("code_challenge repeats across logins")
	}
	if !strings.HasPrefix(first.Get("redirect_uri"), "http://127.0.0.1:") {
		t.Errorf("redirect_uri %q is not on 127.0.0.1", first.Get("redirect_uri"))
	}
}

// TestConcurrentLogins: only one interactive login per server runs; the
// others, started while it runs, wait for it and return its result without
// opening the browser.
func TestConcurrentLogins(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	// Hold the first login in the browser until every caller is in Login
	// (a caller that starts after a login ended rightly logs in again).
	e.Browser.opened, e.Browser.gate = make(chan struct{}, 8), make(chan struct{})
	const n = 8
	errs := make([]error, n)
	var wg, started sync.WaitGroup
	for i := range n {
		started.Add(1)
		wg.Go(func() {
			started.Done()
			errs[i] = e.Login(t.Context(), testServer, LoginOptions{})
		})
	}
	started.Wait()
	<-e.Browser.opened
	time.Sleep(100 * time.Millisecond) // let the others reach the login lock
	close(e.Browser.gate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Login %d: %v", i, err)
		}
	}
	if got := e.Browser.Opens(); got != 1 {
		t.Errorf("browser opened %d times, want 1", got)
	}
	if s := e.AS.Stats(); s.Authorizations != 1 || s.CodeExchanges != 1 || s.Registrations != 1 {
		t.Errorf("stats = %+v, want one authorization, exchange and registration", s)
	}
	e.token(t, testServer)
}

// TestLoginDenied: an error redirect (access_denied) fails the login at
// once, stores nothing, and says what the AS answered.
func TestLoginDenied(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{Deny: true})
	err := e.Login(t.Context(), testServer, LoginOptions{})
	if err == nil || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("Login error = %v, want access_denied", err)
	}
	if keys := e.serverKeys(testServer); len(keys) != 0 {
		t.Errorf("keystore holds %v", keys)
	}
	if e.AS.Stats().CodeExchanges != 0 {
		t.Error("a code was exchanged")
	}
}

// TestLoginNoBrowserOnURL: with NoBrowser the URL only goes to OnURL, and
// the login completes when someone else opens it.
func TestLoginNoBrowserOnURL(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	other := &testBrowser{}
	err := e.Login(t.Context(), testServer, LoginOptions{NoBrowser: true, OnURL: func(u string) {
		go other.Open(t.Context(), u)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Browser.Opens() != 0 || other.Opens() != 1 {
		t.Errorf("agent browser opened %d times, OnURL's %d; want 0 and 1", e.Browser.Opens(), other.Opens())
	}
}

// TestLoginTimeout: a login nobody completes ends after LoginTimeout with
// an error that says what to do, and the listener is gone.
func TestLoginTimeout(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.loginTimeout = 300 * time.Millisecond
	var authURL string
	err := e.Login(t.Context(), testServer, LoginOptions{NoBrowser: true, OnURL: func(u string) { authURL = u }})
	if err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), "mcpauth login "+testServer) {
		t.Fatalf("Login error = %v, want a timeout that names `mcpauth login`", err)
	}
	redirect, _ := url.Parse(authURL)
	cb := redirect.Query().Get("redirect_uri")
	if _, err := http.Get(cb + "?state=x&code=y"); err == nil {
		t.Error("the callback listener still answers after the login ended")
	}
}

// TestCallbackWrongState: a callback with another state is answered with
// an error page and ignored; the real one still completes the login.
func TestCallbackWrongState(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	var status int
	err := e.Login(t.Context(), testServer, LoginOptions{NoBrowser: true, OnURL: func(u string) {
		pu, _ := url.Parse(u)
		cb := pu.Query().Get("redirect_uri")
		resp, err := http.Get(cb + "?state=forged&code=forged")
		if err == nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
		go e.Browser.Open(t.Context(), u)
	}})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if status != http.StatusBadRequest {
		t.Errorf("forged callback answered %d, want 400", status)
	}
	if n := e.AS.Stats().CodeExchanges; n != 1 {
		t.Errorf("CodeExchanges = %d, want 1", n)
	}
}
