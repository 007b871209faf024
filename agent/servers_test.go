package agent

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"mcpauth/keystore"
	"mcpauth/test/fakeas"
)

func TestAddValidation(t *testing.T) {
	tests := []struct {
		name    string
		req     AddRequest
		wantErr string // "" means Add succeeds
	}{
		{name: "loopback http", req: AddRequest{Name: "ok", URL: "http://127.0.0.1:9/mcp"}},
		{name: "https", req: AddRequest{Name: "linear", URL: "https://mcp.linear.app/mcp"}},
		{name: "http with AllowHTTP", req: AddRequest{Name: "lan", URL: "http://mcp.internal.example/mcp", AllowHTTP: true}},
		{name: "dotted name", req: AddRequest{Name: "a.b_c-1", URL: "https://x.example/mcp"}},
		{name: "empty name", req: AddRequest{Name: "", URL: "https://x.example/mcp"}, wantErr: "invalid server name"},
		{name: "name with slash", req: AddRequest{Name: "a/b", URL: "https://x.example/mcp"}, wantErr: "invalid server name"},
		{name: "name starting with a dot", req: AddRequest{Name: ".hidden", URL: "https://x.example/mcp"}, wantErr: "invalid server name"},
		{name: "name too long", req: AddRequest{Name: strings.Repeat("a", 65), URL: "https://x.example/mcp"}, wantErr: "invalid server name"},
		{name: "http to a remote host", req: AddRequest{Name: "x", URL: "http://mcp.example.com/mcp"}, wantErr: "https is required"},
		{name: "not http", req: AddRequest{Name: "x", URL: "ftp://mcp.example.com/mcp"}, wantErr: "only http and https"},
		{name: "user info", req: AddRequest{Name: "x", URL: "https://u:p@mcp.example.com/mcp"}, wantErr: "user info"},
		{
			name:    "reserved authorize param",
			req:     AddRequest{Name: "x", URL: "https://x.example/mcp", AuthorizeParams: map[string]string{"redirect_uri": "https://evil.example/"}},
			wantErr: "--authorize-param redirect_uri",
		},
		{
			name:    "reserved authorize param: code_challenge_method",
			req:     AddRequest{Name: "x", URL: "https://x.example/mcp", AuthorizeParams: map[string]string{"code_challenge_method": "plain"}},
			wantErr: "--authorize-param code_challenge_method",
		},
		{
			name: "harmless authorize param",
			req:  AddRequest{Name: "x", URL: "https://x.example/mcp", AuthorizeParams: map[string]string{"prompt": "consent"}},
		},
		{
			name:    "Authorization header",
			req:     AddRequest{Name: "x", URL: "https://x.example/mcp", Headers: map[string]string{"authorization": "Bearer x"}},
			wantErr: "--header Authorization",
		},
		{
			name:    "client secret without client ID",
			req:     AddRequest{Name: "x", URL: "https://x.example/mcp", ClientSecret: "s"},
			wantErr: "needs a client ID",
		},
		{
			name:    "CIMD URL over http to a remote host",
			req:     AddRequest{Name: "x", URL: "https://x.example/mcp", ClientMetadataURL: "http://x.example/client.json"},
			wantErr: "client metadata URL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := New(Options{Home: t.TempDir(), Store: keystore.NewMemory()})
			if err != nil {
				t.Fatal(err)
			}
			err = a.Add(t.Context(), tt.req)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Add: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Add error = %v, want one containing %q", err, tt.wantErr)
			}
			list, _ := a.List(t.Context())
			if added := len(list) == 1; added != (tt.wantErr == "") {
				t.Errorf("servers listed: %d", len(list))
			}
		})
	}
}

// TestAddSameNameOtherURL: a name can't silently move to another URL.
func TestAddSameNameOtherURL(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	err := e.Add(t.Context(), AddRequest{Name: testServer, URL: "https://elsewhere.example/mcp"})
	if err == nil || !strings.Contains(err.Error(), "mcpauth remove "+testServer) {
		t.Fatalf("Add error = %v, want one naming `mcpauth remove`", err)
	}
}

// TestConfigHoldsNoSecret: client secrets and header values go to the
// keystore, never to servers.json.
func TestConfigHoldsNoSecret(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{PreRegistered: map[string]string{"app": "s3cret-client"}}, func(r *AddRequest) {
		r.ClientID, r.ClientSecret = "app", "s3cret-client"
		r.Headers = map[string]string{"X-Api-Key": "s3cret-header"}
	})
	e.login(t)
	at, rt := e.heldTokens(t, testServer)
	data, err := os.ReadFile(e.reg.path())
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "servers.json", string(data), "s3cret-client", "s3cret-header", at, rt)
	if !strings.Contains(string(data), "X-Api-Key") {
		t.Error("servers.json lacks the header name")
	}
}

