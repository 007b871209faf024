// Package fakeas is a configurable fake OAuth authorization server (AS) and
// OAuth-protected MCP resource server (RS) on loopback.
//
// Every branch of the client's OAuth engine (DESIGN.md, "OAuth engine",
// steps 1-10) has a switch here: the metadata layouts of RFC 8414, OIDC
// Discovery and the 2025-03-26 MCP spec, Protected Resource Metadata
// (RFC 9728) placement, dynamic registration (RFC 7591), Client ID Metadata
// Documents, pre-registered clients, PKCE (RFC 7636), the iss parameter
// (RFC 9207), resource indicators (RFC 8707), refresh token rotation with
// reuse detection, revocation (RFC 7009) and introspection (RFC 7662).
//
// It is ordinary (non-test) code because `mcpauth demo` serves it to humans,
// with a consent page, as well as to tests. It never logs a secret.
package fakeas

import (
	"crypto"
	"net/http"
	"time"
)

// Layout says where the authorization server metadata lives, following the
// discovery order of DESIGN.md step 3.
type Layout string

const (
	// LayoutPath: the issuer has a path (base+IssuerPath) and its RFC 8414
	// metadata is at /.well-known/oauth-authorization-server<path>.
	LayoutPath Layout = "path"
	// LayoutRoot: the issuer is the origin; metadata at
	// /.well-known/oauth-authorization-server.
	LayoutRoot Layout = "root"
	// LayoutOIDC: only OIDC Discovery metadata, at
	// /.well-known/openid-configuration<path> or, with OIDCPathAppend,
	// <path>/.well-known/openid-configuration.
	LayoutOIDC Layout = "oidc"
	// LayoutLegacy is a 2025-03-26 server: no Protected Resource Metadata,
	// 401 without resource_metadata, and AS metadata at the origin
	// (/.well-known/oauth-authorization-server) naming an issuer with a
	// path on the same origin, as the conformance suite's
	// auth/2025-03-26-oauth-metadata-backcompat scenario does.
	LayoutLegacy Layout = "legacy"
	// LayoutLegacyNoMeta is a 2025-03-26 server with no metadata at all:
	// the endpoints are /authorize, /token and /register at the origin.
	LayoutLegacyNoMeta Layout = "legacy-nometa"
)

// IssMode controls the RFC 9207 iss authorization response parameter.
type IssMode string

const (
	// IssCorrect (the zero value) advertises
	// authorization_response_iss_parameter_supported and sends the right iss.
	IssCorrect IssMode = ""
	// IssWrong advertises support and sends a different issuer.
	IssWrong IssMode = "wrong"
	// IssAbsentButAdvertised advertises support but sends no iss.
	IssAbsentButAdvertised IssMode = "absent-but-advertised"
	// IssNone neither advertises nor sends iss.
	IssNone IssMode = "none"
)

// Token endpoint client authentication methods (RFC 7591 §2).
const (
	AuthNone              = "none"
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
)

