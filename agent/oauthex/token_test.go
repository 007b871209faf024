package oauthex

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// formServer asserts a form POST asking for JSON, hands the request to
// check, and answers with status, content type and body.
func formServer(t *testing.T, check func(r *http.Request, form url.Values), status int, ctype, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method = %s, want POST", r.Method)
		}
		if got := r.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type = %q", got)
		}
		if got := r.Header.Get("Accept"); got != "application/json" {
			t.Errorf("Accept = %q", got)
		}
		raw, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			t.Errorf("body %q is not a form: %v", raw, err)
		}
		if check != nil {
			check(r, form)
		}
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

var fixedNow = time.Date(2026, 7, 28, 12, 0, 0, 0, time.UTC)

func TestTokenRequestClientAuth(t *testing.T) {
	const id, secret = "client id:1", "s3cr&t:/+"
	tests := []struct {
		name       string
		auth       ClientAuth
		wantHeader string
		wantForm   url.Values
	}{
		{
			name:     "none",
			auth:     ClientAuth{ClientID: id, Method: AuthMethodNone},
			wantForm: url.Values{"grant_type": {"authorization_code"}, "code": {"c"}, "client_id": {id}},
		},
		{
			name: "basic",
			auth: ClientAuth{ClientID: id, ClientSecret: secret, Method: AuthMethodBasic},
			// RFC 6749 §2.3.1: form-urlencoded, then base64.
			wantHeader: "Basic " + base64.StdEncoding.EncodeToString([]byte("client+id%3A1:s3cr%26t%3A%2F%2B")),
			wantForm:   url.Values{"grant_type": {"authorization_code"}, "code": {"c"}},
		},
		{
			name:     "post",
			auth:     ClientAuth{ClientID: id, ClientSecret: secret, Method: AuthMethodPost},
			wantForm: url.Values{"grant_type": {"authorization_code"}, "code": {"c"}, "client_id": {id}, "client_secret": {secret}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := formServer(t, func(r *http.Request, form url.Values) {
				if got := r.Header.Get("Authorization"); got != tt.wantHeader {
					t.Errorf("Authorization = %q, want %q", got, tt.wantHeader)
				}
				if diff := cmp.Diff(tt.wantForm, form); diff != "" {
					t.Errorf("form (-want +got):\n%s", diff)
				}
			}, 200, "application/json", `{"access_token":"at","token_type":"Bearer"}`)
			// A stray client_secret in params must not ride along.
			params := url.Values{"grant_type": {"authorization_code"}, "code": {"c"}, "client_secret": {"stray"}}
			if tt.auth.Method == AuthMethodPost {
				params.Del("client_secret")
			}
			before := fmt.Sprint(params)
			if _, err := TokenRequest(t.Context(), srv.Client(), srv.URL, tt.auth, params, nil); err != nil {
				t.Fatal(err)
			}
			if after := fmt.Sprint(params); after != before {
				t.Errorf("params changed from %s to %s", before, after)
			}
		})
	}
}

func TestTokenRequestSuccess(t *testing.T) {
	tests := []struct {
		name, ctype, body string
		wantExpiry        time.Time
		wantScope         any
	}{
		{
			name:       "JSON",
			ctype:      "application/json; charset=utf-8",
			body:       `{"access_token":"at","token_type":"Bearer","refresh_token":"rt","expires_in":3600,"scope":"a b"}`,
			wantExpiry: fixedNow.Add(time.Hour),
			wantScope:  "a b",
		},
		{
			name:       "expires_in as string",
			ctype:      "application/json",
			body:       `{"access_token":"at","token_type":"Bearer","refresh_token":"rt","expires_in":"120"}`,
			wantExpiry: fixedNow.Add(2 * time.Minute),
		},
		{
			name:  "no expires_in",
			ctype: "application/json",
			body:  `{"access_token":"at","token_type":"Bearer","refresh_token":"rt"}`,
		},
		{
			name:       "huge expires_in does not overflow",
			ctype:      "application/json",
			body:       `{"access_token":"at","token_type":"Bearer","refresh_token":"rt","expires_in":1e300}`,
			wantExpiry: fixedNow.Add(time.Duration(1<<63 - 1).Truncate(time.Second)),
		},
		{
			name:       "form encoded (GitHub)",
			ctype:      "application/x-www-form-urlencoded",
			body:       "access_token=at&token_type=Bearer&refresh_token=rt&expires_in=60&scope=repo",
			wantExpiry: fixedNow.Add(time.Minute),
			wantScope:  "repo",
		},
		{
			name:      "JSON mislabelled text/plain",
			ctype:     "text/plain",
			body:      ` {"access_token":"at","token_type":"Bearer","refresh_token":"rt","scope":"x"}`,
			wantScope: "x",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := formServer(t, nil, 200, tt.ctype, tt.body)
			tok, err := TokenRequest(t.Context(), srv.Client(), srv.URL, ClientAuth{ClientID: "c", Method: AuthMethodNone},
				url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"old"}}, func() time.Time { return fixedNow })
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "at" || tok.TokenType != "Bearer" || tok.RefreshToken != "rt" {
				t.Errorf("token = %q %q %q", tok.AccessToken, tok.TokenType, tok.RefreshToken)
			}
			if !tok.Expiry.Equal(tt.wantExpiry) {
				t.Errorf("Expiry = %v, want %v", tok.Expiry, tt.wantExpiry)
			}
			if got := tok.Extra("scope"); got != tt.wantScope {
				t.Errorf("Extra(scope) = %v, want %v", got, tt.wantScope)
			}
		})
	}
}

