package agent

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mcpauth/agent/oauthex"
	"mcpauth/test/fakeas"
	"mcpauth/test/fakebrowser"
)

// fakeSleeper records the device flow's waits and moves the test clock
// instead of sleeping, so polling tests take no time.
type fakeSleeper struct {
	mu     sync.Mutex
	clock  *testClock
	sleeps []time.Duration
}

func (f *fakeSleeper) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.sleeps = append(f.sleeps, d)
	f.mu.Unlock()
	f.clock.Advance(d)
	return nil
}

func (f *fakeSleeper) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// newDeviceEnv is a test env whose AS offers the device flow and whose
// agent polls on the fake sleeper.
func newDeviceEnv(t *testing.T, dc fakeas.DeviceConfig, add ...func(*AddRequest)) (*testEnv, *fakeSleeper) {
	e := newTestEnv(t, fakeas.Config{Device: &dc}, add...)
	s := &fakeSleeper{clock: e.Clock}
	e.sleep = s.Sleep
	return e, s
}

// TestDeviceFlow: each poll answer has its behaviour (RFC 8628 §3.5), and
// each end its message.
func TestDeviceFlow(t *testing.T) {
	s := time.Second
	tests := []struct {
		name       string
		dc         fakeas.DeviceConfig
		approve    bool // approve at the verification URI when the code is shown
		wantSleeps []time.Duration
		wantErr    []string // substrings; none means success
	}{
		{name: "approved by the user", approve: true, wantSleeps: []time.Duration{5 * s}},
		{name: "pending, then approved", dc: fakeas.DeviceConfig{Interval: 2, Polls: []string{"authorization_pending", "authorization_pending"}},
			approve: true, wantSleeps: []time.Duration{2 * s, 2 * s, 2 * s}},
		{name: "slow_down adds 5 s", dc: fakeas.DeviceConfig{Polls: []string{"slow_down", "authorization_pending", "slow_down", "approve"}},
			wantSleeps: []time.Duration{5 * s, 10 * s, 10 * s, 15 * s}},
		{name: "access_denied", dc: fakeas.DeviceConfig{Polls: []string{"authorization_pending", "access_denied"}},
			wantSleeps: []time.Duration{5 * s, 5 * s}, wantErr: []string{"denied", "access_denied", "mcpauth login fake --device"}},
		{name: "expired_token", dc: fakeas.DeviceConfig{Polls: []string{"expired_token"}},
			wantSleeps: []time.Duration{5 * s}, wantErr: []string{"expired", "expired_token", "mcpauth login fake --device"}},
		{name: "expires while pending", dc: fakeas.DeviceConfig{ExpiresIn: 12 * s},
			wantSleeps: []time.Duration{5 * s, 5 * s}, wantErr: []string{"expired", "for a new code"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, sleeper := newDeviceEnv(t, tt.dc)
			var shown []DeviceCode
			err := e.Login(t.Context(), testServer, LoginOptions{Device: true, OnDeviceCode: func(dc DeviceCode) {
				shown = append(shown, dc)
				if tt.approve && !e.AS.ApproveDevice(dc.UserCode) {
					t.Error("the shown user code is unknown to the AS")
				}
			}})
			if diff := cmp.Diff(tt.wantSleeps, sleeper.Sleeps()); diff != "" {
				t.Errorf("waits between polls (-want +got):\n%s", diff)
			}
			if len(shown) != 1 {
				t.Fatalf("OnDeviceCode called %d times, want 1", len(shown))
			}
			dc := shown[0]
			if dc.Server != testServer || !strings.HasPrefix(dc.VerificationURI, e.AS.Issuer()) || dc.UserCode == "" ||
				!strings.Contains(dc.VerificationURIComplete, dc.UserCode) || dc.Expiry.IsZero() {
				t.Errorf("DeviceCode = %+v", dc)
			}
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("Login succeeded")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				if acc, _ := e.heldTokens(t, testServer); acc != "" {
					t.Error("a failed device login stored a token")
				}
				return
			}
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			tok := e.token(t, testServer)
			if !e.AS.Introspect(tok.Value) {
				t.Error("the token is not active")
			}
			if _, rt := e.heldTokens(t, testServer); rt == "" {
				t.Error("no refresh token held after a device login")
			}
			if n := e.Browser.Opens(); n != 0 {
				t.Errorf("the browser opened %d times", n)
			}
			// The dynamic registration allows both flows, and is kept.
			ci, ok, _ := e.secrets.registration(t.Context(), e.AS.Issuer())
			if !ok || !strings.Contains(strings.Join(ci.GrantTypes, " "), oauthex.GrantTypeDeviceCode) {
				t.Errorf("registration grant types %v lack the device grant", ci.GrantTypes)
			}
			req := e.AS.TokenRequests()[0]
			if req.Get("resource") != e.AS.URL() || req.Get("grant_type") != oauthex.GrantTypeDeviceCode {
				t.Errorf("poll: grant_type %q resource %q", req.Get("grant_type"), req.Get("resource"))
			}
		})
	}
}

// failingBrowser can't open anything, as on a machine without a desktop.
type failingBrowser struct{ opens int }

func (b *failingBrowser) Open(context.Context, string) error {
	b.opens++
	return errors.New("no display")
}

