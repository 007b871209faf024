package fakeas

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// client is a registered client: pre-registered, dynamically registered or
// known through its metadata document.
type client struct {
	id           string
	secret       string // "" for a public client
	authMethod   string // "" accepts any listed method (pre-registered)
	redirectURIs []string
	anyLoopback  bool // pre-registered: any loopback redirect URI
	revoked      bool
}

// authRequest is a validated authorization request.
type authRequest struct {
	clientID, redirectURI, state string
	challenge, challengeMethod   string
	scope                        []string
	resource                     string
}

type authCode struct {
	authRequest
	expires time.Time
	used    bool
	grantID string // set once exchanged, to revoke on replay
}

// handleRegister implements RFC 7591 dynamic client registration.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RedirectURIs []string `json:"redirect_uris"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
		GrantTypes   []string `json:"grant_types"`
		ClientName   string   `json:"client_name"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client_metadata", "body is not a JSON object")
		return
	}
	if len(req.RedirectURIs) == 0 {
		writeOAuthError(w, http.StatusBadRequest, "invalid_redirect_uri", "redirect_uris is required")
		return
	}
	for _, u := range req.RedirectURIs {
		if pu, err := url.Parse(u); err != nil || !pu.IsAbs() || pu.Fragment != "" {
			writeOAuthError(w, http.StatusBadRequest, "invalid_redirect_uri", "redirect_uris must be absolute URLs")
			return
		}
	}
	if len(req.GrantTypes) > 0 && !slices.Contains(req.GrantTypes, "authorization_code") {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client_metadata", "grant_types must include authorization_code")
		return
	}
	if req.AuthMethod == "" {
		req.AuthMethod = AuthClientSecretBasic // the RFC 7591 §2 default
		if !slices.Contains(s.cfg.AuthMethods, req.AuthMethod) {
			req.AuthMethod = s.cfg.AuthMethods[0]
		}
	}
	if !slices.Contains(s.cfg.AuthMethods, req.AuthMethod) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client_metadata", "token_endpoint_auth_method not supported")
		return
	}
	c := &client{id: rand.Text(), authMethod: req.AuthMethod, redirectURIs: req.RedirectURIs}
	if c.authMethod != AuthNone {
		c.secret = rand.Text()
	}
	if len(req.GrantTypes) == 0 {
		req.GrantTypes = []string{"authorization_code"}
	}
	s.mu.Lock()
	s.clients[c.id] = c
	s.stats.Registrations++
	s.mu.Unlock()
	s.logf("fakeas: registered client %s (%s, %q)", c.id, c.authMethod, req.ClientName)
	resp := map[string]any{
		"client_id":                  c.id,
		"client_id_issued_at":        time.Now().Unix(),
		"redirect_uris":              c.redirectURIs,
		"token_endpoint_auth_method": c.authMethod,
		"grant_types":                req.GrantTypes,
		"response_types":             []string{"code"},
		"client_name":                req.ClientName,
	}
	if c.secret != "" {
		resp["client_secret"] = c.secret
		resp["client_secret_expires_at"] = 0
	}
	writeJSON(w, http.StatusCreated, resp)
}

// RevokeClient deletes a registration: later requests from the client fail
// with invalid_client.
func (s *Server) RevokeClient(clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.clients[clientID]; c != nil {
		c.revoked = true
	}
}

var errUnknownClient = errors.New("unknown client")

// lookupClient finds a client, fetching its Client ID Metadata Document
// when CIMD is on and the ID is a URL.
func (s *Server) lookupClient(ctx context.Context, id string) (*client, error) {
	s.mu.Lock()
	c := s.clients[id]
	s.mu.Unlock()
	if c != nil {
		if c.revoked {
			return nil, errUnknownClient
		}
		return c, nil
	}
	if !s.cfg.CIMD || !isCIMDURL(id) {
		return nil, errUnknownClient
	}
	c, err := s.fetchCIMD(ctx, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.clients[id]; old != nil {
		return old, nil
	}
	s.clients[id] = c
	s.stats.Registrations++
	return c, nil
}

func isCIMDURL(id string) bool {
	u, err := url.Parse(id)
	if err != nil || u.Host == "" || u.Path == "" || u.Path == "/" {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && isLoopback(u.Hostname()))
}

func (s *Server) fetchCIMD(ctx context.Context, id string) (*client, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.cfg.CIMDClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("could not fetch client metadata document: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("client metadata document answered %d", resp.StatusCode)
	}
	var doc struct {
		ClientID     string   `json:"client_id"`
		RedirectURIs []string `json:"redirect_uris"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("could not parse client metadata document: %w", err)
	}
	if doc.ClientID != id {
		return nil, errors.New("client metadata document's client_id differs from its URL")
	}
	if doc.AuthMethod != "" && doc.AuthMethod != AuthNone {
		return nil, errors.New("client metadata document must use token_endpoint_auth_method none")
	}
	s.logf("fakeas: fetched client metadata document %s", id)
	return &client{id: id, authMethod: AuthNone, redirectURIs: doc.RedirectURIs}, nil
}

