package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mcpauth/test/fakeas"
)

// TestTransportStepUp calls fakeas's admin tool with an "mcp"-only token:
// the 403 insufficient_scope leads to a login with the union of the held
// and challenged scopes, and the retried call succeeds (step 6).
func TestTransportStepUp(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{ChallengeScope: "mcp"})
	e.login(t)
	if got := e.token(t, testServer).Scopes; !slices.Equal(got, []string{"mcp"}) {
		t.Fatalf("initial scopes %q, want [mcp]", got)
	}
	rt := &Transport{API: e.Agent, Server: testServer, Interactive: true}
	resp, _, err := mcpCall(t, rt, e.AS.URL(), "", mcpInitialize)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("initialize: status %d, err %v", statusOf(resp), err)
	}
	session := resp.Header.Get("Mcp-Session-Id")
	mcpCall(t, rt, e.AS.URL(), session, mcpInitialized)

	resp, body, err := mcpCall(t, rt, e.AS.URL(), session, mcpCallAdmin)
	if err != nil {
		t.Fatalf("admin call: %v", err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "admin ok") {
		t.Fatalf("admin call after step-up: %d, body without \"admin ok\"", resp.StatusCode)
	}
	if got := strings.Fields(e.AS.LastAuthorizeQuery().Get("scope")); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"admin", "mcp"}) {
		t.Errorf("step-up requested %q, want admin and mcp", got)
	}
	if got := e.token(t, testServer).Scopes; !slices.Contains(got, "admin") {
		t.Errorf("scopes after step-up %q lack admin", got)
	}
	if n := e.Browser.Opens(); n != 2 {
		t.Errorf("browser opened %d times, want 2 (login, step-up)", n)
	}
}

// stubRS is a resource server that uses fakeas only as its authorization
// server and answers bearer requests as told, to drive the Transport's
// retry limits. It serves PRM at the path form and records every request.
type stubRS struct {
	srv *httptest.Server
	// answer gives the status for the n-th (from 1) bearer request.
	answer func(n int) int

	mu      sync.Mutex
	bearers []http.Header // headers of the requests that carried a token
}

func newStubRS(t *testing.T, as *fakeas.Server, answer func(n int) int) *stubRS {
	t.Helper()
	s := &stubRS{answer: answer}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve(as)))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stubRS) URL() string    { return s.srv.URL + "/mcp" }
func (s *stubRS) prmURL() string { return s.srv.URL + "/.well-known/oauth-protected-resource/mcp" }

