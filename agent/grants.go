package agent

// Grants other than the browser login, for servers that a machine or an
// enterprise IdP signs in to rather than a person at a browser:
//
//   - client credentials (RFC 6749 §4.4), `mcpauth add --client-credentials`:
//     the client authenticates with a secret (client_secret_basic or _post,
//     as the AS advertises) or a private key (private_key_jwt, RFC 7523
//     §2.2, `--client-key-file`);
//   - cross-app access (xaa.go): an ID token from the enterprise IdP,
//     exchanged there for an ID-JAG, presented with the JWT bearer grant.
//
// Such a server never needs a refresh token: when its access token is due,
// refresh (refresh.go) runs the grant again, under the same per-server lock
// and after the same re-read, so it happens exactly once across processes.
// A refresh token the AS sends anyway (RFC 6749 §4.4.3 says it should not)
// is not kept. Discovery is as usual (PRM, then AS metadata), and the scope
// and resource (RFC 8707) rules are the browser login's.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"mcpauth/agent/oauthex"
	"mcpauth/keystore"
)

// serverConfig.Grant values; "" is the browser login.
const (
	grantClientCredentials = "client_credentials"
	grantCrossApp          = "cross_app_access"
)

// clientKeyKey is the keychain item of the private key (PEM) that signs
// private_key_jwt client assertions.
func clientKeyKey(name string) string { return "server/" + name + "/client_key" }

// grantSecretKeys lists the keychain items grants keep for name, for
// Remove.
func grantSecretKeys(name string) []string {
	return []string{clientKeyKey(name), idpSecretKey(name), idpTokensKey(name)}
}

// checkGrantRequest checks the grant part of an AddRequest before anything
// is stored.
func checkGrantRequest(req AddRequest) error {
	if req.ClientKeyAlg != "" && req.ClientKey == "" {
		return errors.New("--client-key-alg needs a private key (--client-key-file)")
	}
	if req.ClientKey != "" {
		switch {
		case req.ClientID == "":
			return errors.New("a private key needs the client ID it is registered for (--client-id)")
		case req.ClientSecret != "":
			return errors.New("give the client a secret or a private key, not both")
		case !req.ClientCredentials && req.CrossApp == nil:
			return errors.New("a private key (--client-key-file) is used with --client-credentials or cross-app access (--idp-issuer)")
		}
		if _, err := oauthex.ParseSigner([]byte(req.ClientKey), req.ClientKeyAlg); err != nil {
			return fmt.Errorf("the private key is unusable: %w", err)
		}
	}
	if req.ClientCredentials || req.CrossApp != nil {
		flag := "--client-credentials"
		if req.CrossApp != nil {
			flag = "cross-app access (--idp-issuer)"
		}
		switch {
		case req.ClientCredentials && req.CrossApp != nil:
			return errors.New("choose --client-credentials or cross-app access (--idp-issuer), not both")
		case req.ClientID == "":
			return fmt.Errorf("%s needs the client ID registered at the server's authorization server (--client-id)", flag)
		case req.ClientSecret == "" && req.ClientKey == "":
			return fmt.Errorf("%s needs the client's secret (--client-secret-env) or private key (--client-key-file)", flag)
		case req.ClientMetadataURL != "":
			return fmt.Errorf("%s uses --client-id, not --client-metadata-url", flag)
		}
	}
	if req.CrossApp != nil {
		return checkCrossApp(*req.CrossApp, req.AllowHTTP)
	}
	return nil
}

// storeGrantSecrets puts the grant's secrets in the keychain before the
// config is written, and returns the keys of those it has not, for Add to
// delete together with its own: a previous Add may have left them.
func (a *Agent) storeGrantSecrets(ctx context.Context, req AddRequest) (stale []string, err error) {
	if req.ClientKey != "" {
		if err := a.secrets.store.Set(ctx, clientKeyKey(req.Name), []byte(req.ClientKey)); err != nil {
			return nil, fmt.Errorf("could not save the private key of %s to the keychain: %w", req.Name, err)
		}
	} else {
		stale = append(stale, clientKeyKey(req.Name))
	}
	if req.CrossApp != nil {
		// Rare; it stores what it has and deletes the rest itself.
		return stale, a.storeCrossAppSecrets(ctx, req)
	}
	// What storeCrossAppSecrets (xaa.go) deletes when there is no
	// cross-app access.
	return append(stale, idpSecretKey(req.Name), idpTokensKey(req.Name)), nil
}

// setGrantConfig records the grant's non-secret settings in cfg.
func setGrantConfig(cfg *serverConfig, req AddRequest) {
	switch {
	case req.ClientCredentials:
		cfg.Grant = grantClientCredentials
	case req.CrossApp != nil:
		cfg.Grant = grantCrossApp
		cfg.CrossApp = crossAppConfigOf(*req.CrossApp)
	}
	cfg.HasClientKey = req.ClientKey != ""
	cfg.ClientKeyAlg = req.ClientKeyAlg
}