// Config configures a Server. The zero value is a sane modern server:
// path-style issuer, PRM at the path form named in the 401 challenge, DCR,
// PKCE S256, iss parameter, rotating refresh tokens, 1h access tokens.
type Config struct {
	// Port to bind on 127.0.0.1; 0 picks an ephemeral port.
	Port int

	// Layout of the AS metadata; "" means LayoutPath.
	Layout Layout
	// IssuerPath is the issuer's path for the path, oidc and legacy
	// layouts; "" means "/tenant". "/" gives an issuer without a path
	// (useful with LayoutOIDC).
	IssuerPath string
	// OIDCPathAppend serves LayoutOIDC metadata at
	// <path>/.well-known/openid-configuration instead of
	// /.well-known/openid-configuration<path>.
	OIDCPathAppend bool
	// WrongIssuer makes the metadata document name another issuer: on the
	// same origin with another path, or, for LayoutLegacy (where a
	// same-origin issuer is acceptable), on another origin.
	WrongIssuer bool

	// PRMAtRoot serves Protected Resource Metadata at the root form
	// /.well-known/oauth-protected-resource instead of the path form
	// /.well-known/oauth-protected-resource/mcp.
	PRMAtRoot bool
	// PRMInHeaderOnly serves PRM only at a non-well-known URL that only the
	// 401 challenge names.
	PRMInHeaderOnly bool
	// ChallengeWithoutMetadata omits resource_metadata from the 401
	// challenge, so the client must probe the well-known URLs.
	ChallengeWithoutMetadata bool
	// PRMResource overrides PRM's resource (default URL()), to produce a
	// resource mismatch.
	PRMResource string
	// ScopesSupported for PRM and AS metadata; nil means ["mcp", "admin"].
	ScopesSupported []string
	// ChallengeScope, when set, is sent as scope="..." in 401 challenges.
	ChallengeScope string
	// DefaultScope is granted when the client requests none; "" means "mcp".
	DefaultScope string

	// NoPKCE omits code_challenge_methods_supported and stops requiring a
	// code_challenge.
	NoPKCE bool
	// PKCEMethods overrides code_challenge_methods_supported (default
	// ["S256"]). A challenge is required only when S256 is listed.
	PKCEMethods []string
	// IssParam selects the RFC 9207 behaviour.
	IssParam IssMode

	// NoDCR removes the registration endpoint.
	NoDCR bool
	// CIMD advertises client_id_metadata_document_supported and accepts
	// https (or http loopback) URLs as client IDs, fetching the document.
	CIMD bool
	// CIMDClient fetches CIMD documents; nil means a client with a 5s
	// timeout. Tests serving documents over TLS pass their own.
	CIMDClient *http.Client
	// PreRegistered clients: client_id → secret ("" for a public client).
	// They may use any loopback redirect URI.
	PreRegistered map[string]string
	// AuthMethods is token_endpoint_auth_methods_supported and is enforced;
	// nil means none, client_secret_basic and client_secret_post.
	AuthMethods []string

	// RejectResource answers invalid_target whenever resource is sent
	// (like Entra ID); RequireResource whenever it is missing.
	RejectResource  bool
	RequireResource bool

	// Consent serves an HTML consent page instead of auto-approving.
	Consent bool
	// Deny answers every authorization request with error=access_denied.
	Deny bool
	// ServerName is shown on the consent page.
	ServerName string
	// Subject is the user every token is issued to; "" means "fake-user".
	Subject string

	// AccessTokenTTL defaults to one hour.
	AccessTokenTTL time.Duration
	// FailRevocation makes the revocation endpoint answer 503.
	FailRevocation bool

	// Logf, when set, receives one line per protocol event. It never
	// receives a token, code, verifier or secret.
	Logf func(format string, args ...any)

	// Grants beyond the browser flow (grants.go, device.go); the zero
	// values leave them off.
	//
	// ClientCredentials allows confidential clients the client
	// credentials grant (RFC 6749 §4.4).
	ClientCredentials bool
	// ClientKeys are pre-registered clients that authenticate with
	// private_key_jwt (RFC 7523 §2.2): client_id → public key.
	// ClientKeyAlgs, if set, is token_endpoint_auth_signing_alg_values_supported
	// and is enforced.
	ClientKeys    map[string]crypto.PublicKey
	ClientKeyAlgs []string
	// Device turns on the device authorization grant (RFC 8628).
	Device *DeviceConfig
	// IdP makes the server an enterprise IdP for cross-app access; TrustIdP
	// makes it accept that IdP's ID-JAGs with the JWT bearer grant.
	IdP      *IdPConfig
	TrustIdP *IdPTrust

	// OnMCPRequest, when set, sees every request to the MCP endpoint
	// before it is authenticated, so that tests can check what a bridge
	// forwards (headers that must, or must never, arrive). It must not
	// keep r or read its body.
	OnMCPRequest func(r *http.Request)
}

// Stats counts protocol events. All fields count successful operations,
// except Authorizations (every authorization request received) and
// ReuseDetected (every replay of a rotated refresh token).
type Stats struct {
	Registrations  int
	Authorizations int
	CodeExchanges  int
	Refreshes      int
	Revocations    int
	ReuseDetected  int
	// The extra grants (grants.go, device.go).
	ClientCredentials    int
	DeviceAuthorizations int
	DevicePolls          int
	TokenExchanges       int
	JWTBearerGrants      int
}

func (c Config) withDefaults() Config {
	if c.Layout == "" {
		c.Layout = LayoutPath
	}
	if c.IssuerPath == "" {
		c.IssuerPath = "/tenant"
	}
	if c.IssuerPath == "/" {
		c.IssuerPath = ""
	}
	if c.ScopesSupported == nil {
		c.ScopesSupported = []string{"mcp", "admin"}
	}
	if c.DefaultScope == "" {
		c.DefaultScope = "mcp"
	}
	if c.PKCEMethods == nil {
		c.PKCEMethods = []string{"S256"}
	}
	if c.NoPKCE {
		c.PKCEMethods = nil
	}
	if c.AuthMethods == nil {
		c.AuthMethods = []string{AuthNone, AuthClientSecretBasic, AuthClientSecretPost}
	}
	if c.ServerName == "" {
		c.ServerName = "mcpauth fake MCP server"
	}
	if c.Subject == "" {
		c.Subject = "fake-user"
	}
	if c.AccessTokenTTL == 0 {
		c.AccessTokenTTL = time.Hour
	}
	if c.CIMDClient == nil {
		c.CIMDClient = &http.Client{Timeout: 5 * time.Second}
	}
	if c.Layout == LayoutLegacyNoMeta && c.IssParam == IssCorrect {
		// Nothing is advertised, so nothing is sent.
		c.IssParam = IssNone
	}
	return c
}