// TestListStates: needs login, signed in and error, and no token in List.
func TestListStates(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	for _, name := range []string{"fresh", "broken"} {
		if err := e.Add(t.Context(), AddRequest{Name: name, URL: e.AS.URL()}); err != nil {
			t.Fatal(err)
		}
	}
	var secrets []string
	for _, name := range []string{testServer, "broken"} {
		if err := e.Login(t.Context(), name, LoginOptions{}); err != nil {
			t.Fatal(err)
		}
		at, rt := e.heldTokens(t, name)
		secrets = append(secrets, at, rt)
	}
	// "broken" loses its refresh token (invalid_grant) and its access
	// token expires: an error state.
	if err := e.Store.Set(t.Context(), refreshKey("broken"), []byte(`{"refresh_token":"unknown-to-the-as","issuer":"`+e.AS.Issuer()+`"}`)); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(2 * time.Hour)
	_, err := e.Token(t.Context(), "broken")
	var lr *LoginRequiredError
	if !errors.As(err, &lr) {
		t.Fatalf("Token(broken) = %v, want *LoginRequiredError", err)
	}
	assertNoSecret(t, "Token error", err.Error(), secrets...)
	tok := e.token(t, testServer) // refreshes
	secrets = append(secrets, tok.Value)
	_, rt := e.heldTokens(t, testServer)
	secrets = append(secrets, rt)

	list, err := e.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]State{"broken": StateError, testServer: StateSignedIn, "fresh": StateNeedsLogin}
	if len(list) != len(want) {
		t.Fatalf("List has %d servers, want %d", len(list), len(want))
	}
	for _, st := range list {
		if st.State != want[st.Name] {
			t.Errorf("%s: state %q, want %q", st.Name, st.State, want[st.Name])
		}
		if (st.State == StateError) != (st.Error != "") {
			t.Errorf("%s: state %q with error %q", st.Name, st.State, st.Error)
		}
	}
	var signedIn ServerStatus
	for _, st := range list {
		if st.Name == testServer {
			signedIn = st
		}
	}
	if signedIn.Issuer != e.AS.Issuer() || signedIn.ClientKind != ClientDynamic ||
		signedIn.Expiry.IsZero() || signedIn.LastLogin.IsZero() || signedIn.LastRefresh.IsZero() || len(signedIn.Scopes) == 0 {
		t.Errorf("signed-in row lacks details: %+v", signedIn)
	}
	assertNoSecret(t, "List JSON", mustJSON(t, list), secrets...)
}

// TestErrorsHoldNoSecret collects the engine's errors around a held login
// and checks that none holds a token or the client secret.
func TestErrorsHoldNoSecret(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{FailRevocation: true, PreRegistered: map[string]string{"app": "s3cret"}},
		func(r *AddRequest) { r.ClientID, r.ClientSecret = "app", "s3cret" })
	e.login(t)
	at, rt := e.heldTokens(t, testServer)
	var errs []error
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	collect(e.Logout(t.Context(), testServer))
	collect(e.Remove(t.Context(), testServer))
	_, err := e.Retry(t.Context(), testServer, Challenge{Status: http.StatusForbidden, WWWAuthenticate: []string{`Bearer error="insufficient_scope", scope="admin"`}, Rejected: at})
	collect(err)
	_, err = e.Retry(t.Context(), testServer, Challenge{Status: http.StatusForbidden, WWWAuthenticate: []string{`Bearer error="invalid_token"`}, Rejected: at})
	collect(err)
	e.AS.RevokeClient("app")
	e.Clock.Advance(2 * time.Hour)
	_, err = e.Token(t.Context(), testServer)
	collect(err)
	if len(errs) != 5 {
		t.Fatalf("got %d errors, want 5", len(errs))
	}
	for i, err := range errs {
		assertNoSecret(t, "error "+string(rune('1'+i)), err.Error(), at, rt, "s3cret")
		t.Logf("error %d: %v", i+1, err) // checked above: no secret
	}
	list, _ := e.List(t.Context())
	assertNoSecret(t, "List JSON", mustJSON(t, list), at, rt, "s3cret")
}

// TestKeychainUnavailable: a keychain failure is *KeychainUnavailableError
// from every entry point, never a silent fallback.
func TestKeychainUnavailable(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	e.Store.SetUnavailable(errors.New("org.freedesktop.secrets was not provided by any .service files"))
	ctx := t.Context()
	calls := map[string]func() error{
		"Token": func() error { _, err := e.Token(ctx, testServer); return err },
		"Add": func() error {
			return e.Add(ctx, AddRequest{Name: "new", URL: e.AS.URL(), ClientID: "app", ClientSecret: "s"})
		},
		"Add without secrets": func() error { return e.Add(ctx, AddRequest{Name: "new2", URL: e.AS.URL()}) },
		"List":                func() error { _, err := e.List(ctx); return err },
		"Logout":              func() error { return e.Logout(ctx, testServer) },
		"Login":               func() error { return e.Login(ctx, testServer, LoginOptions{}) },
		"Retry": func() error {
			_, err := e.Retry(ctx, testServer, Challenge{Status: http.StatusUnauthorized})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			var ku *KeychainUnavailableError
			if !errors.As(err, &ku) {
				t.Fatalf("error = %v, want *KeychainUnavailableError", err)
			}
		})
	}
	list, _, _ := e.reg.names()
	for _, n := range list {
		if strings.HasPrefix(n, "new") {
			t.Errorf("server %s was added although its secrets could not be stored", n)
		}
	}
	e.Store.SetUnavailable(nil)
	e.token(t, testServer)
}
