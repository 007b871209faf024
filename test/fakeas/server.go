package fakeas

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
)

// Server is a running fake AS + RS. Its methods are safe for concurrent use.
type Server struct {
	cfg    Config
	ln     net.Listener
	srv    *http.Server
	base   string // http://127.0.0.1:PORT
	issuer string // the real issuer; metadata may lie (WrongIssuer)
	prefix string // path prefix of the AS endpoints

	mu            sync.Mutex // guards everything below
	clients       map[string]*client
	codes         map[string]*authCode
	pending       map[string]*authRequest // consent transactions
	grants        map[string]*grant
	access        map[string]*accessToken
	refresh       map[string]*refreshToken
	stats         Stats
	lastAuthorize url.Values
	tokenReqs     []url.Values
	tokenAuth     []string

	tools toolState  // the bridge tools' counters (bridgetools.go)
	extra grantState // the extra grants' state (grants.go)
}

// Start binds 127.0.0.1:cfg.Port and serves until Close.
func Start(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	switch cfg.Layout {
	case LayoutPath, LayoutRoot, LayoutOIDC, LayoutLegacy, LayoutLegacyNoMeta:
	default:
		return nil, fmt.Errorf("unknown fakeas layout %q", cfg.Layout)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("could not listen for the fake authorization server: %w", err)
	}
	s := &Server{
		cfg:     cfg,
		ln:      ln,
		base:    "http://" + ln.Addr().String(),
		clients: map[string]*client{},
		codes:   map[string]*authCode{},
		pending: map[string]*authRequest{},
		grants:  map[string]*grant{},
		access:  map[string]*accessToken{},
		refresh: map[string]*refreshToken{},
	}
	s.prefix = cfg.IssuerPath
	if cfg.Layout == LayoutRoot || cfg.Layout == LayoutLegacyNoMeta {
		s.prefix = ""
	}
	s.issuer = s.base + s.prefix
	for id, secret := range cfg.PreRegistered {
		s.clients[id] = &client{id: id, secret: secret, anyLoopback: true}
	}
	s.srv = &http.Server{Handler: s.routes()}
	go s.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Close
	s.logf("fakeas: %s layout, issuer %s, MCP at %s", cfg.Layout, s.issuer, s.URL())
	return s, nil
}

// Close stops the server and drops every connection, including open SSE
// streams.
func (s *Server) Close() error {
	err := s.srv.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// BaseURL is the origin, e.g. http://127.0.0.1:PORT.
func (s *Server) BaseURL() string { return s.base }

// URL is the protected MCP endpoint, http://127.0.0.1:PORT/mcp. It is also
// the resource tokens are checked against.
func (s *Server) URL() string { return s.base + "/mcp" }

// Issuer is the real issuer identifier (WrongIssuer does not change it).
func (s *Server) Issuer() string { return s.issuer }

// MetadataURL is where the AS metadata is served, or "" for
// LayoutLegacyNoMeta.
func (s *Server) MetadataURL() string {
	switch s.cfg.Layout {
	case LayoutPath:
		return s.base + "/.well-known/oauth-authorization-server" + s.prefix
	case LayoutRoot, LayoutLegacy:
		return s.base + "/.well-known/oauth-authorization-server"
	case LayoutOIDC:
		if s.cfg.OIDCPathAppend {
			return s.base + s.prefix + "/.well-known/openid-configuration"
		}
		return s.base + "/.well-known/openid-configuration" + s.prefix
	}
	return ""
}

// PRMURL is where Protected Resource Metadata is served, or "" for the
// legacy layouts.
func (s *Server) PRMURL() string {
	switch {
	case s.cfg.Layout == LayoutLegacy || s.cfg.Layout == LayoutLegacyNoMeta:
		return ""
	case s.cfg.PRMInHeaderOnly:
		return s.base + "/prm/mcp-resource-metadata"
	case s.cfg.PRMAtRoot:
		return s.base + "/.well-known/oauth-protected-resource"
	}
	return s.base + "/.well-known/oauth-protected-resource/mcp"
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// LastAuthorizeQuery is a copy of the last authorization request's query.
func (s *Server) LastAuthorizeQuery() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneValues(s.lastAuthorize)
}

// TokenRequests returns copies of every token request's form, in order.
// They hold codes, verifiers and secrets: assert on them, never print them.
func (s *Server) TokenRequests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]url.Values, len(s.tokenReqs))
	for i, v := range s.tokenReqs {
		out[i] = cloneValues(v)
	}
	return out
}

