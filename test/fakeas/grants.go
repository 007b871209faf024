package fakeas

// Grants beyond the browser flow, each off in the zero Config: client
// credentials (RFC 6749 §4.4) with private_key_jwt client authentication
// (RFC 7523 §2.2), the device authorization grant (RFC 8628, device.go),
// and both halves of cross-app access: the enterprise IdP's token exchange
// for an ID-JAG (RFC 8693, draft-ietf-oauth-identity-assertion-authz-grant)
// and the resource AS's JWT bearer grant that accepts it (RFC 7523 §2.1).

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Grant type and token type URIs.
const (
	GrantClientCredentials = "client_credentials"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	GrantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeIDToken       = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeIDJAG         = "urn:ietf:params:oauth:token-type:id-jag"
	// AuthPrivateKeyJWT is private_key_jwt client authentication.
	AuthPrivateKeyJWT = "private_key_jwt"
	assertionType     = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// IdPConfig makes the server an enterprise IdP for cross-app access: its
// token endpoint exchanges ID tokens (subject_token_type id_token) for
// ID-JAGs it signs with IdPKey (ES256, typ oauth-id-jag+jwt), and its
// authorization code flow issues ID tokens for the openid scope (with the
// nonce of the last authorization request).
type IdPConfig struct {
	// IDTokens the exchange accepts besides those the server issued: ID
	// token → subject.
	IDTokens map[string]string
	// ResourceClientID is the client_id claim of the ID-JAGs: the client
	// at the resource's authorization server.
	ResourceClientID string
}

// IdPTrust makes the JWT bearer grant accept ID-JAGs an IdP signed.
type IdPTrust struct {
	Issuer string
	Key    crypto.PublicKey
}

// grantState is the extra grants' state; Server.mu guards it.
type grantState struct {
	key      *ecdsa.PrivateKey // signs ID-JAGs and ID tokens
	jtis     map[string]bool   // client assertions seen (RFC 7523 §3: single use)
	idTokens map[string]string // issued ID token → subject
	devices  map[string]*deviceAuth
}

func (s *Server) grantStateLocked() *grantState {
	g := &s.extra
	if g.key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		g.key, g.jtis, g.idTokens, g.devices = k, map[string]bool{}, map[string]string{}, map[string]*deviceAuth{}
	}
	return g
}

// IdPKey is the public key the server signs ID-JAGs and ID tokens with.
func (s *Server) IdPKey() crypto.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &s.grantStateLocked().key.PublicKey
}

// grantMetadata adds the extra grants to the AS metadata.
func (s *Server) grantMetadata(md map[string]any) {
	grants := []string{"authorization_code", "refresh_token"}
	if s.cfg.ClientCredentials {
		grants = append(grants, GrantClientCredentials)
	}
	if s.cfg.Device != nil {
		grants = append(grants, GrantDeviceCode)
		md["device_authorization_endpoint"] = s.issuer + "/device_authorization"
	}
	if s.cfg.TrustIdP != nil {
		grants = append(grants, GrantJWTBearer)
	}
	if s.cfg.IdP != nil {
		grants = append(grants, GrantTokenExchange)
	}
	md["grant_types_supported"] = grants
	if len(s.cfg.ClientKeys) > 0 {
		md["token_endpoint_auth_methods_supported"] = append(slices.Clone(s.cfg.AuthMethods), AuthPrivateKeyJWT)
		md["token_endpoint_auth_signing_alg_values_supported"] = s.cfg.ClientKeyAlgs
	}
}

