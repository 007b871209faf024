package oauthex

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRevoke(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		hint    string
		wantErr *ErrorResponse
	}{
		{name: "ok", status: 200, hint: "refresh_token"},
		{name: "no hint", status: 200},
		{name: "204", status: 204, hint: "access_token"},
		{name: "unavailable", status: 503, body: "SECRETBODY", wantErr: &ErrorResponse{Description: "HTTP 503", StatusCode: 503}},
		{
			name: "unsupported_token_type", status: 400, hint: "refresh_token",
			body:    `{"error":"unsupported_token_type","error_description":"no"}`,
			wantErr: &ErrorResponse{Code: "unsupported_token_type", Description: "no", StatusCode: 400},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := formServer(t, func(r *http.Request, form url.Values) {
				want := url.Values{"token": {"TOKEN"}, "client_id": {"c"}, "client_secret": {"CLIENTSECRET"}}
				if tt.hint != "" {
					want.Set("token_type_hint", tt.hint)
				}
				if diff := cmp.Diff(want, form); diff != "" {
					t.Errorf("form (-want +got):\n%s", diff)
				}
			}, tt.status, "application/json", tt.body)
			err := Revoke(t.Context(), srv.Client(), srv.URL+"/revoke", ClientAuth{ClientID: "c", ClientSecret: "CLIENTSECRET", Method: AuthMethodPost}, "TOKEN", tt.hint)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var er *ErrorResponse
			if !errors.As(err, &er) {
				t.Fatalf("err = %v, want *ErrorResponse", err)
			}
			if diff := cmp.Diff(tt.wantErr, er); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			for _, s := range []string{"TOKEN", "SECRET"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains %q", err, s)
				}
			}
			if !strings.HasPrefix(err.Error(), "could not revoke token at "+srv.URL+"/revoke: ") {
				t.Errorf("error %q does not say what failed where", err)
			}
		})
	}
}

func TestRevokeBasicAuth(t *testing.T) {
	srv := formServer(t, func(r *http.Request, form url.Values) {
		if id, secret, ok := r.BasicAuth(); !ok || id != "c" || secret != "s" {
			t.Errorf("BasicAuth = %q, %q, %v", id, secret, ok)
		}
		if form.Has("client_id") || form.Has("client_secret") {
			t.Errorf("client credentials in the body as well: %v", form)
		}
	}, 200, "application/json", "")
	if err := Revoke(t.Context(), srv.Client(), srv.URL, ClientAuth{ClientID: "c", ClientSecret: "s", Method: AuthMethodBasic}, "t", ""); err != nil {
		t.Fatal(err)
	}
}

func TestRevokeEmptyToken(t *testing.T) {
	if err := Revoke(t.Context(), nil, "https://as.invalid/revoke", ClientAuth{ClientID: "c", Method: AuthMethodNone}, "", ""); err == nil {
		t.Error("no error for an empty token")
	}
}
