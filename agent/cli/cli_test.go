package cli

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mcpauth/agent"
)

// fakeAPI is an agent.API that records its calls.
type fakeAPI struct {
	mu      sync.Mutex
	calls   []string
	added   []agent.AddRequest
	opts    agent.LoginOptions
	list    []agent.ServerStatus
	clients []agent.LocalClient
	token   *agent.AccessToken
	err     error
	onLogin func() // runs inside Login, after OnURL
}

func (f *fakeAPI) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return f.err
}

func (f *fakeAPI) Add(_ context.Context, req agent.AddRequest) error {
	f.mu.Lock()
	f.added = append(f.added, req)
	f.mu.Unlock()
	return f.record("add " + req.Name + " " + req.URL)
}
func (f *fakeAPI) Remove(_ context.Context, name string) error { return f.record("remove " + name) }
func (f *fakeAPI) Logout(_ context.Context, name string) error { return f.record("logout " + name) }
func (f *fakeAPI) List(context.Context) ([]agent.ServerStatus, error) {
	return f.list, f.record("list")
}
func (f *fakeAPI) Token(_ context.Context, name string) (*agent.AccessToken, error) {
	return f.token, f.record("token " + name)
}
func (f *fakeAPI) Headers(_ context.Context, name string) (map[string]string, error) {
	return nil, f.record("headers " + name)
}
func (f *fakeAPI) Retry(_ context.Context, name string, _ agent.Challenge) (*agent.AccessToken, error) {
	return f.token, f.record("retry " + name)
}
func (f *fakeAPI) AddClient(_ context.Context, name string) (string, error) {
	if err := f.record("add-client " + name); err != nil {
		return "", err
	}
	return fakeClientKey, nil
}
func (f *fakeAPI) ListClients(context.Context) ([]agent.LocalClient, error) {
	return f.clients, f.record("list-clients")
}
func (f *fakeAPI) RemoveClient(_ context.Context, name string) error {
	return f.record("remove-client " + name)
}

func (f *fakeAPI) Login(_ context.Context, name string, opts agent.LoginOptions) error {
	f.mu.Lock()
	f.opts = opts
	f.mu.Unlock()
	if err := f.record("login " + name); err != nil {
		return err
	}
	if opts.OnURL != nil {
		opts.OnURL("https://as.example/authorize?client_id=c&state=s")
	}
	if f.onLogin != nil {
		f.onLogin()
	}
	return nil
}

type result struct {
	code           int
	stdout, stderr string
}

func run(ctx context.Context, env Env, args ...string) result {
	var stdout, stderr bytes.Buffer
	env.Stdout, env.Stderr = &stdout, &stderr
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	code := Main(ctx, args, env)
	return result{code, stdout.String(), stderr.String()}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, cmd := range commands {
		for _, args := range [][]string{{cmd.name, "--help"}, {cmd.name, "-h"}, {"help", cmd.name}} {
			r := run(context.Background(), Env{API: &fakeAPI{}}, args...)
			if r.code != exitOK || r.stderr != "" {
				t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
			}
			for _, want := range []string{"Usage: mcpauth " + cmd.name, "Example:\n  mcpauth " + cmd.name} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("%q: no %q in\n%s", args, want, r.stdout)
				}
			}
		}
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		r := run(context.Background(), Env{}, args...)
		if r.code != exitOK {
			t.Errorf("%q: exit %d", args, r.code)
		}
		for _, cmd := range commands {
			if !strings.Contains(r.stdout, "\n  "+cmd.name+" ") {
				t.Errorf("%q does not list %s:\n%s", args, cmd.name, r.stdout)
			}
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"token"}, "mcpauth token: missing NAME"},
		{[]string{"token", "a", "b"}, `unexpected argument "b"`},
		{[]string{"login", "a", "--browser"}, "unknown flag --browser"},
		{[]string{"list", "x"}, `unexpected argument "x"`},
		{[]string{"demo", "--port", "70000"}, "--port must be between 0 and 65535"},
		{[]string{"demo", "--port", "x"}, `invalid value "x" for --port`},
	}
	for _, tt := range tests {
		api := &fakeAPI{}
		r := run(context.Background(), Env{API: api}, tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
		if len(api.calls) != 0 {
			t.Errorf("%q called the agent: %q", tt.args, api.calls)
		}
	}
}

