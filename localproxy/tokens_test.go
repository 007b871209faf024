package localproxy

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mcpauth/agent"
)

// countingAPI hands out numbered tokens and counts the asks.
type countingAPI struct {
	agent.API // nil: other methods panic
	tokens    atomic.Int32
	retries   atomic.Int32
	logins    atomic.Int32
	expiry    time.Duration
	now       func() time.Time
	err       error
}

func (c *countingAPI) next() *agent.AccessToken {
	n := c.tokens.Add(1)
	tok := &agent.AccessToken{Value: string(rune('a' + n))}
	if c.expiry != 0 {
		tok.Expiry = c.now().Add(c.expiry)
	}
	return tok
}

func (c *countingAPI) Token(context.Context, string) (*agent.AccessToken, error) {
	if c.err != nil {
		c.tokens.Add(1)
		return nil, c.err
	}
	time.Sleep(time.Millisecond) // concurrent callers overlap
	return c.next(), nil
}

func (c *countingAPI) Headers(context.Context, string) (map[string]string, error) { return nil, nil }
func (c *countingAPI) Retry(context.Context, string, agent.Challenge) (*agent.AccessToken, error) {
	c.retries.Add(1)
	return c.next(), nil
}

func (c *countingAPI) Login(_ context.Context, _ string, opts agent.LoginOptions) error {
	c.logins.Add(1)
	if opts.OnURL == nil {
		return errors.New("no OnURL")
	}
	return nil
}

func TestTokenCache(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1e9, 0)
	clock := func() time.Time { return now }

	t.Run("one ask for many requests", func(t *testing.T) {
		api := &countingAPI{expiry: time.Hour, now: clock}
		c := CacheTokens(api, nil).(*tokenCache)
		c.now = clock
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				if tok, err := c.Token(ctx, "s"); err != nil || tok.Value != "b" {
					t.Errorf("Token = %v, %v", tok, err)
				}
			})
		}
		wg.Wait()
		if n := api.tokens.Load(); n != 1 {
			t.Errorf("%d asks, want 1", n)
		}
		// A refused token: Retry's answer replaces it.
		if tok, _ := c.Retry(ctx, "s", agent.Challenge{Status: 401}); tok.Value != "c" {
			t.Errorf("Retry = %v", tok)
		}
		if tok, _ := c.Token(ctx, "s"); tok.Value != "c" || api.tokens.Load() != 2 {
			t.Errorf("after Retry, Token = %v (%d asks)", tok, api.tokens.Load())
		}
	})

	t.Run("asks again near expiry", func(t *testing.T) {
		api := &countingAPI{expiry: 20 * time.Second, now: clock}
		c := CacheTokens(api, nil).(*tokenCache)
		c.now = clock
		c.Token(ctx, "s")
		now = now.Add(9 * time.Second) // life 20 s: usable until 10 s before
		c.Token(ctx, "s")
		if n := api.tokens.Load(); n != 1 {
			t.Errorf("%d asks within the lifetime, want 1", n)
		}
		now = now.Add(2 * time.Second)
		c.Token(ctx, "s")
		if n := api.tokens.Load(); n != 2 {
			t.Errorf("%d asks past the margin, want 2", n)
		}
	})

	t.Run("errors are not cached", func(t *testing.T) {
		api := &countingAPI{err: &agent.LoginRequiredError{Server: "s"}}
		c := CacheTokens(api, nil)
		c.Token(ctx, "s")
		c.Token(ctx, "s")
		if n := api.tokens.Load(); n != 2 {
			t.Errorf("%d asks, want 2", n)
		}
		if err := c.Login(ctx, "s", agent.LoginOptions{}); err != nil {
			t.Errorf("Login without a URL reporter: %v", err)
		}
	})
}
