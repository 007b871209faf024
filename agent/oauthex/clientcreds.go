package oauthex

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Grant types beyond authorization_code and refresh_token.
const (
	GrantTypeClientCredentials = "client_credentials"
	// GrantTypeJWTBearer presents a JWT as the authorization grant
	// (RFC 7523 §2.1).
	GrantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// ClientCredentials runs the client credentials grant (RFC 6749 §4.4.2): the
// client asks for a token on its own behalf, authenticated by auth, which
// must not be AuthMethodNone (§4.4: only confidential clients may use it).
// scopes may be empty (then scope is omitted); resource, if set, is the
// RFC 8707 resource indicator. The token rarely has a refresh token
// (§4.4.3 says it should not): the client runs the grant again instead.
func ClientCredentials(ctx context.Context, c *http.Client, endpoint string, auth ClientAuth, scopes []string, resource string, now func() time.Time) (*oauth2.Token, error) {
	params := url.Values{"grant_type": {GrantTypeClientCredentials}}
	addScopeResource(params, scopes, resource)
	return TokenRequest(ctx, c, endpoint, auth, params, now)
}

// JWTBearer presents assertion, a JWT authorization grant, at the token
// endpoint (RFC 7523 §2.1), with the client authenticated by auth (§3.1
// allows a client to authenticate as well). Cross-app access presents an
// identity assertion grant (ID-JAG) this way.
func JWTBearer(ctx context.Context, c *http.Client, endpoint string, auth ClientAuth, assertion string, scopes []string, resource string, now func() time.Time) (*oauth2.Token, error) {
	params := url.Values{"grant_type": {GrantTypeJWTBearer}, "assertion": {assertion}}
	addScopeResource(params, scopes, resource)
	return TokenRequest(ctx, c, endpoint, auth, params, now)
}

func addScopeResource(params url.Values, scopes []string, resource string) {
	if len(scopes) > 0 {
		params.Set("scope", strings.Join(scopes, " "))
	}
	if resource != "" {
		params.Set("resource", resource)
	}
}
