package oauthex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBodySize caps every response body read here. Metadata documents and
// token responses are a few KB; the cap keeps a hostile server from making
// the agent buffer without bound.
const maxBodySize = 1 << 20

// metadataTimeout bounds one metadata fetch.
const metadataTimeout = 10 * time.Second

// ErrNoMetadata is matched by errors.Is when discovery found no document at
// all: every candidate URL answered with an HTTP 4xx status. A caller uses it
// to tell "this server predates the discovery mechanism" (fall back, as MCP
// 2025-03-26 servers need) from "discovery failed" (report it).
var ErrNoMetadata = errors.New("no metadata document found")

// StatusError is an unexpected HTTP status from a metadata endpoint.
type StatusError struct {
	StatusCode int
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d", e.StatusCode) }

// attemptError is what went wrong at one candidate URL.
type attemptError struct {
	URL string
	Err error
}

func (e *attemptError) Error() string { return e.URL + ": " + e.Err.Error() }
func (e *attemptError) Unwrap() error { return e.Err }

// attemptsError lists every candidate URL tried and what was wrong with it,
// so the user sees all of them, not just the last.
type attemptsError []*attemptError

func (e attemptsError) Error() string {
	parts := make([]string, len(e))
	for i, a := range e {
		parts[i] = a.Error()
	}
	return strings.Join(parts, "; ")
}

func (e attemptsError) Unwrap() []error {
	errs := make([]error, len(e))
	for i, a := range e {
		errs[i] = a
	}
	return errs
}

// Is reports ErrNoMetadata when every attempt got an HTTP 4xx answer.
func (e attemptsError) Is(target error) bool {
	if target != ErrNoMetadata || len(e) == 0 {
		return false
	}
	for _, a := range e {
		var se *StatusError
		if !errors.As(a.Err, &se) || se.StatusCode < 400 || se.StatusCode > 499 {
			return false
		}
	}
	return true
}

func httpClient(c *http.Client) *http.Client {
	if c == nil {
		return http.DefaultClient
	}
	return c
}

// getJSON GETs u asking for JSON and returns the body of a 200 answer.
// Any other status is a *StatusError.
func getJSON(ctx context.Context, c *http.Client, u string) ([]byte, error) {
	// A metadata document is small and static: a server that streams (an
	// SSE endpoint answering every path) or stalls must not hold discovery.
	ctx, cancel := context.WithTimeout(ctx, metadataTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient(c).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{StatusCode: resp.StatusCode}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/event-stream" {
		return nil, fmt.Errorf("the answer is %s, not a JSON document", mt)
	}
	return readBody(resp.Body)
}

// readBody reads at most maxBodySize bytes; a longer body is an error rather
// than silently truncated JSON.
func readBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBodySize+1))
	if err != nil {
		return nil, fmt.Errorf("could not read the response: %w", err)
	}
	if len(b) > maxBodySize {
		return nil, errors.New("response is larger than 1 MiB")
	}
	return b, nil
}

// parseHTTPURL parses raw as an absolute http(s) URL with a host and no
// userinfo: the only shape a discovery or endpoint URL may have.
func parseHTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("not an http or https URL")
	}
	if u.Host == "" {
		return nil, errors.New("URL has no host")
	}
	if u.User != nil {
		return nil, errors.New("URL carries user info")
	}
	return u, nil
}

// origin returns scheme://host[:port] as written in u.
func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// canonicalHost lowercases the host and drops the scheme's default port, so
// https://X.example:443 and https://x.example compare equal.
func canonicalHost(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return host
}

// sameOrigin compares scheme and canonical host (RFC 6454 §5).
func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && canonicalHost(a) == canonicalHost(b)
}

// trimmedPath is the escaped path without trailing slashes; "" for the root.
func trimmedPath(u *url.URL) string { return strings.TrimRight(u.EscapedPath(), "/") }
