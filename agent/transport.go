package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"mcpauth/agent/oauthex"
)

// MaxAuthorizations bounds the authorizations (a login, then step-ups)
// one request may cause (MCP authorization, step 6: step-up at most 3
// times), so a server that never accepts the scopes it asks for can't loop
// the user through the browser.
const MaxAuthorizations = 3

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
// headers, through any API (in-process or over the control socket). It
// never mutates the caller's request.
//
// With no token held it sends the request without one: a server that needs
// no OAuth just answers (and later requests skip the token lookup), and a
// protected one answers 401 with the challenge that starts the login. A 401
// gets one refresh-or-login and one retry; a 403 insufficient_scope steps
// up. At most MaxAuthorizations logins happen per request.
type Transport struct {
	API    API
	Server string
	// Base carries the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Interactive allows browser logins from inside RoundTrip.
	Interactive bool

	open atomic.Bool // the server answered a request sent without a token
	hmu  sync.Mutex
	hdrs map[string]string // configured headers, for requests without a token
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
	tok, err := t.token(ctx)
	if err != nil {
		return nil, err
	}
	retried401, logins := false, 0
	for {
		r := req.Clone(ctx)
		if body != nil {
			if r.Body, r.ContentLength, err = body(); err != nil {
				return nil, err
			}
		}
		hdrs, err := t.headers(ctx, tok)
		if err != nil {
			return nil, err
		}
		for k, v := range hdrs {
			r.Header.Set(k, v)
		}
		if tok != nil {
			r.Header.Set("Authorization", "Bearer "+tok.Value)
		} else {
			r.Header.Del("Authorization")
		}
		resp, err := base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !retried401:
			retried401 = true
			drain(resp)
			tok, err = t.after401(ctx, tok, resp.Header, &logins)
		case resp.StatusCode == http.StatusForbidden && isInsufficientScope(resp.Header):
			bc, _ := oauthex.BearerFromHeader(resp.Header)
			drain(resp)
			if logins == MaxAuthorizations || !t.Interactive {
				return nil, &StepUpRequiredError{Server: t.Server, Scopes: bc.Scopes}
			}
			tok, err = t.login(ctx, bc.Scopes, &logins)
		default:
			if tok == nil && resp.StatusCode < 400 {
				t.open.Store(true)
			}
			return resp, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// token returns the token to send, or nil to send none: the server is
// known to be open, or no token is held yet.
func (t *Transport) token(ctx context.Context) (*AccessToken, error) {
	if t.open.Load() {
		return nil, nil
	}
	tok, err := t.API.Token(ctx, t.Server)
	var lr *LoginRequiredError
	if errors.As(err, &lr) {
		return nil, nil
	}
	return tok, err
}

// headers returns the configured headers: a token carries them; without
// one they are asked for once.
func (t *Transport) headers(ctx context.Context, tok *AccessToken) (map[string]string, error) {
	if tok != nil {
		return tok.Headers, nil
	}
	t.hmu.Lock()
	defer t.hmu.Unlock()
	if t.hdrs == nil {
		h, err := t.API.Headers(ctx, t.Server)
		if err != nil {
			return nil, err
		}
		if h == nil {
			h = map[string]string{}
		}
		t.hdrs = h
	}
	return t.hdrs, nil
}

// after401 refreshes a refused token (reactive refresh) and, when only a
// login helps, logs in.
func (t *Transport) after401(ctx context.Context, tok *AccessToken, h http.Header, logins *int) (*AccessToken, error) {
	t.open.Store(false)
	if tok != nil {
		next, err := t.API.Retry(ctx, t.Server, Challenge{
			Status: http.StatusUnauthorized, WWWAuthenticate: h.Values("WWW-Authenticate"), Rejected: tok.Value,
		})
		var lr *LoginRequiredError
		var rg *RegistrationGoneError
		if !errors.As(err, &lr) && !(errors.As(err, &rg) && !rg.PreRegistered) {
			return next, err
		}
		if !t.Interactive {
			return nil, err
		}
	} else if !t.Interactive {
		return nil, &LoginRequiredError{Server: t.Server, Reason: "not signed in"}
	}
	return t.login(ctx, nil, logins)
}

// login runs one authorization (a login, or a step-up when scopes are
// given) and returns the new token.
func (t *Transport) login(ctx context.Context, scopes []string, logins *int) (*AccessToken, error) {
	*logins++
	if err := t.API.Login(ctx, t.Server, LoginOptions{Scopes: scopes}); err != nil {
		return nil, err
	}
	return t.API.Token(ctx, t.Server)
}

func isInsufficientScope(h http.Header) bool {
	ch, ok := oauthex.BearerFromHeader(h)
	return ok && ch.Error == "insufficient_scope"
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// replayableBody returns what gives each attempt (the request, then a
// retry after a refresh or a step-up) a fresh copy of the body, or nil for
// a request without one. A request with GetBody and a known length (what
// http.NewRequest makes of an in-memory body, as both bridges send) is
// replayed with GetBody, without a copy: a 10 MB tool argument used to be
// copied once more here. Any other body is read into memory once.
func replayableBody(req *http.Request) (func() (io.ReadCloser, int64, error), error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil && req.ContentLength > 0 {
		req.Body.Close()
		n := req.ContentLength
		return func() (io.ReadCloser, int64, error) {
			b, err := req.GetBody()
			return b, n, err
		}, nil
	}
	defer req.Body.Close()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	return func() (io.ReadCloser, int64, error) {
		return io.NopCloser(bytes.NewReader(body)), int64(len(body)), nil
	}, nil
}
