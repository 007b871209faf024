package agent

// The device authorization grant (RFC 8628), for machines with no browser:
// mcpauth shows a URL and a code, the user enters the code on any device,
// and mcpauth polls the token endpoint until the sign-in is approved.
//
// When it is used (useDevice, deviceFallback), given an authorization
// server that advertises device_authorization_endpoint:
//
//   - always with LoginOptions.Device (`mcpauth login NAME --device`);
//   - never with LoginOptions.NoBrowser, which asks for the browser flow's
//     URL;
//   - otherwise when no browser can be opened here, and the caller can show
//     a device code (OnDeviceCode) or cannot show a URL either (no OnURL):
//     a URL whose redirect goes to this machine's loopback is useless on
//     another device, a code is not. "No browser" means the agent has no
//     Browser, the system browser has nothing to run (no $BROWSER, and on
//     Linux and the BSDs no DISPLAY or WAYLAND_DISPLAY: an SSH session), or
//     Browser.Open failed; in that last case the URL went to OnURL already.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"time"

	"mcpauth/agent/oauthex"
)

// DeviceCode is what the user needs to approve a device flow sign-in
// (RFC 8628 §3.3). It holds no secret: the user code is worthless without
// the user's own sign-in at the authorization server (the device code,
// which is a secret, never leaves the agent).
type DeviceCode struct {
	Server string `json:"server"`
	// VerificationURI is where the user enters UserCode;
	// VerificationURIComplete, if the AS gives one, has the code in it
	// already (for a QR code, or a click).
	VerificationURI         string    `json:"verification_uri"`
	VerificationURIComplete string    `json:"verification_uri_complete,omitempty"`
	UserCode                string    `json:"user_code"`
	Expiry                  time.Time `json:"expiry"`
}

// canOpenBrowser reports whether a browser can plausibly be opened here.
func (a *Agent) canOpenBrowser() bool {
	if a.browser == nil {
		return false
	}
	if c, ok := a.browser.(interface{ CanOpen() bool }); ok {
		return c.CanOpen()
	}
	return true
}

