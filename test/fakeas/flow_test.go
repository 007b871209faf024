package fakeas

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestAuthorizeRedirectCarriesStateAndIss(t *testing.T) {
	tests := []struct {
		mode    IssMode
		wantIss func(s *Server) string
	}{
		{IssCorrect, func(s *Server) string { return s.Issuer() }},
		{IssWrong, func(s *Server) string { return s.BaseURL() + "/evil-issuer" }},
		{IssAbsentButAdvertised, func(*Server) string { return "" }},
		{IssNone, func(*Server) string { return "" }},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode)+"-mode", func(t *testing.T) {
			s := start(t, Config{IssParam: tt.mode})
			c := register(t, s, AuthNone)
			status, q := authorize(t, s, c, nil)
			if status != http.StatusFound || q.Get("code") == "" || q.Get("state") != "st4te" {
				t.Fatalf("authorize: %d, code present %v, state %q", status, q.Get("code") != "", q.Get("state"))
			}
			if got, want := q.Get("iss"), tt.wantIss(s); got != want {
				t.Errorf("iss = %q, want %q", got, want)
			}
			if got := s.LastAuthorizeQuery().Get("resource"); got != s.URL() {
				t.Errorf("recorded resource = %q", got)
			}
		})
	}
}

func TestAuthorizeRejects(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		extra      url.Values
		wantStatus int    // for errors that must not redirect
		wantError  string // error= on the redirect
	}{
		{name: "unknown client", extra: url.Values{"client_id": {"nobody"}}, wantStatus: http.StatusBadRequest},
		{name: "unregistered redirect", extra: url.Values{"redirect_uri": {"http://evil.example/cb"}}, wantStatus: http.StatusBadRequest},
		{name: "loopback other path", extra: url.Values{"redirect_uri": {"http://127.0.0.1:4444/other"}}, wantStatus: http.StatusBadRequest},
		{name: "no PKCE challenge", extra: url.Values{"code_challenge": {""}, "code_challenge_method": {""}}, wantError: "invalid_request"},
		{name: "plain PKCE", extra: url.Values{"code_challenge_method": {"plain"}}, wantError: "invalid_request"},
		{name: "response_type token", extra: url.Values{"response_type": {"token"}}, wantError: "unsupported_response_type"},
		{name: "unknown scope", extra: url.Values{"scope": {"mcp root"}}, wantError: "invalid_scope"},
		{name: "resource rejected", cfg: Config{RejectResource: true}, wantError: "invalid_target"},
		{name: "resource required", cfg: Config{RequireResource: true}, extra: url.Values{"resource": {""}}, wantError: "invalid_target"},
		{name: "deny", cfg: Config{Deny: true}, wantError: "access_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, tt.cfg)
			c := register(t, s, AuthNone)
			status, q := authorize(t, s, c, tt.extra)
			if tt.wantStatus != 0 {
				if status != tt.wantStatus || q != nil {
					t.Errorf("status %d, redirect %v; want %d without redirect", status, q != nil, tt.wantStatus)
				}
				return
			}
			if got := q.Get("error"); got != tt.wantError || q.Get("code") != "" || q.Get("state") != "st4te" {
				t.Errorf("error = %q (code present %v, state %q), want %q", got, q.Get("code") != "", q.Get("state"), tt.wantError)
			}
		})
	}
}

func TestNoPKCEServerIssuesCodeWithoutChallenge(t *testing.T) {
	s := start(t, Config{NoPKCE: true})
	c := register(t, s, AuthNone)
	_, q := authorize(t, s, c, url.Values{"code_challenge": {""}, "code_challenge_method": {""}})
	status, tok := tokenRequest(t, s, c, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {testRedirect}})
	if status != http.StatusOK || tok["access_token"] == nil {
		t.Errorf("exchange without PKCE: %d %v", status, tok["error"])
	}
}

