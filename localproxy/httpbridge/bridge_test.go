package httpbridge

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"mcpauth/agent"
)

const (
	testKey   = "mcpa_test-key-of-cursor"
	testToken = "agent-access-token"
)

// fakeBackend is an agent with one local client (cursor, testKey) and the
// servers in urls. Token hands out testToken unless tokenErr is set.
type fakeBackend struct {
	agent.API // nil: only what the bridge calls is implemented

	urls     map[string]string
	tokenErr error
	loginErr error
	retries  int

	mu         sync.Mutex
	uses       []string
	requesters []string // agent.RequesterFrom of each Token call's ctx
}

func (f *fakeBackend) ClientForKey(key string) (string, bool) {
	if key == testKey {
		return "cursor", true
	}
	return "", false
}

func (f *fakeBackend) ServerURL(name string) (string, error) {
	if u, ok := f.urls[name]; ok {
		return u, nil
	}
	return "", &agent.NotFoundError{Server: name}
}

func (f *fakeBackend) NoteUse(client, server string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uses = append(f.uses, client+" "+server)
}

func (f *fakeBackend) Token(ctx context.Context, name string) (*agent.AccessToken, error) {
	f.mu.Lock()
	f.requesters = append(f.requesters, agent.RequesterFrom(ctx))
	f.mu.Unlock()
	if f.tokenErr != nil {
		return nil, f.tokenErr
	}
	return &agent.AccessToken{Value: testToken, Headers: map[string]string{"X-Api-Key": "configured"}}, nil
}

func (f *fakeBackend) Login(ctx context.Context, name string, opts agent.LoginOptions) error {
	return f.loginErr
}

func (f *fakeBackend) Headers(ctx context.Context, name string) (map[string]string, error) {
	return nil, nil
}

func (f *fakeBackend) Retry(ctx context.Context, name string, c agent.Challenge) (*agent.AccessToken, error) {
	f.mu.Lock()
	f.retries++
	f.mu.Unlock()
	return f.Token(ctx, name)
}

// startBridge serves a bridge for backend on 127.0.0.1:0 and returns its
// base URL and port.
func startBridge(t *testing.T, backend Backend) (base, port string) {
	t.Helper()
	ln, err := Listen(0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(backend, ln.Addr().String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return b.URL(), port
}

// upstream is a remote MCP server that records what reached it.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newUpstream(tb testing.TB, h http.HandlerFunc) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.reqs = append(u.reqs, r.Clone(context.Background()))
		u.mu.Unlock()
		h(w, r)
	}))
	tb.Cleanup(u.Close)
	return u
}

func (u *upstream) requests() []*http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*http.Request(nil), u.reqs...)
}

func okHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
}

