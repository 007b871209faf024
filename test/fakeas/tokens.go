package fakeas

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// grant is one user approval: the chain of tokens one code exchange starts.
// Refresh tokens always rotate; replaying a rotated one revokes the grant,
// as oidc-provider's reuse detection does (OAuth 2.1 §4.3.1).
type grant struct {
	id, clientID, subject string
	scope                 []string
	resource              string
	revoked               bool
}

type accessToken struct {
	grantID, clientID, subject string
	scope                      []string
	resource                   string // "" when no resource was bound
	expires                    time.Time
	revoked                    bool
}

type refreshToken struct {
	grantID, clientID string
	rotated           bool
}

// handleToken implements the token endpoint (RFC 6749 §3.2) for the
// authorization_code and refresh_token grants.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "body must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "could not parse the form")
		return
	}
	form := r.PostForm
	c, method, err := s.authenticateClient(r, form)
	s.mu.Lock()
	s.tokenReqs = append(s.tokenReqs, cloneValues(form))
	s.tokenAuth = append(s.tokenAuth, method)
	s.mu.Unlock()
	if err != nil {
		s.logf("fakeas: token request: invalid_client: %v", err)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", err.Error())
		return
	}
	if _, has := form["resource"]; has && s.cfg.RejectResource {
		writeOAuthError(w, http.StatusBadRequest, "invalid_target", "resource parameter is not supported")
		return
	}
	if form.Get("resource") == "" && s.cfg.RequireResource {
		writeOAuthError(w, http.StatusBadRequest, "invalid_target", "resource parameter is required")
		return
	}
	var resp map[string]any
	var code, desc string
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		resp, code, desc = s.exchangeCode(c, form)
	case "refresh_token":
		resp, code, desc = s.refreshGrant(c, form)
	default:
		resp, code, desc = s.extraGrant(c, gt, form) // grants.go
	}
	if code != "" {
		s.logf("fakeas: token request (%s) from %s: %s: %s", form.Get("grant_type"), c.id, code, desc)
		writeOAuthError(w, http.StatusBadRequest, code, desc)
		return
	}
	s.logf("fakeas: issued tokens (%s) to %s", form.Get("grant_type"), c.id)
	writeJSON(w, http.StatusOK, resp)
}

// authenticateClient applies RFC 6749 §2.3 with the methods this server
// advertises. It returns the method the request used even on failure.
func (s *Server) authenticateClient(r *http.Request, form url.Values) (*client, string, error) {
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		return s.authenticateAssertion(r, form) // private_key_jwt, grants.go
	}
	id, secret, method := form.Get("client_id"), "", AuthNone
	if u, p, ok := r.BasicAuth(); ok {
		method = AuthClientSecretBasic
		// RFC 6749 §2.3.1: both are form-urlencoded before Basic encoding.
		bu, err1 := url.QueryUnescape(u)
		bp, err2 := url.QueryUnescape(p)
		if err1 != nil || err2 != nil {
			return nil, method, errors.New("malformed Basic credentials")
		}
		if id != "" && id != bu {
			return nil, method, errors.New("client_id differs from the Basic credentials")
		}
		id, secret = bu, bp
	} else if _, has := form["client_secret"]; has {
		method, secret = AuthClientSecretPost, form.Get("client_secret")
	}
	if id == "" {
		return nil, method, errors.New("no client_id")
	}
	c, err := s.lookupClient(r.Context(), id)
	if err != nil {
		return nil, method, errors.New("unknown or deleted client")
	}
	switch {
	case !slices.Contains(s.cfg.AuthMethods, method):
		return nil, method, errors.New("authentication method " + method + " is not supported")
	case c.authMethod != "" && method != c.authMethod:
		return nil, method, errors.New("client registered with " + c.authMethod + " but used " + method)
	case c.secret == "" && method != AuthNone:
		return nil, method, errors.New("public client sent a secret")
	case c.secret != "" && method == AuthNone:
		return nil, method, errors.New("confidential client did not authenticate")
	case subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1:
		return nil, method, errors.New("wrong client secret")
	}
	return c, method, nil
}

func (s *Server) exchangeCode(c *client, form url.Values) (map[string]any, string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ac := s.codes[form.Get("code")]
	switch {
	case ac == nil || time.Now().After(ac.expires):
		return nil, "invalid_grant", "unknown or expired code"
	case ac.used:
		// RFC 6749 §4.1.2: a replayed code revokes what it issued.
		if g := s.grants[ac.grantID]; g != nil {
			s.revokeGrantLocked(g)
		}
		return nil, "invalid_grant", "code already used"
	case ac.clientID != c.id:
		return nil, "invalid_grant", "code was issued to another client"
	case form.Get("redirect_uri") != ac.redirectURI:
		return nil, "invalid_grant", "redirect_uri differs from the authorization request"
	}
	if ac.challenge != "" && !verifyPKCE(ac.challengeMethod, ac.challenge, form.Get("code_verifier")) {
		return nil, "invalid_grant", "PKCE verification failed"
	}
	resource, desc := narrowResource(ac.resource, form.Get("resource"))
	if desc != "" {
		return nil, "invalid_target", desc
	}
	ac.used = true
	g := &grant{id: rand.Text(), clientID: c.id, subject: s.cfg.Subject, scope: ac.scope, resource: resource}
	ac.grantID = g.id
	s.grants[g.id] = g
	s.stats.CodeExchanges++
	resp := s.issueLocked(g, g.scope, resource)
	s.addIDTokenLocked(resp, g, s.lastAuthorize.Get("nonce")) // an IdP's ID token, grants.go
	return resp, "", ""
}

