package localproxy

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"mcpauth/agent"
)

// maxCacheMargin is how long before its expiry a cached token is asked for
// again, so that the agent refreshes it (proactively, under its
// cross-process lock) before the server would refuse it.
const maxCacheMargin = 30 * time.Second

// CacheTokens wraps api for a bridge: agent.Transport asks for the token
// on every request, and each ask would cost a control-socket round trip or
// keychain reads, a large part of a small message's latency. The wrapper
// answers from memory while the token it got last is valid for a while
// longer (30 s, or half its lifetime if shorter), and forgets it as soon as
// the server refuses it: Retry then goes to the agent, which refreshes
// exactly once across all processes. Concurrent callers share one ask.
//
// It also reports each login's URL through log (the URL holds no secret:
// PKCE sends only the challenge), so that a user whose browser did not
// open finds it in the host app's log of the bridge's stderr.
func CacheTokens(api agent.API, log *slog.Logger) agent.API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &tokenCache{API: api, log: log, now: time.Now, tokens: map[string]cachedToken{}}
}

type tokenCache struct {
	agent.API
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex // held while asking the agent, so callers share one ask
	tokens map[string]cachedToken
}

type cachedToken struct {
	tok    *agent.AccessToken
	usable time.Time // zero: until refused
}

func (c *tokenCache) Token(ctx context.Context, name string) (*agent.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.tokens[name]; ok && (e.usable.IsZero() || c.now().Before(e.usable)) {
		return e.tok, nil
	}
	delete(c.tokens, name)
	tok, err := c.API.Token(ctx, name)
	if err != nil {
		return nil, err
	}
	c.putLocked(name, tok)
	return tok, nil
}

func (c *tokenCache) Retry(ctx context.Context, name string, ch agent.Challenge) (*agent.AccessToken, error) {
	c.forget(name)
	tok, err := c.API.Retry(ctx, name, ch)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.putLocked(name, tok)
	c.mu.Unlock()
	return tok, nil
}

func (c *tokenCache) Login(ctx context.Context, name string, opts agent.LoginOptions) error {
	c.forget(name)
	if opts.OnURL == nil {
		opts.OnURL = func(url string) {
			c.log.Warn("signing in: if no browser opened, open this URL", "server", name, "url", url)
		}
	}
	return c.API.Login(ctx, name, opts)
}

func (c *tokenCache) Logout(ctx context.Context, name string) error {
	c.forget(name)
	return c.API.Logout(ctx, name)
}

func (c *tokenCache) forget(name string) {
	c.mu.Lock()
	delete(c.tokens, name)
	c.mu.Unlock()
}

func (c *tokenCache) putLocked(name string, tok *agent.AccessToken) {
	e := cachedToken{tok: tok}
	if !tok.Expiry.IsZero() {
		now := c.now()
		margin := min(maxCacheMargin, tok.Expiry.Sub(now)/2)
		e.usable = tok.Expiry.Add(-margin)
		if !now.Before(e.usable) {
			return // nearly expired already: ask again next time
		}
	}
	c.tokens[name] = e
}
