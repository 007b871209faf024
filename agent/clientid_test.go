package agent

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"mcpauth/test/fakeas"
)

// TestDynamicRegistrationReused checks DCR (step 4): one registration per
// issuer, stored in the keystore and reused by a later login, on the
// loopback port its redirect URI names.
func TestDynamicRegistrationReused(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	if !e.hasRegistration(t) {
		t.Fatal("no registration stored under the issuer after a DCR login")
	}
	first := e.state(t, testServer).ClientID
	e.login(t)
	if got := e.AS.Stats().Registrations; got != 1 {
		t.Errorf("Registrations = %d after a second login, want 1 (the registration is reused)", got)
	}
	if got := e.state(t, testServer).ClientID; got != first {
		t.Errorf("second login used another client ID")
	}
	if n := e.Browser.Opens(); n != 2 {
		t.Errorf("browser opened %d times for two explicit logins, want 2", n)
	}

	// A second server behind the same issuer shares the registration.
	if err := e.Add(t.Context(), AddRequest{Name: "other", URL: e.AS.URL()}); err != nil {
		t.Fatal(err)
	}
	if err := e.Login(t.Context(), "other", LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := e.AS.Stats().Registrations; got != 1 {
		t.Errorf("Registrations = %d after a second server's login, want 1", got)
	}
	e.token(t, "other")
	e.token(t, testServer)
}

// TestDynamicRegistrationRequest checks what mcpauth registers as: a native
// public client that may refresh, with the loopback redirect URI it uses.
func TestDynamicRegistrationRequest(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	ci, ok, err := e.secrets.registration(t.Context(), e.AS.Issuer())
	if err != nil || !ok {
		t.Fatalf("registration: ok=%v err=%v", ok, err)
	}
	if ci.TokenEndpointAuthMethod != "none" || ci.ClientSecret != "" {
		t.Errorf("registered with method %q (secret set: %v), want a public client", ci.TokenEndpointAuthMethod, ci.ClientSecret != "")
	}
	if len(ci.RedirectURIs) != 1 {
		t.Fatalf("registered redirect URIs %q, want one", ci.RedirectURIs)
	}
	u, err := url.Parse(ci.RedirectURIs[0])
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Path != "/callback" {
		t.Errorf("redirect URI %q, want http://127.0.0.1:PORT/callback", ci.RedirectURIs[0])
	}
	if got := e.AS.LastAuthorizeQuery().Get("redirect_uri"); got != ci.RedirectURIs[0] {
		t.Errorf("authorize redirect_uri %q, want the registered %q", got, ci.RedirectURIs[0])
	}
}

// serveCIMD serves a Client ID Metadata Document on loopback and returns
// its URL and a counter of fetches. The document is what fakeas requires:
// client_id equal to its own URL, token_endpoint_auth_method none, and a
// loopback redirect URI (any port is then allowed, RFC 8252 §7.3).
func serveCIMD(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	var fetches atomic.Int32
	var docURL string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/mcpauth/client.json" {
			http.NotFound(w, r)
			return
		}
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"client_id":                  docURL,
			"client_name":                "mcpauth",
			"redirect_uris":              []string{"http://127.0.0.1/callback"},
			"grant_types":                []string{"authorization_code", "refresh_token"},
			"response_types":             []string{"code"},
			"token_endpoint_auth_method": "none",
			"application_type":           "native",
		})
	}))
	t.Cleanup(srv.Close)
	docURL = srv.URL + "/mcpauth/client.json"
	return docURL, &fetches
}

