package agent

import (
	"context"
	"testing"
	"time"

	"mcpauth/test/fakeas"
)

// TestRegressionRunProactiveRefreshWasNoop pins a bug: Run's background
// refresh picks tokens that expire within twice the margin, so that a
// bridge's Token never has to wait for a refresh, but refresh() re-checked
// freshness against the single margin and returned the old token without
// refreshing. Until the token was inside the margin, the background pass
// did nothing.
func TestRegressionRunProactiveRefreshWasNoop(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	if err := e.Add(t.Context(), AddRequest{Name: "idle", URL: e.AS.URL()}); err != nil {
		t.Fatal(err)
	}
	before, _ := e.heldTokens(t, testServer)
	e.Clock.Advance(time.Hour - 90*time.Second) // within 2×margin, outside margin

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for e.AS.Stats().Refreshes == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := e.AS.Stats().Refreshes; got != 1 {
		t.Fatalf("Refreshes = %d, want 1 from Run's first pass", got)
	}
	tok := e.token(t, testServer)
	if tok.Value == before {
		t.Error("Token returned the old token")
	}
	if got := e.AS.Stats().Refreshes; got != 1 {
		t.Errorf("Refreshes = %d after Token, want still 1", got)
	}
}

// The background window is capped at half a token's life, as fresh caps
// the margin, so a short-lived token isn't refreshed on every pass.
func TestRunRefreshWindowShortLivedToken(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{AccessTokenTTL: time.Minute})
	e.login(t)
	e.refreshDue(t.Context())
	if got := e.AS.Stats().Refreshes; got != 0 {
		t.Fatalf("Refreshes = %d for a fresh one-minute token, want 0", got)
	}
	e.Clock.Advance(35 * time.Second)
	e.refreshDue(t.Context())
	if got := e.AS.Stats().Refreshes; got != 1 {
		t.Fatalf("Refreshes = %d past half the token's life, want 1", got)
	}
	e.refreshDue(t.Context())
	if got := e.AS.Stats().Refreshes; got != 1 {
		t.Errorf("Refreshes = %d after a second pass, want still 1", got)
	}
}
