package agent

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"mcpauth/test/fakeas"
)

// TestDiscoveryLayouts logs in against every metadata layout and PRM
// placement fakeas offers (DESIGN.md, OAuth engine steps 1-3).
func TestDiscoveryLayouts(t *testing.T) {
	tests := []struct {
		name string
		cfg  fakeas.Config
		// wantTokenPath is the token endpoint's path, when the issuer
		// alone doesn't say it.
		wantTokenPath string
	}{
		{name: "path issuer, PRM from header", cfg: fakeas.Config{}},
		{name: "root issuer", cfg: fakeas.Config{Layout: fakeas.LayoutRoot}},
		{name: "OIDC only, path inserted", cfg: fakeas.Config{Layout: fakeas.LayoutOIDC}},
		{name: "OIDC only, path appended", cfg: fakeas.Config{Layout: fakeas.LayoutOIDC, OIDCPathAppend: true}},
		{name: "OIDC only, root issuer", cfg: fakeas.Config{Layout: fakeas.LayoutOIDC, IssuerPath: "/"}},
		{name: "PRM only at the header URL", cfg: fakeas.Config{PRMInHeaderOnly: true}},
		{name: "PRM path form, no header URL", cfg: fakeas.Config{ChallengeWithoutMetadata: true}},
		{name: "PRM root form, no header URL", cfg: fakeas.Config{PRMAtRoot: true, ChallengeWithoutMetadata: true}},
		{name: "PRM root form named by header", cfg: fakeas.Config{PRMAtRoot: true}},
		{name: "2025-03-26 metadata at origin, pathful issuer", cfg: fakeas.Config{Layout: fakeas.LayoutLegacy}},
		{name: "2025-03-26 no metadata at all", cfg: fakeas.Config{Layout: fakeas.LayoutLegacyNoMeta}, wantTokenPath: "/token"},
		{name: "iss neither advertised nor sent", cfg: fakeas.Config{IssParam: fakeas.IssNone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, tt.cfg)
			e.login(t)
			tok := e.token(t, testServer)
			if !e.AS.Introspect(tok.Value) {
				t.Fatal("the access token is not active at the AS")
			}
			st := e.state(t, testServer)
			if st.Issuer != e.AS.Issuer() {
				t.Errorf("issuer = %q, want %q", st.Issuer, e.AS.Issuer())
			}
			wantToken := e.AS.Issuer() + "/token"
			if tt.wantTokenPath != "" {
				wantToken = e.AS.BaseURL() + tt.wantTokenPath
			}
			if st.TokenURL != wantToken {
				t.Errorf("token endpoint = %q, want %q", st.TokenURL, wantToken)
			}
			if s := e.AS.Stats(); s.Registrations != 1 || s.CodeExchanges != 1 {
				t.Errorf("stats = %+v, want 1 registration and 1 code exchange", s)
			}
		})
	}
}

