package oauthex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRequestDeviceAuthorization(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    *DeviceAuthorization
		wantErr string
	}{
		{
			name: "full",
			body: `{"device_code":"dc","user_code":"WDJB-MJHT","verification_uri":"https://as.example/device",
				"verification_uri_complete":"https://as.example/device?user_code=WDJB-MJHT","expires_in":1800,"interval":7}`,
			want: &DeviceAuthorization{DeviceCode: "dc", UserCode: "WDJB-MJHT", VerificationURI: "https://as.example/device",
				VerificationURIComplete: "https://as.example/device?user_code=WDJB-MJHT", ExpiresIn: 1800 * time.Second, Interval: 7 * time.Second},
		},
		{
			name: "default interval, google's verification_url, javascript complete URI dropped",
			body: `{"device_code":"dc","user_code":"ABC","verification_url":"https://g.example/device","verification_uri_complete":"javascript:alert(1)","expires_in":600}`,
			want: &DeviceAuthorization{DeviceCode: "dc", UserCode: "ABC", VerificationURI: "https://g.example/device",
				ExpiresIn: 600 * time.Second, Interval: 5 * time.Second},
		},
		{
			name: "user code sanitised",
			body: `{"device_code":"dc","user_code":"AB\u001b[2JCD","verification_uri":"https://as.example/d","expires_in":60}`,
			want: &DeviceAuthorization{DeviceCode: "dc", UserCode: "AB[2JCD", VerificationURI: "https://as.example/d",
				ExpiresIn: 60 * time.Second, Interval: 5 * time.Second},
		},
		{name: "no device code", body: `{"user_code":"A","verification_uri":"https://a/","expires_in":60}`, wantErr: "no device_code"},
		{name: "no user code", body: `{"device_code":"d","verification_uri":"https://a/","expires_in":60}`, wantErr: "no user_code"},
		{name: "no expiry", body: `{"device_code":"d","user_code":"A","verification_uri":"https://a/"}`, wantErr: "no expires_in"},
		{name: "javascript verification URI", body: `{"device_code":"d","user_code":"A","verification_uri":"javascript:x","expires_in":60}`, wantErr: "verification_uri"},
		{name: "oauth error", status: 400, body: `{"error":"invalid_scope"}`, wantErr: "invalid_scope"},
		{name: "not JSON", body: `device_code=secret`, wantErr: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := tt.status
			if status == 0 {
				status = 200
			}
			srv := formServer(t, func(r *http.Request, form url.Values) {
				want := url.Values{"client_id": {"c"}, "scope": {"mcp admin"}, "resource": {"https://mcp.example/mcp"}}
				if diff := cmp.Diff(want, form); diff != "" {
					t.Errorf("form (-want +got):\n%s", diff)
				}
			}, status, "application/json", tt.body)
			got, err := RequestDeviceAuthorization(t.Context(), srv.Client(), srv.URL, ClientAuth{ClientID: "c", Method: AuthMethodNone},
				[]string{"mcp", "admin"}, "https://mcp.example/mcp")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("the error quotes the body: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if s := fmt.Sprintf("%v %#v", got, got); strings.Contains(s, `"dc"`) {
				t.Errorf("DeviceAuthorization formats the device code: %s", s)
			}
		})
	}
}

// fakeClock is a clock that only sleep moves.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

