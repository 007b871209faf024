package oauthex

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRegister(t *testing.T) {
	md := ClientMetadata{
		RedirectURIs:            []string{"http://127.0.0.1/callback"},
		TokenEndpointAuthMethod: "none",
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		ClientName:              "mcpauth",
		ApplicationType:         "native",
	}
	tests := []struct {
		name    string
		status  int
		ctype   string
		body    string
		want    *ClientInformation
		wantErr *ErrorResponse
		wantMsg string
	}{
		{
			name: "created", status: 201, ctype: "application/json",
			body: `{"client_id":"abc","client_secret":"SECRETBODY","client_id_issued_at":1700000000,"client_secret_expires_at":0,
				"registration_access_token":"rat","registration_client_uri":"https://as/reg/abc","token_endpoint_auth_method":"client_secret_basic",
				"redirect_uris":["http://127.0.0.1/callback"],"client_name":"mcpauth"}`,
			want: &ClientInformation{ClientID: "abc", ClientSecret: "SECRETBODY", ClientIDIssuedAt: 1700000000, RegistrationAccessToken: "rat",
				RegistrationClientURI: "https://as/reg/abc", TokenEndpointAuthMethod: "client_secret_basic", RedirectURIs: []string{"http://127.0.0.1/callback"}},
		},
		{
			name: "200 accepted", status: 200, ctype: "application/json",
			body: `{"client_id":"abc"}`,
			want: &ClientInformation{ClientID: "abc"},
		},
		{
			name: "RFC 7591 error", status: 400, ctype: "application/json",
			body:    `{"error":"invalid_redirect_uri","error_description":"loopback not allowed"}`,
			wantErr: &ErrorResponse{Code: "invalid_redirect_uri", Description: "loopback not allowed", StatusCode: 400},
		},
		{
			name: "registration disabled", status: 403, ctype: "text/html",
			body:    `<p>SECRETBODY</p>`,
			wantErr: &ErrorResponse{Description: "HTTP 403", StatusCode: 403},
		},
		{
			name: "no client_id", status: 201, ctype: "application/json",
			body:    `{"client_secret":"SECRETBODY"}`,
			wantMsg: "no client_id",
		},
		{
			name: "invalid JSON", status: 201, ctype: "application/json",
			body:    `{"client_id":"a","client_secret":"SECRETBODY"`,
			wantMsg: "not valid client information JSON",
		},
		{
			name: "wrong type", status: 201, ctype: "application/json",
			body:    `{"client_id":"a","client_secret":"SECRETBODY","client_id_issued_at":"SECRETBODY"}`,
			wantMsg: "not valid client information JSON",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Accept") != "application/json" {
					t.Errorf("%s with Content-Type %q, Accept %q", r.Method, r.Header.Get("Content-Type"), r.Header.Get("Accept"))
				}
				var got ClientMetadata
				if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
					t.Errorf("decode request: %v", err)
				}
				if diff := cmp.Diff(md, got); diff != "" {
					t.Errorf("metadata sent (-want +got):\n%s", diff)
				}
				w.Header().Set("Content-Type", tt.ctype)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			ci, err := Register(t.Context(), srv.Client(), srv.URL+"/register", md)
			if tt.want != nil {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, ci); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %v, want error", ci)
			}
			if strings.Contains(err.Error(), "SECRETBODY") {
				t.Errorf("error %q contains the response body", err)
			}
			if !strings.HasPrefix(err.Error(), "could not register a client at "+srv.URL+"/register: ") {
				t.Errorf("error %q does not say what failed where", err)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			if tt.wantErr != nil {
				var er *ErrorResponse
				if !errors.As(err, &er) {
					t.Fatalf("err = %v, want *ErrorResponse", err)
				}
				if diff := cmp.Diff(tt.wantErr, er); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestClientMetadataJSON(t *testing.T) {
	b, err := json.Marshal(ClientMetadata{RedirectURIs: []string{"http://127.0.0.1/cb"}, ApplicationType: "native", SoftwareID: "mcpauth"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"redirect_uris":["http://127.0.0.1/cb"],"application_type":"native","software_id":"mcpauth"}`; got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
}

func TestClientInformationRedacts(t *testing.T) {
	ci := ClientInformation{ClientID: "abc", ClientSecret: "SECRET1", RegistrationAccessToken: "SECRET2"}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("registered", "client", ci)
	for _, s := range []string{fmt.Sprint(ci), fmt.Sprintf("%+v", ci), fmt.Sprintf("%#v", ci), fmt.Sprintf("%v", &ci), logged.String()} {
		if strings.Contains(s, "SECRET") || !strings.Contains(s, "abc") {
			t.Errorf("%q leaks a secret or lacks the client ID", s)
		}
	}
	// The keystore needs the secrets in the JSON form.
	b, _ := json.Marshal(ci)
	var back ClientInformation
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ci, back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}
