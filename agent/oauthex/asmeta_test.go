package oauthex

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAuthServerMetadataURLs(t *testing.T) {
	tests := []struct {
		issuer string
		want   []string
	}{
		{"https://as.example", []string{
			"https://as.example/.well-known/oauth-authorization-server",
			"https://as.example/.well-known/openid-configuration",
		}},
		{"https://as.example/", []string{
			"https://as.example/.well-known/oauth-authorization-server",
			"https://as.example/.well-known/openid-configuration",
		}},
		{"https://as.example:8443/tenant/v2", []string{
			"https://as.example:8443/.well-known/oauth-authorization-server/tenant/v2",
			"https://as.example:8443/.well-known/openid-configuration/tenant/v2",
			"https://as.example:8443/tenant/v2/.well-known/openid-configuration",
		}},
		{"https://as.example/realms/x/", []string{
			"https://as.example/.well-known/oauth-authorization-server/realms/x",
			"https://as.example/.well-known/openid-configuration/realms/x",
			"https://as.example/realms/x/.well-known/openid-configuration",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.issuer, func(t *testing.T) {
			got, err := AuthServerMetadataURLs(tt.issuer)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"", "as.example", "https://as.example?x=1", "https://as.example#f", "javascript:alert(1)"} {
		if _, err := AuthServerMetadataURLs(bad); err == nil {
			t.Errorf("AuthServerMetadataURLs(%q): no error", bad)
		}
	}
}

func asDoc(issuer string) string {
	return `{"issuer":"` + issuer + `","authorization_endpoint":"` + issuer + `/authorize","token_endpoint":"` + issuer +
		`/token","code_challenge_methods_supported":["S256"]}`
}

func TestDecodeAuthServerMetadata(t *testing.T) {
	full := `{
		"issuer":"https://as.example","authorization_endpoint":"https://as.example/a","token_endpoint":"https://as.example/t",
		"registration_endpoint":"https://as.example/r","revocation_endpoint":"https://as.example/rv",
		"introspection_endpoint":"https://as.example/i","device_authorization_endpoint":"https://as.example/d",
		"jwks_uri":"https://as.example/jwks","scopes_supported":["openid"],"response_types_supported":["code"],
		"grant_types_supported":["authorization_code","refresh_token"],"code_challenge_methods_supported":["plain","S256"],
		"token_endpoint_auth_methods_supported":["none"],"authorization_response_iss_parameter_supported":true,
		"client_id_metadata_document_supported":true,"unknown":{"x":1}}`
	m, err := DecodeAuthServerMetadata([]byte(full), "https://as.example")
	if err != nil {
		t.Fatal(err)
	}
	want := &AuthServerMetadata{
		Issuer: "https://as.example", AuthorizationEndpoint: "https://as.example/a", TokenEndpoint: "https://as.example/t",
		RegistrationEndpoint: "https://as.example/r", RevocationEndpoint: "https://as.example/rv",
		IntrospectionEndpoint: "https://as.example/i", DeviceAuthorizationEndpoint: "https://as.example/d",
		JWKSURI: "https://as.example/jwks", ScopesSupported: []string{"openid"}, ResponseTypesSupported: []string{"code"},
		GrantTypesSupported: []string{"authorization_code", "refresh_token"}, CodeChallengeMethodsSupported: []string{"plain", "S256"},
		TokenEndpointAuthMethodsSupported: []string{"none"}, AuthorizationResponseIssParameterSupported: true,
		ClientIDMetadataDocumentSupported: true,
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	tests := []struct {
		name, data, want, wantErr string
	}{
		{"ok without want", asDoc("https://as.example"), "", ""},
		{"trailing slash in doc", asDoc("https://as.example/"), "https://as.example", ""},
		{"trailing slash in want", asDoc("https://as.example"), "https://as.example/", ""},
		{"not JSON", `<html>`, "", "invalid JSON"},
		{"missing all", `{}`, "", "required issuer, authorization_endpoint, token_endpoint missing"},
		{"missing token endpoint", `{"issuer":"https://as","authorization_endpoint":"https://as/a"}`, "", "required token_endpoint missing"},
		{"issuer mismatch", asDoc("https://evil.example"), "https://as.example", `names issuer "https://evil.example" but "https://as.example" was expected`},
		{"case differs", asDoc("https://AS.example"), "https://as.example", "names issuer"},
		{"two slashes", asDoc("https://as.example//"), "https://as.example", "names issuer"},
		{"path differs", asDoc("https://as.example/t1"), "https://as.example/t2", "names issuer"},
		{"javascript authorize", `{"issuer":"https://as","authorization_endpoint":"javascript:alert(1)","token_endpoint":"https://as/t"}`, "https://as", `authorization_endpoint "javascript:alert(1)"`},
		{"relative token endpoint", `{"issuer":"https://as","authorization_endpoint":"https://as/a","token_endpoint":"/t"}`, "", "token_endpoint"},
		{"bad revocation endpoint", `{"issuer":"https://as","authorization_endpoint":"https://as/a","token_endpoint":"https://as/t","revocation_endpoint":"file:///x"}`, "", "revocation_endpoint"},
		{"wrong type", `{"issuer":"https://as","authorization_endpoint":"https://as/a","token_endpoint":"https://as/t","scopes_supported":"a b"}`, "", "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeAuthServerMetadata([]byte(tt.data), tt.want)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFetchAuthServerMetadata(t *testing.T) {
	const (
		oauthWK = "/.well-known/oauth-authorization-server"
		oidcWK  = "/.well-known/openid-configuration"
	)
	tests := []struct {
		name       string
		issuerPath string
		routes     map[string]doc
		wantPaths  []string
		wantErr    []string // nil: success
		notFound   bool
	}{
		{
			name:       "no path, RFC 8414",
			issuerPath: "",
			routes:     map[string]doc{oauthWK: {body: asDoc("{{URL}}")}},
			wantPaths:  []string{oauthWK},
		},
		{
			name:       "no path, OIDC only",
			issuerPath: "",
			routes:     map[string]doc{oidcWK: {body: asDoc("{{URL}}")}},
			wantPaths:  []string{oauthWK, oidcWK},
		},
		{
			name:       "path, RFC 8414 insertion",
			issuerPath: "/tenant",
			routes:     map[string]doc{oauthWK + "/tenant": {body: asDoc("{{URL}}/tenant")}},
			wantPaths:  []string{oauthWK + "/tenant"},
		},
		{
			name:       "path, OIDC insertion",
			issuerPath: "/tenant",
			routes:     map[string]doc{oidcWK + "/tenant": {body: asDoc("{{URL}}/tenant")}},
			wantPaths:  []string{oauthWK + "/tenant", oidcWK + "/tenant"},
		},
		{
			name:       "path, OIDC appended (Keycloak, Entra)",
			issuerPath: "/realms/x",
			routes:     map[string]doc{"/realms/x" + oidcWK: {body: asDoc("{{URL}}/realms/x")}},
			wantPaths:  []string{oauthWK + "/realms/x", oidcWK + "/realms/x", "/realms/x" + oidcWK},
		},
		{
			name:       "issuer mismatch is skipped",
			issuerPath: "",
			routes: map[string]doc{
				oauthWK: {body: asDoc("https://evil.example")},
				oidcWK:  {body: asDoc("{{URL}}")},
			},
			wantPaths: []string{oauthWK, oidcWK},
		},
		{
			name:       "root document for a pathful issuer is not used",
			issuerPath: "/tenant",
			routes:     map[string]doc{oauthWK: {body: asDoc("{{URL}}")}},
			wantPaths:  []string{oauthWK + "/tenant", oidcWK + "/tenant", "/tenant" + oidcWK},
			wantErr:    []string{"HTTP 404"},
			notFound:   true,
		},
		{
			name:       "none valid names every URL",
			issuerPath: "",
			routes: map[string]doc{
				oauthWK: {body: asDoc("https://evil.example")},
				oidcWK:  {status: 500},
			},
			wantPaths: []string{oauthWK, oidcWK},
			wantErr: []string{
				`could not fetch authorization server metadata for issuer`,
				oauthWK + `: names issuer "https://evil.example" but "http://127.0.0.1`,
				oidcWK + ": HTTP 500",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newDocServer(t, tt.routes)
			issuer := srv.URL + tt.issuerPath
			m, err := FetchAuthServerMetadata(t.Context(), srv.Client(), issuer)
			if diff := cmp.Diff(tt.wantPaths, srv.requested()); diff != "" {
				t.Errorf("paths requested (-want +got):\n%s", diff)
			}
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("got %+v, want error", m)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				if got := errors.Is(err, ErrNoMetadata); got != tt.notFound {
					t.Errorf("errors.Is(err, ErrNoMetadata) = %v, want %v", got, tt.notFound)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Issuer != issuer || m.TokenEndpoint != issuer+"/token" {
				t.Errorf("got issuer %q, token endpoint %q", m.Issuer, m.TokenEndpoint)
			}
		})
	}
}

func TestFetchAuthServerMetadataAtOrigin(t *testing.T) {
	const (
		oauthWK = "/.well-known/oauth-authorization-server"
		oidcWK  = "/.well-known/openid-configuration"
	)
	tests := []struct {
		name       string
		routes     map[string]doc
		wantIssuer string // "" for (nil, nil)
		wantErr    string
	}{
		{"root issuer", map[string]doc{oauthWK: {body: asDoc("{{URL}}")}}, "{{URL}}", ""},
		{"pathful issuer on the same origin (backcompat scenario)", map[string]doc{oauthWK: {body: asDoc("{{URL}}/tenant1")}}, "{{URL}}/tenant1", ""},
		{"OIDC only", map[string]doc{oidcWK: {body: asDoc("{{URL}}")}}, "{{URL}}", ""},
		{"none: 404s", map[string]doc{}, "", ""},
		{"none: 401 and HTML", map[string]doc{oauthWK: {status: 401}, oidcWK: {body: "<!doctype html><p>app</p>"}}, "", ""},
		{"foreign issuer", map[string]doc{oauthWK: {body: asDoc("https://as.example")}}, "", `names issuer "https://as.example", which is not on the server's origin`},
		{"server error", map[string]doc{oauthWK: {status: 502}}, "", oauthWK + ": HTTP 502"},
		{"invalid document", map[string]doc{oidcWK: {body: `{"issuer":"{{URL}}"}`}}, "", "required authorization_endpoint, token_endpoint missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newDocServer(t, tt.routes)
			m, err := FetchAuthServerMetadataAtOrigin(t.Context(), srv.Client(), srv.URL+"/mcp/v1")
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tt.wantIssuer == "":
				if m != nil {
					t.Fatalf("got %+v, want nil", m)
				}
			default:
				if want := strings.ReplaceAll(tt.wantIssuer, "{{URL}}", srv.URL); m == nil || m.Issuer != want {
					t.Fatalf("got %+v, want issuer %s", m, want)
				}
			}
		})
	}
}

func TestFallbackAuthServerMetadata(t *testing.T) {
	m, err := FallbackAuthServerMetadata("https://mcp.example:8443/v1/mcp?x=1")
	if err != nil {
		t.Fatal(err)
	}
	want := &AuthServerMetadata{
		Issuer:                            "https://mcp.example:8443",
		AuthorizationEndpoint:             "https://mcp.example:8443/authorize",
		TokenEndpoint:                     "https://mcp.example:8443/token",
		RegistrationEndpoint:              "https://mcp.example:8443/register",
		ResponseTypesSupported:            []string{"code"},
		GrantTypesSupported:               []string{"authorization_code", "refresh_token"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		TokenEndpointAuthMethodsSupported: []string{"none", "client_secret_basic", "client_secret_post"},
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !m.SupportsS256() {
		t.Error("fallback does not support S256")
	}
	if _, err := FallbackAuthServerMetadata("mcp.example"); err == nil {
		t.Error("relative server URL: no error")
	}
}

func TestSupportsS256(t *testing.T) {
	for _, tt := range []struct {
		methods []string
		want    bool
	}{{nil, false}, {[]string{"plain"}, false}, {[]string{"plain", "S256"}, true}, {[]string{"s256"}, false}} {
		if got := (&AuthServerMetadata{CodeChallengeMethodsSupported: tt.methods}).SupportsS256(); got != tt.want {
			t.Errorf("SupportsS256(%q) = %v, want %v", tt.methods, got, tt.want)
		}
	}
}

func TestPreferredAuthMethod(t *testing.T) {
	tests := []struct {
		methods   []string
		hasSecret bool
		want      string
	}{
		{nil, false, "none"},
		{[]string{"client_secret_basic"}, false, "none"},
		{nil, true, "client_secret_basic"},
		{[]string{"client_secret_post", "client_secret_basic"}, true, "client_secret_basic"},
		{[]string{"client_secret_post"}, true, "client_secret_post"},
		{[]string{"private_key_jwt", "none"}, true, "none"},
		{[]string{"private_key_jwt"}, true, "none"},
	}
	for _, tt := range tests {
		m := &AuthServerMetadata{TokenEndpointAuthMethodsSupported: tt.methods}
		if got := m.PreferredAuthMethod(tt.hasSecret); got != tt.want {
			t.Errorf("PreferredAuthMethod(%v) with %q = %q, want %q", tt.hasSecret, tt.methods, got, tt.want)
		}
	}
}

func FuzzDecodeAuthServerMetadata(f *testing.F) {
	for _, s := range []struct{ data, want string }{
		{asDoc("https://as.example"), "https://as.example"},
		{asDoc("https://as.example/"), "https://as.example"},
		{asDoc("https://as.example/t"), ""},
		{asDoc("https://evil.example"), "https://as.example"},
		{`{"issuer":"https://as","authorization_endpoint":"javascript:x","token_endpoint":"https://as/t"}`, ""},
		{`{"issuer":"https://as","authorization_endpoint":"https://as/a","token_endpoint":"https://as/t","code_challenge_methods_supported":["S256"],"token_endpoint_auth_methods_supported":[]}`, "https://as"},
		{`{"issuer":1}`, ""},
		{`null`, ""},
	} {
		f.Add([]byte(s.data), s.want)
	}
	f.Fuzz(func(t *testing.T, data []byte, want string) {
		m, err := DecodeAuthServerMetadata(data, want)
		if err != nil {
			if m != nil {
				t.Fatal("metadata returned with an error")
			}
			return
		}
		if m.Issuer == "" || m.AuthorizationEndpoint == "" || m.TokenEndpoint == "" {
			t.Fatalf("accepted incomplete metadata %+v", m)
		}
		if want != "" && strings.TrimSuffix(m.Issuer, "/") != strings.TrimSuffix(want, "/") {
			t.Fatalf("accepted issuer %q for %q", m.Issuer, want)
		}
		for _, u := range []string{m.Issuer, m.AuthorizationEndpoint, m.TokenEndpoint, m.RegistrationEndpoint, m.RevocationEndpoint} {
			if _, err := parseHTTPURL(u); u != "" && err != nil {
				t.Fatalf("accepted non-http URL %q", u)
			}
		}
		m.SupportsS256()
		if got := m.PreferredAuthMethod(true); got != AuthMethodBasic && got != AuthMethodPost && got != AuthMethodNone {
			t.Fatalf("PreferredAuthMethod = %q", got)
		}
		// The issuer it named is accepted when expected.
		if _, err := DecodeAuthServerMetadata(data, m.Issuer); err != nil {
			t.Fatalf("issuer %q not accepted when expected: %v", m.Issuer, err)
		}
	})
}