// allowsRedirect matches redirect URIs exactly, except that for a
// registered loopback IP URI any port is allowed (RFC 8252 §7.3).
func (c *client) allowsRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Fragment != "" {
		return false
	}
	if c.anyLoopback {
		return u.Scheme == "http" && isLoopback(u.Hostname())
	}
	for _, reg := range c.redirectURIs {
		if reg == raw {
			return true
		}
		ru, err := url.Parse(reg)
		if err != nil || ru.Scheme != "http" || u.Scheme != "http" {
			continue
		}
		if ip := net.ParseIP(ru.Hostname()); ip != nil && ip.IsLoopback() &&
			ru.Hostname() == u.Hostname() && ru.Path == u.Path && ru.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// handleAuthorize implements the authorization endpoint (RFC 6749 §4.1.1,
// with PKCE, resource indicators and RFC 9207 iss).
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	q := r.Form
	s.mu.Lock()
	s.stats.Authorizations++
	s.lastAuthorize = cloneValues(q)
	s.mu.Unlock()

	// Errors about the client or redirect URI must not redirect
	// (RFC 6749 §4.1.2.1).
	c, err := s.lookupClient(r.Context(), q.Get("client_id"))
	if err != nil {
		s.logf("fakeas: authorize: %v", err)
		http.Error(w, "invalid_client: "+err.Error(), http.StatusBadRequest)
		return
	}
	if !c.allowsRedirect(q.Get("redirect_uri")) {
		http.Error(w, "invalid_request: redirect_uri is not registered for this client", http.StatusBadRequest)
		return
	}
	ar := &authRequest{
		clientID:        c.id,
		redirectURI:     q.Get("redirect_uri"),
		state:           q.Get("state"),
		challenge:       q.Get("code_challenge"),
		challengeMethod: q.Get("code_challenge_method"),
		resource:        q.Get("resource"),
	}
	if code, desc := s.checkAuthRequest(q, ar); code != "" {
		s.redirectError(w, r, ar, code, desc)
		return
	}
	s.logf("fakeas: authorization request from %s for scope %q", c.id, strings.Join(ar.scope, " "))
	switch {
	case s.cfg.Deny:
		s.redirectError(w, r, ar, "access_denied", "the user denied the request")
	case s.cfg.Consent:
		txn := rand.Text()
		s.mu.Lock()
		s.pending[txn] = ar
		s.mu.Unlock()
		s.renderConsent(w, txn, ar)
	default:
		s.approve(w, r, ar)
	}
}

func (s *Server) checkAuthRequest(q url.Values, ar *authRequest) (code, desc string) {
	if q.Get("response_type") != "code" {
		return "unsupported_response_type", "only response_type=code is supported"
	}
	if slices.Contains(s.cfg.PKCEMethods, "S256") && ar.challenge == "" {
		return "invalid_request", "code_challenge is required"
	}
	if ar.challenge != "" {
		if ar.challengeMethod == "" {
			ar.challengeMethod = "plain"
		}
		if !slices.Contains(s.cfg.PKCEMethods, ar.challengeMethod) {
			return "invalid_request", "code_challenge_method not supported"
		}
	}
	if _, has := q["resource"]; has && s.cfg.RejectResource {
		return "invalid_target", "resource parameter is not supported"
	}
	if ar.resource == "" && s.cfg.RequireResource {
		return "invalid_target", "resource parameter is required"
	}
	if ar.resource != "" {
		if u, err := url.Parse(ar.resource); err != nil || !u.IsAbs() || u.Fragment != "" {
			return "invalid_target", "resource must be an absolute URI"
		}
	}
	ar.scope = strings.Fields(q.Get("scope"))
	if len(ar.scope) == 0 {
		ar.scope = strings.Fields(s.cfg.DefaultScope)
	}
	for _, sc := range ar.scope {
		if !slices.Contains(s.cfg.ScopesSupported, sc) {
			return "invalid_scope", "unknown scope"
		}
	}
	return "", ""
}

// approve issues a code and redirects back to the client.
func (s *Server) approve(w http.ResponseWriter, r *http.Request, ar *authRequest) {
	code := rand.Text()
	s.mu.Lock()
	s.codes[code] = &authCode{authRequest: *ar, expires: time.Now().Add(time.Minute)}
	s.mu.Unlock()
	s.redirect(w, r, ar, url.Values{"code": {code}})
}

func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, ar *authRequest, code, desc string) {
	s.logf("fakeas: authorization error %s: %s", code, desc)
	s.redirect(w, r, ar, url.Values{"error": {code}, "error_description": {desc}})
}

func (s *Server) redirect(w http.ResponseWriter, r *http.Request, ar *authRequest, params url.Values) {
	u, _ := url.Parse(ar.redirectURI) // validated by allowsRedirect
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if ar.state != "" {
		q.Set("state", ar.state)
	}
	switch s.cfg.IssParam {
	case IssCorrect:
		q.Set("iss", s.issuer)
	case IssWrong:
		q.Set("iss", s.base+"/evil-issuer")
	}
	u.RawQuery = q.Encode()
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	http.Redirect(w, r, u.String(), status)
}

// handleConsent receives the consent page's Approve or Deny.
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	txn := r.PostForm.Get("txn")
	s.mu.Lock()
	ar := s.pending[txn]
	delete(s.pending, txn)
	s.mu.Unlock()
	if ar == nil {
		http.Error(w, "this authorization request has expired or was already answered; start the login again", http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("decision") != "approve" {
		s.redirectError(w, r, ar, "access_denied", "the user denied the request")
		return
	}
	s.approve(w, r, ar)
}
