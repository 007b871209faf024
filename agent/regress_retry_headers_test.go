package agent

import (
	"net/http"
	"testing"
)

// TestRegressionRetryAfter401DropsConfiguredHeaders pins a bug: Retry's 401
// path returned the refreshed token without the server's configured
// headers, so the retried request went out without them (an API key, say)
// and failed again.
func TestRegressionRetryAfter401DropsConfiguredHeaders(t *testing.T) {
	e, rs := newStubEnv(t, func(n int) int { return map[bool]int{true: 401, false: 200}[n == 1] },
		func(r *AddRequest) { r.Headers = map[string]string{"X-Api-Key": "k3y"} })
	e.login(t)
	resp, _, err := mcpCall(t, &Transport{API: e.Agent, Server: testServer}, rs.URL(), "", mcpInitialize)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("initialize: status %d, err %v", statusOf(resp), err)
	}
	reqs := rs.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	for i, h := range reqs {
		if h.Get("X-Api-Key") != "k3y" {
			t.Errorf("request %d lacks the configured X-Api-Key header", i+1)
		}
	}

	// Retry itself returns the headers, as Token does.
	tok, err := e.Retry(t.Context(), testServer, Challenge{Status: http.StatusUnauthorized, Rejected: e.token(t, testServer).Value})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Headers["X-Api-Key"] != "k3y" {
		t.Error("Retry's token lacks the configured headers")
	}
}
