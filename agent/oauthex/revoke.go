package oauthex

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Revoke asks the AS to revoke token (RFC 7009 §2.1), authenticating as the
// client. hint is "refresh_token" or "access_token" (or empty); revoking the
// refresh token first also ends its access tokens on most servers (§2.1).
//
// Any 2xx is success: RFC 7009 §2.2 answers 200 even for a token the AS
// doesn't know, and some servers answer 204. Anything else, including 503
// (retry later, §2.2.1), is an *ErrorResponse carrying the status, so the
// caller keeps what it needs to retry. The token never appears in an error.
func Revoke(ctx context.Context, c *http.Client, endpoint string, auth ClientAuth, token, hint string) error {
	if err := revoke(ctx, c, endpoint, auth, token, hint); err != nil {
		return fmt.Errorf("could not revoke token at %s: %w", endpoint, err)
	}
	return nil
}

func revoke(ctx context.Context, c *http.Client, endpoint string, auth ClientAuth, token, hint string) error {
	if token == "" {
		return errors.New("no token to revoke")
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	resp, err := postForm(ctx, c, endpoint, auth, form)
	if err != nil {
		return err
	}
	if resp.status >= 200 && resp.status <= 299 {
		return nil
	}
	return resp.errorResponse()
}
