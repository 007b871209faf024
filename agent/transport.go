package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"mcpauth/agent/oauthex"
)

// MaxStepUps bounds step-up re-authorizations per server and operation
// (MCP authorization, step 6), so a server that never accepts the scopes
// it asks for can't loop the user through the browser.
const MaxStepUps = 3

// Challenge reports that a server refused a token (see API.Retry).
type Challenge struct {
	// Status is the HTTP status: 401 or 403.
	Status int `json:"status"`
	// WWWAuthenticate holds the response's WWW-Authenticate values.
	WWWAuthenticate []string `json:"www_authenticate,omitempty"`
	// Rejected is the access token the server refused, so a token that
	// another process refreshed meanwhile is not refreshed again.
	Rejected string `json:"rejected,omitempty"`
	// Interactive allows a browser login when nothing else helps.
	Interactive bool `json:"interactive,omitempty"`
}

func (c Challenge) String() string { return fmt.Sprintf("Challenge{%d}", c.Status) }

// Retry handles a refusal (API.Retry): a 401 refreshes the token (reactive
// refresh, step 7), or logs in if only that helps and c.Interactive; a 403
// insufficient_scope re-authorizes with the union of the held and the
// challenged scopes (step-up, step 6). It returns the token to retry with.
func (a *Agent) Retry(ctx context.Context, name string, c Challenge) (*AccessToken, error) {
	ch, _ := oauthex.BearerFromHeader(http.Header{"Www-Authenticate": c.WWWAuthenticate})
	switch c.Status {
	case http.StatusUnauthorized:
		tok, err := a.refresh(ctx, name, c.Rejected)
		var lr *LoginRequiredError
		var rg *RegistrationGoneError
		if (errors.As(err, &lr) || (errors.As(err, &rg) && !rg.PreRegistered)) && c.Interactive {
			if err := a.Login(ctx, name, LoginOptions{Scopes: ch.Scopes}); err != nil {
				return nil, err
			}
			return a.Token(ctx, name)
		}
		if err != nil {
			return nil, err
		}
		// refresh returns the bare token; like Token, Retry must add the
		// configured headers, or the retried request goes out without them.
		if tok.Headers, err = a.secrets.headers(ctx, name); err != nil {
			return nil, err
		}
		return tok, nil
	case http.StatusForbidden:
		if ch.Error != "insufficient_scope" {
			return nil, fmt.Errorf("server %s refused the request (403 %s)", name, sanitize(ch.Error))
		}
		if !c.Interactive {
			return nil, &StepUpRequiredError{Server: name, Scopes: ch.Scopes}
		}
		if err := a.Login(ctx, name, LoginOptions{Scopes: ch.Scopes}); err != nil {
			return nil, err
		}
		return a.Token(ctx, name)
	}
	return nil, fmt.Errorf("agent: Retry needs a 401 or 403, not %d", c.Status)
}

// Transport sends requests to one server with its token and its configured
// headers, through any API (in-process or over the control socket). A 401
// gets one refresh-or-login and one retry; a 403 insufficient_scope gets up
// to MaxStepUps step-ups. It never mutates the caller's request.
type Transport struct {
	API    API
	Server string
	// Base carries the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Interactive allows browser logins from inside RoundTrip.
	Interactive bool
}

var _ http.RoundTripper = (*Transport)(nil)

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	body, err := replayableBody(req)
	if err != nil {
		return nil, err
	}
	tok, err := t.API.Token(ctx, t.Server)
	var lr *LoginRequiredError
	if errors.As(err, &lr) && t.Interactive {
		if err = t.API.Login(ctx, t.Server, LoginOptions{}); err == nil {
			tok, err = t.API.Token(ctx, t.Server)
		}
	}
	if err != nil {
		return nil, err
	}
	retried401, stepUps := false, 0
	for {
		r := req.Clone(ctx)
		if body != nil {
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		for k, v := range tok.Headers {
			r.Header.Set(k, v)
		}
		r.Header.Set("Authorization", "Bearer "+tok.Value)
		resp, err := base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		ch := Challenge{Status: resp.StatusCode, WWWAuthenticate: resp.Header.Values("WWW-Authenticate"),
			Rejected: tok.Value, Interactive: t.Interactive}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !retried401:
			retried401 = true
		case resp.StatusCode == http.StatusForbidden && isInsufficientScope(resp.Header):
			if stepUps == MaxStepUps {
				bc, _ := oauthex.BearerFromHeader(resp.Header)
				drain(resp)
				return nil, &StepUpRequiredError{Server: t.Server, Scopes: bc.Scopes}
			}
			stepUps++
		default:
			return resp, nil
		}
		drain(resp)
		if tok, err = t.API.Retry(ctx, t.Server, ch); err != nil {
			return nil, err
		}
	}
}

func isInsufficientScope(h http.Header) bool {
	ch, ok := oauthex.BearerFromHeader(h)
	return ok && ch.Error == "insufficient_scope"
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// replayableBody reads the request body once so it can be sent again on a
// retry. MCP messages are small JSON-RPC requests.
func replayableBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	return io.ReadAll(req.Body)
}