// headless is a browser that reports it can't open, as systemBrowser does
// in an SSH session.
type headless struct{ failingBrowser }

func (headless) CanOpen() bool { return false }

// TestDeviceFlowChosen: when no browser can be opened, the device flow
// takes over if the AS offers it and the caller can show a code (or no URL
// either); otherwise the browser flow runs as before.
func TestDeviceFlowChosen(t *testing.T) {
	tests := []struct {
		name       string
		browser    Browser
		onURL      bool
		onDevice   bool
		noBrowser  bool
		wantDevice bool
	}{
		{name: "no browser, no consumer", wantDevice: true},
		{name: "no browser, shows codes", onURL: true, onDevice: true, wantDevice: true},
		{name: "headless system browser", browser: &headless{}, onURL: true, onDevice: true, wantDevice: true},
		{name: "open fails, shows codes", browser: &failingBrowser{}, onURL: true, onDevice: true, wantDevice: true},
		{name: "open fails, URL only", browser: &failingBrowser{}, onURL: true},
		{name: "no browser, URL only", onURL: true},
		{name: "--no-browser", onURL: true, onDevice: true, noBrowser: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newDeviceEnv(t, fakeas.DeviceConfig{})
			e.browser = tt.browser
			var device, url bool
			opts := LoginOptions{NoBrowser: tt.noBrowser}
			if tt.onURL {
				opts.OnURL = func(u string) {
					url = true
					// The user opens it by hand.
					go fakebrowser.Open(context.WithoutCancel(t.Context()), u, fakebrowser.Options{})
				}
			}
			approve := func(dc DeviceCode) {
				device = true
				e.AS.ApproveDevice(dc.UserCode)
			}
			if tt.onDevice {
				opts.OnDeviceCode = approve
			} else {
				// Without a consumer the code goes to the log; approve
				// whatever is pending, as the user reading it would.
				e.sleep = func(ctx context.Context, d time.Duration) error {
					e.AS.ApproveAllDevices()
					return nil
				}
			}
			if err := e.Login(t.Context(), testServer, opts); err != nil {
				t.Fatalf("Login: %v", err)
			}
			usedDevice := e.AS.Stats().DeviceAuthorizations > 0
			if usedDevice != tt.wantDevice {
				t.Errorf("device flow used: %v, want %v (OnDeviceCode called %v, OnURL called %v)", usedDevice, tt.wantDevice, device, url)
			}
			if !tt.wantDevice && e.AS.Stats().CodeExchanges != 1 {
				t.Error("the browser flow did not complete")
			}
		})
	}
}

func TestDeviceFlowNotOffered(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	err := e.Login(t.Context(), testServer, LoginOptions{Device: true})
	if err == nil || !strings.Contains(err.Error(), "does not offer the device flow") || !strings.Contains(err.Error(), "without --device") {
		t.Fatalf("Login --device without a device endpoint: %v", err)
	}
	if e.AS.Stats().Authorizations != 0 || e.Browser.Opens() != 0 {
		t.Error("a browser login started anyway")
	}
}

// TestDeviceCodeOverControlSocket: a CLI attached to a running agent gets
// the device code as a line of the login stream.
func TestDeviceCodeOverControlSocket(t *testing.T) {
	want := DeviceCode{Server: "s", VerificationURI: "https://as.example/device", UserCode: "ABCD-EFGH",
		VerificationURIComplete: "https://as.example/device?user_code=ABCD-EFGH", Expiry: time.Unix(1800000000, 0).UTC()}
	api := &fakeAPI{login: func(ctx context.Context, opts LoginOptions) error {
		if !opts.Device || opts.OnDeviceCode == nil {
			t.Errorf("the agent got Device %v, OnDeviceCode set %v", opts.Device, opts.OnDeviceCode != nil)
			return nil
		}
		opts.OnDeviceCode(want)
		return nil
	}}
	c := serveFake(t, api)
	var got []DeviceCode
	if err := c.Login(t.Context(), "s", LoginOptions{Device: true, OnDeviceCode: func(dc DeviceCode) { got = append(got, dc) }}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]DeviceCode{want}, got); diff != "" {
		t.Errorf("device codes (-want +got):\n%s", diff)
	}
}

// TestSystemBrowserCanOpen: an SSH session (no display, no $BROWSER) has
// no browser to open; $BROWSER or a display means one may open.
func TestSystemBrowserCanOpen(t *testing.T) {
	tests := []struct {
		browser, display, wayland string
		want                      bool
	}{
		{"", "", "", runtime.GOOS == "darwin" || runtime.GOOS == "windows"},
		{"w3m", "", "", true},
		{"", ":0", "", true},
		{"", "", "wayland-0", true},
	}
	for _, tt := range tests {
		t.Setenv("BROWSER", tt.browser)
		t.Setenv("DISPLAY", tt.display)
		t.Setenv("WAYLAND_DISPLAY", tt.wayland)
		if got := (systemBrowser{}).CanOpen(); got != tt.want {
			t.Errorf("CanOpen with BROWSER=%q DISPLAY=%q WAYLAND_DISPLAY=%q = %v, want %v", tt.browser, tt.display, tt.wayland, got, tt.want)
		}
	}
}