// renewsItself reports whether name gets its tokens from a grant that needs
// no user (client credentials, cross-app access) and is not logged out.
func (a *Agent) renewsItself(name string) bool {
	e, err := a.reg.get(name)
	return err == nil && renewable(e)
}

// renewable reports whether e's expired token is renewed without the user,
// so `mcpauth list` shows it signed in.
func renewable(e *serverEntry) bool { return e.Config.Grant != "" && !e.State.LoggedOut }

// loginGrant is Login for a grant server: it runs the grant now, with
// opts.Scopes added (step-up), and stores the token like any login.
func (a *Agent) loginGrant(ctx context.Context, name string, e *serverEntry, opts LoginOptions) error {
	g, err := a.runGrant(ctx, name, e, opts.Scopes, &opts)
	if err != nil {
		return err
	}
	g.tok.RefreshToken = ""
	return a.saveLogin(ctx, name, g.d, g.ident, g.scopes, g.tok)
}

// renewGrant runs the grant of name again for refresh, which holds the
// refresh lock and has re-read the keystore. A server that was logged out
// stays so until `mcpauth login`.
func (a *Agent) renewGrant(ctx context.Context, name string, e *serverEntry) (*AccessToken, error) {
	if e.State.LoggedOut {
		return nil, &LoginRequiredError{Server: name, Reason: "logged out"}
	}
	g, err := a.runGrant(ctx, name, e, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := a.secrets.delete(ctx, refreshKey(name)); err != nil {
		return nil, err
	}
	next := storedAccess{
		AccessToken: g.tok.AccessToken, TokenType: g.tok.Type(), Expiry: g.tok.Expiry,
		Scopes: grantedScopes(g.tok, g.scopes), ObtainedAt: a.now(),
	}
	if err := a.secrets.setJSON(ctx, accessKey(name), next); err != nil {
		return nil, err
	}
	now := a.now()
	a.reg.updateState(ctx, name, func(s *serverState) {
		s.Issuer, s.AuthorizationURL, s.TokenURL = g.d.as.Issuer, g.d.as.AuthorizationEndpoint, g.d.as.TokenEndpoint
		s.RevocationURL, s.Resource = g.d.as.RevocationEndpoint, g.d.resource
		s.ClientKind, s.ClientID, s.AuthMethod = g.ident.kind, g.ident.auth.ClientID, g.ident.auth.Method
		s.Scopes, s.LastRefresh, s.LastError = next.Scopes, now, ""
	})
	a.log.Info("renewed token", "server", name, "grant", e.Config.Grant, "expiry", next.Expiry)
	return next.public(), nil
}

// grantResult is one run of a grant.
type grantResult struct {
	tok    *oauth2.Token
	d      *discovered
	ident  clientIdentity
	scopes []string
}

// runGrant discovers the server's authorization server and runs its grant.
// opts is nil when no user is there (refresh); with opts, cross-app access
// may sign in at the IdP. Failures the user must fix (invalid_client, a
// refused grant) are permanent; the others are transientError, so a valid
// token is kept through them.
func (a *Agent) runGrant(ctx context.Context, name string, e *serverEntry, extra []string, opts *LoginOptions) (*grantResult, error) {
	cfg := e.Config
	d, err := a.discover(ctx, name, cfg)
	if err != nil {
		return nil, &transientError{err}
	}
	client := a.policyClient(cfg)
	held := append(slices.Clone(e.State.Scopes), extra...)
	g := &grantResult{d: d, scopes: requestScopes(cfg, d, held, len(extra) > 0)}
	auth, err := a.grantClientAuth(ctx, name, cfg, d.as)
	if err != nil {
		return nil, err
	}
	g.ident = clientIdentity{kind: ClientPreRegistered, auth: auth}
	resource := d.resource
	if cfg.NoResource {
		resource = ""
	}
	switch cfg.Grant {
	case grantClientCredentials:
		if err := checkAdvertised(d.as, oauthex.GrantTypeClientCredentials, name); err != nil {
			return nil, err
		}
		g.tok, err = oauthex.ClientCredentials(ctx, client, d.as.TokenEndpoint, auth, g.scopes, resource, a.now)
	case grantCrossApp:
		g.tok, err = a.crossAppToken(ctx, name, cfg, d, auth, g.scopes, opts)
	default:
		return nil, fmt.Errorf("server %s has an unknown grant %q in servers.json", name, cfg.Grant)
	}
	if err != nil {
		return nil, a.grantError(ctx, name, d.as.Issuer, err)
	}
	return g, nil
}

// grantError sorts a failed grant: invalid_client is the configured
// client's problem, other OAuth errors are the configuration's (scope,
// grant not allowed), and the rest may pass.
func (a *Agent) grantError(ctx context.Context, name, issuer string, err error) error {
	var lr *LoginRequiredError
	switch code := oauthErrorCode(err); {
	case errors.As(err, &lr):
		return err
	case code == "invalid_client":
		a.noteError(ctx, name, "the authorization server refused the client credentials (invalid_client)")
		return &RegistrationGoneError{Server: name, Issuer: issuer, PreRegistered: true}
	case code != "":
		a.noteError(ctx, name, "the authorization server refused the grant ("+code+")")
		return fmt.Errorf("could not get a token for %s: %w", name, err)
	case errors.Is(err, errGrantConfig):
		return err
	}
	return &transientError{fmt.Errorf("could not get a token for %s: %w", name, err)}
}

// errGrantConfig marks a grant failure only a configuration change fixes.
var errGrantConfig = errors.New("configuration")

type configError struct{ msg string }

func (e *configError) Error() string        { return e.msg }
func (e *configError) Is(target error) bool { return target == errGrantConfig }

func configErrorf(format string, args ...any) error {
	return &configError{msg: fmt.Sprintf(format, args...)}
}

// checkAdvertised refuses a grant the AS metadata lists grants without.
// An AS that lists none may still support it: it answers
// unsupported_grant_type if not.
func checkAdvertised(as *oauthex.AuthServerMetadata, grant, name string) error {
	if len(as.GrantTypesSupported) > 0 && !slices.Contains(as.GrantTypesSupported, grant) {
		return configErrorf("the authorization server %s of %s does not offer the %s grant (it lists %s)",
			as.Issuer, name, grant, strings.Join(as.GrantTypesSupported, ", "))
	}
	return nil
}

// grantClientAuth is the configured client's authentication at as: its
// private key (private_key_jwt, signed for the issuer), else its secret by
// the method the AS advertises.
func (a *Agent) grantClientAuth(ctx context.Context, name string, cfg serverConfig, as *oauthex.AuthServerMetadata) (oauthex.ClientAuth, error) {
	auth := oauthex.ClientAuth{ClientID: cfg.ClientID}
	if cfg.HasClientKey {
		signer, err := a.clientSigner(ctx, name, cfg)
		if err != nil {
			return auth, err
		}
		if algs := as.TokenEndpointAuthSigningAlgValuesSupported; len(algs) > 0 && !slices.Contains(algs, signer.Alg()) {
			return auth, configErrorf("the authorization server %s takes private_key_jwt signed with %s, not %s: "+
				"run `mcpauth add %s URL ... --client-key-alg ALG` with one of those", as.Issuer, strings.Join(algs, ", "), signer.Alg(), name)
		}
		auth.Method, auth.Signer, auth.Audience = oauthex.AuthMethodPrivateKeyJWT, signer, as.Issuer
		return auth, nil
	}
	secret, err := a.secrets.clientSecret(ctx, name)
	if err != nil {
		return auth, err
	}
	if secret == "" {
		return auth, configErrorf("the client secret of %s is missing from the keychain: run `mcpauth add %s URL ... --client-secret-env VAR` again", name, name)
	}
	auth.ClientSecret, auth.Method = secret, as.PreferredAuthMethod(true)
	if auth.Method == oauthex.AuthMethodNone {
		return auth, configErrorf("the authorization server %s takes neither client_secret_basic nor client_secret_post (it lists %s): "+
			"give %s a private key (--client-key-file)", as.Issuer, strings.Join(as.TokenEndpointAuthMethodsSupported, ", "), name)
	}
	return auth, nil
}

// clientSigner reads name's private key from the keychain.
func (a *Agent) clientSigner(ctx context.Context, name string, cfg serverConfig) (*oauthex.Signer, error) {
	data, err := a.secrets.store.Get(ctx, clientKeyKey(name))
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, configErrorf("the private key of %s is missing from the keychain: run `mcpauth add %s URL ... --client-key-file FILE` again", name, name)
	}
	if err != nil {
		return nil, fmt.Errorf("could not read the private key of %s from the keychain: %w", name, err)
	}
	signer, err := oauthex.ParseSigner(data, cfg.ClientKeyAlg)
	if err != nil {
		return nil, configErrorf("the private key of %s in the keychain is unusable: %v", name, err)
	}
	return signer, nil
}

// keyClientAuth is clientAuth (refresh.go) for a client that signs
// assertions: revocation at logout authenticates the same way.
func (a *Agent) keyClientAuth(ctx context.Context, name string, e *serverEntry) (oauthex.ClientAuth, error) {
	signer, err := a.clientSigner(ctx, name, e.Config)
	if err != nil {
		return oauthex.ClientAuth{}, err
	}
	return oauthex.ClientAuth{
		ClientID: e.State.ClientID, Method: oauthex.AuthMethodPrivateKeyJWT, Signer: signer, Audience: e.State.Issuer,
	}, nil
}
