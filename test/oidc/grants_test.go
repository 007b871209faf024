package oidc

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// The device flow and client credentials are opt-in (Options.Grants): off,
// the server is as the other tests know it; on, both work with plain
// net/http (the device flow up to the code, which test/e2e/grants takes
// through the verification pages).
func TestGrantsOptIn(t *testing.T) {
	e2e(t)
	type grantsMD struct {
		DeviceEndpoint string   `json:"device_authorization_endpoint"`
		GrantTypes     []string `json:"grant_types_supported"`
	}
	read := func(as *AS) grantsMD {
		var md grantsMD
		decodeJSON(t, get(t, as.Issuer+"/.well-known/openid-configuration"), &md)
		return md
	}
	off := Start(t, Options{})
	if md := read(off); md.DeviceEndpoint != "" || slices.Contains(md.GrantTypes, "client_credentials") {
		t.Errorf("without Grants: %+v, want neither the device flow nor client credentials", md)
	}

	const secret = "cc-secret-for-the-test"
	as := Start(t, Options{Grants: true, CCClientSecret: secret})
	md := read(as)
	if md.DeviceEndpoint != as.Issuer+"/device/auth" ||
		!slices.Contains(md.GrantTypes, "client_credentials") || !slices.Contains(md.GrantTypes, "urn:ietf:params:oauth:grant-type:device_code") {
		t.Fatalf("with Grants: %+v", md)
	}
	full := metadata(t, as)

	// Client credentials: a token for the MCP resource, accepted by it.
	r := postForm(t, full.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "scope": {"mcp"}, "resource": {as.MCPURL}},
		CCSecretClientID, secret)
	var tr tokenResponse
	decodeJSON(t, r, &tr)
	if r.status != http.StatusOK || tr.AccessToken == "" || tr.RefreshToken != "" || tr.Scope != "mcp" {
		t.Fatalf("client credentials: HTTP %d %s %s, scope %q, refresh token %v", r.status, tr.Error, tr.ErrorDescription, tr.Scope, tr.RefreshToken != "")
	}
	if !as.Introspect(t, tr.AccessToken) {
		t.Error("the client credentials token is not active")
	}
	_, out := mcpCall(t, as.MCPURL, tr.AccessToken, map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
		"params": map[string]any{"name": "whoami", "arguments": map[string]any{}}})
	if out["result"] == nil {
		t.Errorf("whoami with a client credentials token: %v", out["error"])
	}

	// A dynamic client may register for the device grant and start it.
	clientID := register(t, full, map[string]any{
		"redirect_uris":              []string{"http://127.0.0.1/callback"},
		"grant_types":                []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"},
		"application_type":           "native",
		"token_endpoint_auth_method": "none",
	})
	r = postForm(t, md.DeviceEndpoint, url.Values{"client_id": {clientID}, "scope": {"mcp"}, "resource": {as.MCPURL}}, "", "")
	var da struct {
		DeviceCode      string `json:"device_code"`
		UserCode        string `json:"user_code"`
		VerificationURI string `json:"verification_uri"`
	}
	decodeJSON(t, r, &da)
	if r.status != http.StatusOK || da.UserCode == "" || da.DeviceCode == "" || da.VerificationURI != as.Issuer+"/device" {
		t.Fatalf("device authorization: HTTP %d, user code set %v, verification_uri %q", r.status, da.UserCode != "", da.VerificationURI)
	}
	tr, status := token(t, full, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {da.DeviceCode}, "client_id": {clientID}})
	if status != http.StatusBadRequest || tr.Error != "authorization_pending" {
		t.Errorf("first poll: HTTP %d %q, want 400 authorization_pending", status, tr.Error)
	}
}