// TokenAuthMethods returns, parallel to TokenRequests, the client
// authentication method each token request used (none,
// client_secret_basic or client_secret_post).
func (s *Server) TokenAuthMethods() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tokenAuth)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	p := s.prefix
	mux.HandleFunc("POST "+p+"/authorize", s.handleAuthorize)
	mux.HandleFunc("GET "+p+"/authorize", s.handleAuthorize)
	mux.HandleFunc("POST "+p+"/consent", s.handleConsent)
	mux.HandleFunc("POST "+p+"/token", s.handleToken)
	mux.HandleFunc("POST "+p+"/revoke", s.handleRevoke)
	mux.HandleFunc("POST "+p+"/introspect", s.handleIntrospect)
	if !s.cfg.NoDCR {
		mux.HandleFunc("POST "+p+"/register", s.handleRegister)
	}
	if s.cfg.Device != nil {
		mux.HandleFunc("POST "+p+"/device_authorization", s.handleDeviceAuthorization)
		mux.HandleFunc(p+"/device", s.handleDeviceVerify)
	}
	if u := s.MetadataURL(); u != "" {
		mux.HandleFunc("GET "+u[len(s.base):], s.handleASMetadata)
	}
	if s.cfg.Layout == LayoutOIDC {
		mux.HandleFunc("GET "+p+"/jwks", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"keys": []any{}})
		})
	}
	if u := s.PRMURL(); u != "" {
		mux.HandleFunc("GET "+u[len(s.base):], s.handlePRM)
	}
	mux.Handle("/mcp", s.newResourceHandler())
	return mux
}

func (s *Server) handleASMetadata(w http.ResponseWriter, _ *http.Request) {
	issuer := s.issuer
	if s.cfg.WrongIssuer {
		issuer = s.base + "/wrong-issuer"
		if s.cfg.Layout == LayoutLegacy {
			// A legacy client accepts any issuer on the server's origin.
			issuer = "http://wrong-issuer.invalid" + s.prefix
		}
	}
	p := s.issuer
	md := map[string]any{
		"issuer":                                     issuer,
		"authorization_endpoint":                     p + "/authorize",
		"token_endpoint":                             p + "/token",
		"revocation_endpoint":                        p + "/revoke",
		"introspection_endpoint":                     p + "/introspect",
		"response_types_supported":                   []string{"code"},
		"grant_types_supported":                      []string{"authorization_code", "refresh_token"},
		"token_endpoint_auth_methods_supported":      s.cfg.AuthMethods,
		"revocation_endpoint_auth_methods_supported": s.cfg.AuthMethods,
		"scopes_supported":                           s.cfg.ScopesSupported,
	}
	if !s.cfg.NoDCR {
		md["registration_endpoint"] = p + "/register"
	}
	if len(s.cfg.PKCEMethods) > 0 {
		md["code_challenge_methods_supported"] = s.cfg.PKCEMethods
	}
	if s.cfg.IssParam != IssNone {
		md["authorization_response_iss_parameter_supported"] = true
	}
	if s.cfg.CIMD {
		md["client_id_metadata_document_supported"] = true
	}
	if s.cfg.Layout == LayoutOIDC {
		md["jwks_uri"] = p + "/jwks"
		md["subject_types_supported"] = []string{"public"}
		md["id_token_signing_alg_values_supported"] = []string{"RS256"}
	}
	s.grantMetadata(md)
	writeJSON(w, http.StatusOK, md)
}

// handlePRM serves RFC 9728 Protected Resource Metadata.
func (s *Server) handlePRM(w http.ResponseWriter, _ *http.Request) {
	resource := s.URL()
	if s.cfg.PRMResource != "" {
		resource = s.cfg.PRMResource
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"resource":                 resource,
		"authorization_servers":    []string{s.issuer},
		"scopes_supported":         s.cfg.ScopesSupported,
		"bearer_methods_supported": []string{"header"},
		"resource_name":            s.cfg.ServerName,
	})
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeOAuthError writes an RFC 6749 §5.2 error response.
func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="fakeas"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