func TestPKCEMismatchRejected(t *testing.T) {
	s := start(t, Config{})
	c := register(t, s, AuthNone)
	_, q := authorize(t, s, c, nil)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {testRedirect}}
	for _, verifier := range []string{"", strings.Repeat("x", 50)} {
		form.Set("code_verifier", verifier)
		if status, tok := tokenRequest(t, s, c, form); status != http.StatusBadRequest || tok["error"] != "invalid_grant" {
			t.Errorf("verifier %q: %d %v, want 400 invalid_grant", verifier, status, tok["error"])
		}
	}
	form.Set("redirect_uri", "http://127.0.0.1:5556/callback")
	verifier, _ := pkcePair()
	form.Set("code_verifier", verifier)
	if status, tok := tokenRequest(t, s, c, form); status != http.StatusBadRequest || tok["error"] != "invalid_grant" {
		t.Errorf("other redirect_uri: %d %v, want invalid_grant", status, tok["error"])
	}
	if got := s.Stats().CodeExchanges; got != 0 {
		t.Errorf("CodeExchanges = %d, want 0", got)
	}
}

func TestCodeIsSingleUseAndReplayRevokes(t *testing.T) {
	s := start(t, Config{})
	c := register(t, s, AuthNone)
	_, q := authorize(t, s, c, nil)
	verifier, _ := pkcePair()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}}
	status, tok := tokenRequest(t, s, c, form)
	if status != http.StatusOK {
		t.Fatalf("first exchange: %d", status)
	}
	if status, res := tokenRequest(t, s, c, form); status != http.StatusBadRequest || res["error"] != "invalid_grant" {
		t.Errorf("replay: %d %v", status, res["error"])
	}
	if s.Introspect(tok["access_token"].(string)) {
		t.Error("access token still active after code replay")
	}
}

func TestRefreshRotatesAndReuseRevokesGrant(t *testing.T) {
	s := start(t, Config{})
	c := register(t, s, AuthNone)
	tok := login(t, s, c, "mcp admin")
	rt1, at1 := tok["refresh_token"].(string), tok["access_token"].(string)

	status, tok2 := refresh(t, s, c, rt1)
	if status != http.StatusOK || tok2["refresh_token"] == rt1 || tok2["scope"] != "mcp admin" {
		t.Fatalf("refresh: %d, rotated %v, scope %v", status, tok2["refresh_token"] != rt1, tok2["scope"])
	}
	rt2, at2 := tok2["refresh_token"].(string), tok2["access_token"].(string)
	if !s.Introspect(at1) || !s.Introspect(at2) || !s.Introspect(rt2) || s.Introspect(rt1) {
		t.Fatal("unexpected token states after one rotation")
	}
	if status, res := refresh(t, s, c, rt1); status != http.StatusBadRequest || res["error"] != "invalid_grant" {
		t.Fatalf("reuse of rotated token: %d %v, want invalid_grant", status, res["error"])
	}
	for name, tk := range map[string]string{"at1": at1, "at2": at2, "rt2": rt2} {
		if s.Introspect(tk) {
			t.Errorf("%s still active after reuse detection", name)
		}
	}
	if status, _ := refresh(t, s, c, rt2); status != http.StatusBadRequest {
		t.Errorf("refresh with the latest token of a revoked grant: %d", status)
	}
	got := s.Stats()
	if got.Refreshes != 1 || got.ReuseDetected != 1 || got.CodeExchanges != 1 || got.Registrations != 1 || got.Authorizations != 1 {
		t.Errorf("Stats() = %+v", got)
	}
	if n := len(s.TokenRequests()); n != 4 {
		t.Errorf("TokenRequests() has %d entries, want 4", n)
	}
}

func TestRefreshScopeNarrowing(t *testing.T) {
	s := start(t, Config{})
	c := register(t, s, AuthNone)
	tok := login(t, s, c, "mcp")
	status, res := tokenRequest(t, s, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "scope": {"mcp admin"}})
	if status != http.StatusBadRequest || res["error"] != "invalid_scope" {
		t.Errorf("widening scope on refresh: %d %v", status, res["error"])
	}
}