// authenticateAssertion authenticates a private_key_jwt client (RFC 7523
// §2.2, §3): a JWT signed with its registered key, iss and sub its ID, aud
// the issuer or the token endpoint, unexpired, and never seen before.
func (s *Server) authenticateAssertion(r *http.Request, form url.Values) (*client, string, error) {
	if form.Get("client_assertion_type") != assertionType {
		return nil, AuthPrivateKeyJWT, errors.New("unsupported client_assertion_type")
	}
	_, claims, err := decodeUnverified(form.Get("client_assertion"))
	if err != nil {
		return nil, AuthPrivateKeyJWT, err
	}
	id, _ := claims["iss"].(string)
	key, ok := s.cfg.ClientKeys[id]
	switch {
	case !ok:
		return nil, AuthPrivateKeyJWT, errors.New("unknown client, or one without a key")
	case form.Get("client_id") != "" && form.Get("client_id") != id:
		return nil, AuthPrivateKeyJWT, errors.New("client_id differs from the assertion's iss")
	}
	header, claims, err := verifyJWT(form.Get("client_assertion"), key)
	if err != nil {
		return nil, AuthPrivateKeyJWT, err
	}
	alg, _ := header["alg"].(string)
	aud, _ := claims["aud"].(string)
	jti, _ := claims["jti"].(string)
	switch {
	case len(s.cfg.ClientKeyAlgs) > 0 && !slices.Contains(s.cfg.ClientKeyAlgs, alg):
		return nil, AuthPrivateKeyJWT, errors.New("signing algorithm not accepted")
	case claims["sub"] != id:
		return nil, AuthPrivateKeyJWT, errors.New("sub must be the client ID")
	case aud != s.issuer && aud != s.issuer+"/token":
		return nil, AuthPrivateKeyJWT, errors.New("aud must be the issuer or the token endpoint")
	case jti == "":
		return nil, AuthPrivateKeyJWT, errors.New("no jti")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.grantStateLocked()
	if g.jtis[jti] {
		return nil, AuthPrivateKeyJWT, errors.New("client assertion replayed")
	}
	g.jtis[jti] = true
	c := s.clients[id]
	if c == nil {
		c = &client{id: id, authMethod: AuthPrivateKeyJWT, anyLoopback: true}
		s.clients[id] = c
	}
	if c.revoked {
		return nil, AuthPrivateKeyJWT, errors.New("unknown or deleted client")
	}
	return c, AuthPrivateKeyJWT, nil
}

// decodeUnverified reads a JWT's header and claims to find its key.
func decodeUnverified(token string) (header, claims map[string]any, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, errors.New("not a JWT")
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, nil, err
	}
	return header, claims, decodeSegment(parts[1], &claims)
}

// extraGrant handles a token request for a grant beyond authorization_code
// and refresh_token.
func (s *Server) extraGrant(c *client, gt string, form url.Values) (map[string]any, string, string) {
	switch {
	case gt == GrantClientCredentials && s.cfg.ClientCredentials:
		return s.clientCredentials(c, form)
	case gt == GrantDeviceCode && s.cfg.Device != nil:
		return s.pollDevice(c, form)
	case gt == GrantJWTBearer && s.cfg.TrustIdP != nil:
		return s.jwtBearer(c, form)
	case gt == GrantTokenExchange && s.cfg.IdP != nil:
		return s.tokenExchange(c, form)
	}
	return nil, "unsupported_grant_type", "grant_type " + gt + " is not supported here"
}

// requestedScope is the form's scope, each known, else the default.
func (s *Server) requestedScope(form url.Values) ([]string, string) {
	scope := strings.Fields(form.Get("scope"))
	if len(scope) == 0 {
		scope = strings.Fields(s.cfg.DefaultScope)
	}
	for _, sc := range scope {
		if !slices.Contains(s.cfg.ScopesSupported, sc) {
			return nil, "unknown scope " + sc
		}
	}
	return scope, ""
}

