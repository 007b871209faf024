package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"mcpauth/keystore"
)

// fakeAPI records what reaches the agent's side of the socket.
type fakeAPI struct {
	mu        sync.Mutex
	calls     []string
	added     AddRequest
	opts      LoginOptions
	challenge Challenge

	err     error // returned by every call
	list    []ServerStatus
	clients []LocalClient
	token   *AccessToken
	// login, if set, runs as Login after the call is recorded.
	login func(ctx context.Context, opts LoginOptions) error
}

func (f *fakeAPI) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return f.err
}

func (f *fakeAPI) Add(ctx context.Context, req AddRequest) error {
	f.mu.Lock()
	f.added = req
	f.mu.Unlock()
	return f.record("add " + req.Name)
}
func (f *fakeAPI) Remove(ctx context.Context, name string) error { return f.record("remove " + name) }
func (f *fakeAPI) Logout(ctx context.Context, name string) error { return f.record("logout " + name) }
func (f *fakeAPI) List(ctx context.Context) ([]ServerStatus, error) {
	return f.list, f.record("list")
}
func (f *fakeAPI) Token(ctx context.Context, name string) (*AccessToken, error) {
	if err := f.record("token " + name); err != nil {
		return nil, err
	}
	return f.token, nil
}
func (f *fakeAPI) Headers(ctx context.Context, name string) (map[string]string, error) {
	return map[string]string{"X-Api-Key": "k"}, f.record("headers " + name)
}

func (f *fakeAPI) Retry(ctx context.Context, name string, c Challenge) (*AccessToken, error) {
	f.mu.Lock()
	f.challenge = c
	f.mu.Unlock()
	if err := f.record("retry " + name); err != nil {
		return nil, err
	}
	return f.token, nil
}
func (f *fakeAPI) Login(ctx context.Context, name string, opts LoginOptions) error {
	f.mu.Lock()
	f.opts = opts
	f.mu.Unlock()
	if err := f.record("login " + name); err != nil {
		return err
	}
	if f.login != nil {
		return f.login(ctx, opts)
	}
	return nil
}

func (f *fakeAPI) AddClient(ctx context.Context, name string) (string, error) {
	if err := f.record("add-client " + name); err != nil {
		return "", err
	}
	return "mcpa_fake-key", nil
}
func (f *fakeAPI) ListClients(ctx context.Context) ([]LocalClient, error) {
	return f.clients, f.record("list-clients")
}
func (f *fakeAPI) RemoveClient(ctx context.Context, name string) error {
	return f.record("remove-client " + name)
}

func (f *fakeAPI) lastCall() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return ""
	}
	return f.calls[len(f.calls)-1]
}