func TestAdd(t *testing.T) {
	t.Parallel()
	env := map[string]string{"CORP_SECRET": "s3cret-value", "EMPTY": ""}
	tests := []struct {
		name    string
		args    []string
		want    *agent.AddRequest // nil: a usage error
		wantErr string
	}{
		{name: "plain", args: []string{"linear", "https://mcp.linear.app/mcp"},
			want: &agent.AddRequest{Name: "linear", URL: "https://mcp.linear.app/mcp"}},
		{name: "every flag, interleaved",
			args: []string{"--client-id", "cid", "corp", "--client-secret-env=CORP_SECRET", "https://mcp.corp.example/mcp",
				"--scope", "openid offline_access", "--scope=extra", "--header", "X-Tenant: acme", "--header", "x-api-key: k1",
				"--no-resource", "--authorize-param", "prompt=consent", "--authorize-param=audience=api", "--allow-http",
				"--client-metadata-url", "https://mcpauth.example/client.json"},
			want: &agent.AddRequest{Name: "corp", URL: "https://mcp.corp.example/mcp", ClientID: "cid", ClientSecret: "s3cret-value",
				ClientMetadataURL: "https://mcpauth.example/client.json", Scopes: []string{"openid", "offline_access", "extra"},
				Headers: map[string]string{"X-Tenant": "acme", "X-Api-Key": "k1"}, NoResource: true,
				AuthorizeParams: map[string]string{"prompt": "consent", "audience": "api"}, AllowHTTP: true}},
		{name: "http with --allow-http", args: []string{"intra", "http://mcp.intra/mcp", "--allow-http"},
			want: &agent.AddRequest{Name: "intra", URL: "http://mcp.intra/mcp", AllowHTTP: true}},
		{name: "loopback http", args: []string{"local", "http://127.0.0.1:8787/mcp"},
			want: &agent.AddRequest{Name: "local", URL: "http://127.0.0.1:8787/mcp"}},
		{name: "missing URL", args: []string{"x"}, wantErr: "missing URL"},
		{name: "missing both", args: nil, wantErr: "missing NAME and URL"},
		{name: "bad name", args: []string{"my server", "https://x.example/mcp"}, wantErr: `invalid server name "my server"`},
		{name: "long name", args: []string{strings.Repeat("n", 65), "https://x.example/mcp"}, wantErr: "65 characters long"},
		{name: "relative URL", args: []string{"x", "x.example/mcp"}, wantErr: "absolute http(s) URL"},
		{name: "http without --allow-http", args: []string{"x", "http://x.example/mcp"}, wantErr: "--allow-http"},
		{name: "header without colon", args: []string{"x", "https://x.example", "--header", "X-Key k"}, wantErr: `want "Name: value"`},
		{name: "header bad name", args: []string{"x", "https://x.example", "--header", "X Key: k"}, wantErr: "not a header name"},
		{name: "param without =", args: []string{"x", "https://x.example", "--authorize-param", "prompt"}, wantErr: "want key=value"},
		{name: "param reserved", args: []string{"x", "https://x.example", "--authorize-param", "redirect_uri=x"}, wantErr: "sets redirect_uri itself"},
		{name: "secret env unset", args: []string{"x", "https://x.example", "--client-id", "c", "--client-secret-env", "NOPE"},
			wantErr: "$NOPE is unset or empty"},
		{name: "secret env empty", args: []string{"x", "https://x.example", "--client-id", "c", "--client-secret-env", "EMPTY"},
			wantErr: "$EMPTY is unset or empty"},
		{name: "secret without client id", args: []string{"x", "https://x.example", "--client-secret-env", "CORP_SECRET"},
			wantErr: "needs --client-id"},
		{name: "secret as a flag", args: []string{"x", "https://x.example", "--client-id", "c", "--client-secret=s3cret-value"},
			wantErr: "never takes a secret on the command line"},
		{name: "secret as a flag, spaced", args: []string{"x", "https://x.example", "--client-secret", "s3cret-value"},
			wantErr: "--client-secret-env VAR"},
		{name: "metadata URL not https", args: []string{"x", "https://x.example", "--client-metadata-url", "http://me.example/c.json"},
			wantErr: "--client-metadata-url uses plain http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{}
			r := run(context.Background(), Env{API: api, Getenv: func(k string) string { return env[k] }},
				append([]string{"add"}, tt.args...)...)
			if strings.Contains(r.stdout+r.stderr, "s3cret-value") {
				t.Errorf("the secret was printed:\n%s%s", r.stdout, r.stderr)
			}
			if tt.want == nil {
				if r.code != exitUsage || !strings.Contains(r.stderr, tt.wantErr) || len(api.added) != 0 {
					t.Errorf("exit %d, stderr %q, added %v; want 2 and %q", r.code, r.stderr, api.added, tt.wantErr)
				}
				return
			}
			if r.code != exitOK || len(api.added) != 1 {
				t.Fatalf("exit %d, stderr %q, added %v", r.code, r.stderr, api.added)
			}
			if got := api.added[0]; !reflect.DeepEqual(got, *tt.want) {
				t.Errorf("AddRequest:\n got %#v\nwant %#v", got, *tt.want)
			}
			if !strings.Contains(r.stderr, "mcpauth login "+tt.want.Name) {
				t.Errorf("no next step in %q", r.stderr)
			}
		})
	}
}