func TestClientIdentity(t *testing.T) {
	docURL, fetches := serveCIMD(t)
	preRegistered := map[string]string{"public-app": "", "confidential-app": "s3cret-pre"}
	tests := []struct {
		name     string
		cfg      fakeas.Config
		add      func(*AddRequest)
		wantKind ClientKind
		// wantClientID is the client_id expected; "" means any.
		wantClientID string
		// wantMethod is the client authentication every token request
		// must use.
		wantMethod    string
		wantRegStored bool
	}{
		{
			name:          "dynamic registration",
			cfg:           fakeas.Config{},
			wantKind:      ClientDynamic,
			wantMethod:    fakeas.AuthNone,
			wantRegStored: true,
		},
		{
			name:         "CIMD when the AS supports it, before DCR",
			cfg:          fakeas.Config{CIMD: true},
			add:          func(r *AddRequest) { r.ClientMetadataURL = docURL },
			wantKind:     ClientCIMD,
			wantClientID: docURL,
			wantMethod:   fakeas.AuthNone,
		},
		{
			name:          "CIMD configured but unsupported falls back to DCR",
			cfg:           fakeas.Config{},
			add:           func(r *AddRequest) { r.ClientMetadataURL = docURL },
			wantKind:      ClientDynamic,
			wantMethod:    fakeas.AuthNone,
			wantRegStored: true,
		},
		{
			name:         "pre-registered public client: none",
			cfg:          fakeas.Config{PreRegistered: preRegistered, CIMD: true},
			add:          func(r *AddRequest) { r.ClientID = "public-app"; r.ClientMetadataURL = docURL },
			wantKind:     ClientPreRegistered,
			wantClientID: "public-app",
			wantMethod:   fakeas.AuthNone,
		},
		{
			name:         "pre-registered confidential client: client_secret_basic",
			cfg:          fakeas.Config{PreRegistered: preRegistered},
			add:          func(r *AddRequest) { r.ClientID = "confidential-app"; r.ClientSecret = "s3cret-pre" },
			wantKind:     ClientPreRegistered,
			wantClientID: "confidential-app",
			wantMethod:   fakeas.AuthClientSecretBasic,
		},
		{
			name: "pre-registered confidential client: client_secret_post",
			cfg: fakeas.Config{PreRegistered: preRegistered,
				AuthMethods: []string{fakeas.AuthNone, fakeas.AuthClientSecretPost}},
			add:          func(r *AddRequest) { r.ClientID = "confidential-app"; r.ClientSecret = "s3cret-pre" },
			wantKind:     ClientPreRegistered,
			wantClientID: "confidential-app",
			wantMethod:   fakeas.AuthClientSecretPost,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var adds []func(*AddRequest)
			if tt.add != nil {
				adds = append(adds, tt.add)
			}
			e := newTestEnv(t, tt.cfg, adds...)
			fetchesBefore := fetches.Load()
			e.login(t)
			// A refresh and a logout use the same client authentication.
			e.Clock.Advance(time.Hour)
			tok := e.token(t, testServer)
			if e.AS.Stats().Refreshes != 1 {
				t.Fatalf("no refresh happened")
			}

			st := e.state(t, testServer)
			if st.ClientKind != tt.wantKind {
				t.Errorf("client kind = %q, want %q", st.ClientKind, tt.wantKind)
			}
			if tt.wantClientID != "" && st.ClientID != tt.wantClientID {
				t.Errorf("client ID = %q, want %q", st.ClientID, tt.wantClientID)
			}
			if got := e.AS.LastAuthorizeQuery().Get("client_id"); got != st.ClientID {
				t.Errorf("authorize client_id = %q, want %q", got, st.ClientID)
			}
			methods := e.AS.TokenAuthMethods()
			if len(methods) != 2 {
				t.Fatalf("%d token requests, want 2 (code, refresh)", len(methods))
			}
			for i, m := range methods {
				if m != tt.wantMethod {
					t.Errorf("token request %d used %q, want %q", i, m, tt.wantMethod)
				}
			}
			if got := e.hasRegistration(t); got != tt.wantRegStored {
				t.Errorf("registration stored = %v, want %v", got, tt.wantRegStored)
			}
			if tt.wantKind == ClientCIMD && fetches.Load() == fetchesBefore {
				t.Error("the AS never fetched the client metadata document")
			}
			if err := e.Logout(t.Context(), testServer); err != nil {
				t.Fatalf("Logout: %v", err)
			}
			if e.AS.Introspect(tok.Value) {
				t.Error("access token still active after Logout")
			}
		})
	}
}

// TestClientIDRequired: no pre-registered client, no CIMD and no DCR means
// the user must configure a client ID, and the error says so before any
// authorization request.
func TestClientIDRequired(t *testing.T) {
	docURL, _ := serveCIMD(t)
	tests := []struct {
		name string
		add  func(*AddRequest)
	}{
		{"nothing configured", func(*AddRequest) {}},
		{"CIMD URL configured, unsupported by the AS", func(r *AddRequest) { r.ClientMetadataURL = docURL }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, fakeas.Config{NoDCR: true}, tt.add)
			err := e.Login(t.Context(), testServer, LoginOptions{})
			var cr *ClientIDRequiredError
			if !errors.As(err, &cr) {
				t.Fatalf("Login error = %v, want *ClientIDRequiredError", err)
			}
			if cr.Issuer != e.AS.Issuer() || cr.Server != testServer {
				t.Errorf("error names issuer %q server %q, want %q %q", cr.Issuer, cr.Server, e.AS.Issuer(), testServer)
			}
			if s := e.AS.Stats(); s.Authorizations != 0 || s.Registrations != 0 {
				t.Errorf("stats = %+v, want no authorization and no registration", s)
			}
			if e.Browser.Opens() != 0 {
				t.Error("a browser was opened")
			}
		})
	}
}

// TestPreferredPortBusy: when the port a stored registration names is
// taken, the login still works, on another port with a new registration.
func TestPreferredPortBusy(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	ci, _, _ := e.secrets.registration(t.Context(), e.AS.Issuer())
	u, _ := url.Parse(ci.RedirectURIs[0])
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		t.Skipf("could not occupy %s: %v", u.Host, err)
	}
	defer ln.Close()
	e.login(t)
	if got := e.AS.Stats().Registrations; got != 2 {
		t.Errorf("Registrations = %d, want 2 (the busy port forces a new redirect URI)", got)
	}
	ci2, _, _ := e.secrets.registration(t.Context(), e.AS.Issuer())
	if slices.Equal(ci.RedirectURIs, ci2.RedirectURIs) {
		t.Error("the new registration has the busy redirect URI")
	}
	e.token(t, testServer)
}
