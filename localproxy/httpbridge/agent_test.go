package httpbridge

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"mcpauth/agent"
	"mcpauth/keystore"
	"mcpauth/test/fakeas"
	"mcpauth/test/fakebrowser"
)

// The bridge with a real agent (in-memory keystore) and the fake
// authorization and MCP server, driven by mcp-go's Streamable HTTP client
// as a host app would.

type fakeBrowser struct{ opens int }

func (b *fakeBrowser) Open(ctx context.Context, u string) error {
	b.opens++
	res, err := fakebrowser.Open(ctx, u, fakebrowser.Options{})
	if err != nil {
		return err
	}
	if !res.OK() {
		return fmt.Errorf("the consent flow ended with %d", res.Status)
	}
	return nil
}

// seen records the Authorization headers that reached the MCP server.
type seen struct {
	mu   sync.Mutex
	auth []string
}

func (s *seen) record(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth = append(s.auth, r.Header.Get("Authorization"))
}

func newBridgeEnv(t *testing.T, cfg fakeas.Config) (a *agent.Agent, as *fakeas.Server, url, key string, s *seen) {
	t.Helper()
	s = &seen{}
	cfg.OnMCPRequest = s.record
	as, err := fakeas.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	a, err = agent.New(agent.Options{Home: t.TempDir(), Store: keystore.NewMemory(), Browser: &fakeBrowser{},
		TokenCacheTTL: 30 * time.Second, LoginTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.Add(ctx, agent.AddRequest{Name: "demo", URL: as.URL()}); err != nil {
		t.Fatal(err)
	}
	if key, err = a.AddClient(ctx, "cursor"); err != nil {
		t.Fatal(err)
	}
	base, _ := startBridge(t, a)
	return a, as, base + "/servers/demo/mcp", key, s
}

func mcpClient(t *testing.T, url, key string) *client.Client {
	t.Helper()
	c, err := client.NewStreamableHttpClient(url, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + key}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

func mcpInitialize(ctx context.Context, c *client.Client) error {
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	req.Params.ClientInfo = mcp.Implementation{Name: "bridge-test", Version: "0"}
	_, err := c.Initialize(ctx, req)
	return err
}

func callTool(ctx context.Context, c *client.Client, name string, args map[string]any) (string, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = name, args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return "", err
	}
	if len(res.Content) == 0 {
		return "", fmt.Errorf("tool %s returned nothing", name)
	}
	text, _ := res.Content[0].(mcp.TextContent)
	return text.Text, nil
}

func TestBridgeWithAgent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The challenge asks for "mcp" only, so admin needs a step-up.
	a, as, url, key, s := newBridgeEnv(t, fakeas.Config{ChallengeScope: "mcp"})
	c := mcpClient(t, url, key)

	// The first request finds no token: the agent logs in (the fake
	// browser consents) while the request waits, then it goes through.
	if err := mcpInitialize(ctx, c); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil || len(tools.Tools) == 0 {
		t.Fatalf("tools/list: %v", err)
	}
	if got, err := callTool(ctx, c, "echo", map[string]any{"text": "through the bridge"}); err != nil || got != "through the bridge" {
		t.Fatalf("echo: %q, %v", got, err)
	}
	// Step-up: admin needs a scope the first login didn't get; the 403
	// insufficient_scope is handled in the agent, and the call succeeds.
	if got, err := callTool(ctx, c, "admin", nil); err != nil || got != "admin ok" {
		t.Fatalf("admin (step-up): %q, %v", got, err)
	}
	if st := as.Stats(); st.CodeExchanges != 2 {
		t.Errorf("%d logins, want 2 (the first use and one step-up)", st.CodeExchanges)
	}

	// (Requests without Authorization are the agent's discovery probes.)
	s.mu.Lock()
	tokens := 0
	for i, h := range s.auth {
		if strings.Contains(h, key) {
			t.Errorf("LEAK: request %d to the MCP server carried the local key", i)
		}
		if strings.HasPrefix(h, "Bearer ") {
			tokens++
		}
	}
	s.mu.Unlock()
	if tokens < 4 {
		t.Errorf("%d requests carried an agent token, want at least 4", tokens)
	}

	list, err := a.List(ctx)
	if err != nil || len(list) != 1 || list[0].LastUsedBy != "cursor" || list[0].LastUsed.IsZero() {
		t.Errorf("List = %+v, %v; want demo last used by cursor", list, err)
	}
}

// TestBridgeLoginDenied: a denied login reaches the MCP client as a
// JSON-RPC error that says what to do, not as a 401.
func TestBridgeLoginDenied(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, _, url, key, _ := newBridgeEnv(t, fakeas.Config{Deny: true})
	err := mcpInitialize(ctx, mcpClient(t, url, key))
	if err == nil || !strings.Contains(err.Error(), "mcpauth") || !strings.Contains(err.Error(), "access_denied") {
		t.Errorf("initialize: %v, want the agent's login error", err)
	}
}
