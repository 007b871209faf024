// Package oauthex implements the OAuth 2.0 mechanics an MCP client needs,
// with no knowledge of MCP itself: WWW-Authenticate parsing (RFC 9110,
// RFC 6750), protected resource metadata (RFC 9728), authorization server
// metadata (RFC 8414, OpenID Connect Discovery), dynamic client registration
// (RFC 7591), token requests (RFC 6749), revocation (RFC 7009) and a URL
// safety policy for every URL the client discovers rather than was given.
//
// The MCP flow that strings these together lives one layer up, in agent.
// Like golang.org/x/oauth2 and the go-sdk's oauthex, this package logs
// nothing and never puts a response body of an authorization server into an
// error: a token response can hold secrets.
package oauthex