// scriptedToken answers successive device token requests from answers:
// "pending", "slow", "expired", "denied", "500", "ok", or any other error
// code.
func scriptedToken(t *testing.T, answers ...string) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.PostForm.Get("grant_type") != GrantTypeDeviceCode || r.PostForm.Get("device_code") != "dc" || r.PostForm.Get("resource") != "https://mcp.example/mcp" {
			t.Errorf("poll form = %v", r.PostForm)
		}
		mu.Lock()
		a := "pending"
		if n < len(answers) {
			a = answers[n]
		}
		n++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		code := map[string]string{"pending": ErrAuthorizationPending, "slow": ErrSlowDown, "expired": ErrExpiredToken, "denied": ErrAccessDenied}[a]
		switch {
		case a == "ok":
			json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 60})
		case a == "500":
			w.WriteHeader(500)
		case code != "":
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error": code})
		default:
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error": a})
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDevicePoll(t *testing.T) {
	s := time.Second
	tests := []struct {
		name       string
		answers    []string
		interval   time.Duration
		expiresIn  time.Duration
		wantSleeps []time.Duration
		wantCode   string // the ErrorResponse code; "" means success
		wantErr    string
	}{
		{name: "approved at once", answers: []string{"ok"}, wantSleeps: []time.Duration{5 * s}},
		{name: "pending then approved", answers: []string{"pending", "pending", "ok"}, wantSleeps: []time.Duration{5 * s, 5 * s, 5 * s}},
		{name: "server interval", interval: 2 * s, answers: []string{"pending", "ok"}, wantSleeps: []time.Duration{2 * s, 2 * s}},
		{name: "slow_down adds 5 s each time", answers: []string{"slow", "slow", "pending", "ok"}, wantSleeps: []time.Duration{5 * s, 10 * s, 15 * s, 15 * s}},
		{name: "5xx backs off", answers: []string{"500", "500", "ok"}, wantSleeps: []time.Duration{5 * s, 10 * s, 20 * s}},
		{name: "access_denied", answers: []string{"pending", "denied"}, wantCode: ErrAccessDenied, wantSleeps: []time.Duration{5 * s, 5 * s}},
		{name: "expired_token", answers: []string{"expired"}, wantCode: ErrExpiredToken, wantSleeps: []time.Duration{5 * s}},
		{name: "client-side expiry", expiresIn: 12 * s, wantCode: ErrExpiredToken, wantSleeps: []time.Duration{5 * s, 5 * s}},
		{name: "other error ends it", answers: []string{"invalid_grant"}, wantCode: "invalid_grant", wantSleeps: []time.Duration{5 * s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := scriptedToken(t, tt.answers...)
			clock := &fakeClock{now: fixedNow}
			exp := tt.expiresIn
			if exp == 0 {
				exp = 10 * time.Minute
			}
			interval := tt.interval
			if interval == 0 {
				interval = 5 * s
			}
			p := DevicePoll{Client: srv.Client(), Endpoint: srv.URL, Auth: ClientAuth{ClientID: "c", Method: AuthMethodNone},
				Resource: "https://mcp.example/mcp", Now: clock.Now, Sleep: clock.Sleep}
			tok, err := p.Poll(t.Context(), &DeviceAuthorization{DeviceCode: "dc", UserCode: "U", ExpiresIn: exp, Interval: interval})
			if diff := cmp.Diff(tt.wantSleeps, clock.sleeps); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if tt.wantCode == "" {
				if err != nil || tok.AccessToken != "at" {
					t.Fatalf("Poll = %v, %v; want the token", tok != nil, err)
				}
				if !tok.Expiry.Equal(clock.Now().Add(60 * s)) {
					t.Errorf("expiry %v is not computed with the injected clock", tok.Expiry)
				}
				return
			}
			var er *ErrorResponse
			if !errors.As(err, &er) || er.Code != tt.wantCode {
				t.Fatalf("err = %v, want code %s", err, tt.wantCode)
			}
		})
	}
}

func TestDevicePollCancelled(t *testing.T) {
	srv := scriptedToken(t)
	ctx, cancel := context.WithCancel(t.Context())
	clock := &fakeClock{now: fixedNow}
	polls := 0
	p := DevicePoll{Client: srv.Client(), Endpoint: srv.URL, Auth: ClientAuth{ClientID: "c", Method: AuthMethodNone},
		Resource: "https://mcp.example/mcp", Now: clock.Now, Sleep: func(ctx context.Context, d time.Duration) error {
			if polls++; polls == 3 {
				cancel()
			}
			return clock.Sleep(ctx, d)
		}}
	_, err := p.Poll(ctx, &DeviceAuthorization{DeviceCode: "dc", ExpiresIn: time.Hour, Interval: time.Second})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// FuzzParseDeviceAuthorization: a hostile device authorization response
// never yields a URI that isn't http(s), a user code with control
// characters, or an error quoting the device code.
func FuzzParseDeviceAuthorization(f *testing.F) {
	f.Add([]byte(`{"device_code":"dc","user_code":"WDJB-MJHT","verification_uri":"https://a/d","verification_uri_complete":"https://a/d?c=1","expires_in":600,"interval":5}`))
	f.Add([]byte(`{"device_code":"dc","user_code":"\u202eX","verification_url":"javascript:1","expires_in":1e308}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := parseDeviceAuthorization(body)
		if err != nil {
			if strings.Contains(err.Error(), `"dc"`) {
				t.Errorf("the error quotes the body: %v", err)
			}
			return
		}
		for _, u := range []string{d.VerificationURI, d.VerificationURIComplete} {
			if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Errorf("URI %q is not http(s)", u)
			}
		}
		for _, r := range d.UserCode {
			if r < 0x20 || r == 0x7f || (r >= 0x200e && r <= 0x202e) {
				t.Errorf("user code %q holds control or formatting characters", d.UserCode)
			}
		}
		if d.ExpiresIn <= 0 || d.Interval <= 0 || d.DeviceCode == "" {
			t.Errorf("accepted %+v", d)
		}
	})
}
