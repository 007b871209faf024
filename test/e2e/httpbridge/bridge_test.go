package httpbridge

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"mcpauth/test/fakeas"
)

// upstreamLog records the Authorization header of every request that
// reaches the MCP server.
type upstreamLog struct {
	mu   sync.Mutex
	auth []string
}

func (l *upstreamLog) record(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.auth = append(l.auth, r.Header.Get("Authorization"))
}

func (l *upstreamLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.auth...)
}

// TestE2E_HTTPBridge: a host app's view of the bridge, from `mcpauth client
// add` to SIGTERM.
func TestE2E_HTTPBridge(t *testing.T) {
	requireE2E(t)
	s := newSession(t)
	upstream := &upstreamLog{}
	as, err := fakeas.Start(fakeas.Config{OnMCPRequest: upstream.record})
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	ag := s.startAgent("--port", "0")

	// `mcpauth status` names the bridge.
	var st struct {
		Running         bool   `json:"running"`
		Bridge          string `json:"bridge"`
		BridgeServerURL string `json:"bridge_server_url"`
	}
	if err := json.Unmarshal([]byte(s.mustRun("status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if !st.Running || !regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+$`).MatchString(st.Bridge) ||
		st.BridgeServerURL != st.Bridge+"/servers/NAME/mcp" {
		t.Fatalf("status --json: %+v", st)
	}
	if out := s.mustRun("status"); !strings.Contains(out, st.Bridge+"/servers/NAME/mcp") || !strings.Contains(out, "running (pid ") {
		t.Errorf("status does not print the bridge URL:\n%s", out)
	}
	bridgeURL := st.Bridge + "/servers/demo/mcp"

	s.mustRun("add", "demo", as.URL())
	stdout, stderr, code := s.run(true, "client", "add", "cursor")
	key := strings.TrimSpace(stdout)
	s.addSecret(key)
	if code != 0 || !strings.HasPrefix(key, "mcpa_") || strings.ContainsAny(key, " \n") {
		t.Fatalf("client add cursor: exit %d, want one key on stdout; stderr:\n%s", code, s.redact(stderr))
	}
	if !strings.Contains(stderr, st.Bridge+"/servers/SERVER/mcp") {
		t.Errorf("client add does not say where the bridge is:\n%s", s.redact(stderr))
	}

	t.Run("refusals", func(t *testing.T) {
		u, _ := url.Parse(st.Bridge)
		tests := []struct {
			name       string
			auth, k, v string
			host       string
		}{
			{name: "no key"},
			{name: "wrong key", auth: "Bearer mcpa_wrong"},
			{name: "any Origin", auth: "Bearer " + key, k: "Origin", v: "https://evil.example"},
			{name: "any Referer", auth: "Bearer " + key, k: "Referer", v: "https://evil.example/"},
			{name: "foreign Host", auth: "Bearer " + key, host: "evil.example:" + u.Port()},
		}
		before := len(upstream.snapshot())
		for _, tt := range tests {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, bridgeURL,
				strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
			req.Header.Set("Content-Type", "application/json")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			if tt.k != "" {
				req.Header.Set(tt.k, tt.v)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("WWW-Authenticate") != "" {
				t.Errorf("%s: %d (WWW-Authenticate %q), want a 403 without a challenge", tt.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
			if !json.Valid(body) {
				t.Errorf("%s: the body is not JSON: %s", tt.name, s.redact(string(body)))
			}
		}
		if n := len(upstream.snapshot()) - before; n != 0 {
			t.Errorf("%d refused requests reached the MCP server", n)
		}
	})

	// A host app: the first request makes the agent sign in (through
	// $BROWSER, the fake browser) while it waits.
	c, err := client.NewStreamableHttpClient(bridgeURL,
		transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + key}),
		transport.WithContinuousListening(),
		transport.WithHTTPLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "e2e-host-app", Version: "0"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize through the bridge: %s\nagent output:\n%s", s.redact(err.Error()), s.redact(ag.Out.String()))
	}
	tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil || len(tools.Tools) == 0 {
		t.Fatalf("tools/list: %v", err)
	}
	call := mcp.CallToolRequest{}
	call.Params.Name, call.Params.Arguments = "echo", map[string]any{"text": "hello through the bridge"}
	res, err := c.CallTool(ctx, call)
	if err != nil || len(res.Content) == 0 {
		t.Fatalf("tools/call echo: %v", err)
	}
	if text, _ := res.Content[0].(mcp.TextContent); text.Text != "hello through the bridge" {
		t.Errorf("echo returned %q", text.Text)
	}
	if n := as.Stats().CodeExchanges; n != 1 {
		t.Errorf("%d logins, want 1", n)
	}

	// The MCP server saw the agent's tokens, never the local key.
	tokens := 0
	for _, h := range upstream.snapshot() {
		if strings.Contains(h, key) {
			t.Error("LEAK: the local key reached the MCP server")
		}
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			s.addSecret(tok)
			tokens++
		}
	}
	if tokens < 3 {
		t.Errorf("%d requests reached the MCP server with a token, want at least 3", tokens)
	}

	// `mcpauth list` shows the last use, by cursor.
	if out := s.mustRun("list"); !strings.Contains(out, "LAST USED") || !regexp.MustCompile(`(just now|ago) by cursor`).MatchString(out) {
		t.Errorf("list does not show the last use by cursor:\n%s", s.redact(out))
	}
	var list []struct {
		Name       string    `json:"name"`
		LastUsed   time.Time `json:"last_used"`
		LastUsedBy string    `json:"last_used_by"`
	}
	if err := json.Unmarshal([]byte(s.mustRun("list", "--json")), &list); err != nil || len(list) != 1 ||
		list[0].LastUsedBy != "cursor" || time.Since(list[0].LastUsed) > time.Minute {
		t.Errorf("list --json: %+v, %v", list, err)
	}
	if out := s.mustRun("client", "list"); !strings.Contains(out, "cursor") {
		t.Errorf("client list:\n%s", s.redact(out))
	}
	audit, err := os.ReadFile(filepath.Join(s.home, "audit.jsonl"))
	if err != nil || !strings.Contains(string(audit), `"client":"cursor","server":"demo"`) {
		t.Errorf("audit.jsonl: %v\n%s", err, audit)
	}
	if fi, err := os.Stat(filepath.Join(s.home, "clients.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("clients.json: %v %v, want mode 0600", err, fi.Mode())
	}

	// A removed client's key stops working at once; the others keep theirs.
	out, _, _ := s.run(true, "client", "add", "vscode")
	other := strings.TrimSpace(out)
	s.addSecret(other)
	s.mustRun("client", "remove", "vscode")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, bridgeURL, strings.NewReader(`{"jsonrpc":"2.0","id":9,"method":"ping"}`))
	req.Header.Set("Authorization", "Bearer "+other)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a removed client's key: %v %v, want 403", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	if _, err := c.ListTools(ctx, mcp.ListToolsRequest{}); err != nil {
		t.Errorf("cursor after vscode was removed: %v", err)
	}

	// SIGTERM, with the client's GET stream still open: exit 0, promptly,
	// leaving nothing behind.
	ag.stop()
	u, _ := url.Parse(st.Bridge)
	if conn, err := (&http.Client{Timeout: time.Second}).Get(st.Bridge + "/"); err == nil {
		conn.Body.Close()
		t.Errorf("the bridge on port %s still answers after the agent stopped", u.Port())
	}
}
