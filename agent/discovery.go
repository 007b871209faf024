package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"mcpauth/agent/oauthex"
)

// discovered is the result of steps 1–3 of the MCP authorization flow.
type discovered struct {
	challenge oauthex.BearerChallenge
	prm       *oauthex.ProtectedResourceMetadata // nil for 2025-03-26 servers
	as        *oauthex.AuthServerMetadata
	// resource is the RFC 8707 resource indicator to send: the PRM's
	// resource (already checked to match the server), else the server URL.
	resource string
}

// probeBody is a harmless JSON-RPC request. A protected server answers it
// with 401 before reading it; an open server just answers the ping.
const probeBody = `{"jsonrpc":"2.0","id":"mcpauth-probe","method":"ping"}`

// discover runs steps 1–3: provoke the 401 and read its challenge, fetch the
// Protected Resource Metadata (RFC 9728), then the authorization server
// metadata (RFC 8414 / OIDC), falling back to the 2025-03-26 rules when the
// server has no PRM.
func (a *Agent) discover(ctx context.Context, name string, cfg serverConfig) (*discovered, error) {
	policy := oauthex.Policy{AllowHTTP: cfg.AllowHTTP, ServerURL: cfg.URL}
	if err := policy.CheckURL(cfg.URL); err != nil {
		return nil, err
	}
	d := &discovered{resource: cfg.URL}
	ch, err := a.probe(ctx, name, cfg)
	if err != nil {
		return nil, err
	}
	d.challenge = ch
	if ch.ResourceMetadata != "" {
		if err := policy.CheckURL(ch.ResourceMetadata); err != nil {
			return nil, fmt.Errorf("server %s sent an unusable resource_metadata URL: %w", name, err)
		}
	}
	client := a.policyClient(cfg)
	prm, _, prmErr := oauthex.FetchProtectedResourceMetadata(ctx, client, cfg.URL, ch.ResourceMetadata)
	switch {
	case prmErr == nil && len(prm.AuthorizationServers) > 0:
		d.prm = prm
		d.resource = prm.Resource
		issuer := prm.AuthorizationServers[0]
		if err := policy.CheckURL(issuer); err != nil {
			return nil, fmt.Errorf("server %s names an unusable authorization server: %w", name, err)
		}
		as, err := oauthex.FetchAuthServerMetadata(ctx, client, issuer)
		if err != nil {
			return nil, fmt.Errorf("could not discover the authorization server of %s: %w", name, err)
		}
		d.as = as
	case prmErr == nil:
		return nil, fmt.Errorf("the protected resource metadata of %s names no authorization server", name)
	case ch.ResourceMetadata != "" || !errors.Is(prmErr, oauthex.ErrNoMetadata):
		// The server pointed at metadata that is unusable, the metadata
		// is for another resource (no authorize request to a mismatched
		// resource), or the network failed: report it, don't guess.
		return nil, fmt.Errorf("could not use the protected resource metadata of %s: %w", name, prmErr)
	default:
		// A 2025-03-26 server: metadata at its origin, else the fixed
		// endpoints.
		as, err := oauthex.FetchAuthServerMetadataAtOrigin(ctx, client, cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("could not discover the authorization server of %s: %w", name, err)
		}
		if as == nil {
			if as, err = oauthex.FallbackAuthServerMetadata(cfg.URL); err != nil {
				return nil, err
			}
		}
		d.as = as
	}
	for _, u := range []string{d.as.AuthorizationEndpoint, d.as.TokenEndpoint, d.as.RegistrationEndpoint, d.as.RevocationEndpoint} {
		if u == "" {
			continue
		}
		if err := policy.CheckURL(u); err != nil {
			return nil, fmt.Errorf("the authorization server of %s advertises an unusable endpoint: %w", name, err)
		}
	}
	if !d.as.SupportsS256() && cfg.Grant == "" { // grants.go's grants use no PKCE
		return nil, fmt.Errorf("the authorization server %s of %s does not advertise PKCE S256 "+
			"(code_challenge_methods_supported), which MCP requires: mcpauth will not log in without it", d.as.Issuer, name)
	}
	return d, nil
}

// probe sends one unauthenticated request and returns the Bearer challenge
// of a 401 (step 1). Any other answer yields an empty challenge, and
// discovery goes on with the well-known URLs.
func (a *Agent) probe(ctx context.Context, name string, cfg serverConfig) (oauthex.BearerChallenge, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, strings.NewReader(probeBody))
	if err != nil {
		return oauthex.BearerChallenge{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	hdrs, err := a.secrets.headers(ctx, name)
	if err != nil {
		return oauthex.BearerChallenge{}, err
	}
	for k, v := range hdrs {
		req.Header.Set(k, v)
	}
	resp, err := a.httpClient.Do(req)
	if err != nil {
		return oauthex.BearerChallenge{}, fmt.Errorf("could not reach server %s: %w", name, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return oauthex.BearerChallenge{}, nil
	}
	ch, _ := oauthex.BearerFromHeader(resp.Header)
	return ch, nil
}
