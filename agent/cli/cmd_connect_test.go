package cli

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"mcpauth/agent"
	"mcpauth/keystore"
)

func TestNameFromURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"https://mcp.linear.app/mcp", "mcp.linear.app"},
		{"https://MCP.Example.COM/sse?x=1", "mcp.example.com"},
		{"http://127.0.0.1:8080/mcp", "127.0.0.1-8080"},
		{"http://[::1]:9000/mcp", "1-9000"},
		{"https://xn--bcher-kva.example/mcp", "xn--bcher-kva.example"},
		{"https://" + strings.Repeat("a", 70) + ".example/mcp", strings.Repeat("a", 60)},
	}
	for _, tt := range tests {
		got, err := nameFromURL(tt.url)
		if err != nil || got != tt.want {
			t.Errorf("nameFromURL(%q) = %q, %v; want %q", tt.url, got, err, tt.want)
		}
		if validateName(got) != nil {
			t.Errorf("nameFromURL(%q) = %q, not a valid name", tt.url, got)
		}
	}
}

func TestRegisterURL(t *testing.T) {
	t.Parallel()
	const u = "https://mcp.linear.app/mcp"
	tests := []struct {
		name     string
		list     []agent.ServerStatus
		want     string
		wantAdds []string
	}{
		{name: "new", want: "mcp.linear.app", wantAdds: []string{"add mcp.linear.app " + u}},
		{name: "registered already, under any name", list: []agent.ServerStatus{{Name: "linear", URL: u}}, want: "linear"},
		{name: "name taken by another URL", list: []agent.ServerStatus{
			{Name: "mcp.linear.app", URL: "https://mcp.linear.app/sse"},
			{Name: "mcp.linear.app-2", URL: "https://mcp.linear.app/v2"},
		}, want: "mcp.linear.app-3", wantAdds: []string{"add mcp.linear.app-3 " + u}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeAPI{list: tt.list}
			name, got, err := registerURL(context.Background(), f, agent.AddRequest{URL: u, Scopes: []string{"mcp"}}, false, slog.New(slog.DiscardHandler))
			if err != nil || name != tt.want || got != u {
				t.Fatalf("registerURL = %q, %q, %v; want %q", name, got, err, tt.want)
			}
			var adds []string
			for _, c := range f.calls {
				if strings.HasPrefix(c, "add ") {
					adds = append(adds, c)
				}
			}
			if !slices.Equal(adds, tt.wantAdds) {
				t.Errorf("calls %q, want adds %q", f.calls, tt.wantAdds)
			}
			if len(f.added) > 0 && !slices.Equal(f.added[0].Scopes, []string{"mcp"}) {
				t.Errorf("the flags were lost: %+v", f.added[0])
			}
		})
	}
}

func TestConnectUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"connect"}, "missing NAME|URL"},
		{[]string{"connect", "linear", "--scope", "x"}, "only apply when connecting to a URL"},
		{[]string{"connect", "https://x.example/mcp", "--client-secret", "s"}, "never takes a secret"},
		{[]string{"connect", "http://x.example/mcp"}, "--allow-http"},
		{[]string{"connect", "a b"}, "invalid server name"},
	}
	for _, tt := range tests {
		r := run(context.Background(), Env{API: &fakeAPI{}}, tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want 2 and %q", tt.args, r.code, r.stderr, r.stdout, tt.want)
		}
	}
}

// TestConnectRelays runs the command against a test MCP server, by NAME
// and by URL: the answer reaches stdout, the token the server.
func TestConnectRelays(t *testing.T) {
	const (
		initReq = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
		initRes = `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"s","version":"1"}}}`
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("X-Key") != "k" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || string(body) != initReq {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, initRes)
	}))
	defer srv.Close()
	old := connectStdin
	defer func() { connectStdin = old }()

	host, _ := url.Parse(srv.URL)
	for _, target := range []string{"srv", srv.URL} {
		f := &fakeAPI{token: &agent.AccessToken{Value: "tok", Headers: map[string]string{"X-Key": "k"}}}
		if target == "srv" {
			f.list = []agent.ServerStatus{{Name: "srv", URL: srv.URL}}
		}
		connectStdin = strings.NewReader(initReq + "\n")
		r := run(context.Background(), Env{API: f}, "connect", target)
		if r.code != exitOK || r.stdout != initRes+"\n" {
			t.Errorf("connect %s: exit %d, stdout %q, stderr:\n%s", target, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stderr, "tok") {
			t.Errorf("the token is in stderr")
		}
		if target != "srv" {
			want := "add " + strings.ReplaceAll(host.Host, ":", "-") + " " + srv.URL
			if !slices.Contains(f.calls, want) {
				t.Errorf("calls %q lack %q", f.calls, want)
			}
		}
	}
}

// TestURLLister: `mcpauth connect URL` finds registered servers in the
// home's registry file, sorted by name, without asking the API (whose List
// reads the keychain).
func TestURLLister(t *testing.T) {
	home := t.TempDir()
	a, err := agent.New(agent.Options{Home: home, Store: keystore.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, s := range []agent.AddRequest{{Name: "sentry", URL: "https://mcp.sentry.dev/mcp"}, {Name: "linear", URL: "https://mcp.linear.app/mcp"}} {
		if err := a.Add(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	f := &fakeAPI{}
	list, err := urlLister{API: f, home: home}.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range list {
		got = append(got, s.Name+" "+s.URL)
	}
	if want := []string{"linear https://mcp.linear.app/mcp", "sentry https://mcp.sentry.dev/mcp"}; !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
	if len(f.calls) != 0 {
		t.Errorf("the API was asked: %q", f.calls)
	}
}
