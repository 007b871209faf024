package oauthex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

const (
	oauthASWellKnown = "/.well-known/oauth-authorization-server"
	oidcWellKnown    = "/.well-known/openid-configuration"
)

// AuthServerMetadata is the subset of RFC 8414 §2 (and OpenID Connect
// Discovery 1.0 §3) an OAuth client uses.
type AuthServerMetadata struct {
	Issuer                      string `json:"issuer"`
	AuthorizationEndpoint       string `json:"authorization_endpoint"`
	TokenEndpoint               string `json:"token_endpoint"`
	RegistrationEndpoint        string `json:"registration_endpoint,omitempty"`
	RevocationEndpoint          string `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint       string `json:"introspection_endpoint,omitempty"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`
	JWKSURI                     string `json:"jwks_uri,omitempty"`

	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported            []string `json:"response_types_supported,omitempty"`
	GrantTypesSupported               []string `json:"grant_types_supported,omitempty"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported,omitempty"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	// TokenEndpointAuthSigningAlgValuesSupported lists the JWS algorithms
	// the AS accepts for private_key_jwt (RFC 8414 §2).
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`

	// AuthorizationResponseIssParameterSupported: the AS sends iss with the
	// authorization response (RFC 9207 §3).
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
	// ClientIDMetadataDocumentSupported: the AS accepts an https URL as
	// client_id and fetches the client's metadata from it (OAuth Client ID
	// Metadata Document draft, used by MCP).
	ClientIDMetadataDocumentSupported bool `json:"client_id_metadata_document_supported,omitempty"`
}

// IssuerMismatchError means a metadata document names another issuer than
// the one its URL was built from. RFC 8414 §3.3 says it MUST NOT be used: it
// is how a mix-up attack would send our code to another server.
type IssuerMismatchError struct {
	Issuer string // as the document names it
	Want   string
}

func (e *IssuerMismatchError) Error() string {
	return fmt.Sprintf("names issuer %q but %q was expected", e.Issuer, e.Want)
}

// AuthServerMetadataURLs returns the metadata URLs to try for issuer, in the
// order MCP prescribes. For an issuer with a path P: RFC 8414 §3.1's
// /.well-known/oauth-authorization-server/P, then the same insertion for
// openid-configuration, then OpenID Connect Discovery §4's
// P/.well-known/openid-configuration. Without a path: oauth-authorization-server,
// then openid-configuration. A trailing slash does not make a path.
func AuthServerMetadataURLs(issuer string) ([]string, error) {
	u, err := parseHTTPURL(issuer)
	if err == nil && (u.RawQuery != "" || u.Fragment != "") {
		err = errors.New("an issuer has no query or fragment (RFC 8414 §2)")
	}
	if err != nil {
		return nil, fmt.Errorf("could not build metadata URLs for issuer %q: %w", issuer, err)
	}
	o, p := origin(u), trimmedPath(u)
	if p == "" {
		return []string{o + oauthASWellKnown, o + oidcWellKnown}, nil
	}
	return []string{o + oauthASWellKnown + p, o + oidcWellKnown + p, o + p + oidcWellKnown}, nil
}

// DecodeAuthServerMetadata parses a metadata document. issuer,
// authorization_endpoint and token_endpoint are required, and every endpoint
// present must be an absolute http(s) URL (the authorization endpoint is
// opened in a browser, so a javascript: URL must never get through).
//
// When wantIssuer is non-empty, the issuer must equal it (RFC 8414 §3.3
// requires identical strings); only a single trailing "/" difference is
// tolerated, since some servers add one to the issuer and not to its
// identifier. A mismatch is an *IssuerMismatchError.
func DecodeAuthServerMetadata(data []byte, wantIssuer string) (*AuthServerMetadata, error) {
	var m AuthServerMetadata
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"issuer", m.Issuer},
		{"authorization_endpoint", m.AuthorizationEndpoint},
		{"token_endpoint", m.TokenEndpoint},
	} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("required %s missing", strings.Join(missing, ", "))
	}
	if wantIssuer != "" && !sameIssuer(m.Issuer, wantIssuer) {
		return nil, &IssuerMismatchError{Issuer: m.Issuer, Want: wantIssuer}
	}
	for _, f := range []struct{ name, value string }{
		{"issuer", m.Issuer},
		{"authorization_endpoint", m.AuthorizationEndpoint},
		{"token_endpoint", m.TokenEndpoint},
		{"registration_endpoint", m.RegistrationEndpoint},
		{"revocation_endpoint", m.RevocationEndpoint},
		{"introspection_endpoint", m.IntrospectionEndpoint},
		{"device_authorization_endpoint", m.DeviceAuthorizationEndpoint},
		{"jwks_uri", m.JWKSURI},
	} {
		if f.value == "" {
			continue
		}
		if _, err := parseHTTPURL(f.value); err != nil {
			return nil, fmt.Errorf("%s %q: %w", f.name, f.value, err)
		}
	}
	return &m, nil
}

func sameIssuer(got, want string) bool {
	return got == want || got == want+"/" || got+"/" == want
}

// FetchAuthServerMetadata tries AuthServerMetadataURLs(issuer) in order and
// returns the first valid document. A document that names another issuer is
// not used, and the next URL is tried. If none is valid, the error names each
// URL and what was wrong; it matches ErrNoMetadata if all answered 4xx.
func FetchAuthServerMetadata(ctx context.Context, c *http.Client, issuer string) (*AuthServerMetadata, error) {
	urls, err := AuthServerMetadataURLs(issuer)
	if err != nil {
		return nil, err
	}
	var attempts attemptsError
	for _, u := range urls {
		body, err := getJSON(ctx, c, u)
		if err == nil {
			var m *AuthServerMetadata
			if m, err = DecodeAuthServerMetadata(body, issuer); err == nil {
				return m, nil
			}
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("could not fetch authorization server metadata from %s: %w", u, err)
		}
		attempts = append(attempts, &attemptError{URL: u, Err: err})
	}
	return nil, fmt.Errorf("could not fetch authorization server metadata for issuer %q: %w", issuer, attempts)
}

// FetchAuthServerMetadataAtOrigin looks for metadata the way MCP 2025-03-26
// clients did, for servers without protected resource metadata: at the MCP
// server's origin, oauth-authorization-server and then openid-configuration.
// There is no issuer to compare with, so any issuer on the server's own
// origin is accepted, with any path (the conformance suite's backcompat
// scenario serves issuer https://host/some/path from the root).
//
// It returns (nil, nil) when no document exists: every URL answered 4xx, or
// 200 with something that is not a JSON object (an SPA's HTML page). The
// caller then uses FallbackAuthServerMetadata. A document with another
// origin's issuer, an invalid document, a 5xx or a network failure is an
// error, since guessing endpoints would then be wrong.
func FetchAuthServerMetadataAtOrigin(ctx context.Context, c *http.Client, serverURL string) (*AuthServerMetadata, error) {
	su, err := parseHTTPURL(serverURL)
	if err != nil {
		return nil, fmt.Errorf("could not build metadata URLs for %q: %w", serverURL, err)
	}
	var attempts attemptsError
	for _, u := range []string{origin(su) + oauthASWellKnown, origin(su) + oidcWellKnown} {
		body, err := getJSON(ctx, c, u)
		if se := (*StatusError)(nil); errors.As(err, &se) && se.StatusCode >= 400 && se.StatusCode <= 499 {
			continue
		}
		if err == nil && !isJSONObject(body) {
			continue
		}
		if err == nil {
			var m *AuthServerMetadata
			if m, err = DecodeAuthServerMetadata(body, ""); err == nil {
				if iu, perr := parseHTTPURL(m.Issuer); perr == nil && sameOrigin(iu, su) {
					return m, nil
				}
				err = fmt.Errorf("names issuer %q, which is not on the server's origin %s", m.Issuer, origin(su))
			}
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("could not fetch authorization server metadata from %s: %w", u, err)
		}
		attempts = append(attempts, &attemptError{URL: u, Err: err})
	}
	if len(attempts) == 0 {
		return nil, nil
	}
	return nil, fmt.Errorf("could not use authorization server metadata at the origin of %s: %w", serverURL, attempts)
}

func isJSONObject(b []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("{"))
}

// FallbackAuthServerMetadata is what MCP 2025-03-26 prescribes when a server
// has neither protected resource nor authorization server metadata: the
// endpoints /authorize, /token and /register at the server's origin, with
// the origin as issuer. That spec mandated PKCE, hence S256.
func FallbackAuthServerMetadata(serverURL string) (*AuthServerMetadata, error) {
	u, err := parseHTTPURL(serverURL)
	if err != nil {
		return nil, fmt.Errorf("could not build fallback endpoints for %q: %w", serverURL, err)
	}
	o := origin(u)
	return &AuthServerMetadata{
		Issuer:                            o,
		AuthorizationEndpoint:             o + "/authorize",
		TokenEndpoint:                     o + "/token",
		RegistrationEndpoint:              o + "/register",
		ResponseTypesSupported:            []string{"code"},
		GrantTypesSupported:               []string{"authorization_code", "refresh_token"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		TokenEndpointAuthMethodsSupported: []string{AuthMethodNone, AuthMethodBasic, AuthMethodPost},
	}, nil
}

// SupportsS256 reports whether the AS advertises PKCE with S256. MCP requires
// clients to refuse an AS that doesn't: without the advertisement, the client
// can't know PKCE is enforced (RFC 8414 §2, OAuth 2.1 §7.5.2).
func (m *AuthServerMetadata) SupportsS256() bool {
	return slices.Contains(m.CodeChallengeMethodsSupported, "S256")
}

// PreferredAuthMethod picks the token endpoint client authentication method
// (RFC 6749 §2.3) for a client with or without a secret.
//
// Without a secret it is "none" (a public client, RFC 7591 §2). With one it is
// client_secret_basic if listed or if the list is absent (RFC 8414 §2's
// default), else client_secret_post if listed. If neither is listed (an AS
// that only takes private_key_jwt, say) it is "none": the secret is never
// sent by a method the AS did not advertise, and if it refuses a public
// client the token endpoint answers invalid_client, which callers report.
func (m *AuthServerMetadata) PreferredAuthMethod(hasSecret bool) string {
	methods := m.TokenEndpointAuthMethodsSupported
	switch {
	case !hasSecret:
		return AuthMethodNone
	case len(methods) == 0 || slices.Contains(methods, AuthMethodBasic):
		return AuthMethodBasic
	case slices.Contains(methods, AuthMethodPost):
		return AuthMethodPost
	default:
		return AuthMethodNone
	}
}
