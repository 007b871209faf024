package oauthex

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestClientCredentialsRequest(t *testing.T) {
	tests := []struct {
		name     string
		scopes   []string
		resource string
		want     url.Values
	}{
		{"bare", nil, "", url.Values{"grant_type": {"client_credentials"}}},
		{"scope and resource", []string{"mcp", "admin"}, "https://mcp.example/mcp",
			url.Values{"grant_type": {"client_credentials"}, "scope": {"mcp admin"}, "resource": {"https://mcp.example/mcp"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := formServer(t, func(r *http.Request, form url.Values) {
				if diff := cmp.Diff(tt.want, form); diff != "" {
					t.Errorf("form (-want +got):\n%s", diff)
				}
				if u, p, ok := r.BasicAuth(); !ok || u != "c" || p != "s" {
					t.Errorf("no Basic client authentication")
				}
			}, 200, "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":3600}`)
			tok, err := ClientCredentials(t.Context(), srv.Client(), srv.URL, ClientAuth{ClientID: "c", ClientSecret: "s", Method: AuthMethodBasic},
				tt.scopes, tt.resource, func() time.Time { return fixedNow })
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "at" || !tok.Expiry.Equal(fixedNow.Add(time.Hour)) {
				t.Errorf("token: expiry %v", tok.Expiry)
			}
		})
	}
}

func TestJWTBearer(t *testing.T) {
	srv := formServer(t, func(r *http.Request, form url.Values) {
		want := url.Values{"grant_type": {GrantTypeJWTBearer}, "assertion": {"a.b.c"}, "scope": {"mcp"}, "resource": {"https://mcp.example/mcp"}}
		if diff := cmp.Diff(want, form); diff != "" {
			t.Errorf("form (-want +got):\n%s", diff)
		}
		if _, _, ok := r.BasicAuth(); !ok {
			t.Errorf("the client did not authenticate")
		}
	}, 200, "application/json", `{"access_token":"at","token_type":"Bearer"}`)
	_, err := JWTBearer(t.Context(), srv.Client(), srv.URL, ClientAuth{ClientID: "c", ClientSecret: "s", Method: AuthMethodBasic},
		"a.b.c", []string{"mcp"}, "https://mcp.example/mcp", nil)
	if err != nil {
		t.Fatal(err)
	}
}

func TestExchangeToken(t *testing.T) {
	req := TokenExchangeRequest{
		SubjectToken: "id-token-secret", SubjectTokenType: TokenTypeIDToken, RequestedTokenType: TokenTypeIDJAG,
		Audience: "https://as.example", Resource: "https://mcp.example/mcp", Scopes: []string{"mcp"},
	}
	wantForm := url.Values{
		"grant_type": {GrantTypeTokenExchange}, "subject_token": {"id-token-secret"}, "subject_token_type": {TokenTypeIDToken},
		"requested_token_type": {TokenTypeIDJAG}, "audience": {"https://as.example"}, "resource": {"https://mcp.example/mcp"},
		"scope": {"mcp"}, "client_id": {"idp-client"},
	}
	tests := []struct {
		name, body string
		status     int
		wantErr    string
	}{
		{name: "id-jag", status: 200, body: `{"access_token":"jag","issued_token_type":"` + TokenTypeIDJAG + `","token_type":"N_A","expires_in":300}`},
		{name: "wrong issued type", status: 200, body: `{"access_token":"jag-secret","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer"}`,
			wantErr: "issued_token_type"},
		{name: "no issued type", status: 200, body: `{"access_token":"jag-secret","token_type":"N_A"}`, wantErr: "issued_token_type"},
		{name: "refused", status: 400, body: `{"error":"invalid_grant","error_description":"bad id token"}`, wantErr: "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := formServer(t, func(r *http.Request, form url.Values) {
				if diff := cmp.Diff(wantForm, form); diff != "" {
					t.Errorf("form (-want +got):\n%s", diff)
				}
			}, tt.status, "application/json", tt.body)
			got, err := ExchangeToken(t.Context(), srv.Client(), srv.URL, ClientAuth{ClientID: "idp-client", Method: AuthMethodNone}, req, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "secret") {
					t.Fatalf("err = %v, want %q and no secret", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Token != "jag" || got.IssuedTokenType != TokenTypeIDJAG {
				t.Errorf("got %v", got)
			}
			if s := fmt.Sprintf("%v %#v %v %#v", got, got, req, req); strings.Contains(s, "jag\"") || strings.Contains(s, "id-token-secret") {
				t.Errorf("formatting leaks a token: %s", s)
			}
		})
	}
	if _, err := ExchangeToken(t.Context(), nil, "http://127.0.0.1:1", ClientAuth{ClientID: "c", Method: AuthMethodNone}, TokenExchangeRequest{}, nil); err == nil {
		t.Error("an exchange without a subject token was sent")
	}
}