// TestDiscoveryRefusals checks that unsafe or broken servers are refused,
// at the right point: a mismatched issuer or resource, or a missing S256,
// before any authorization request; a bad iss before the code is used.
func TestDiscoveryRefusals(t *testing.T) {
	tests := []struct {
		name string
		cfg  fakeas.Config
		// wantErr are substrings of the error; "{metadata}" and "{prm}"
		// stand for the server's metadata and PRM URLs.
		wantErr []string
		// wantAuthorizations is how many authorization requests
		// reached the AS; code exchanges must always stay 0.
		wantAuthorizations int
	}{
		{
			name:    "issuer mismatch, path layout",
			cfg:     fakeas.Config{WrongIssuer: true},
			wantErr: []string{"{metadata}", "wrong-issuer"},
		},
		{
			name:    "issuer mismatch, root layout",
			cfg:     fakeas.Config{Layout: fakeas.LayoutRoot, WrongIssuer: true},
			wantErr: []string{"{metadata}", "wrong-issuer"},
		},
		{
			name:    "issuer mismatch, OIDC layout",
			cfg:     fakeas.Config{Layout: fakeas.LayoutOIDC, WrongIssuer: true},
			wantErr: []string{"{metadata}", "wrong-issuer"},
		},
		{
			name:    "legacy metadata naming another origin's issuer",
			cfg:     fakeas.Config{Layout: fakeas.LayoutLegacy, WrongIssuer: true},
			wantErr: []string{"{metadata}", "wrong-issuer.invalid"},
		},
		{
			name:    "PRM resource mismatch",
			cfg:     fakeas.Config{PRMResource: "https://elsewhere.example/mcp"},
			wantErr: []string{"{prm}", "elsewhere.example"},
		},
		{
			name:    "PRM resource mismatch found at the path form",
			cfg:     fakeas.Config{PRMResource: "https://elsewhere.example/mcp", ChallengeWithoutMetadata: true},
			wantErr: []string{"{prm}", "elsewhere.example"},
		},
		{
			name:    "no code_challenge_methods_supported",
			cfg:     fakeas.Config{NoPKCE: true},
			wantErr: []string{"S256"},
		},
		{
			name:    "PKCE without S256",
			cfg:     fakeas.Config{PKCEMethods: []string{"plain"}},
			wantErr: []string{"S256"},
		},
		{
			name:               "iss mismatch",
			cfg:                fakeas.Config{IssParam: fakeas.IssWrong},
			wantErr:            []string{"RFC 9207", "evil-issuer", "discarded"},
			wantAuthorizations: 1,
		},
		{
			name:               "iss absent although advertised",
			cfg:                fakeas.Config{IssParam: fakeas.IssAbsentButAdvertised},
			wantErr:            []string{"RFC 9207", "discarded"},
			wantAuthorizations: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, tt.cfg)
			err := e.Login(t.Context(), testServer, LoginOptions{})
			if err == nil {
				t.Fatal("Login succeeded, want a refusal")
			}
			msg := err.Error()
			for _, w := range tt.wantErr {
				w = strings.NewReplacer("{metadata}", e.AS.MetadataURL(), "{prm}", e.AS.PRMURL()).Replace(w)
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			s := e.AS.Stats()
			if s.Authorizations != tt.wantAuthorizations || s.CodeExchanges != 0 {
				t.Errorf("AS saw %d authorizations and %d code exchanges, want %d and 0",
					s.Authorizations, s.CodeExchanges, tt.wantAuthorizations)
			}
			if keys := e.serverKeys(testServer); len(keys) != 0 {
				t.Errorf("keystore holds %v after a refused login", keys)
			}
			list, err := e.List(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].State != StateError || list[0].Error == "" {
				t.Errorf("List = %+v, want one server in state %q with its error", list, StateError)
			}
		})
	}
}

// TestDiscoveryRefusesUnsafeURLs: discovered URLs must be https (the
// server is on loopback, so loopback http is fine) and must not reach
// private or link-local addresses unless the server is there; redirects
// are checked the same way (step 10). Nothing is fetched from them.
func TestDiscoveryRefusesUnsafeURLs(t *testing.T) {
	tests := []struct {
		name string
		// prm answers the PRM request: a JSON document naming
		// authServer, or a redirect to redirectTo.
		authServer string
		redirectTo string
		wantErr    string
	}{
		{name: "plain http authorization server", authServer: "http://as.example.com/tenant", wantErr: "https is required"},
		{name: "private authorization server", authServer: "https://10.255.255.1/tenant", wantErr: "private address"},
		{name: "link-local authorization server", authServer: "https://169.254.169.254/tenant", wantErr: "link-local address"},
		{name: "PRM redirect to plain http", redirectTo: "http://metadata.example.com/prm", wantErr: "https is required"},
		{name: "PRM redirect to link-local", redirectTo: "https://169.254.169.254/latest/meta-data", wantErr: "link-local address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var srvURL string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/mcp":
					w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+srvURL+`/prm"`)
					w.WriteHeader(http.StatusUnauthorized)
				case "/prm":
					if tt.redirectTo != "" {
						http.Redirect(w, r, tt.redirectTo, http.StatusFound)
						return
					}
					w.Header().Set("Content-Type", "application/json")
					fmt.Fprintf(w, `{"resource":%q,"authorization_servers":[%q]}`, srvURL+"/mcp", tt.authServer)
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			srvURL = srv.URL
			e := newBareEnv(t, fakeas.Config{})
			if err := e.Add(t.Context(), AddRequest{Name: testServer, URL: srv.URL + "/mcp"}); err != nil {
				t.Fatal(err)
			}
			err := e.Login(t.Context(), testServer, LoginOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Login error = %v, want one containing %q", err, tt.wantErr)
			}
			if e.Browser.Opens() != 0 {
				t.Error("a browser was opened")
			}
		})
	}
}