// CanOpen reports whether the system browser has anything to run: $BROWSER,
// or a desktop. On Linux and the BSDs, a session without DISPLAY and
// WAYLAND_DISPLAY (an SSH login) has no browser to show a page in.
func (systemBrowser) CanOpen() bool {
	if os.Getenv("BROWSER") != "" {
		return true
	}
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// useDevice decides, before the browser flow starts, whether to use the
// device flow instead (see the top of this file).
func (a *Agent) useDevice(name string, as *oauthex.AuthServerMetadata, opts LoginOptions) (bool, error) {
	if opts.Device {
		if as.DeviceAuthorizationEndpoint == "" {
			return false, fmt.Errorf("the authorization server %s of %s does not offer the device flow (no device_authorization_endpoint): "+
				"run `mcpauth login %s` without --device", as.Issuer, name, name)
		}
		return true, nil
	}
	return !a.canOpenBrowser() && deviceFallback(as, opts), nil
}

// deviceFallback reports whether the device flow may replace a browser flow
// that could not open the browser.
func deviceFallback(as *oauthex.AuthServerMetadata, opts LoginOptions) bool {
	return as.DeviceAuthorizationEndpoint != "" && !opts.NoBrowser && (opts.OnDeviceCode != nil || opts.OnURL == nil)
}

// deviceLogin runs the device flow for a login (Login holds the login
// lock) and stores the tokens like any login.
func (a *Agent) deviceLogin(ctx context.Context, name string, cfg serverConfig, d *discovered, client *http.Client, scopes []string, opts LoginOptions) error {
	ident, err := a.deviceClient(ctx, client, name, cfg, d.as)
	if err != nil {
		return err
	}
	resource := d.resource
	if cfg.NoResource {
		resource = ""
	}
	da, err := oauthex.RequestDeviceAuthorization(ctx, client, d.as.DeviceAuthorizationEndpoint, ident.auth, scopes, resource)
	if err != nil {
		return a.deviceError(ctx, name, d, ident, err)
	}
	dc := DeviceCode{
		Server: name, VerificationURI: da.VerificationURI, VerificationURIComplete: da.VerificationURIComplete,
		UserCode: da.UserCode, Expiry: a.now().Add(da.ExpiresIn),
	}
	if opts.OnDeviceCode != nil {
		opts.OnDeviceCode(dc)
	} else {
		// No one else shows it: the log is the only way to the user.
		a.log.Warn("to sign in, open the URL on any device and enter the code",
			"server", name, "url", dc.VerificationURI, "code", dc.UserCode, "expiry", dc.Expiry)
	}
	poll := oauthex.DevicePoll{Client: client, Endpoint: d.as.TokenEndpoint, Auth: ident.auth, Resource: resource,
		Now: a.now, Sleep: a.sleep}
	tok, err := poll.Poll(ctx, da)
	if err != nil {
		return a.deviceError(ctx, name, d, ident, err)
	}
	return a.saveLogin(ctx, name, d, ident, scopes, tok)
}

// deviceError turns the device flow's ends into messages that say what
// happened and what to do (RFC 8628 §3.5).
func (a *Agent) deviceError(ctx context.Context, name string, d *discovered, ident clientIdentity, err error) error {
	again := fmt.Sprintf("run `mcpauth login %s --device`", name)
	switch oauthErrorCode(err) {
	case oauthex.ErrAccessDenied:
		return fmt.Errorf("the sign-in was denied at %s (access_denied); %s to try again", d.as.Issuer, again)
	case oauthex.ErrExpiredToken:
		return fmt.Errorf("the code expired before the sign-in was approved (expired_token); %s for a new code", again)
	case "invalid_client":
		if ident.kind == ClientDynamic {
			a.secrets.delete(ctx, registrationKey(d.as.Issuer))
			return &RegistrationGoneError{Server: name, Issuer: d.as.Issuer}
		}
	}
	return fmt.Errorf("could not sign in with the device flow: %w", err)
}

// deviceClient is resolveClient for the device flow, which has no redirect:
// a pre-registered client or a Client ID Metadata Document as usual; a
// dynamic registration only if it is allowed the device grant, else a new
// one (keeping the old one's redirect URI, so browser logins still reuse
// it), which register makes with the device grant when the AS offers it.
func (a *Agent) deviceClient(ctx context.Context, client *http.Client, name string, cfg serverConfig, as *oauthex.AuthServerMetadata) (clientIdentity, error) {
	if cfg.ClientID != "" || (cfg.ClientMetadataURL != "" && as.ClientIDMetadataDocumentSupported) || as.RegistrationEndpoint == "" {
		return a.resolveClient(ctx, client, name, cfg, as, "")
	}
	ci, ok, err := a.secrets.registration(ctx, as.Issuer)
	if err != nil {
		return clientIdentity{}, err
	}
	if ok && slices.Contains(ci.GrantTypes, oauthex.GrantTypeDeviceCode) {
		return dynamicIdentity(ci), nil
	}
	redirect := "http://127.0.0.1" + callbackPath
	if ok && len(ci.RedirectURIs) > 0 {
		redirect = ci.RedirectURIs[0]
	}
	if ci, err = a.register(ctx, client, name, as, redirect); err != nil {
		return clientIdentity{}, err
	}
	return dynamicIdentity(ci), nil
}

// registerGrantTypes are the grants a dynamic registration asks for: the
// browser flow's, and the device flow's when the AS offers it, so that one
// registration serves both.
func registerGrantTypes(as *oauthex.AuthServerMetadata) []string {
	g := []string{"authorization_code", "refresh_token"}
	if as.DeviceAuthorizationEndpoint != "" {
		g = append(g, oauthex.GrantTypeDeviceCode)
	}
	return g
}
