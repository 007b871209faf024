package oauthex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

const prmWellKnown = "/.well-known/oauth-protected-resource"

// ProtectedResourceMetadata is the subset of RFC 9728 §2 an OAuth client uses.
type ProtectedResourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers,omitempty"`
	ScopesSupported        []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	ResourceName           string   `json:"resource_name,omitempty"`
}

// ResourceMismatchError means a metadata document describes a different
// resource than the one requested. RFC 9728 §3.3 says such a document MUST
// NOT be used: it could send the user's authorization to another resource.
type ResourceMismatchError struct {
	Resource string // as the document names it
	Want     string // the URL the client asked about
}

func (e *ResourceMismatchError) Error() string {
	return fmt.Sprintf("names resource %q, which does not cover %q", e.Resource, e.Want)
}

// PRMURLs returns the URLs to try for the protected resource metadata of
// serverURL, in order: headerURL from a WWW-Authenticate resource_metadata
// parameter (RFC 9728 §5.1) if non-empty, then the well-known URL with the
// server's path appended (RFC 9728 §3.1), then the one at the root. The path
// form is only produced for a non-root path.
//
// Trailing slashes of the path are dropped and the query is not carried over:
// this is what MCP clients (the TypeScript and Go SDKs) request, and so what
// MCP servers serve, although RFC 9728 §3.1 would keep the query.
func PRMURLs(serverURL, headerURL string) ([]string, error) {
	u, err := parseHTTPURL(serverURL)
	if err != nil {
		return nil, fmt.Errorf("could not build protected resource metadata URLs for %q: %w", serverURL, err)
	}
	var urls []string
	add := func(s string) {
		if !slices.Contains(urls, s) {
			urls = append(urls, s)
		}
	}
	if headerURL != "" {
		add(headerURL)
	}
	if p := trimmedPath(u); p != "" {
		add(origin(u) + prmWellKnown + p)
	}
	add(origin(u) + prmWellKnown)
	return urls, nil
}

// DecodeProtectedResourceMetadata parses a metadata document and checks that
// it describes wantResource (RFC 9728 §3.3). The comparison normalises both
// URLs: scheme and host lowercased, default port dropped, fragment ignored,
// trailing slash ignored. The document's resource may also be a parent of
// wantResource on a path segment boundary, as MCP allows a server at
// https://x/mcp to name https://x/ as its resource; https://x/m does not
// cover https://x/mcp. A mismatch is a *ResourceMismatchError.
//
// Every authorization server listed must be an absolute http(s) URL, since
// it is later used to build URLs the browser opens.
func DecodeProtectedResourceMetadata(data []byte, wantResource string) (*ProtectedResourceMetadata, error) {
	var m ProtectedResourceMetadata
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if m.Resource == "" {
		return nil, errors.New(`"resource" is missing`)
	}
	if err := checkResource(m.Resource, wantResource); err != nil {
		return nil, err
	}
	for _, as := range m.AuthorizationServers {
		if _, err := parseHTTPURL(as); err != nil {
			return nil, fmt.Errorf("authorization server %q: %w", as, err)
		}
	}
	return &m, nil
}

// checkResource reports whether the document's resource covers want.
func checkResource(resource, want string) error {
	w, err := parseHTTPURL(want)
	if err != nil {
		return fmt.Errorf("requested resource %q: %w", want, err)
	}
	r, err := parseHTTPURL(resource)
	if err != nil {
		return fmt.Errorf("resource %q: %w", resource, err)
	}
	mismatch := &ResourceMismatchError{Resource: resource, Want: want}
	if !sameOrigin(r, w) {
		return mismatch
	}
	rp, wp := trimmedPath(r), trimmedPath(w)
	if r.RawQuery != "" {
		// A resource with a query (discouraged by RFC 8707 §2) only covers
		// exactly itself.
		if rp != wp || r.RawQuery != w.RawQuery {
			return mismatch
		}
		return nil
	}
	if rp != wp && !strings.HasPrefix(wp, rp+"/") {
		return mismatch
	}
	return nil
}

// FetchProtectedResourceMetadata tries PRMURLs in order and returns the first
// valid document and the URL it came from. A non-200 status, a network error
// or an invalid document moves on to the next URL. A document for another
// resource stops discovery with a *ResourceMismatchError: the server pointed
// us at it, and no authorization request may go to a mismatched resource.
//
// When nothing is found, the error names every URL and what was wrong; it
// matches ErrNoMetadata if every URL answered 4xx.
func FetchProtectedResourceMetadata(ctx context.Context, c *http.Client, serverURL, headerURL string) (*ProtectedResourceMetadata, string, error) {
	urls, err := PRMURLs(serverURL, headerURL)
	if err != nil {
		return nil, "", err
	}
	var attempts attemptsError
	for _, u := range urls {
		body, err := getJSON(ctx, c, u)
		if err == nil {
			var m *ProtectedResourceMetadata
			m, err = DecodeProtectedResourceMetadata(body, serverURL)
			if err == nil {
				return m, u, nil
			}
			if mm := (*ResourceMismatchError)(nil); errors.As(err, &mm) {
				return nil, "", fmt.Errorf("refusing protected resource metadata at %s: %w", u, err)
			}
		}
		if ctx.Err() != nil {
			return nil, "", fmt.Errorf("could not fetch protected resource metadata from %s: %w", u, err)
		}
		attempts = append(attempts, &attemptError{URL: u, Err: err})
	}
	return nil, "", fmt.Errorf("could not find protected resource metadata for %s: %w", serverURL, attempts)
}
