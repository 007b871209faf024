package oauthex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// ClientMetadata is what a client sends to register itself (RFC 7591 §2).
// A native app registers with application_type "native" (OpenID Connect
// Dynamic Client Registration §2), which lets the AS accept a loopback
// redirect URI with any port (RFC 8252 §7.3).
type ClientMetadata struct {
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	ApplicationType         string   `json:"application_type,omitempty"`
	SoftwareID              string   `json:"software_id,omitempty"`
	SoftwareVersion         string   `json:"software_version,omitempty"`
}

// ClientInformation is a successful registration response (RFC 7591 §3.2.1).
// ClientSecret and RegistrationAccessToken are secrets: String, GoString and
// LogValue redact them. The JSON encoding keeps them, for the keystore.
type ClientInformation struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at,omitempty"`
	ClientSecretExpiresAt   int64    `json:"client_secret_expires_at,omitempty"` // 0: never
	RegistrationAccessToken string   `json:"registration_access_token,omitempty"`
	RegistrationClientURI   string   `json:"registration_client_uri,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	// GrantTypes are the grants the client may use (RFC 7591 §2); the
	// AS echoes them (§3.2.1).
	GrantTypes []string `json:"grant_types,omitempty"`
}

func (ci ClientInformation) String() string {
	return fmt.Sprintf("ClientInformation{ClientID: %q, ClientSecret: %s, ClientIDIssuedAt: %d, ClientSecretExpiresAt: %d, "+
		"RegistrationAccessToken: %s, RegistrationClientURI: %q, TokenEndpointAuthMethod: %q, RedirectURIs: %q}",
		ci.ClientID, redact(ci.ClientSecret), ci.ClientIDIssuedAt, ci.ClientSecretExpiresAt,
		redact(ci.RegistrationAccessToken), ci.RegistrationClientURI, ci.TokenEndpointAuthMethod, ci.RedirectURIs)
}

// GoString redacts like String, for %#v.
func (ci ClientInformation) GoString() string { return ci.String() }

// LogValue redacts the secrets for log/slog.
func (ci ClientInformation) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("client_id", ci.ClientID),
		slog.String("client_secret", redact(ci.ClientSecret)),
		slog.String("registration_access_token", redact(ci.RegistrationAccessToken)),
		slog.String("token_endpoint_auth_method", ci.TokenEndpointAuthMethod),
	)
}

// Register performs dynamic client registration (RFC 7591 §3.1): it POSTs md
// as JSON and expects 201 Created (200 is accepted too; some servers send
// it) with a client_id. An error answer (RFC 7591 §3.2.2, e.g.
// invalid_redirect_uri) is an *ErrorResponse. The response body is never
// put into an error: a success body holds the client secret.
func Register(ctx context.Context, c *http.Client, endpoint string, md ClientMetadata) (*ClientInformation, error) {
	ci, err := register(ctx, c, endpoint, md)
	if err != nil {
		return nil, fmt.Errorf("could not register a client at %s: %w", endpoint, err)
	}
	return ci, nil
}

func register(ctx context.Context, c *http.Client, endpoint string, md ClientMetadata) (*ClientInformation, error) {
	reqBody, err := json.Marshal(md)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(reqBody))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient(c).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := readBody(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		fr := &formResponse{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: body}
		return nil, fr.errorResponse()
	}
	var ci ClientInformation
	if err := json.Unmarshal(body, &ci); err != nil {
		// The JSON error could quote part of the body; don't pass it on.
		return nil, errors.New("the response is not valid client information JSON")
	}
	if ci.ClientID == "" {
		return nil, errors.New("the response has no client_id")
	}
	return &ci, nil
}