func TestToken(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{token: &agent.AccessToken{Value: "at-xyz", Type: "Bearer"}}
	r := run(context.Background(), Env{API: api}, "token", "linear")
	if r.code != exitOK || r.stdout != "at-xyz\n" || r.stderr != "" {
		t.Errorf("got %+v; want only the token on stdout", r)
	}

	api = &fakeAPI{err: &agent.LoginRequiredError{Server: "linear"}}
	r = run(context.Background(), Env{API: api}, "token", "linear")
	if r.code != exitError || r.stdout != "" || !strings.Contains(r.stderr, "mcpauth: ") ||
		!strings.Contains(r.stderr, "run `mcpauth login linear`") {
		t.Errorf("login required: %+v", r)
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	r := run(context.Background(), Env{API: api}, "login", "--no-browser", "linear")
	want := "Open this URL to sign in to linear:\n  https://as.example/authorize?client_id=c&state=s\n"
	if r.code != exitOK || r.stdout != "" || !strings.HasPrefix(r.stderr, want) || !strings.HasSuffix(r.stderr, "Signed in to linear.\n") {
		t.Errorf("got %+v", r)
	}
	if !api.opts.NoBrowser || api.calls[0] != "login linear" {
		t.Errorf("agent got %v, %+v", api.calls, api.opts)
	}
	r = run(context.Background(), Env{API: &fakeAPI{err: &agent.NotFoundError{Server: "x"}}}, "login", "x")
	if r.code != exitError || !strings.Contains(r.stderr, `mcpauth: no server named "x"`) {
		t.Errorf("not found: %+v", r)
	}
}

func TestRemoveLogout(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	if r := run(context.Background(), Env{API: api}, "remove", "a"); r.code != exitOK || r.stderr != "Removed a.\n" {
		t.Errorf("remove: %+v", r)
	}
	if r := run(context.Background(), Env{API: api}, "logout", "b"); r.code != exitOK || r.stderr != "Signed out of b.\n" {
		t.Errorf("logout: %+v", r)
	}
	if want := []string{"remove a", "logout b"}; !reflect.DeepEqual(api.calls, want) {
		t.Errorf("calls %q, want %q", api.calls, want)
	}
	api = &fakeAPI{err: errors.New("could not revoke at https://as.example: 503")}
	if r := run(context.Background(), Env{API: api}, "remove", "a"); r.code != exitError ||
		r.stderr != "mcpauth: could not revoke at https://as.example: 503\n" {
		t.Errorf("remove failing: %+v", r)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	r := run(context.Background(), Env{API: &fakeAPI{}}, "list")
	if r.code != exitOK || r.stdout != "" || !strings.Contains(r.stderr, "no servers configured; try `mcpauth demo` or `mcpauth add NAME URL`") {
		t.Errorf("empty: %+v", r)
	}
	r = run(context.Background(), Env{API: &fakeAPI{}}, "list", "--json")
	if r.code != exitOK || r.stdout != "[]\n" {
		t.Errorf("empty --json: %+v", r)
	}
	api := &fakeAPI{list: []agent.ServerStatus{{Name: "linear", State: agent.StateSignedIn}}}
	r = run(context.Background(), Env{API: api}, "list")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, "NAME ") || !strings.Contains(r.stdout, "\nlinear ") {
		t.Errorf("list: %+v", r)
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	const demoURL = "http://127.0.0.1:8787/mcp"
	tests := []struct {
		name      string
		list      []agent.ServerStatus
		args      []string
		wantCalls []string
	}{
		{name: "fresh", args: []string{"--no-browser"},
			wantCalls: []string{"list", "add demo " + demoURL, "login demo"}},
		{name: "already registered", list: []agent.ServerStatus{{Name: "demo", URL: demoURL}},
			wantCalls: []string{"list", "login demo"}},
		{name: "registered for another port", list: []agent.ServerStatus{{Name: "demo", URL: "http://127.0.0.1:9999/mcp"}},
			wantCalls: []string{"list", "remove demo", "add demo " + demoURL, "login demo"}},
		{name: "no login", args: []string{"--no-login"}, wantCalls: []string{"list", "add demo " + demoURL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if slices.Contains(tt.args, "--no-login") {
				cancel() // demo serves until interrupted
			}
			api := &fakeAPI{list: tt.list, onLogin: cancel}
			var gotPort int
			stopped := false
			demo := func(_ context.Context, port int, logf func(string, ...any)) (string, func(), error) {
				gotPort = port
				logf("demo server up")
				return demoURL, func() { stopped = true }, nil
			}
			tools := func(context.Context, *http.Client, string) ([]string, error) { return []string{"echo"}, nil }
			r := run(ctx, Env{API: api, Demo: demo, DemoTools: tools}, append([]string{"demo"}, tt.args...)...)
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if !reflect.DeepEqual(api.calls, tt.wantCalls) {
				t.Errorf("calls %q, want %q", api.calls, tt.wantCalls)
			}
			if gotPort != defaultDemoPort || !stopped {
				t.Errorf("port %d, stopped %v", gotPort, stopped)
			}
			for _, want := range []string{"demo server up", "mcpauth login demo", "mcpauth token demo", "mcpauth list"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("no %q in stderr:\n%s", want, r.stderr)
				}
			}
		})
	}
	// A build without the demo server (`mcpauth`) runs mcpauth-tray's.
	var argv []string
	exec := func(path string, a, env []string) error { argv = a; return nil }
	r := run(context.Background(), Env{API: &fakeAPI{}, TrayBinary: "/opt/m/mcpauth-tray", Exec: exec}, "demo", "--port", "0")
	if want := []string{"/opt/m/mcpauth-tray", "demo", "--port", "0"}; r.code != exitOK || !reflect.DeepEqual(argv, want) {
		t.Errorf("without Demo: exec %q, want %q; %+v", argv, want, r)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := run(context.Background(), Env{API: &fakeAPI{}, Version: "v1.2.3"}, args...)
		if r.code != exitOK || r.stdout != "mcpauth v1.2.3\n" {
			t.Errorf("%q: %+v", args, r)
		}
	}
}

// TestAgentCommand runs `mcpauth agent` for a fresh home and talks to it
// the way every other command does: through connect and the socket.
func TestAgentCommand(t *testing.T) {
	home := t.TempDir()
	env := Env{Getenv: func(k string) string {
		if k == "MCPAUTH_HOME" {
			return home
		}
		return ""
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan result, 1)
	go func() { done <- run(ctx, env, "agent") }()

	var c *agent.Client
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		if c, err = agent.Dial(ctx, home); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent did not come up: %v", err)
		}
	}
	defer c.Close()
	api, release, err := connect(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if _, ok := api.(*agent.Client); !ok {
		t.Errorf("connect chose %T with an agent running, want *agent.Client", api)
	}

	if r := run(ctx, env, "agent"); r.code != exitError || !strings.Contains(r.stderr, "an agent is already running for "+home+" (pid ") {
		t.Errorf("second agent: %+v", r)
	}
	if r := run(ctx, env, "version"); !strings.Contains(r.stdout, "\nagent ") {
		t.Errorf("version with an agent: %+v", r)
	}

	cancel()
	select {
	case r := <-done:
		if r.code != exitOK || !strings.Contains(r.stderr, "mcpauth agent listening on "+agent.ControlSocketPath(home)) {
			t.Errorf("agent: %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the agent did not stop")
	}
	api, release, err = connect(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if _, ok := api.(*agent.Agent); !ok {
		t.Errorf("connect chose %T with no agent running, want *agent.Agent", api)
	}
}
