package agent

// Cross-app access (enterprise-managed authorization, MCP's SEP-990; the
// conformance suite's auth/cross-app-access-complete-flow): the employee's
// login at the company's IdP grants access to an MCP server without a
// second consent.
//
//  1. An ID token the IdP issued to mcpauth's client there
//     (CrossAppRequest.IdPClientID) is exchanged at the IdP's token endpoint
//     (RFC 8693) for an identity assertion JWT authorization grant, ID-JAG
//     (draft-ietf-oauth-identity-assertion-authz-grant §4.3): audience is
//     the MCP server's authorization server, resource the MCP server.
//  2. The ID-JAG is presented to that authorization server with the JWT
//     bearer grant (RFC 7523 §2.1), the MCP client authenticated as usual.
//
// The ID token comes from, in order: the one held in the keychain (given to
// `mcpauth add --idp-id-token-env`, or from an earlier sign-in) while it is
// valid; a refresh at the IdP with the IdP's refresh token; else, in
// `mcpauth login` only, a sign-in at the IdP (OpenID Connect authorization
// code flow with PKCE, usually silent within the IdP's SSO session).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"mcpauth/agent/oauthex"
)

// CrossAppRequest configures cross-app access for AddRequest.
// IdPClientSecret and IDToken are secrets: they go to the keychain, and
// String redacts them.
type CrossAppRequest struct {
	// IdPIssuer is the enterprise IdP's issuer identifier (Okta, Entra
	// ID, Keycloak...). Its endpoints are discovered from it (OpenID
	// Connect Discovery) unless IdPTokenEndpoint is given.
	IdPIssuer        string `json:"idp_issuer"`
	IdPTokenEndpoint string `json:"idp_token_endpoint,omitempty"`
	// IdPClientID is mcpauth's client at the IdP, which the ID tokens are
	// issued to; IdPClientSecret authenticates it if it is confidential.
	IdPClientID     string `json:"idp_client_id"`
	IdPClientSecret string `json:"idp_client_secret,omitempty"`
	// IDToken, if set, is an ID token for IdPClientID from elsewhere (a
	// company SSO tool, say), used until it expires.
	IDToken string `json:"id_token,omitempty"`
}

// String never shows the secret or the ID token.
func (r CrossAppRequest) String() string {
	return "CrossAppRequest{" + r.IdPIssuer + " " + r.IdPClientID + "}"
}

// GoString redacts like String, for %#v.
func (r CrossAppRequest) GoString() string { return r.String() }

// crossAppConfig is CrossAppRequest without its secrets, in servers.json.
type crossAppConfig struct {
	IdPIssuer          string `json:"idp_issuer"`
	IdPTokenEndpoint   string `json:"idp_token_endpoint,omitempty"`
	IdPClientID        string `json:"idp_client_id"`
	HasIdPClientSecret bool   `json:"has_idp_client_secret,omitempty"`
}

func crossAppConfigOf(r CrossAppRequest) *crossAppConfig {
	return &crossAppConfig{
		IdPIssuer: r.IdPIssuer, IdPTokenEndpoint: r.IdPTokenEndpoint,
		IdPClientID: r.IdPClientID, HasIdPClientSecret: r.IdPClientSecret != "",
	}
}

// The keychain items of cross-app access.
func idpSecretKey(name string) string { return "server/" + name + "/idp_client_secret" }
func idpTokensKey(name string) string { return "server/" + name + "/idp_tokens" }