func TestClientAuthentication(t *testing.T) {
	s := start(t, Config{PreRegistered: map[string]string{"conf": "s3cret", "pub": ""}})
	tests := []struct {
		name string
		c    testClient
		ok   bool
	}{
		{"pre-registered basic", testClient{"conf", "s3cret", AuthClientSecretBasic}, true},
		{"pre-registered post", testClient{"conf", "s3cret", AuthClientSecretPost}, true},
		{"wrong secret", testClient{"conf", "nope", AuthClientSecretBasic}, false},
		{"confidential without secret", testClient{"conf", "", AuthNone}, false},
		{"public", testClient{"pub", "", AuthNone}, true},
		{"public sending secret", testClient{"pub", "x", AuthClientSecretPost}, false},
		{"dcr basic", register(t, s, AuthClientSecretBasic), true},
		{"dcr registered basic used post", func() testClient {
			c := register(t, s, AuthClientSecretBasic)
			c.method = AuthClientSecretPost
			return c
		}(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, q := authorize(t, s, tt.c, nil)
			verifier, _ := pkcePair()
			status, res := tokenRequest(t, s, tt.c, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}})
			if tt.ok && status != http.StatusOK {
				t.Errorf("status %d, error %v; want 200", status, res["error"])
			}
			if !tt.ok && (status != http.StatusUnauthorized || res["error"] != "invalid_client") {
				t.Errorf("status %d, error %v; want 401 invalid_client", status, res["error"])
			}
		})
	}
	if m := s.TokenAuthMethods(); m[0] != AuthClientSecretBasic || m[1] != AuthClientSecretPost {
		t.Errorf("TokenAuthMethods() = %v", m)
	}
}

func TestAuthMethodsEnforced(t *testing.T) {
	s := start(t, Config{AuthMethods: []string{AuthClientSecretPost}})
	body := `{"redirect_uris":["http://127.0.0.1/callback"],"token_endpoint_auth_method":"none"}`
	resp, err := http.Post(s.Issuer()+"/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("registering with an unsupported method: %d", resp.StatusCode)
	}
	c := register(t, s, AuthClientSecretPost)
	login(t, s, c, "")
}

func TestRevokeClientGivesInvalidClient(t *testing.T) {
	s := start(t, Config{})
	c := register(t, s, AuthNone)
	tok := login(t, s, c, "")
	s.RevokeClient(c.id)
	status, res := refresh(t, s, c, tok["refresh_token"].(string))
	if status != http.StatusUnauthorized || res["error"] != "invalid_client" {
		t.Errorf("refresh after RevokeClient: %d %v, want 401 invalid_client", status, res["error"])
	}
	if status, _ := authorize(t, s, c, nil); status != http.StatusBadRequest {
		t.Errorf("authorize after RevokeClient: %d", status)
	}
}

func TestResourceIndicators(t *testing.T) {
	s := start(t, Config{RejectResource: true})
	c := register(t, s, AuthNone)
	status, res := refresh(t, s, c, "x")
	if status != http.StatusBadRequest || res["error"] != "invalid_grant" {
		t.Errorf("refresh without resource on RejectResource: %d %v", status, res["error"])
	}
	status, res = tokenRequest(t, s, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "resource": {s.URL()}})
	if status != http.StatusBadRequest || res["error"] != "invalid_target" {
		t.Errorf("resource on RejectResource: %d %v", status, res["error"])
	}
}

func TestRevocation(t *testing.T) {
	s := start(t, Config{})
	c := register(t, s, AuthNone)
	tok := login(t, s, c, "")
	status, _ := postForm(t, s.Issuer()+"/revoke", c, url.Values{"token": {tok["refresh_token"].(string)}, "token_type_hint": {"refresh_token"}})
	if status != http.StatusOK {
		t.Fatalf("revoke: %d", status)
	}
	if s.Introspect(tok["access_token"].(string)) || s.Introspect(tok["refresh_token"].(string)) {
		t.Error("tokens active after revoking the refresh token")
	}
	if got := s.Stats().Revocations; got != 1 {
		t.Errorf("Revocations = %d", got)
	}

	failing := start(t, Config{FailRevocation: true})
	if status, _ := postForm(t, failing.Issuer()+"/revoke", c, url.Values{"token": {"x"}}); status != http.StatusServiceUnavailable {
		t.Errorf("FailRevocation: %d, want 503", status)
	}
}

