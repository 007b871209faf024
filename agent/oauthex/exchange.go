package oauthex

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Token exchange (RFC 8693) identifiers.
const (
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	// TokenTypeIDToken is an OpenID Connect ID token (RFC 8693 §3).
	TokenTypeIDToken = "urn:ietf:params:oauth:token-type:id_token"
	// TokenTypeIDJAG is an identity assertion JWT authorization grant
	// (draft-ietf-oauth-identity-assertion-authz-grant §3): what an
	// enterprise IdP issues for cross-app access.
	TokenTypeIDJAG = "urn:ietf:params:oauth:token-type:id-jag"
)

// TokenExchangeRequest is an RFC 8693 §2.1 request. SubjectToken is a
// secret: String redacts it.
type TokenExchangeRequest struct {
	SubjectToken       string
	SubjectTokenType   string
	RequestedTokenType string
	// Audience is the logical name of the target service (§2.1); for an
	// ID-JAG, the issuer identifier of the resource's authorization server.
	Audience string
	// Resource is the target's URI (§2.1, RFC 8707): the MCP server.
	Resource string
	Scopes   []string
}

func (r TokenExchangeRequest) String() string {
	return fmt.Sprintf("TokenExchangeRequest{%s -> %s, audience %q, resource %q}", r.SubjectTokenType, r.RequestedTokenType, r.Audience, r.Resource)
}

// GoString redacts like String, for %#v.
func (r TokenExchangeRequest) GoString() string { return r.String() }

// ExchangedToken is an RFC 8693 §2.2.1 response. Token is a secret: String
// redacts it.
type ExchangedToken struct {
	// Token is the access_token member: the issued token, whatever its
	// type (an ID-JAG is not an access token, hence token_type N_A).
	Token           string
	IssuedTokenType string
	TokenType       string
	Expiry          time.Time
}

func (t *ExchangedToken) String() string {
	return "ExchangedToken{" + t.IssuedTokenType + ", " + redacted + "}"
}

// GoString redacts like String, for %#v.
func (t *ExchangedToken) GoString() string { return t.String() }

// ExchangeToken performs an RFC 8693 token exchange at endpoint. It fails
// unless the AS issued the requested token type (issued_token_type is
// REQUIRED by §2.2.1), so an ID token exchanged "for an ID-JAG" can never
// come back as something else and be presented downstream.
func ExchangeToken(ctx context.Context, c *http.Client, endpoint string, auth ClientAuth, req TokenExchangeRequest, now func() time.Time) (*ExchangedToken, error) {
	if req.SubjectToken == "" || req.SubjectTokenType == "" {
		return nil, errors.New("a token exchange needs a subject token and its type")
	}
	params := url.Values{
		"grant_type":         {GrantTypeTokenExchange},
		"subject_token":      {req.SubjectToken},
		"subject_token_type": {req.SubjectTokenType},
	}
	if req.RequestedTokenType != "" {
		params.Set("requested_token_type", req.RequestedTokenType)
	}
	if req.Audience != "" {
		params.Set("audience", req.Audience)
	}
	addScopeResource(params, req.Scopes, req.Resource)
	tok, err := TokenRequest(ctx, c, endpoint, auth, params, now)
	if err != nil {
		return nil, err
	}
	issued, _ := tok.Extra("issued_token_type").(string)
	if req.RequestedTokenType != "" && issued != req.RequestedTokenType {
		return nil, fmt.Errorf("could not exchange the token at %s: asked for %s, but the response's issued_token_type is %q",
			endpoint, req.RequestedTokenType, sanitizeText(issued, maxDescriptionLen))
	}
	return &ExchangedToken{Token: tok.AccessToken, IssuedTokenType: issued, TokenType: tok.TokenType, Expiry: tok.Expiry}, nil
}