// serveFake serves api on a real socket in a fresh home and dials it.
func serveFake(t *testing.T, api API) *Client {
	t.Helper()
	home := t.TempDir()
	ln, err := ListenControl(home)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ServeControl(ctx, ln, api, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	c, err := Dial(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestControlRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 7, 28, 12, 0, 0, 0, time.UTC)
	list := []ServerStatus{{Name: "linear", URL: "https://mcp.linear.app/mcp", State: StateSignedIn,
		Issuer: "https://linear.app", ClientKind: ClientDynamic, Scopes: []string{"read"}, Expiry: t0, LastRefresh: t0}}
	tok := &AccessToken{Value: "at-123", Type: "Bearer", Expiry: t0, Scopes: []string{"read", "write"},
		Headers: map[string]string{"X-Api-Key": "k"}}
	challenge := Challenge{Status: 403, WWWAuthenticate: []string{`Bearer error="insufficient_scope", scope="admin"`},
		Rejected: "at-0", Interactive: true}
	add := AddRequest{Name: "a.b-c", URL: "https://x.example/mcp", ClientID: "id", ClientSecret: "s3cret",
		ClientMetadataURL: "https://me.example/cimd.json", Scopes: []string{"a", "b"}, Headers: map[string]string{"X-Key": "k"},
		NoResource: true, AuthorizeParams: map[string]string{"prompt": "consent"}, AllowHTTP: true}

	tests := []struct {
		name     string
		call     func(ctx context.Context, c *Client) (any, error)
		want     any
		wantCall string
	}{
		{"add", func(ctx context.Context, c *Client) (any, error) { return nil, c.Add(ctx, add) }, nil, "add a.b-c"},
		{"remove", func(ctx context.Context, c *Client) (any, error) { return nil, c.Remove(ctx, "a b/c") }, nil, "remove a b/c"},
		{"list", func(ctx context.Context, c *Client) (any, error) { return c.List(ctx) }, list, "list"},
		{"login", func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Login(ctx, "linear", LoginOptions{NoBrowser: true, Scopes: []string{"admin"}})
		}, nil, "login linear"},
		{"logout", func(ctx context.Context, c *Client) (any, error) { return nil, c.Logout(ctx, "linear") }, nil, "logout linear"},
		{"token", func(ctx context.Context, c *Client) (any, error) { return c.Token(ctx, "linear") }, tok, "token linear"},
		{"retry", func(ctx context.Context, c *Client) (any, error) { return c.Retry(ctx, "linear", challenge) }, tok, "retry linear"},
		{"headers", func(ctx context.Context, c *Client) (any, error) { return c.Headers(ctx, "linear") },
			map[string]string{"X-Api-Key": "k"}, "headers linear"},
		{"status", func(ctx context.Context, c *Client) (any, error) {
			st, err := c.Status(ctx)
			if st != nil {
				st.Home = "" // per-test temp dir
			}
			return st, err
		}, &AgentStatus{PID: os.Getpid(), Version: Version}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{list: list, token: tok}
			c := serveFake(t, api)
			got, err := tt.call(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if call := api.lastCall(); call != tt.wantCall {
				t.Errorf("agent saw %q, want %q", call, tt.wantCall)
			}
		})
	}

	t.Run("add carries every field", func(t *testing.T) {
		api := &fakeAPI{}
		if err := serveFake(t, api).Add(context.Background(), add); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(api.added, add) {
			t.Errorf("agent got %#v, want %#v", api.added, add)
		}
	})
	t.Run("login carries its options", func(t *testing.T) {
		api := &fakeAPI{}
		if err := serveFake(t, api).Login(context.Background(), "x", LoginOptions{NoBrowser: true, Scopes: []string{"s"}}); err != nil {
			t.Fatal(err)
		}
		if !api.opts.NoBrowser || !reflect.DeepEqual(api.opts.Scopes, []string{"s"}) {
			t.Errorf("agent got %+v", api.opts)
		}
	})
	t.Run("retry carries the challenge", func(t *testing.T) {
		api := &fakeAPI{token: tok}
		if _, err := serveFake(t, api).Retry(context.Background(), "x", challenge); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(api.challenge, challenge) {
			t.Errorf("agent got %#v, want %#v", api.challenge, challenge)
		}
	})
	t.Run("empty list is not nil", func(t *testing.T) {
		got, err := serveFake(t, &fakeAPI{}).List(context.Background())
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("List = %#v, %v; want an empty slice", got, err)
		}
	})
}