func TestIntrospectionEndpoint(t *testing.T) {
	s := start(t, Config{})
	c := register(t, s, AuthNone)
	tok := login(t, s, c, "mcp admin")
	_, res := postForm(t, s.Issuer()+"/introspect", c, url.Values{"token": {tok["access_token"].(string)}})
	if res["active"] != true || res["scope"] != "mcp admin" || res["aud"] != s.URL() || res["sub"] != "fake-user" {
		t.Errorf("introspection = %v", res)
	}
	if _, res := postForm(t, s.Issuer()+"/introspect", c, url.Values{"token": {"bogus"}}); res["active"] != false {
		t.Errorf("bogus token introspection = %v", res)
	}
}

func TestCIMDClient(t *testing.T) {
	var docURL string
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := docURL
		if r.URL.Path == "/liar.json" {
			id = "http://127.0.0.1/other.json"
		}
		json.NewEncoder(w).Encode(map[string]any{
			"client_id": id, "redirect_uris": []string{"http://127.0.0.1/callback"}, "token_endpoint_auth_method": "none",
		})
	}))
	defer docs.Close()
	docURL = docs.URL + "/client.json"

	s := start(t, Config{CIMD: true, NoDCR: true})
	c := testClient{id: docURL, method: AuthNone}
	if tok := login(t, s, c, ""); tok["access_token"] == nil {
		t.Fatal("no access token for the CIMD client")
	}
	if status, _ := authorize(t, s, testClient{id: docs.URL + "/liar.json"}, nil); status != http.StatusBadRequest {
		t.Errorf("document with a different client_id: %d, want 400", status)
	}
	if status, _ := authorize(t, s, c, url.Values{"redirect_uri": {"http://evil.example/cb"}}); status != http.StatusBadRequest {
		t.Errorf("redirect not in the document: %d, want 400", status)
	}

	off := start(t, Config{NoDCR: true})
	if status, _ := authorize(t, off, c, nil); status != http.StatusBadRequest {
		t.Errorf("URL client_id without CIMD: %d, want 400", status)
	}
}

func TestConsentPage(t *testing.T) {
	for _, decision := range []string{"approve", "deny"} {
		t.Run(decision, func(t *testing.T) {
			s := start(t, Config{Consent: true})
			c := register(t, s, AuthNone)
			_, challenge := pkcePair()
			q := url.Values{"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {testRedirect}, "state": {"st"},
				"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "scope": {"mcp admin"}}
			resp, err := http.Get(s.Issuer() + "/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, want := range []string{`data-fakebrowser="approve"`, `data-fakebrowser="deny"`, "mcpauth demo authorization server", "<code>admin</code>"} {
				if !strings.Contains(string(page), want) {
					t.Errorf("consent page lacks %q", want)
				}
			}
			i := strings.Index(string(page), `name="txn" value="`)
			txn := string(page[i+len(`name="txn" value="`):])
			txn = txn[:strings.IndexByte(txn, '"')]
			resp, err = noRedirect.PostForm(s.Issuer()+"/consent", url.Values{"txn": {txn}, "decision": {decision}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ := resp.Location()
			if resp.StatusCode != http.StatusSeeOther || loc == nil {
				t.Fatalf("consent answer: %d", resp.StatusCode)
			}
			gotCode, gotErr := loc.Query().Get("code") != "", loc.Query().Get("error")
			if decision == "approve" && !gotCode || decision == "deny" && gotErr != "access_denied" {
				t.Errorf("%s: code present %v, error %q", decision, gotCode, gotErr)
			}
		})
	}
}
