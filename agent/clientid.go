package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"mcpauth/agent/oauthex"
)

// clientIdentity is how mcpauth identifies itself to one authorization
// server (MCP authorization, step 4).
type clientIdentity struct {
	kind ClientKind
	auth oauthex.ClientAuth
	// registered is the dynamic registration in use, nil otherwise.
	registered *oauthex.ClientInformation
}

// preferredPort is the loopback port to try first: the one a stored
// dynamic registration names, so it needn't register again. Zero means any.
func (a *Agent) preferredPort(ctx context.Context, cfg serverConfig, as *oauthex.AuthServerMetadata) int {
	if cfg.ClientID != "" || (cfg.ClientMetadataURL != "" && as.ClientIDMetadataDocumentSupported) {
		return 0
	}
	ci, ok, err := a.secrets.registration(ctx, as.Issuer)
	if err != nil || !ok || len(ci.RedirectURIs) == 0 {
		return 0
	}
	u, err := url.Parse(ci.RedirectURIs[0])
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(u.Port())
	return p
}

// resolveClient picks the client identity in the order the MCP spec gives:
// a pre-configured client ID, a Client ID Metadata Document when the AS
// supports them, dynamic registration (RFC 7591), else an error saying what
// to configure. Dynamic registrations are keyed by issuer and reused while
// their redirect URI matches the listener's.
func (a *Agent) resolveClient(ctx context.Context, client *http.Client, name string, cfg serverConfig, as *oauthex.AuthServerMetadata, redirectURI string) (clientIdentity, error) {
	switch {
	case cfg.ClientID != "":
		secret, err := a.secrets.clientSecret(ctx, name)
		if err != nil {
			return clientIdentity{}, err
		}
		return clientIdentity{kind: ClientPreRegistered, auth: oauthex.ClientAuth{
			ClientID: cfg.ClientID, ClientSecret: secret, Method: as.PreferredAuthMethod(secret != ""),
		}}, nil
	case cfg.ClientMetadataURL != "" && as.ClientIDMetadataDocumentSupported:
		return clientIdentity{kind: ClientCIMD, auth: oauthex.ClientAuth{ClientID: cfg.ClientMetadataURL, Method: "none"}}, nil
	case as.RegistrationEndpoint != "":
		ci, ok, err := a.secrets.registration(ctx, as.Issuer)
		if err != nil {
			return clientIdentity{}, err
		}
		if !ok || !slices.Contains(ci.RedirectURIs, redirectURI) {
			if ci, err = a.register(ctx, client, name, as, redirectURI); err != nil {
				return clientIdentity{}, err
			}
		}
		return dynamicIdentity(ci), nil
	default:
		return clientIdentity{}, &ClientIDRequiredError{Server: name, Issuer: as.Issuer}
	}
}

func dynamicIdentity(ci *oauthex.ClientInformation) clientIdentity {
	method := ci.TokenEndpointAuthMethod
	if method == "" {
		method = "client_secret_basic" // RFC 7591 §2's default
		if ci.ClientSecret == "" {
			method = "none"
		}
	}
	return clientIdentity{kind: ClientDynamic, registered: ci, auth: oauthex.ClientAuth{
		ClientID: ci.ClientID, ClientSecret: ci.ClientSecret, Method: method,
	}}
}

// register performs RFC 7591 dynamic registration as a native public client
// that may refresh, and stores the result under the issuer.
func (a *Agent) register(ctx context.Context, client *http.Client, name string, as *oauthex.AuthServerMetadata, redirectURI string) (*oauthex.ClientInformation, error) {
	ci, err := oauthex.Register(ctx, client, as.RegistrationEndpoint, oauthex.ClientMetadata{
		RedirectURIs:            []string{redirectURI},
		TokenEndpointAuthMethod: "none",
		GrantTypes:              registerGrantTypes(as), // device.go
		ResponseTypes:           []string{"code"},
		ClientName:              "mcpauth",
		ApplicationType:         "native",
		SoftwareID:              "mcpauth",
		SoftwareVersion:         Version,
	})
	if err != nil {
		return nil, fmt.Errorf("could not register mcpauth with the authorization server %s: %w", as.Issuer, err)
	}
	if len(ci.RedirectURIs) == 0 {
		ci.RedirectURIs = []string{redirectURI}
	}
	if len(ci.GrantTypes) == 0 {
		ci.GrantTypes = registerGrantTypes(as)
	}
	if err := a.secrets.setJSON(ctx, registrationKey(as.Issuer), ci); err != nil {
		return nil, err
	}
	a.log.Info("registered client", "server", name, "issuer", as.Issuer)
	return ci, nil
}