func TestControlTypedErrors(t *testing.T) {
	login := &LoginRequiredError{Server: "linear", Reason: "the refresh token was refused"}
	tests := []struct {
		name string
		err  error
		// typed is the error errors.As must find, with the same fields.
		typed error
	}{
		{"not found", &NotFoundError{Server: "nope"}, &NotFoundError{Server: "nope"}},
		{"login required", login, login},
		{"login required, wrapped", fmt.Errorf("could not refresh token for linear: %w", login), login},
		{"step up", &StepUpRequiredError{Server: "gh", Scopes: []string{"repo", "admin"}}, &StepUpRequiredError{Server: "gh", Scopes: []string{"repo", "admin"}}},
		{"registration gone", &RegistrationGoneError{Server: "s", Issuer: "https://as.example"}, &RegistrationGoneError{Server: "s", Issuer: "https://as.example"}},
		{"registration gone, pre-registered", &RegistrationGoneError{Server: "s", Issuer: "https://as", PreRegistered: true}, &RegistrationGoneError{Server: "s", Issuer: "https://as", PreRegistered: true}},
		{"client id required", &ClientIDRequiredError{Server: "s", Issuer: "https://as"}, &ClientIDRequiredError{Server: "s", Issuer: "https://as"}},
		{"keychain", &KeychainUnavailableError{Op: "get", Err: errors.New("no Secret Service")}, &KeychainUnavailableError{Op: "get", Err: errors.New("no Secret Service")}},
		{"login denied", &LoginDeniedError{Server: "s"}, &LoginDeniedError{Server: "s"}},
		{"login denied, wrapped", fmt.Errorf("could not log in: %w", &LoginDeniedError{Server: "s"}), &LoginDeniedError{Server: "s"}},
		{"plain", errors.New("the server said no"), nil},
	}
	calls := map[string]func(ctx context.Context, c *Client) error{
		"token": func(ctx context.Context, c *Client) error { _, err := c.Token(ctx, "s"); return err },
		"login": func(ctx context.Context, c *Client) error { return c.Login(ctx, "s", LoginOptions{}) },
		"add":   func(ctx context.Context, c *Client) error { return c.Add(ctx, AddRequest{Name: "s"}) },
		"list":  func(ctx context.Context, c *Client) error { _, err := c.List(ctx); return err },
		"retry": func(ctx context.Context, c *Client) error {
			_, err := c.Retry(ctx, "s", Challenge{Status: 401})
			return err
		},
	}
	for _, tt := range tests {
		for callName, call := range calls {
			t.Run(tt.name+"/"+callName, func(t *testing.T) {
				err := call(context.Background(), serveFake(t, &fakeAPI{err: tt.err}))
				if err == nil {
					t.Fatal("no error")
				}
				if err.Error() != tt.err.Error() {
					t.Errorf("message changed:\n got %s\nwant %s", err, tt.err)
				}
				if tt.typed == nil {
					return
				}
				target := reflect.New(reflect.TypeOf(tt.typed)) // **T
				if !errors.As(err, target.Interface()) {
					t.Fatalf("errors.As(%T) failed for %#v", tt.typed, err)
				}
				got := target.Elem().Interface().(error)
				if ku, ok := got.(*keystore.UnavailableError); ok {
					want := tt.typed.(*keystore.UnavailableError)
					if ku.Op != want.Op || ku.Err == nil || ku.Err.Error() != want.Err.Error() {
						t.Errorf("got %#v, want %#v", ku, want)
					}
					return
				}
				if !reflect.DeepEqual(got, tt.typed) {
					t.Errorf("got %#v, want %#v", got, tt.typed)
				}
			})
		}
	}
}

func TestControlHTTPStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{&NotFoundError{Server: "x"}, http.StatusNotFound},
		{&LoginRequiredError{Server: "x"}, http.StatusConflict},
		{&KeychainUnavailableError{Op: "get", Err: errors.New("x")}, http.StatusServiceUnavailable},
		{errors.New("boom"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		h := &controlHandler{api: &fakeAPI{err: tt.err}, log: newDiscardLogger()}
		rec := httptest.NewRecorder()
		h.routes().ServeHTTP(rec, httptest.NewRequest("POST", "/v1/servers/x/token", nil))
		if rec.Code != tt.want {
			t.Errorf("%T: status %d, want %d", tt.err, rec.Code, tt.want)
		}
	}
}

func TestControlRefusesOtherUID(t *testing.T) {
	api := &fakeAPI{token: &AccessToken{Value: "secret"}}
	h := &controlHandler{api: api, log: newDiscardLogger()}
	req := httptest.NewRequest("POST", "/v1/servers/x/token", nil)
	req = req.WithContext(context.WithValue(req.Context(), peerKey{}, peer{uid: os.Getuid() + 1}))
	rec := httptest.NewRecorder()
	h.routes().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("got %d %s, want 403 without the token", rec.Code, rec.Body)
	}
	if call := api.lastCall(); call != "" {
		t.Errorf("the API was called: %q", call)
	}
}