// storedIdP holds what the IdP issued to mcpauth's client there.
type storedIdP struct {
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

func (s storedIdP) String() string { return "storedIdP{REDACTED}" }

// idTokenMargin: an ID token that expires sooner is not exchanged; the
// IdP would likely refuse it by the time it checks.
const idTokenMargin = 30 * time.Second

func checkCrossApp(r CrossAppRequest, allowHTTP bool) error {
	if r.IdPIssuer == "" || r.IdPClientID == "" {
		return errors.New("cross-app access needs the IdP's issuer (--idp-issuer) and mcpauth's client ID there (--idp-client-id)")
	}
	for flag, u := range map[string]string{"--idp-issuer": r.IdPIssuer, "--idp-token-endpoint": r.IdPTokenEndpoint} {
		if u == "" {
			continue
		}
		if err := (oauthex.Policy{AllowHTTP: allowHTTP, ServerURL: u}).CheckURL(u); err != nil {
			return fmt.Errorf("%s: %w", flag, err)
		}
	}
	return nil
}

// storeCrossAppSecrets keeps the IdP client secret and the given ID token,
// and deletes those a previous Add left.
func (a *Agent) storeCrossAppSecrets(ctx context.Context, req AddRequest) error {
	var x CrossAppRequest
	if req.CrossApp != nil {
		x = *req.CrossApp
	}
	if x.IdPClientSecret != "" {
		if err := a.secrets.store.Set(ctx, idpSecretKey(req.Name), []byte(x.IdPClientSecret)); err != nil {
			return fmt.Errorf("could not save the IdP client secret of %s to the keychain: %w", req.Name, err)
		}
	} else if err := a.secrets.delete(ctx, idpSecretKey(req.Name)); err != nil {
		return err
	}
	if x.IDToken != "" {
		return a.secrets.setJSON(ctx, idpTokensKey(req.Name), storedIdP{IDToken: x.IDToken})
	}
	return a.secrets.delete(ctx, idpTokensKey(req.Name))
}

// idp is the enterprise IdP of one server, as cross-app access talks to it.
type idp struct {
	cfg    *crossAppConfig
	client *http.Client
	meta   *oauthex.AuthServerMetadata // nil until needed, with a configured token endpoint
	auth   oauthex.ClientAuth
}

func (a *Agent) newIdP(ctx context.Context, name string, cfg serverConfig) (*idp, error) {
	x := cfg.CrossApp
	if x == nil {
		return nil, configErrorf("server %s has no cross-app access settings in servers.json: add it again with --idp-issuer", name)
	}
	p := &idp{cfg: x, client: oauthex.Policy{AllowHTTP: cfg.AllowHTTP, ServerURL: x.IdPIssuer}.Client()}
	p.auth = oauthex.ClientAuth{ClientID: x.IdPClientID, Method: oauthex.AuthMethodNone}
	if x.HasIdPClientSecret {
		secret, err := a.secrets.store.Get(ctx, idpSecretKey(name))
		if err != nil {
			return nil, fmt.Errorf("could not read the IdP client secret of %s from the keychain: %w", name, err)
		}
		p.auth.ClientSecret, p.auth.Method = string(secret), oauthex.AuthMethodBasic
	}
	if x.IdPTokenEndpoint == "" {
		if err := p.discover(ctx); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// discover fetches the IdP's metadata (RFC 8414 / OpenID Connect
// Discovery) and picks the client authentication it advertises.
func (p *idp) discover(ctx context.Context) error {
	if p.meta != nil {
		return nil
	}
	md, err := oauthex.FetchAuthServerMetadata(ctx, p.client, p.cfg.IdPIssuer)
	if err != nil {
		return fmt.Errorf("could not discover the enterprise IdP: %w", err)
	}
	p.meta = md
	if p.auth.ClientSecret != "" {
		p.auth.Method = md.PreferredAuthMethod(true)
	}
	return nil
}

func (p *idp) tokenEndpoint() string {
	if p.cfg.IdPTokenEndpoint != "" {
		return p.cfg.IdPTokenEndpoint
	}
	return p.meta.TokenEndpoint
}

// crossAppToken runs both steps for the server's authorization server d.as,
// the MCP client authenticated by auth. opts is non-nil inside Login, where
// a sign-in at the IdP may happen.
func (a *Agent) crossAppToken(ctx context.Context, name string, cfg serverConfig, d *discovered, auth oauthex.ClientAuth, scopes []string, opts *LoginOptions) (*oauth2.Token, error) {
	if err := checkAdvertised(d.as, oauthex.GrantTypeJWTBearer, name); err != nil {
		return nil, err
	}
	p, err := a.newIdP(ctx, name, cfg)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		idToken, fresh, err := a.idToken(ctx, name, p, opts)
		if err != nil {
			return nil, err
		}
		// The IdP needs the resource even when the AS is not sent one
		// (NoResource): the ID-JAG names it.
		jag, err := oauthex.ExchangeToken(ctx, p.client, p.tokenEndpoint(), p.auth, oauthex.TokenExchangeRequest{
			SubjectToken: idToken, SubjectTokenType: oauthex.TokenTypeIDToken, RequestedTokenType: oauthex.TokenTypeIDJAG,
			Audience: d.as.Issuer, Resource: d.resource, Scopes: scopes,
		}, a.now)
		if oauthErrorCode(err) == "invalid_grant" && !fresh && attempt == 0 {
			// The IdP refused an ID token we held (revoked, say):
			// forget it and get another once.
			a.dropIDToken(ctx, name)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("could not exchange the ID token for an identity assertion (ID-JAG) at the enterprise IdP: %w", err)
		}
		resource := d.resource
		if cfg.NoResource {
			resource = ""
		}
		tok, err := oauthex.JWTBearer(ctx, a.policyClient(cfg), d.as.TokenEndpoint, auth, jag.Token, scopes, resource, a.now)
		if err != nil {
			return nil, fmt.Errorf("could not present the identity assertion (ID-JAG) to %s: %w", d.as.Issuer, err)
		}
		return tok, nil
	}
}

// idToken returns a usable ID token, and whether it was obtained just now
// (rather than held).
func (a *Agent) idToken(ctx context.Context, name string, p *idp, opts *LoginOptions) (string, bool, error) {
	var held storedIdP
	if _, err := a.secrets.getJSON(ctx, idpTokensKey(name), &held); err != nil {
		return "", false, err
	}
	if held.IDToken != "" {
		exp, ok := oauthex.UnverifiedExpiry(held.IDToken)
		if !ok || a.now().Add(idTokenMargin).Before(exp) {
			return held.IDToken, false, nil
		}
	}
	if held.RefreshToken != "" {
		next, err := a.refreshIDToken(ctx, p, held.RefreshToken)
		switch {
		case err == nil:
			return next.IDToken, true, a.secrets.setJSON(ctx, idpTokensKey(name), next)
		case oauthErrorCode(err) != "invalid_grant" && oauthErrorCode(err) != "":
			return "", false, err
		case oauthErrorCode(err) == "":
			return "", false, &transientError{err}
		}
		// invalid_grant: the IdP session is over; sign in again.
	}
	if opts == nil {
		return "", false, &LoginRequiredError{Server: name, Reason: "the ID token from the enterprise IdP expired; signing in there again needs the browser"}
	}
	next, err := a.idpLogin(ctx, name, p, *opts)
	if err != nil {
		return "", false, err
	}
	return next.IDToken, true, a.secrets.setJSON(ctx, idpTokensKey(name), next)
}

func (a *Agent) dropIDToken(ctx context.Context, name string) {
	var held storedIdP
	if ok, _ := a.secrets.getJSON(ctx, idpTokensKey(name), &held); ok {
		held.IDToken = ""
		a.secrets.setJSON(ctx, idpTokensKey(name), held)
	}
}

// refreshIDToken gets a new ID token with the IdP's refresh token (OpenID
// Connect Core §12.2: the response may carry a new ID token).
func (a *Agent) refreshIDToken(ctx context.Context, p *idp, refresh string) (storedIdP, error) {
	if err := p.discover(ctx); err != nil {
		return storedIdP{}, err
	}
	tok, err := oauthex.TokenRequest(ctx, p.client, p.meta.TokenEndpoint, p.auth,
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, a.now)
	if err != nil {
		return storedIdP{}, fmt.Errorf("could not refresh the ID token at the enterprise IdP: %w", err)
	}
	next := storedIdP{RefreshToken: refresh}
	if tok.RefreshToken != "" {
		next.RefreshToken = tok.RefreshToken
	}
	next.IDToken, _ = tok.Extra("id_token").(string)
	if next.IDToken == "" {
		return storedIdP{}, &oauthex.ErrorResponse{Code: "invalid_grant", Description: "the refresh gave no new ID token"}
	}
	return next, nil
}

// idpLogin signs in at the IdP with the OpenID Connect authorization code
// flow and PKCE (OpenID Connect Core §3.1), through the same loopback
// redirect and browser as a server login. The IdP's SSO session usually
// makes it silent.
func (a *Agent) idpLogin(ctx context.Context, name string, p *idp, opts LoginOptions) (storedIdP, error) {
	if err := p.discover(ctx); err != nil {
		return storedIdP{}, err
	}
	if !p.meta.SupportsS256() {
		return storedIdP{}, fmt.Errorf("the enterprise IdP %s does not advertise PKCE S256: mcpauth will not sign in there without it", p.meta.Issuer)
	}
	state, err := randomString()
	if err != nil {
		return storedIdP{}, err
	}
	nonce, err := randomString()
	if err != nil {
		return storedIdP{}, err
	}
	cs, err := listenCallback(0, state)
	if err != nil {
		return storedIdP{}, err
	}
	defer cs.close()
	scopes := []string{"openid"}
	if slices.Contains(p.meta.ScopesSupported, "offline_access") {
		scopes = append(scopes, "offline_access")
	}
	verifier := oauth2.GenerateVerifier()
	oc := oauth2.Config{ClientID: p.auth.ClientID, Endpoint: oauth2.Endpoint{AuthURL: p.meta.AuthorizationEndpoint},
		RedirectURL: cs.redirectURI(), Scopes: scopes}
	authURL := oc.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce))
	if opts.OnURL != nil {
		opts.OnURL(authURL)
	}
	if !opts.NoBrowser && a.browser != nil {
		if err := a.browser.Open(ctx, authURL); err != nil {
			a.log.Warn("could not open the browser; open the URL yourself", "server", name, "err", err)
		}
	}
	res, err := cs.wait(ctx)
	if err != nil {
		return storedIdP{}, fmt.Errorf("could not sign in at the enterprise IdP: %w", err)
	}
	if err := checkIss(p.meta, res); err != nil {
		return storedIdP{}, err
	}
	tok, err := oauthex.TokenRequest(ctx, p.client, p.meta.TokenEndpoint, p.auth, url.Values{
		"grant_type": {"authorization_code"}, "code": {res.Code}, "redirect_uri": {cs.redirectURI()}, "code_verifier": {verifier},
	}, a.now)
	if err != nil {
		return storedIdP{}, fmt.Errorf("could not sign in at the enterprise IdP: %w", err)
	}
	idToken, _ := tok.Extra("id_token").(string)
	claims, err := oauthex.UnverifiedClaims(idToken)
	switch {
	case err != nil:
		return storedIdP{}, fmt.Errorf("the enterprise IdP %s returned no usable ID token: %v", p.meta.Issuer, err)
	case claims["nonce"] != nonce:
		// OpenID Connect Core §3.1.3.7: the token came straight from the
		// token endpoint over TLS, so its signature needn't be checked;
		// the nonce still ties it to this sign-in.
		return storedIdP{}, fmt.Errorf("the ID token from the enterprise IdP %s does not carry this sign-in's nonce: it was discarded", p.meta.Issuer)
	}
	return storedIdP{IDToken: idToken, RefreshToken: tok.RefreshToken}, nil
}
