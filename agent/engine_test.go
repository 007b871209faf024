package agent

// The harness for the OAuth engine's unit tests: an Agent with a temporary
// home, the in-memory keystore, a browser that logs in headlessly through
// test/fakebrowser, and a clock the test can move, against test/fakeas.
//
// Token values must never reach test output: helpers that compare against
// secrets report "holds a token", never the value.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"mcpauth/keystore"
	"mcpauth/test/fakeas"
	"mcpauth/test/fakebrowser"
)

// testServer is the name every harness agent gives the fakeas server.
const testServer = "fake"

// testClock is real time plus an offset the test moves forward. It keeps
// moving on its own, and jumps with Advance for expiry tests. fakeas uses real time, so advancing only the agent's clock makes
// a token look expired to the agent while the AS still accepts it.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// testBrowser opens authorization URLs with fakebrowser, which follows the
// redirects to the loopback callback, and counts what it opened.
type testBrowser struct {
	mu    sync.Mutex
	opens int
	urls  []string
	deny  bool
	// opened, if set, gets a value when Open is called; gate, if set,
	// holds Open until it is closed.
	opened chan struct{}
	gate   chan struct{}
}

var _ Browser = (*testBrowser)(nil)

func (b *testBrowser) Open(ctx context.Context, rawURL string) error {
	b.mu.Lock()
	b.opens++
	b.urls = append(b.urls, rawURL)
	deny, opened, gate := b.deny, b.opened, b.gate
	b.mu.Unlock()
	if opened != nil {
		opened <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	res, err := fakebrowser.Open(ctx, rawURL, fakebrowser.Options{Deny: deny})
	if err != nil {
		return err
	}
	if !res.OK() {
		// The engine keeps waiting for the callback (the user could
		// retry in the tab); the test's LoginTimeout ends it.
		return errors.New("fakebrowser ended on HTTP " + http.StatusText(res.Status))
	}
	return nil
}

func (b *testBrowser) Opens() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opens
}

// testEnv is one agent wired to one fakeas server.
type testEnv struct {
	*Agent
	AS      *fakeas.Server
	Store   *keystore.Memory
	Browser *testBrowser
	Clock   *testClock
	Home    string
}

// newTestAgent starts fakeas with cfg and returns an agent with the server
// added as testServer (no login yet).
func newTestAgent(t *testing.T, cfg fakeas.Config) (*Agent, *fakeas.Server) {
	e := newTestEnv(t, cfg)
	return e.Agent, e.AS
}

// newTestEnv is newTestAgent with access to the store, browser and clock.
// add, if given, adjusts the AddRequest for testServer; a nil add adds it
// with defaults. Use newBareEnv to add nothing.
func newTestEnv(t *testing.T, cfg fakeas.Config, add ...func(*AddRequest)) *testEnv {
	t.Helper()
	e := newBareEnv(t, cfg)
	req := AddRequest{Name: testServer, URL: e.AS.URL()}
	for _, f := range add {
		f(&req)
	}
	if err := e.Add(t.Context(), req); err != nil {
		t.Fatalf("Add: %v", err)
	}
	return e
}

// newBareEnv starts fakeas and an agent, adding no server.
func newBareEnv(t *testing.T, cfg fakeas.Config) *testEnv {
	t.Helper()
	as, err := fakeas.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	e := &testEnv{AS: as, Store: keystore.NewMemory(), Browser: &testBrowser{}, Clock: &testClock{}, Home: t.TempDir()}
	e.Agent, err = New(Options{
		Home:         e.Home,
		Store:        e.Store,
		Browser:      e.Browser,
		Now:          e.Clock.Now,
		LoginTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// login logs in to testServer and fails the test on error.
func (e *testEnv) login(t *testing.T) {
	t.Helper()
	if err := e.Login(t.Context(), testServer, LoginOptions{}); err != nil {
		t.Fatalf("Login: %v", err)
	}
}

// token returns a token for name and fails the test on error.
func (e *testEnv) token(t *testing.T, name string) *AccessToken {
	t.Helper()
	tok, err := e.Token(t.Context(), name)
	if err != nil {
		t.Fatalf("Token(%s): %v", name, err)
	}
	return tok
}

// state returns name's registry state.
func (e *testEnv) state(t *testing.T, name string) serverState {
	t.Helper()
	ent, err := e.reg.get(name)
	if err != nil {
		t.Fatal(err)
	}
	return ent.State
}

// heldTokens returns the access and refresh token stored for name ("" when
// absent). The values are for comparisons only: never print them.
func (e *testEnv) heldTokens(t *testing.T, name string) (access, refresh string) {
	t.Helper()
	ctx := t.Context()
	acc, _, err := e.secrets.access(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	rt, _, err := e.secrets.refresh(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return acc.AccessToken, rt.RefreshToken
}

// serverKeys returns the keystore keys that belong to name.
func (e *testEnv) serverKeys(name string) []string {
	var out []string
	for _, k := range e.Store.Keys() {
		if strings.HasPrefix(k, "server/"+name+"/") {
			out = append(out, k)
		}
	}
	return out
}

// hasRegistration reports whether a dynamic registration is stored for the
// fake AS's issuer.
func (e *testEnv) hasRegistration(t *testing.T) bool {
	t.Helper()
	_, ok, err := e.secrets.registration(t.Context(), e.AS.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// assertNoSecret fails if text holds any of the secrets, without printing
// them. Empty secrets are skipped.
func assertNoSecret(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for i, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s holds secret #%d (value not shown)", what, i)
		}
	}
}

// mcpCall POSTs one JSON-RPC message to url through rt and returns the
// status, the session id and the body.
func mcpCall(t *testing.T, rt http.RoundTripper, url, session, body string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), nil
}

const (
	mcpInitialize  = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"engine-test","version":"1"}}}`
	mcpInitialized = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	mcpCallAdmin   = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"admin","arguments":{}}}`
	mcpCallWhoami  = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`
)

// mustJSON is json.Marshal for values that can't fail.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEngineHappyPath is the default modern server end to end: discovery,
// DCR, login, a token the resource server accepts, List, logout.
func TestEngineHappyPath(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	tok := e.token(t, testServer)
	if !e.AS.Introspect(tok.Value) {
		t.Fatal("the access token from Token is not active at the AS")
	}
	rt := &Transport{API: e.Agent, Server: testServer}
	resp, _, err := mcpCall(t, rt, e.AS.URL(), "", mcpInitialize)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("initialize through Transport: %d, want 200", resp.StatusCode)
	}
	st := e.state(t, testServer)
	if st.Issuer != e.AS.Issuer() || st.ClientKind != ClientDynamic || st.Resource != e.AS.URL() {
		t.Errorf("state = issuer %q kind %q resource %q, want %q %q %q",
			st.Issuer, st.ClientKind, st.Resource, e.AS.Issuer(), ClientDynamic, e.AS.URL())
	}
	if n := e.Browser.Opens(); n != 1 {
		t.Errorf("browser opened %d times, want 1", n)
	}
}

// statusOf is resp's status, or 0 without a response; for messages.
func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}