func TestListenControlSingleAgent(t *testing.T) {
	home := t.TempDir()
	ln, err := ListenControl(home)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ListenControl(home)
	var running *AgentRunningError
	if !errors.As(err, &running) || running.PID != os.Getpid() {
		t.Fatalf("second ListenControl: %v, want *AgentRunningError with our pid", err)
	}
	if want := fmt.Sprintf("an agent is already running for %s (pid %d)", home, os.Getpid()); err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	if fi, err := os.Stat(ControlSocketPath(home)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket: %v %v, want mode 0600", fi, err)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ControlSocketPath(home)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket still there after Close: %v", err)
	}
	ln, err = ListenControl(home) // the lock was released
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}

func TestControlSocketPathLongHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), strings.Repeat("h", 120))
	sock := ControlSocketPath(home)
	if len(sock) > maxSocketPath || strings.HasPrefix(sock, home) {
		t.Fatalf("ControlSocketPath = %q (%d bytes)", sock, len(sock))
	}
	if ControlSocketPath(home+"/") != sock || ControlSocketPath(home+"2") == sock {
		t.Error("the fallback path is not a function of the cleaned home")
	}
	ln, err := ListenControl(home)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if fi, err := os.Stat(filepath.Dir(sock)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket dir: %v %v, want mode 0700", fi, err)
	}
}

func TestDialNoAgent(t *testing.T) {
	t.Run("no socket", func(t *testing.T) {
		_, err := Dial(context.Background(), t.TempDir())
		if !errors.Is(err, ErrNoAgent) {
			t.Errorf("Dial = %v, want ErrNoAgent", err)
		}
	})
	t.Run("stale socket file", func(t *testing.T) {
		home := t.TempDir()
		if err := os.WriteFile(ControlSocketPath(home), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Dial(context.Background(), home)
		if !errors.Is(err, ErrNoAgent) {
			t.Errorf("Dial = %v, want ErrNoAgent", err)
		}
	})
	t.Run("agent stopped", func(t *testing.T) {
		home := t.TempDir()
		ln, err := ListenControl(home)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- ServeControl(ctx, ln, &fakeAPI{}, nil) }()
		if _, err := Dial(context.Background(), home); err != nil {
			t.Fatalf("Dial to a live agent: %v", err)
		}
		cancel()
		if err := <-served; err != nil {
			t.Fatalf("ServeControl: %v", err)
		}
		if _, err := Dial(context.Background(), home); !errors.Is(err, ErrNoAgent) {
			t.Errorf("Dial after shutdown = %v, want ErrNoAgent", err)
		}
		ln, err = ListenControl(home) // shutdown released the lock
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
	})
}

func TestClientLoginStreamsURLBeforeCompletion(t *testing.T) {
	const authURL = "https://as.example/authorize?client_id=x&state=y"
	release := make(chan struct{})
	api := &fakeAPI{login: func(ctx context.Context, opts LoginOptions) error {
		opts.OnURL(authURL)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	c := serveFake(t, api)
	gotURL := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- c.Login(context.Background(), "s", LoginOptions{OnURL: func(u string) { gotURL <- u }})
	}()
	select {
	case u := <-gotURL:
		if u != authURL {
			t.Errorf("OnURL(%q), want %q", u, authURL)
		}
	case err := <-done:
		t.Fatalf("Login returned (%v) before the URL arrived", err)
	case <-time.After(5 * time.Second):
		t.Fatal("the URL did not arrive while the login was pending")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestClientLoginCancelCancelsAgentSide(t *testing.T) {
	agentCtxErr := make(chan error, 1)
	api := &fakeAPI{login: func(ctx context.Context, opts LoginOptions) error {
		opts.OnURL("https://as.example/authorize")
		<-ctx.Done()
		agentCtxErr <- ctx.Err()
		return ctx.Err()
	}}
	c := serveFake(t, api)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Login(ctx, "s", LoginOptions{OnURL: func(string) { cancel() }}) }()
	select {
	case err := <-agentCtxErr:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("agent-side ctx: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the agent-side login was not cancelled")
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Login = %v, want context.Canceled", err)
	}
}

func newDiscardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