// clientCredentials implements RFC 6749 §4.4.2 for confidential clients.
func (s *Server) clientCredentials(c *client, form url.Values) (map[string]any, string, string) {
	if c.secret == "" && c.authMethod != AuthPrivateKeyJWT {
		return nil, "unauthorized_client", "a public client may not use client_credentials"
	}
	scope, desc := s.requestedScope(form)
	if desc != "" {
		return nil, "invalid_scope", desc
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.ClientCredentials++
	return s.issueAccessOnlyLocked(c.id, c.id, scope, form.Get("resource")), "", ""
}

// issueAccessOnlyLocked issues an access token and no refresh token, as
// RFC 6749 §4.4.3 advises for client credentials.
func (s *Server) issueAccessOnlyLocked(clientID, subject string, scope []string, resource string) map[string]any {
	g := &grant{id: rand.Text(), clientID: clientID, subject: subject, scope: scope, resource: resource}
	s.grants[g.id] = g
	at := rand.Text()
	s.access[at] = &accessToken{
		grantID: g.id, clientID: clientID, subject: subject,
		scope: scope, resource: resource, expires: time.Now().Add(s.cfg.AccessTokenTTL),
	}
	return map[string]any{
		"access_token": at,
		"token_type":   "Bearer",
		"expires_in":   max(1, int(s.cfg.AccessTokenTTL.Round(time.Second)/time.Second)),
		"scope":        strings.Join(scope, " "),
	}
}

// jwtBearer accepts an ID-JAG (RFC 7523 §2.1 with the ID-JAG profile): typ
// oauth-id-jag+jwt, signed by the trusted IdP, for this issuer, issued to
// the authenticated client, and for this server's resource.
func (s *Server) jwtBearer(c *client, form url.Values) (map[string]any, string, string) {
	header, claims, err := verifyJWT(form.Get("assertion"), s.cfg.TrustIdP.Key)
	if err != nil {
		return nil, "invalid_grant", "assertion: " + err.Error()
	}
	resource, _ := claims["resource"].(string)
	sub, _ := claims["sub"].(string)
	switch {
	case header["typ"] != "oauth-id-jag+jwt":
		return nil, "invalid_grant", "not an ID-JAG (typ)"
	case claims["iss"] != s.cfg.TrustIdP.Issuer:
		return nil, "invalid_grant", "ID-JAG from an untrusted issuer"
	case claims["aud"] != s.issuer:
		return nil, "invalid_grant", "ID-JAG for another audience"
	case claims["client_id"] != c.id:
		return nil, "invalid_grant", "ID-JAG issued to another client"
	case resource != s.URL():
		return nil, "invalid_grant", "ID-JAG for another resource"
	case sub == "":
		return nil, "invalid_grant", "ID-JAG without subject"
	}
	scope, desc := s.requestedScope(form)
	if desc != "" {
		return nil, "invalid_scope", desc
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.JWTBearerGrants++
	return s.issueAccessOnlyLocked(c.id, sub, scope, resource), "", ""
}

// tokenExchange is the IdP's half of cross-app access (RFC 8693 §2.1): an ID
// token it knows becomes an ID-JAG for the audience and resource asked.
func (s *Server) tokenExchange(c *client, form url.Values) (map[string]any, string, string) {
	switch {
	case form.Get("subject_token_type") != TokenTypeIDToken:
		return nil, "invalid_request", "subject_token_type must be id_token"
	case form.Get("requested_token_type") != TokenTypeIDJAG:
		return nil, "invalid_request", "requested_token_type must be id-jag"
	case form.Get("audience") == "" || form.Get("resource") == "":
		return nil, "invalid_request", "audience and resource are required"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.grantStateLocked()
	tok := form.Get("subject_token")
	sub, ok := g.idTokens[tok]
	if !ok {
		sub, ok = s.cfg.IdP.IDTokens[tok]
	}
	if !ok {
		return nil, "invalid_grant", "unknown or expired ID token"
	}
	if exp, ok := tokenExpiry(tok); ok && time.Now().After(exp) {
		return nil, "invalid_grant", "the ID token expired"
	}
	now := time.Now()
	claims := map[string]any{
		"iss": s.issuer, "sub": sub, "aud": form.Get("audience"), "resource": form.Get("resource"),
		"client_id": s.cfg.IdP.ResourceClientID, "jti": rand.Text(), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
	if sc := form.Get("scope"); sc != "" {
		claims["scope"] = sc
	}
	s.stats.TokenExchanges++
	return map[string]any{
		"access_token":      signES256(g.key, "oauth-id-jag+jwt", claims),
		"issued_token_type": TokenTypeIDJAG,
		"token_type":        "N_A",
		"expires_in":        300,
	}, "", ""
}

// IDToken returns an ID token the server signs for subject, valid for ttl,
// which its token exchange accepts (as from a company's SSO tool).
func (s *Server) IDToken(subject, clientID string, ttl time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idTokenLocked(subject, clientID, "", ttl)
}

func (s *Server) idTokenLocked(subject, clientID, nonce string, ttl time.Duration) string {
	g := s.grantStateLocked()
	now := time.Now()
	claims := map[string]any{"iss": s.issuer, "sub": subject, "aud": clientID, "iat": now.Unix(), "exp": now.Add(ttl).Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	tok := signES256(g.key, "JWT", claims)
	g.idTokens[tok] = subject
	return tok
}

// addIDToken adds an ID token to a code exchange's or refresh's response
// when the server is an IdP and openid was granted (OpenID Connect Core
// §3.1.3.3, §12.2).
func (s *Server) addIDTokenLocked(resp map[string]any, g *grant, nonce string) {
	if s.cfg.IdP == nil || resp == nil || !slices.Contains(g.scope, "openid") {
		return
	}
	resp["id_token"] = s.idTokenLocked(g.subject, g.clientID, nonce, time.Hour)
}

func tokenExpiry(jwt string) (time.Time, bool) {
	_, claims, err := decodeUnverified(jwt)
	if err != nil {
		return time.Time{}, false
	}
	exp, ok := claims["exp"].(float64)
	return time.Unix(int64(exp), 0), ok
}
