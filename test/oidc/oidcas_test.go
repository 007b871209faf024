package oidc

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests check, with plain net/http, that the oidc-provider based server
// behaves the way the mcpauth end-to-end tests assume. They never print token
// values.

// e2e skips unless MCPAUTH_E2E=1 (what scripts/test.sh sets): `make unit`
// runs without Node.
func e2e(t *testing.T) {
	t.Helper()
	if os.Getenv("MCPAUTH_E2E") != "1" {
		t.Skip("end-to-end test with oidc-provider: set MCPAUTH_E2E=1 (needs node >= 20.18 and `npm ci --prefix test/oidc`)")
	}
}

type asMetadata struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	RegistrationEndpoint          string   `json:"registration_endpoint"`
	RevocationEndpoint            string   `json:"revocation_endpoint"`
	IntrospectionEndpoint         string   `json:"introspection_endpoint"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	GrantTypesSupported           []string `json:"grant_types_supported"`
	TokenEndpointAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	AuthorizationResponseIssParam bool     `json:"authorization_response_iss_parameter_supported"`
	ResponseTypesSupported        []string `json:"response_types_supported"`
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	// error responses
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

type httpResult struct {
	status int
	header http.Header
	body   []byte
}

var hc = &http.Client{
	Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

func do(t *testing.T, req *http.Request) httpResult {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", req.Method, req.URL.Path, err)
	}
	return httpResult{resp.StatusCode, resp.Header, body}
}

func get(t *testing.T, u string) httpResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func postForm(t *testing.T, u string, form url.Values, basicUser, basicPass string) httpResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	return do(t, req)
}

func decodeJSON(t *testing.T, r httpResult, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode JSON (HTTP %d): %v", r.status, err)
	}
}

func token(t *testing.T, md asMetadata, form url.Values) (tokenResponse, int) {
	t.Helper()
	r := postForm(t, md.TokenEndpoint, form, "", "")
	var tr tokenResponse
	decodeJSON(t, r, &tr)
	return tr, r.status
}

// mcpCall posts one JSON-RPC message to the MCP endpoint.
func mcpCall(t *testing.T, mcpURL, accessToken string, msg map[string]any) (httpResult, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(msg)
	req, err := http.NewRequest(http.MethodPost, mcpURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	r := do(t, req)
	var out map[string]any
	if r.status == http.StatusOK {
		decodeJSON(t, r, &out)
	}
	return r, out
}

func randString(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// callback is a loopback redirect_uri listener, like the one mcpauth opens.
type callback struct {
	url string
	got chan url.Values
}

func newCallback(t *testing.T, avoidPort int) *callback {
	t.Helper()
	var ln net.Listener
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if l.Addr().(*net.TCPAddr).Port != avoidPort {
			ln = l
			break
		}
		l.Close()
	}
	cb := &callback{
		url: fmt.Sprintf("http://%s/callback", ln.Addr()),
		got: make(chan url.Values, 8),
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		cb.got <- r.URL.Query()
		io.WriteString(w, "you may close this window")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return cb
}

// browse is the fake browser: it GETs authURL and follows redirects (at most
// 20) until the callback listener answers. withCookies gives it a cookie jar;
// without one it is the dumbest possible browser.
func browse(t *testing.T, cb *callback, authURL string, withCookies bool) url.Values {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	if withCookies {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Jar = jar
	}
	hops := 0
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		hops++
		if len(via) >= 20 {
			return fmt.Errorf("too many redirects")
		}
		return nil
	}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	select {
	case q := <-cb.got:
		t.Logf("browser reached the callback after %d redirects (cookies: %v)", hops, withCookies)
		return q
	default:
		t.Fatalf("browser stopped at %s (HTTP %d) without reaching the callback: %.300s", resp.Request.URL.Path, resp.StatusCode, body)
		return nil
	}
}

type authRequest struct {
	clientID, redirectURI, scope, resource, state, verifier string
	challengeMethod                                         string // "" = S256
	noPKCE                                                  bool
}

func (a authRequest) url(md asMetadata) string {
	q := url.Values{
		"response_type": {"code"},
		"client_id":     {a.clientID},
		"redirect_uri":  {a.redirectURI},
		"state":         {a.state},
	}
	if a.scope != "" {
		q.Set("scope", a.scope)
	}
	if a.resource != "" {
		q.Set("resource", a.resource)
	}
	if !a.noPKCE {
		switch a.challengeMethod {
		case "", "S256":
			sum := sha256.Sum256([]byte(a.verifier))
			q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
			q.Set("code_challenge_method", "S256")
		default:
			q.Set("code_challenge", a.verifier)
			q.Set("code_challenge_method", a.challengeMethod)
		}
	}
	return md.AuthorizationEndpoint + "?" + q.Encode()
}

func metadata(t *testing.T, as *AS) asMetadata {
	t.Helper()
	var md asMetadata
	for _, p := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		r := get(t, as.Issuer+p)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: HTTP %d", p, r.status)
		}
		md = asMetadata{}
		decodeJSON(t, r, &md)
		if md.Issuer != as.Issuer {
			t.Errorf("%s: issuer %q, want %q", p, md.Issuer, as.Issuer)
		}
		if !slices.Equal(md.CodeChallengeMethodsSupported, []string{"S256"}) {
			t.Errorf("%s: code_challenge_methods_supported %v, want [S256]", p, md.CodeChallengeMethodsSupported)
		}
		for name, v := range map[string]string{
			"authorization_endpoint": md.AuthorizationEndpoint,
			"token_endpoint":         md.TokenEndpoint,
			"registration_endpoint":  md.RegistrationEndpoint,
			"revocation_endpoint":    md.RevocationEndpoint,
			"introspection_endpoint": md.IntrospectionEndpoint,
		} {
			if !strings.HasPrefix(v, as.Issuer+"/") {
				t.Errorf("%s: %s = %q", p, name, v)
			}
		}
		if !md.AuthorizationResponseIssParam {
			t.Errorf("%s: authorization_response_iss_parameter_supported is false", p)
		}
		if !slices.Contains(md.GrantTypesSupported, "refresh_token") {
			t.Errorf("%s: grant_types_supported %v lacks refresh_token", p, md.GrantTypesSupported)
		}
		if !slices.Contains(md.TokenEndpointAuthMethods, "none") {
			t.Errorf("%s: token_endpoint_auth_methods_supported %v lacks none", p, md.TokenEndpointAuthMethods)
		}
	}
	return md
}

func register(t *testing.T, md asMetadata, meta map[string]any) (clientID string) {
	t.Helper()
	body, _ := json.Marshal(meta)
	req, _ := http.NewRequest(http.MethodPost, md.RegistrationEndpoint, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	r := do(t, req)
	if r.status != http.StatusCreated {
		t.Fatalf("registration: HTTP %d: %s", r.status, r.body)
	}
	var reg map[string]any
	decodeJSON(t, r, &reg)
	id, _ := reg["client_id"].(string)
	if id == "" {
		t.Fatalf("registration: no client_id")
	}
	if _, ok := reg["client_secret"]; ok {
		t.Errorf("registration of a public client returned a client_secret")
	}
	if reg["token_endpoint_auth_method"] != "none" {
		t.Errorf("token_endpoint_auth_method = %v, want none", reg["token_endpoint_auth_method"])
	}
	return id
}

func wantBearerChallenge(t *testing.T, as *AS, r httpResult, wantErr string) {
	t.Helper()
	if r.status != http.StatusUnauthorized {
		t.Fatalf("MCP: HTTP %d, want 401", r.status)
	}
	h := r.header.Get("WWW-Authenticate")
	if !strings.HasPrefix(h, "Bearer ") || !strings.Contains(h, `resource_metadata="`+as.ResourceMetadataURL+`"`) {
		t.Errorf("WWW-Authenticate = %q", h)
	}
	if got := strings.Contains(h, `error="invalid_token"`); got != (wantErr == "invalid_token") {
		t.Errorf("WWW-Authenticate = %q, want error %q", h, wantErr)
	}
}

// mcpWorks runs initialize, notifications/initialized, tools/list and
// tools/call whoami with the access token.
func mcpWorks(t *testing.T, as *AS, at, clientID string) {
	t.Helper()
	r, out := mcpCall(t, as.MCPURL, at, map[string]any{
		"jsonrpc": "2.0", "id": 1, "method": "initialize",
		"params": map[string]any{
			"protocolVersion": "2025-06-18",
			"capabilities":    map[string]any{},
			"clientInfo":      map[string]any{"name": "oidcas_test", "version": "0"},
		},
	})
	if r.status != http.StatusOK {
		t.Fatalf("initialize: HTTP %d %s", r.status, r.header.Get("WWW-Authenticate"))
	}
	res, _ := out["result"].(map[string]any)
	if res["protocolVersion"] != "2025-06-18" || res["serverInfo"] == nil || res["capabilities"] == nil {
		t.Errorf("initialize result = %v", res)
	}
	if r, _ := mcpCall(t, as.MCPURL, at, map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"}); r.status != http.StatusAccepted {
		t.Errorf("notifications/initialized: HTTP %d, want 202", r.status)
	}
	_, out = mcpCall(t, as.MCPURL, at, map[string]any{"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
	if !strings.Contains(fmt.Sprint(out["result"]), "whoami") {
		t.Errorf("tools/list = %v", out)
	}
	_, out = mcpCall(t, as.MCPURL, at, map[string]any{
		"jsonrpc": "2.0", "id": 3, "method": "tools/call",
		"params": map[string]any{"name": "whoami", "arguments": map[string]any{}},
	})
	res, _ = out["result"].(map[string]any)
	content, _ := res["content"].([]any)
	if len(content) != 1 {
		t.Fatalf("tools/call whoami = %v", out)
	}
	text, _ := content[0].(map[string]any)["text"].(string)
	var who struct {
		Sub      string `json:"sub"`
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
	}
	if err := json.Unmarshal([]byte(text), &who); err != nil {
		t.Fatalf("whoami text %q: %v", text, err)
	}
	if who.Sub != "demo-user" || who.ClientID != clientID || !slices.Contains(strings.Fields(who.Scope), "mcp") {
		t.Errorf("whoami = %+v", who)
	}
}

func wantStats(t *testing.T, as *AS, want Stats) {
	t.Helper()
	if got := as.Stats(t); got != want {
		t.Errorf("stats = %+v\n   want %+v", got, want)
	}
}

func TestAuthorizationServer(t *testing.T) {
	e2e(t)
	start := time.Now()
	as := Start(t, Options{})
	t.Logf("server ready in %v at %s", time.Since(start).Round(time.Millisecond), as.Issuer)

	md := metadata(t, as)

	// RFC 9728 protected resource metadata.
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		ScopesSupported      []string `json:"scopes_supported"`
	}
	r := get(t, as.ResourceMetadataURL)
	if r.status != http.StatusOK {
		t.Fatalf("PRM: HTTP %d", r.status)
	}
	decodeJSON(t, r, &prm)
	if prm.Resource != as.MCPURL || !slices.Equal(prm.AuthorizationServers, []string{as.Issuer}) || !slices.Equal(prm.ScopesSupported, []string{"mcp"}) {
		t.Errorf("PRM = %+v", prm)
	}
	if as.ResourceMetadataURL != as.Issuer+"/.well-known/oauth-protected-resource/mcp" {
		t.Errorf("ResourceMetadataURL = %s", as.ResourceMetadataURL)
	}

	// Unauthenticated and bogus-token requests to the MCP endpoint.
	r, _ = mcpCall(t, as.MCPURL, "", map[string]any{"jsonrpc": "2.0", "id": 1, "method": "initialize"})
	wantBearerChallenge(t, as, r, "")
	r, _ = mcpCall(t, as.MCPURL, "not-a-token", map[string]any{"jsonrpc": "2.0", "id": 1, "method": "initialize"})
	wantBearerChallenge(t, as, r, "invalid_token")

	// Dynamic client registration: native public client, registered port 5555.
	const registeredRedirect = "http://127.0.0.1:5555/callback"
	clientID := register(t, md, map[string]any{
		"client_name":                "oidcas_test",
		"application_type":           "native",
		"redirect_uris":              []string{registeredRedirect},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
	})
	wantStats(t, as, Stats{Registrations: 1})

	cb := newCallback(t, 5555) // loopback redirect on another, ephemeral port
	login := func(t *testing.T, withCookies bool) tokenResponse {
		t.Helper()
		ar := authRequest{clientID: clientID, redirectURI: cb.url, scope: "mcp", resource: as.MCPURL,
			state: randString(t), verifier: randString(t)}
		q := browse(t, cb, ar.url(md), withCookies)
		if q.Get("error") != "" {
			t.Fatalf("authorization error %s: %s", q.Get("error"), q.Get("error_description"))
		}
		if q.Get("state") != ar.state {
			t.Errorf("state mismatch")
		}
		if q.Get("iss") != as.Issuer {
			t.Errorf("iss = %q, want %q (RFC 9207)", q.Get("iss"), as.Issuer)
		}
		if q.Get("code") == "" {
			t.Fatalf("no code in callback")
		}
		tr, status := token(t, md, url.Values{
			"grant_type":    {"authorization_code"},
			"code":          {q.Get("code")},
			"redirect_uri":  {cb.url},
			"client_id":     {clientID},
			"code_verifier": {ar.verifier},
			"resource":      {as.MCPURL},
		})
		if status != http.StatusOK || tr.AccessToken == "" || tr.RefreshToken == "" {
			t.Fatalf("code exchange: HTTP %d %s %s (access token: %v, refresh token: %v)",
				status, tr.Error, tr.ErrorDescription, tr.AccessToken != "", tr.RefreshToken != "")
		}
		if !strings.EqualFold(tr.TokenType, "Bearer") || tr.ExpiresIn <= 0 || tr.ExpiresIn > 3600 {
			t.Errorf("token_type %q expires_in %d", tr.TokenType, tr.ExpiresIn)
		}
		if !slices.Contains(strings.Fields(tr.Scope), "mcp") {
			t.Errorf("scope = %q", tr.Scope)
		}
		return tr
	}

	// 1. Full flow with the dumbest browser (no cookies).
	tr := login(t, false)
	wantStats(t, as, Stats{Registrations: 1, CodeExchanges: 1, Logins: 1})
	mcpWorks(t, as, tr.AccessToken, clientID)

	// The token is bound to the MCP resource: the real introspection
	// endpoint (resource server credentials) reports aud = MCP URL.
	r = postForm(t, md.IntrospectionEndpoint, url.Values{"token": {tr.AccessToken}}, as.RSClientID, as.RSClientSecret)
	var intro struct {
		Active   bool   `json:"active"`
		Aud      any    `json:"aud"`
		Sub      string `json:"sub"`
		Scope    string `json:"scope"`
		ClientID string `json:"client_id"`
	}
	decodeJSON(t, r, &intro)
	if r.status != http.StatusOK || !intro.Active || fmt.Sprint(intro.Aud) != as.MCPURL || intro.Sub != "demo-user" || intro.ClientID != clientID {
		t.Errorf("introspection: HTTP %d active=%v aud=%v sub=%q client_id=%q", r.status, intro.Active, intro.Aud, intro.Sub, intro.ClientID)
	}
	if !as.Introspect(t, tr.AccessToken) || !as.Introspect(t, tr.RefreshToken) {
		t.Errorf("test introspection: fresh tokens inactive")
	}

	// 2. Refresh (with resource) rotates the refresh token.
	rt1 := tr.RefreshToken
	tr2, status := token(t, md, url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {rt1},
		"client_id":     {clientID},
		"resource":      {as.MCPURL},
	})
	if status != http.StatusOK || tr2.AccessToken == "" || tr2.RefreshToken == "" {
		t.Fatalf("refresh: HTTP %d %s %s", status, tr2.Error, tr2.ErrorDescription)
	}
	if tr2.RefreshToken == rt1 {
		t.Errorf("refresh token was not rotated")
	}
	if tr2.AccessToken == tr.AccessToken {
		t.Errorf("refresh returned the same access token")
	}
	if as.Introspect(t, rt1) {
		t.Errorf("rotated-out refresh token still active")
	}
	wantStats(t, as, Stats{Registrations: 1, CodeExchanges: 1, Refreshes: 1, Logins: 1})
	mcpWorks(t, as, tr2.AccessToken, clientID)

	// 3. Reusing the old refresh token: invalid_grant, and the whole grant is
	// revoked (reuse detection): the new refresh and access tokens die too.
	tr3, status := token(t, md, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt1}, "client_id": {clientID}, "resource": {as.MCPURL},
	})
	if status != http.StatusBadRequest || tr3.Error != "invalid_grant" {
		t.Errorf("refresh token reuse: HTTP %d %q, want 400 invalid_grant", status, tr3.Error)
	}
	tr4, status := token(t, md, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tr2.RefreshToken}, "client_id": {clientID}, "resource": {as.MCPURL},
	})
	if status != http.StatusBadRequest || tr4.Error != "invalid_grant" {
		t.Errorf("refresh with the newest token after reuse: HTTP %d %q, want 400 invalid_grant", status, tr4.Error)
	}
	if as.Introspect(t, tr2.AccessToken) {
		t.Errorf("access token still active after reuse detection")
	}
	r, _ = mcpCall(t, as.MCPURL, tr2.AccessToken, map[string]any{"jsonrpc": "2.0", "id": 1, "method": "ping"})
	wantBearerChallenge(t, as, r, "invalid_token")
	wantStats(t, as, Stats{Registrations: 1, CodeExchanges: 1, Refreshes: 1, ReuseDetected: 1, GrantsRevoked: 1, Logins: 1})

	// 4. A fresh login (this time a browser with cookies), then revocation.
	tr5 := login(t, true)
	mcpWorks(t, as, tr5.AccessToken, clientID)
	r = postForm(t, md.RevocationEndpoint, url.Values{
		"token": {tr5.RefreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {clientID},
	}, "", "")
	if r.status != http.StatusOK {
		t.Fatalf("revocation: HTTP %d %s", r.status, r.body)
	}
	if as.Introspect(t, tr5.AccessToken) || as.Introspect(t, tr5.RefreshToken) {
		t.Errorf("tokens still active after revoking the refresh token")
	}
	r, _ = mcpCall(t, as.MCPURL, tr5.AccessToken, map[string]any{"jsonrpc": "2.0", "id": 1, "method": "ping"})
	wantBearerChallenge(t, as, r, "invalid_token")
	r = postForm(t, md.IntrospectionEndpoint, url.Values{"token": {tr5.AccessToken}}, as.RSClientID, as.RSClientSecret)
	intro.Active = true
	decodeJSON(t, r, &intro)
	if intro.Active {
		t.Errorf("introspection endpoint: revoked access token active")
	}
	wantStats(t, as, Stats{Registrations: 1, CodeExchanges: 2, Refreshes: 1, ReuseDetected: 1, Revocations: 1, GrantsRevoked: 2, Logins: 2})

	// 5. Negative authorization requests: each must come back to the
	// callback as an error.
	for _, tc := range []struct {
		name    string
		ar      authRequest
		wantErr string
	}{
		{"unknown resource", authRequest{resource: as.Issuer + "/other"}, "invalid_target"},
		{"no PKCE", authRequest{resource: as.MCPURL, noPKCE: true}, "invalid_request"},
		{"plain PKCE", authRequest{resource: as.MCPURL, challengeMethod: "plain"}, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ar := tc.ar
			ar.clientID, ar.redirectURI, ar.scope, ar.state, ar.verifier = clientID, cb.url, "mcp", randString(t), randString(t)
			q := browse(t, cb, ar.url(md), false)
			if q.Get("error") != tc.wantErr || q.Get("code") != "" {
				t.Errorf("error = %q (%s), want %q", q.Get("error"), q.Get("error_description"), tc.wantErr)
			}
			if q.Get("iss") != as.Issuer {
				t.Errorf("iss = %q on the error response", q.Get("iss"))
			}
		})
	}

	// 6. Any-port loopback matching is for native clients only: a web client
	// registered with port 5555 cannot use another port.
	t.Run("web client exact port", func(t *testing.T) {
		webID := register(t, md, map[string]any{
			"application_type": "web", "redirect_uris": []string{registeredRedirect},
			"grant_types": []string{"authorization_code"}, "token_endpoint_auth_method": "none",
		})
		ar := authRequest{clientID: webID, redirectURI: cb.url, scope: "mcp", state: "s", verifier: randString(t)}
		r := get(t, ar.url(md))
		var e tokenResponse
		decodeJSON(t, r, &e)
		if r.status != http.StatusBadRequest || e.Error != "invalid_redirect_uri" {
			t.Errorf("web client, other port: HTTP %d %q, want 400 invalid_redirect_uri", r.status, e.Error)
		}
		ar.redirectURI = registeredRedirect // exact match is accepted
		if r := get(t, ar.url(md)); r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "/interaction/") {
			t.Errorf("web client, exact redirect: HTTP %d", r.status)
		}
	})

	// 7. The token endpoint refuses a resource the grant does not cover.
	t.Run("token for other resource", func(t *testing.T) {
		ar := authRequest{clientID: clientID, redirectURI: cb.url, scope: "mcp", resource: as.MCPURL,
			state: randString(t), verifier: randString(t)}
		q := browse(t, cb, ar.url(md), false)
		tr, status := token(t, md, url.Values{
			"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {cb.url},
			"client_id": {clientID}, "code_verifier": {ar.verifier}, "resource": {as.Issuer + "/other"},
		})
		if status != http.StatusBadRequest || tr.Error != "invalid_target" {
			t.Errorf("HTTP %d %q, want 400 invalid_target", status, tr.Error)
		}
	})
}

// The e2e tests use short-lived access tokens to force refreshes.
func TestShortAccessTokenTTL(t *testing.T) {
	e2e(t)
	as := Start(t, Options{AccessTokenTTL: 2 * time.Second})
	md := metadata(t, as)
	cb := newCallback(t, 0)
	clientID := register(t, md, map[string]any{
		"redirect_uris":              []string{"http://127.0.0.1:1/callback"},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"token_endpoint_auth_method": "none",
		// no application_type: the server defaults to native (any loopback port)
	})
	ar := authRequest{clientID: clientID, redirectURI: cb.url, state: "s", verifier: randString(t)} // no scope, no resource
	q := browse(t, cb, ar.url(md), false)
	if q.Get("error") != "" {
		t.Fatalf("authorization without scope/resource: %s: %s", q.Get("error"), q.Get("error_description"))
	}
	tr, status := token(t, md, url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {cb.url},
		"client_id": {clientID}, "code_verifier": {ar.verifier},
	})
	if status != http.StatusOK || tr.AccessToken == "" || tr.RefreshToken == "" {
		t.Fatalf("code exchange without scope/resource: HTTP %d %s %s", status, tr.Error, tr.ErrorDescription)
	}
	if tr.ExpiresIn != 2 {
		t.Errorf("expires_in = %d, want 2", tr.ExpiresIn)
	}
	t.Logf("no scope requested: granted scope %q", tr.Scope)
	if r, _ := mcpCall(t, as.MCPURL, tr.AccessToken, map[string]any{"jsonrpc": "2.0", "id": 1, "method": "ping"}); r.status != http.StatusOK {
		t.Errorf("fresh token (default resource and scope): HTTP %d", r.status)
	}
	time.Sleep(3 * time.Second)
	r, _ := mcpCall(t, as.MCPURL, tr.AccessToken, map[string]any{"jsonrpc": "2.0", "id": 1, "method": "ping"})
	wantBearerChallenge(t, as, r, "invalid_token")
	tr2, status := token(t, md, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {clientID},
	})
	if status != http.StatusOK || tr2.AccessToken == "" {
		t.Fatalf("refresh without resource: HTTP %d %s %s", status, tr2.Error, tr2.ErrorDescription)
	}
	if !as.Introspect(t, tr2.AccessToken) {
		t.Errorf("refreshed access token inactive")
	}
}