func (s *stubRS) serve(as *fakeas.Server) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/oauth-protected-resource/mcp":
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{
				"resource": s.URL(), "authorization_servers": []string{as.Issuer()},
				"scopes_supported": []string{"mcp", "admin"},
			})
			return
		case "/mcp":
		default:
			http.NotFound(w, r)
			return
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer resource_metadata=%q, scope="mcp"`, s.prmURL()))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		s.bearers = append(s.bearers, r.Header.Clone())
		n := len(s.bearers)
		s.mu.Unlock()
		switch status := s.answer(n); status {
		case http.StatusUnauthorized:
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="invalid_token", resource_metadata=%q`, s.prmURL()))
			w.WriteHeader(status)
		case http.StatusForbidden:
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope="mcp admin", resource_metadata=%q`, s.prmURL()))
			w.WriteHeader(status)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprint(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
		}
	}
}

func (s *stubRS) requests() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.bearers)
}

// newStubEnv is an agent with a stubRS behind fakeas added as testServer.
func newStubEnv(t *testing.T, answer func(n int) int, add ...func(*AddRequest)) (*testEnv, *stubRS) {
	t.Helper()
	e := newBareEnv(t, fakeas.Config{})
	rs := newStubRS(t, e.AS, answer)
	req := AddRequest{Name: testServer, URL: rs.URL()}
	for _, f := range add {
		f(&req)
	}
	if err := e.Add(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	return e, rs
}

// TestTransportStepUpLimit: a server that keeps answering 403
// insufficient_scope gets at most MaxAuthorizations authorizations in all
// (the first login included, as the conformance suite's scope-retry-limit
// scenario demands), then *StepUpRequiredError.
func TestTransportStepUpLimit(t *testing.T) {
	e, rs := newStubEnv(t, func(int) int { return http.StatusForbidden })
	rt := &Transport{API: e.Agent, Server: testServer, Interactive: true}
	_, _, err := mcpCall(t, rt, rs.URL(), "", mcpCallAdmin)
	var su *StepUpRequiredError
	if !errors.As(err, &su) {
		t.Fatalf("error = %v, want *StepUpRequiredError", err)
	}
	if diff := cmp.Diff([]string{"mcp", "admin"}, su.Scopes); diff != "" {
		t.Errorf("StepUpRequiredError scopes (-want +got):\n%s", diff)
	}
	// One login because none was held, then step-ups up to the limit.
	if got, want := e.Browser.Opens(), MaxAuthorizations; got != want {
		t.Errorf("browser opened %d times, want %d", got, want)
	}
	if got, want := len(rs.requests()), MaxAuthorizations; got != want {
		t.Errorf("server got %d requests with a token, want %d", got, want)
	}
}

// TestTransportStepUpNotInteractive: without Interactive, a 403
// insufficient_scope is reported at once and nothing opens a browser.
func TestTransportStepUpNotInteractive(t *testing.T) {
	e, rs := newStubEnv(t, func(int) int { return http.StatusForbidden })
	e.login(t)
	rt := &Transport{API: e.Agent, Server: testServer}
	_, _, err := mcpCall(t, rt, rs.URL(), "", mcpCallAdmin)
	var su *StepUpRequiredError
	if !errors.As(err, &su) {
		t.Fatalf("error = %v, want *StepUpRequiredError", err)
	}
	if e.Browser.Opens() != 1 || len(rs.requests()) != 1 {
		t.Errorf("browser opened %d times, %d requests; want 1 and 1", e.Browser.Opens(), len(rs.requests()))
	}
}

// TestTransport401 checks the reactive refresh: a 401 gets one refresh and
// one retry, and a second 401 goes back to the caller.
func TestTransport401(t *testing.T) {
	tests := []struct {
		name       string
		answer     func(n int) int
		wantStatus int
	}{
		{"recovers after a refresh", func(n int) int { return map[bool]int{true: 401, false: 200}[n == 1] }, http.StatusOK},
		{"keeps refusing", func(int) int { return http.StatusUnauthorized }, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, rs := newStubEnv(t, tt.answer)
			e.login(t)
			rt := &Transport{API: e.Agent, Server: testServer, Interactive: true}
			resp, _, err := mcpCall(t, rt, rs.URL(), "", mcpInitialize)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			reqs := rs.requests()
			if len(reqs) != 2 {
				t.Fatalf("server got %d requests with a token, want 2", len(reqs))
			}
			if reqs[0].Get("Authorization") == reqs[1].Get("Authorization") {
				t.Error("the retry carried the refused token")
			}
			if s := e.AS.Stats(); s.Refreshes != 1 {
				t.Errorf("Refreshes = %d, want 1", s.Refreshes)
			}
			if e.Browser.Opens() != 1 {
				t.Errorf("browser opened %d times, want 1 (a refresh sufficed)", e.Browser.Opens())
			}
		})
	}
}

// TestTransport401AgainstFakeAS: fakeas expires the token early; the 401
// refreshes it and the retried request succeeds.
func TestTransport401AgainstFakeAS(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	e.AS.ExpireAccessTokens()
	rt := &Transport{API: e.Agent, Server: testServer}
	resp, _, err := mcpCall(t, rt, e.AS.URL(), "", mcpInitialize)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("initialize: status %d, err %v", statusOf(resp), err)
	}
	if s := e.AS.Stats(); s.Refreshes != 1 {
		t.Errorf("Refreshes = %d, want 1", s.Refreshes)
	}
}

// TestTransport401LoginWhenRefreshDead: a 401 whose refresh is refused
// (invalid_grant) logs in again when Interactive.
func TestTransport401LoginWhenRefreshDead(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	burnRefreshToken(t, e) // the agent's refresh token is now a replay
	e.AS.ExpireAccessTokens()
	rt := &Transport{API: e.Agent, Server: testServer, Interactive: true}
	resp, _, err := mcpCall(t, rt, e.AS.URL(), "", mcpInitialize)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("initialize: status %d, err %v", statusOf(resp), err)
	}
	if e.Browser.Opens() != 2 {
		t.Errorf("browser opened %d times, want 2", e.Browser.Opens())
	}

	// Without Interactive the same situation is *LoginRequiredError.
	burnRefreshToken(t, e)
	e.AS.ExpireAccessTokens()
	_, _, err = mcpCall(t, &Transport{API: e.Agent, Server: testServer}, e.AS.URL(), "", mcpInitialize)
	var lr *LoginRequiredError
	if !errors.As(err, &lr) {
		t.Fatalf("error = %v, want *LoginRequiredError", err)
	}
}

// TestTransportLogsInFirst: with no token held, an interactive Transport
// logs in before the first request; a non-interactive one fails.
func TestTransportLogsInFirst(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	_, _, err := mcpCall(t, &Transport{API: e.Agent, Server: testServer}, e.AS.URL(), "", mcpInitialize)
	var lr *LoginRequiredError
	if !errors.As(err, &lr) {
		t.Fatalf("non-interactive error = %v, want *LoginRequiredError", err)
	}
	resp, _, err := mcpCall(t, &Transport{API: e.Agent, Server: testServer, Interactive: true}, e.AS.URL(), "", mcpInitialize)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("interactive: status %d, err %v", statusOf(resp), err)
	}
}

// TestTransportHeadersAndRequest: configured headers go on every request,
// and the caller's request is never modified.
func TestTransportHeadersAndRequest(t *testing.T) {
	e, rs := newStubEnv(t, func(int) int { return http.StatusOK },
		func(r *AddRequest) { r.Headers = map[string]string{"x-api-key": "k3y"} })
	e.login(t)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, rs.URL(), strings.NewReader(mcpInitialize))
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&Transport{API: e.Agent, Server: testServer}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := rs.requests()[0].Get("X-Api-Key"); got != "k3y" {
		t.Errorf("X-Api-Key = %q, want the configured value", got)
	}
	if req.Header.Get("Authorization") != "" || req.Header.Get("X-Api-Key") != "" {
		t.Error("RoundTrip modified the caller's request headers")
	}
}

// A token that expires while the server still accepts it is refreshed
// before it is sent, not after a 401.
func TestTransportProactiveRefresh(t *testing.T) {
	e, rs := newStubEnv(t, func(int) int { return http.StatusOK })
	e.login(t)
	e.Clock.Advance(time.Hour)
	if _, _, err := mcpCall(t, &Transport{API: e.Agent, Server: testServer}, rs.URL(), "", mcpInitialize); err != nil {
		t.Fatal(err)
	}
	if len(rs.requests()) != 1 || e.AS.Stats().Refreshes != 1 {
		t.Errorf("%d requests, %d refreshes; want 1 and 1", len(rs.requests()), e.AS.Stats().Refreshes)
	}
}

// countingAPI counts the token look-ups a Transport makes.
type countingAPI struct {
	API
	mu     sync.Mutex
	tokens int
}

func (c *countingAPI) Token(ctx context.Context, name string) (*AccessToken, error) {
	c.mu.Lock()
	c.tokens++
	c.mu.Unlock()
	return c.API.Token(ctx, name)
}

// TestTransportOpenServer: a server that needs no OAuth is reached without
// a login (the conformance suite's plain initialize and tools scenarios),
// with its configured headers, and later requests skip the token look-up,
// which would read the keychain for nothing.
func TestTransportOpenServer(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	open := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("X-Api-Key")+"|"+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
	}))
	t.Cleanup(open.Close)
	e := newBareEnv(t, fakeas.Config{})
	if err := e.Add(t.Context(), AddRequest{Name: testServer, URL: open.URL + "/mcp", Headers: map[string]string{"X-Api-Key": "k1"}}); err != nil {
		t.Fatal(err)
	}
	api := &countingAPI{API: e.Agent}
	rt := &Transport{API: api, Server: testServer, Interactive: true}
	for i := 0; i < 3; i++ {
		resp, _, err := mcpCall(t, rt, open.URL+"/mcp", "", mcpInitialize)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d, err %v", i, statusOf(resp), err)
		}
	}
	if n := e.Browser.Opens(); n != 0 {
		t.Errorf("browser opened %d times for an open server", n)
	}
	if api.tokens != 1 {
		t.Errorf("%d token look-ups, want 1 (then the server is known to be open)", api.tokens)
	}
	if want := []string{"k1|", "k1|", "k1|"}; !slices.Equal(keys, want) {
		t.Errorf("server saw X-Api-Key|Authorization %q, want %q", keys, want)
	}
}

// TestTransportLoginOn401: with no token held the request goes out without
// one, and the server's 401 starts the login; the retried request carries
// the new token.
func TestTransportLoginOn401(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	rt := &Transport{API: e.Agent, Server: testServer, Interactive: true}
	resp, _, err := mcpCall(t, rt, e.AS.URL(), "", mcpInitialize)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("initialize: status %d, err %v", statusOf(resp), err)
	}
	if n := e.Browser.Opens(); n != 1 {
		t.Errorf("browser opened %d times, want 1", n)
	}
	rt2 := &Transport{API: e.Agent, Server: testServer}
	if _, _, err := mcpCall(t, rt2, e.AS.URL(), "", mcpInitialize); err != nil {
		t.Errorf("second transport, token held: %v", err)
	}
}

// TestTransportReplaysWithGetBody: a request with GetBody (both bridges'
// requests) is replayed after a 401 with GetBody, never by reading its
// Body into memory, and both attempts carry the whole body.
func TestTransportReplaysWithGetBody(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	e.AS.ExpireAccessTokens()
	rt := &Transport{API: e.Agent, Server: testServer}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.AS.URL(), strings.NewReader(mcpInitialize))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Body = unreadable{}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("initialize after the refresh: status %d, want 200", resp.StatusCode)
	}
	if s := e.AS.Stats(); s.Refreshes != 1 {
		t.Errorf("Refreshes = %d, want 1 (the first attempt got a 401)", s.Refreshes)
	}
}

type unreadable struct{}

func (unreadable) Read([]byte) (int, error) {
	return 0, errors.New("the Body was read; GetBody should have been used")
}
func (unreadable) Close() error { return nil }