// protectedHandler is okHandler behind a bearer check: a request without a
// token gets the 401 that starts a login (agent.Transport sends requests
// without one while it holds no token).
func protectedHandler(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	okHandler(w, r)
}

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`

func do(t *testing.T, method, url, body string, h http.Header, host string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readError(t *testing.T, resp *http.Response) errorBody {
	t.Helper()
	var e errorBody
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("the error body is not JSON: %v", err)
	}
	return e
}

func TestRefusals(t *testing.T) {
	up := newUpstream(t, okHandler)
	backend := &fakeBackend{urls: map[string]string{"linear": up.URL + "/mcp"}}
	base, port := startBridge(t, backend)
	key := http.Header{"Authorization": {"Bearer " + testKey}}
	with := func(k, v string) http.Header {
		h := key.Clone()
		h.Set(k, v)
		return h
	}
	tests := []struct {
		name    string
		method  string
		path    string
		header  http.Header
		host    string
		want    int
		wantMsg string
	}{
		{name: "127.0.0.1 with the key", header: key, want: 200},
		{name: "localhost with the key", header: key, host: "localhost:" + port, want: 200},
		{name: "LOCALHOST with the key", header: key, host: "LOCALHOST:" + port, want: 200},
		{name: "no key", header: http.Header{}, want: 403, wantMsg: "mcpauth client add NAME"},
		{name: "wrong key", header: http.Header{"Authorization": {"Bearer mcpa_wrong"}}, want: 403, wantMsg: "mcpauth client add NAME"},
		{name: "key without Bearer", header: http.Header{"Authorization": {testKey}}, want: 403},
		{name: "basic auth", header: http.Header{"Authorization": {"Basic " + testKey}}, want: 403},
		{name: "Origin of a web page", header: with("Origin", "https://evil.example"), want: 403, wantMsg: "Origin"},
		{name: "Origin null", header: with("Origin", "null"), want: 403},
		{name: "Origin of the bridge itself", header: with("Origin", "http://127.0.0.1:"+port), want: 403},
		{name: "empty Origin", header: with("Origin", ""), want: 403},
		{name: "Referer", header: with("Referer", "https://evil.example/page"), want: 403, wantMsg: "Referer"},
		{name: "Referer of the bridge itself", header: with("Referer", base+"/"), want: 403},
		{name: "foreign Host (DNS rebinding)", header: key, host: "evil.example:" + port, want: 403, wantMsg: "Host"},
		{name: "Host on another port", header: key, host: "127.0.0.1:1", want: 403},
		{name: "Host without a port", header: key, host: "localhost", want: 403},
		{name: "IPv6 loopback Host", header: key, host: "[::1]:" + port, want: 403},
		{name: "0.0.0.0 Host", header: key, host: "0.0.0.0:" + port, want: 403},
		{name: "unknown server", header: key, path: "/servers/nope/mcp", want: 404, wantMsg: "mcpauth add nope"},
		{name: "other path", header: key, path: "/servers/linear", want: 404},
		{name: "nested path", header: key, path: "/servers/linear/x/mcp", want: 404},
		{name: "PUT", method: "PUT", header: key, want: 405},
		// Refusals come before the key check and the routing, so a
		// web page learns nothing from them.
		{name: "unknown server from a web page", header: with("Origin", "https://evil.example"), path: "/servers/nope/mcp", want: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, path := tt.method, tt.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/servers/linear/mcp"
			}
			h := tt.header.Clone()
			h.Set("Content-Type", "application/json")
			before := len(up.requests())
			resp := do(t, method, base+path, initialize, h, tt.host)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if v := resp.Header.Values("WWW-Authenticate"); len(v) > 0 {
				t.Errorf("the bridge sent WWW-Authenticate %q: the local client would start OAuth", v)
			}
			if tt.want == 200 {
				return
			}
			if n := len(up.requests()) - before; n != 0 {
				t.Errorf("a refused request reached the server (%d)", n)
			}
			if e := readError(t, resp); !strings.Contains(e.Error.Message, tt.wantMsg) {
				t.Errorf("message %q lacks %q", e.Error.Message, tt.wantMsg)
			}
		})
	}
	backend.mu.Lock()
	defer backend.mu.Unlock()
	if len(backend.uses) != 3 || backend.uses[0] != "cursor linear" {
		t.Errorf("NoteUse calls: %q, want 3 of cursor linear", backend.uses)
	}
}

// TestForwarding: the remote sees the agent's token and configured
// headers, the MCP headers and body as sent, and nothing of the local
// client's credentials; the client sees the remote's MCP headers but not
// its challenge.
func TestForwarding(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPost && string(body) != initialize {
			t.Errorf("the server got body %q", body)
		}
		w.Header().Set("Mcp-Session-Id", "session-1")
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="https://x"`)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
	})
	base, _ := startBridge(t, &fakeBackend{urls: map[string]string{"linear": up.URL + "/mcp?tenant=1"}})
	h := http.Header{
		"Authorization":        {"Bearer " + testKey},
		"Content-Type":         {"application/json"},
		"Accept":               {"application/json, text/event-stream"},
		"Mcp-Session-Id":       {"session-1"},
		"Mcp-Protocol-Version": {"2025-06-18"},
		"Last-Event-Id":        {"ev-9"},
		"Cookie":               {"local=1"},
		"Connection":           {"X-Hop"},
		"X-Hop":                {"hop"},
		"X-Custom":             {"kept"},
	}
	resp := do(t, http.MethodPost, base+"/servers/linear/mcp?x=1", initialize, h, "")
	if resp.StatusCode != 200 || resp.Header.Get("Mcp-Session-Id") != "session-1" {
		t.Errorf("status %d, Mcp-Session-Id %q", resp.StatusCode, resp.Header.Get("Mcp-Session-Id"))
	}
	if resp.Header.Get("WWW-Authenticate") != "" {
		t.Error("the remote's WWW-Authenticate reached the local client")
	}
	reqs := up.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests reached the server", len(reqs))
	}
	r := reqs[0]
	if got := r.Header.Values("Authorization"); len(got) != 1 || got[0] != "Bearer "+testToken {
		t.Errorf("the server got Authorization %q, want the agent's token", got)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			if strings.Contains(v, testKey) {
				t.Errorf("LEAK: the local key reached the server in %s", k)
			}
		}
	}
	want := map[string]string{
		"X-Api-Key": "configured", "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
		"Mcp-Session-Id": "session-1", "Mcp-Protocol-Version": "2025-06-18", "Last-Event-Id": "ev-9", "X-Custom": "kept",
		"Cookie": "", "X-Hop": "", "Origin": "", "Referer": "", "X-Forwarded-For": "", "Forwarded": "",
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("the server got %s: %q, want %q", k, got, v)
		}
	}
	if r.URL.Path != "/mcp" || r.URL.RawQuery != "tenant=1" || r.Host != strings.TrimPrefix(up.URL, "http://") {
		t.Errorf("the server got %s %s (Host %s), want the registered URL", r.Method, r.URL, r.Host)
	}

	// DELETE ends a session, with its id.
	resp = do(t, http.MethodDelete, base+"/servers/linear/mcp", "", http.Header{"Authorization": {"Bearer " + testKey}, "Mcp-Session-Id": {"session-1"}}, "")
	if resp.StatusCode != 200 {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
	if reqs = up.requests(); len(reqs) != 2 || reqs[1].Method != http.MethodDelete || reqs[1].Header.Get("Mcp-Session-Id") != "session-1" {
		t.Errorf("DELETE did not reach the server with its session id")
	}
}

func TestUpstreamUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String() + "/mcp"
	ln.Close()
	base, _ := startBridge(t, &fakeBackend{urls: map[string]string{"gone": dead}})
	resp := do(t, http.MethodPost, base+"/servers/gone/mcp", initialize, http.Header{"Authorization": {"Bearer " + testKey}}, "")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	if e := readError(t, resp); e.Error.Code != "bad_gateway" || !strings.Contains(e.Error.Message, `server "gone"`) {
		t.Errorf("error %+v", e)
	}
}

// TestAuthFailures: when the agent can't authorize, the client gets a
// JSON-RPC error for its request (or a 502), never a 401 or a challenge.
func TestAuthFailures(t *testing.T) {
	login := &agent.LoginRequiredError{Server: "linear", Reason: "not signed in"}
	always401 := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	}
	tests := []struct {
		name       string
		backend    *fakeBackend
		handler    http.HandlerFunc
		method     string
		body       string
		wantStatus int
		wantRPC    string // the JSON-RPC response, if any
		wantReason string
	}{
		{name: "login denied, request", backend: &fakeBackend{tokenErr: login, loginErr: errors.New("could not log in to linear: access_denied")},
			body: `{"jsonrpc":"2.0","id":7,"method":"tools/list"}`, wantStatus: 200,
			wantReason: "authorization_failed",
			wantRPC:    `{"jsonrpc":"2.0","id":7,"error":{"code":-32050,"message":"mcpauth: could not log in to linear: access_denied","data":{"reason":"authorization_failed","server":"linear"}}}`},
		{name: "login required, string id", backend: &fakeBackend{tokenErr: login, loginErr: login},
			body: `{"jsonrpc":"2.0","id":"a","method":"initialize"}`, wantStatus: 200, wantReason: "login_required"},
		{name: "batch", backend: &fakeBackend{tokenErr: login, loginErr: login},
			body:       `[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":2,"method":"b"}]`,
			wantStatus: 200, wantReason: "login_required"},
		{name: "notification", backend: &fakeBackend{tokenErr: login, loginErr: login},
			body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`, wantStatus: 502, wantReason: "login_required"},
		{name: "GET stream", backend: &fakeBackend{tokenErr: login, loginErr: login}, method: http.MethodGet, wantStatus: 502, wantReason: "login_required"},
		{name: "step-up limit", backend: &fakeBackend{tokenErr: &agent.StepUpRequiredError{Server: "linear", Scopes: []string{"admin"}}},
			body: `{"jsonrpc":"2.0","id":1,"method":"tools/call"}`, wantStatus: 200, wantReason: "step_up_required"},
		{name: "remote keeps answering 401", backend: &fakeBackend{}, handler: always401,
			body: `{"jsonrpc":"2.0","id":1,"method":"tools/call"}`, wantStatus: 200, wantReason: "remote_refused"},
		{name: "remote keeps answering 401 to a GET", backend: &fakeBackend{}, handler: always401, method: http.MethodGet,
			wantStatus: 502, wantReason: "remote_refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.handler
			if h == nil {
				h = protectedHandler
			}
			up := newUpstream(t, h)
			tt.backend.urls = map[string]string{"linear": up.URL + "/mcp"}
			base, _ := startBridge(t, tt.backend)
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			resp := do(t, method, base+"/servers/linear/mcp", tt.body, http.Header{"Authorization": {"Bearer " + testKey}}, "")
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if v := resp.Header.Values("WWW-Authenticate"); len(v) > 0 {
				t.Errorf("WWW-Authenticate %q reached the local client", v)
			}
			body, _ := io.ReadAll(resp.Body)
			if tt.wantRPC != "" && string(body) != tt.wantRPC {
				t.Errorf("body\n got %s\nwant %s", body, tt.wantRPC)
			}
			if !strings.Contains(string(body), `"`+tt.wantReason+`"`) {
				t.Errorf("body %s lacks reason %q", body, tt.wantReason)
			}
			if strings.HasPrefix(tt.body, "[") {
				var out []map[string]any
				if err := json.Unmarshal(body, &out); err != nil || len(out) != 2 || out[0]["id"] != 1.0 || out[1]["id"] != 2.0 {
					t.Errorf("batch answer %s: want errors for ids 1 and 2", body)
				}
			}
		})
	}
}

func TestListenIsLoopbackOnly(t *testing.T) {
	ln, err := Listen(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("listening on %v, want 127.0.0.1", ip)
	}
	if _, err := Listen(ln.Addr().(*net.TCPAddr).Port); err == nil || !strings.Contains(err.Error(), "127.0.0.1:") {
		t.Errorf("a taken port: %v", err)
	}
}

// What the agent does for a bridge request (a token, a login and its
// approval) names the bridge's local client as the requester.
func TestRequesterIsTheLocalClient(t *testing.T) {
	up := newUpstream(t, protectedHandler)
	backend := &fakeBackend{urls: map[string]string{"wiki": up.URL}}
	base, _ := startBridge(t, backend)
	req, _ := http.NewRequest(http.MethodPost, base+"/servers/wiki/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	backend.mu.Lock()
	defer backend.mu.Unlock()
	if len(backend.requesters) == 0 {
		t.Fatal("the bridge asked the agent for no token")
	}
	for _, by := range backend.requesters {
		if by != "cursor" {
			t.Errorf("requester %q, want the local client %q", by, "cursor")
		}
	}
}