func (s *Server) refreshGrant(c *client, form url.Values) (map[string]any, string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.refresh[form.Get("refresh_token")]
	if rt == nil || rt.clientID != c.id {
		return nil, "invalid_grant", "unknown refresh token"
	}
	g := s.grants[rt.grantID]
	if g.revoked {
		return nil, "invalid_grant", "grant revoked"
	}
	if rt.rotated {
		s.revokeGrantLocked(g)
		s.stats.ReuseDetected++
		s.logf("fakeas: refresh token reuse detected for client %s: grant revoked", c.id)
		return nil, "invalid_grant", "refresh token reuse detected; grant revoked"
	}
	scope := g.scope
	if req := strings.Fields(form.Get("scope")); len(req) > 0 {
		for _, sc := range req {
			if !slices.Contains(g.scope, sc) {
				return nil, "invalid_scope", "scope exceeds the grant"
			}
		}
		scope = req
	}
	resource, desc := narrowResource(g.resource, form.Get("resource"))
	if desc != "" {
		return nil, "invalid_target", desc
	}
	rt.rotated = true
	s.stats.Refreshes++
	resp := s.issueLocked(g, scope, resource)
	s.addIDTokenLocked(resp, g, "")
	return resp, "", ""
}

// narrowResource binds the token to the requested resource, which must be
// the one authorized, if one was (RFC 8707 §2.2).
func narrowResource(authorized, requested string) (string, string) {
	switch {
	case requested == "":
		return authorized, ""
	case authorized != "" && requested != authorized:
		return "", "resource differs from the authorized one"
	}
	return requested, ""
}

func verifyPKCE(method, challenge, verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		verifier = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(verifier), []byte(challenge)) == 1
}

func (s *Server) issueLocked(g *grant, scope []string, resource string) map[string]any {
	at, rtok := rand.Text(), rand.Text()
	s.access[at] = &accessToken{
		grantID: g.id, clientID: g.clientID, subject: g.subject,
		scope: scope, resource: resource, expires: time.Now().Add(s.cfg.AccessTokenTTL),
	}
	s.refresh[rtok] = &refreshToken{grantID: g.id, clientID: g.clientID}
	return map[string]any{
		"access_token":  at,
		"token_type":    "Bearer",
		"expires_in":    max(1, int(s.cfg.AccessTokenTTL.Round(time.Second)/time.Second)),
		"refresh_token": rtok,
		"scope":         strings.Join(scope, " "),
	}
}

func (s *Server) revokeGrantLocked(g *grant) {
	g.revoked = true
	for _, at := range s.access {
		if at.grantID == g.id {
			at.revoked = true
		}
	}
}

// ExpireAccessTokens makes every access token issued so far expired: the
// RS answers 401 invalid_token and introspection says inactive.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := time.Now().Add(-time.Second)
	for _, at := range s.access {
		at.expires = past
	}
}

// activeAccess returns a copy of an access token if it is active.
func (s *Server) activeAccess(token string) (accessToken, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.access[token]
	if at == nil || at.revoked || !time.Now().Before(at.expires) {
		return accessToken{}, false
	}
	return *at, true
}

// Introspect reports whether an access or refresh token is active.
func (s *Server) Introspect(token string) bool {
	if _, ok := s.activeAccess(token); ok {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.refresh[token]
	return rt != nil && !rt.rotated && !s.grants[rt.grantID].revoked
}

// handleRevoke implements RFC 7009. Revoking a refresh token revokes its
// whole grant, access tokens included.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if s.cfg.FailRevocation {
		writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "revocation is failing on purpose")
		return
	}
	_ = r.ParseForm()
	c, _, err := s.authenticateClient(r, r.PostForm)
	if err != nil {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", err.Error())
		return
	}
	tok := r.PostForm.Get("token")
	s.mu.Lock()
	if rt := s.refresh[tok]; rt != nil && rt.clientID == c.id {
		s.revokeGrantLocked(s.grants[rt.grantID])
	} else if at := s.access[tok]; at != nil && at.clientID == c.id {
		at.revoked = true
	}
	s.stats.Revocations++
	s.mu.Unlock()
	s.logf("fakeas: revocation request from %s", c.id)
	w.WriteHeader(http.StatusOK)
}

// handleIntrospect implements RFC 7662. The fake does not require the
// caller to authenticate.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	tok := r.PostForm.Get("token")
	at, ok := s.activeAccess(tok)
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"active": s.Introspect(tok)})
		return
	}
	resp := map[string]any{
		"active": true, "token_type": "Bearer", "client_id": at.clientID, "sub": at.subject,
		"scope": strings.Join(at.scope, " "), "exp": at.expires.Unix(), "iss": s.issuer,
	}
	if at.resource != "" {
		resp["aud"] = at.resource
	}
	writeJSON(w, http.StatusOK, resp)
}
