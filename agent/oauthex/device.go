package oauthex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// GrantTypeDeviceCode is the device authorization grant (RFC 8628 §3.4).
const GrantTypeDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// Device flow error codes (RFC 8628 §3.5), beside RFC 6749 §5.2's.
const (
	ErrAuthorizationPending = "authorization_pending"
	ErrSlowDown             = "slow_down"
	ErrExpiredToken         = "expired_token"
	ErrAccessDenied         = "access_denied"
)

const (
	defaultDeviceInterval = 5 * time.Second  // RFC 8628 §3.2
	slowDownStep          = 5 * time.Second  // RFC 8628 §3.5
	maxDeviceInterval     = 60 * time.Second // our cap on backoff
	maxUserCodeLen        = 64
)

// DeviceAuthorization is a device authorization response (RFC 8628 §3.2).
// DeviceCode is a secret: String redacts it. UserCode and the URIs are
// what the user sees; they are checked and sanitised before they are kept.
type DeviceAuthorization struct {
	DeviceCode              string
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string // optional
	ExpiresIn               time.Duration
	Interval                time.Duration // 5 s when the AS gave none
}

func (d *DeviceAuthorization) String() string {
	return fmt.Sprintf("DeviceAuthorization{UserCode: %q, VerificationURI: %q, DeviceCode: %s}", d.UserCode, d.VerificationURI, redact(d.DeviceCode))
}

// GoString redacts like String, for %#v.
func (d *DeviceAuthorization) GoString() string { return d.String() }

// RequestDeviceAuthorization starts the device flow (RFC 8628 §3.1) at
// endpoint: params carries scope and, with RFC 8707, resource. The client
// authenticates as at the token endpoint (§3.1 refers to RFC 6749 §2.3).
func RequestDeviceAuthorization(ctx context.Context, c *http.Client, endpoint string, auth ClientAuth, scopes []string, resource string) (*DeviceAuthorization, error) {
	params := url.Values{}
	addScopeResource(params, scopes, resource)
	d, err := requestDeviceAuthorization(ctx, c, endpoint, auth, params)
	if err != nil {
		return nil, fmt.Errorf("could not start the device authorization at %s: %w", endpoint, err)
	}
	return d, nil
}

func requestDeviceAuthorization(ctx context.Context, c *http.Client, endpoint string, auth ClientAuth, params url.Values) (*DeviceAuthorization, error) {
	resp, err := postForm(ctx, c, endpoint, auth, params)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, resp.errorResponse()
	}
	return parseDeviceAuthorization(resp.body)
}

// parseDeviceAuthorization checks a device authorization response body
// (RFC 8628 §3.2). Errors never quote it: it holds the device code.
func parseDeviceAuthorization(body []byte) (*DeviceAuthorization, error) {
	var raw struct {
		DeviceCode              string  `json:"device_code"`
		UserCode                string  `json:"user_code"`
		VerificationURI         string  `json:"verification_uri"`
		VerificationURL         string  `json:"verification_url"` // Google's pre-RFC name
		VerificationURIComplete string  `json:"verification_uri_complete"`
		ExpiresIn               float64 `json:"expires_in"`
		Interval                float64 `json:"interval"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, errors.New("the response is not a JSON object")
	}
	if raw.VerificationURI == "" {
		raw.VerificationURI = raw.VerificationURL
	}
	d := &DeviceAuthorization{
		DeviceCode: raw.DeviceCode,
		UserCode:   sanitizeText(raw.UserCode, maxUserCodeLen),
		ExpiresIn:  seconds(raw.ExpiresIn),
		Interval:   seconds(raw.Interval),
	}
	switch {
	case d.DeviceCode == "":
		return nil, errors.New("the response has no device_code")
	case d.UserCode == "":
		return nil, errors.New("the response has no user_code")
	case d.ExpiresIn <= 0:
		return nil, errors.New("the response has no expires_in")
	}
	// The URIs are shown to the user, and may be opened in a browser:
	// only absolute http(s) URLs, never a javascript: one.
	if _, err := parseHTTPURL(raw.VerificationURI); err != nil {
		return nil, fmt.Errorf("the response's verification_uri is unusable: %w", err)
	}
	d.VerificationURI = raw.VerificationURI
	if _, err := parseHTTPURL(raw.VerificationURIComplete); err == nil {
		d.VerificationURIComplete = raw.VerificationURIComplete
	}
	if d.Interval <= 0 {
		d.Interval = defaultDeviceInterval
	}
	return d, nil
}

func seconds(f float64) time.Duration {
	if f <= 0 || f > 24*3600 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// DevicePoll polls the token endpoint for a device authorization (RFC 8628
// §3.4, §3.5).
type DevicePoll struct {
	Client   *http.Client
	Endpoint string
	Auth     ClientAuth
	// Resource, if set, is sent as RFC 8707's resource parameter.
	Resource string
	// Now is the clock and Sleep waits for d or until ctx ends; nil
	// means the real ones. Tests inject both.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Poll waits for the user to approve d and returns the token. It waits
// d.Interval between requests, and 5 s longer after each slow_down; after
// a network failure or a 5xx it doubles the wait (§3.5 asks for backoff),
// up to a minute. It gives up when the AS answers access_denied or
// expired_token, or when d.ExpiresIn has passed (an *ErrorResponse with
// Code ErrExpiredToken then too), and on any other error.
func (p DevicePoll) Poll(ctx context.Context, d *DeviceAuthorization) (*oauth2.Token, error) {
	now, sleep := p.Now, p.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepContext
	}
	deadline := now().Add(d.ExpiresIn)
	interval := d.Interval
	params := url.Values{"grant_type": {GrantTypeDeviceCode}, "device_code": {d.DeviceCode}}
	if p.Resource != "" {
		params.Set("resource", p.Resource)
	}
	for {
		if !now().Add(interval).Before(deadline) {
			return nil, &ErrorResponse{Code: ErrExpiredToken, Description: "the code expired before the sign-in was approved"}
		}
		if err := sleep(ctx, interval); err != nil {
			return nil, err
		}
		tok, err := tokenRequest(ctx, p.Client, p.Endpoint, p.Auth, params, now)
		if err == nil {
			return tok, nil
		}
		var er *ErrorResponse
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.As(err, &er) && er.Code == ErrAuthorizationPending:
		case errors.As(err, &er) && er.Code == ErrSlowDown:
			interval += slowDownStep
		case isTransientPoll(err):
			interval = min(2*interval, maxDeviceInterval)
		default:
			return nil, fmt.Errorf("could not get a token from %s: %w", p.Endpoint, err)
		}
	}
}

// isTransientPoll reports a failure worth polling through: the network, or
// a 5xx answer.
func isTransientPoll(err error) bool {
	var er *ErrorResponse
	if errors.As(err, &er) {
		return er.StatusCode >= 500
	}
	var ue *url.Error
	return errors.As(err, &ue)
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