func TestTokenRequestErrors(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		name, ctype, body string
		status            int
		want              *ErrorResponse // nil: a plain error
		wantMsg           string
	}{
		{
			name: "invalid_grant", status: 400, ctype: "application/json",
			body:    `{"error":"invalid_grant","error_description":"refresh token reused","refresh_token":"SECRETBODY"}`,
			want:    &ErrorResponse{Code: "invalid_grant", Description: "refresh token reused", StatusCode: 400},
			wantMsg: "oauth error invalid_grant: refresh token reused",
		},
		{
			name: "invalid_client without description", status: 401, ctype: "application/json",
			body:    `{"error":"invalid_client","error_uri":"https://as/doc","client_secret":"SECRETBODY"}`,
			want:    &ErrorResponse{Code: "invalid_client", URI: "https://as/doc", StatusCode: 401},
			wantMsg: "oauth error invalid_client",
		},
		{
			name: "unparsable body", status: 500, ctype: "text/html",
			body:    `<html>SECRETBODY</html>`,
			want:    &ErrorResponse{Description: "HTTP 500", StatusCode: 500},
			wantMsg: "oauth error: HTTP 500",
		},
		{
			name: "error is not a string", status: 400, ctype: "application/json",
			body: `{"error":{"message":"SECRETBODY"}}`,
			want: &ErrorResponse{Description: "HTTP 400", StatusCode: 400},
		},
		{
			name: "form error", status: 400, ctype: "application/x-www-form-urlencoded",
			body: "error=invalid_grant&error_description=SECRET%0ABODY",
			want: &ErrorResponse{Code: "invalid_grant", Description: "SECRET BODY", StatusCode: 400},
		},
		{
			name: "error in a 200 (GitHub)", status: 200, ctype: "application/json",
			body: `{"error":"bad_verification_code","error_description":"expired"}`,
			want: &ErrorResponse{Code: "bad_verification_code", Description: "expired", StatusCode: 200},
		},
		{
			name: "description capped and cleaned", status: 400, ctype: "application/json",
			body: `{"error":"invalid_request\u001b[31m","error_description":"\u202e` + long + `"}`,
			want: &ErrorResponse{Code: "invalid_request[31m", Description: strings.Repeat("é", 200) + "…", StatusCode: 400},
		},
		{
			name: "no access token", status: 200, ctype: "application/json",
			body:    `{"refresh_token":"SECRETBODY"}`,
			wantMsg: "the response has no access_token",
		},
		{
			name: "invalid JSON", status: 200, ctype: "application/json",
			body:    `{"access_token":"SECRETBODY"`,
			wantMsg: "not a JSON object",
		},
		{
			name: "JSON null", status: 200, ctype: "application/json",
			body:    `null`,
			wantMsg: "not a JSON object",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := formServer(t, nil, tt.status, tt.ctype, tt.body)
			tok, err := TokenRequest(t.Context(), srv.Client(), srv.URL, ClientAuth{ClientID: "c", ClientSecret: "CLIENTSECRET", Method: AuthMethodPost},
				url.Values{"grant_type": {"authorization_code"}, "code": {"CODE"}}, nil)
			if err == nil {
				t.Fatalf("got token %v, want error", tok)
			}
			msg := err.Error()
			for _, secret := range []string{"SECRETBODY", "CLIENTSECRET", "CODE", "\x1b", "\u202e"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q contains %q", msg, secret)
				}
			}
			if !strings.HasPrefix(msg, "could not get a token from "+srv.URL+": ") {
				t.Errorf("error %q does not say what failed where", msg)
			}
			if tt.wantMsg != "" && !strings.HasSuffix(msg, tt.wantMsg) {
				t.Errorf("error %q does not end with %q", msg, tt.wantMsg)
			}
			var er *ErrorResponse
			if tt.want == nil {
				if errors.As(err, &er) {
					t.Errorf("got *ErrorResponse %+v, want a plain error", er)
				}
				return
			}
			if !errors.As(err, &er) {
				t.Fatalf("err = %v, want *ErrorResponse", err)
			}
			if diff := cmp.Diff(tt.want, er); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestTokenRequestBadClientAuth(t *testing.T) {
	srv := formServer(t, func(*http.Request, url.Values) { t.Error("request sent") }, 200, "application/json", `{}`)
	for _, auth := range []ClientAuth{
		{Method: AuthMethodNone},
		{ClientID: "c", Method: ""},
		{ClientID: "c", Method: "private_key_jwt"},
		{ClientID: "c", Method: AuthMethodBasic},
		{ClientID: "c", Method: AuthMethodPost},
	} {
		if _, err := TokenRequest(t.Context(), srv.Client(), srv.URL, auth, url.Values{}, nil); err == nil {
			t.Errorf("TokenRequest with %v: no error", auth)
		}
	}
}

func TestErrorResponseError(t *testing.T) {
	tests := []struct {
		e    ErrorResponse
		want string
	}{
		{ErrorResponse{Code: "invalid_grant", Description: "expired"}, "oauth error invalid_grant: expired"},
		{ErrorResponse{Code: "invalid_grant"}, "oauth error invalid_grant"},
		{ErrorResponse{Description: "HTTP 502"}, "oauth error: HTTP 502"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestClientAuthRedacts(t *testing.T) {
	a := ClientAuth{ClientID: "id", ClientSecret: "SECRET", Method: AuthMethodBasic}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("auth", "auth", a)
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%+v", a), fmt.Sprintf("%#v", a), fmt.Sprintf("%v", &a), logged.String()} {
		if strings.Contains(s, "SECRET") || !strings.Contains(s, "id") {
			t.Errorf("%q leaks the secret or lacks the client ID", s)
		}
	}
}
