// Package bridge holds the end-to-end tests of the stdio bridge, `mcpauth
// connect`: an mcp-go client runs the real mcpauth binary over stdio, and
// it relays to an mcp-go protected server (test/fakeas) or to the
// oidc-provider-backed server (test/oidc), with the real keychain
// (gnome-keyring over D-Bus) and test/fakebrowser as $BROWSER.
//
// They run only with MCPAUTH_E2E=1, which `make test` sets inside a
// throwaway D-Bus session with gnome-keyring unlocked; for this package
// alone, from the repository root:
//
//	XDG_DATA_HOME=$(mktemp -d) dbus-run-session -- bash -c \
//	  'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
//	   MCPAUTH_TEST_KEYRING=1 MCPAUTH_E2E=1 go test -race -count=1 ./test/e2e/bridge/'
//
// The benchmarks are gated the same way; add -run='^$' -bench=. to that.
// No test prints a token: process output is redacted before it is shown,
// and the tests check that the access token never appears in it.
package bridge

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"mcpauth/test/e2e/e2ekit"
	"mcpauth/test/fakeas"
)

func TestMain(m *testing.M) { e2ekit.Main(m, "mcpauth-bridge-e2e-", true) }

// requireE2E skips unless MCPAUTH_E2E=1; when it is set, a missing
// prerequisite is fatal, so CI never passes by skipping.
func requireE2E(tb testing.TB) {
	tb.Helper()
	e2ekit.Require(tb)
	e2ekit.RequireSecretTool(tb)
}

// home is one MCPAUTH_HOME with its environment, and everything its
// processes printed, for the leak check.
type home struct {
	tb      testing.TB
	dir     string
	env     []string
	mu      sync.Mutex
	outputs []*safeBuffer
	secrets []string
}

func newHome(tb testing.TB) *home {
	tb.Helper()
	h := &home{tb: tb, dir: tb.TempDir()}
	h.env = e2ekit.Env(h.dir, "FAKEBROWSER_LOG="+filepath.Join(tb.TempDir(), "browser.log"))
	tb.Cleanup(func() { e2ekit.ClearKeychain(h.dir) })
	if t, ok := tb.(*testing.T); ok {
		t.Cleanup(func() { h.checkLeaks(t) })
	}
	return h
}

// mcpauth runs a command to completion and fails unless it exits 0.
func (h *home) mcpauth(args ...string) string {
	h.tb.Helper()
	r, err := e2ekit.Run(h.env, args...)
	if err == nil && r.Code != 0 {
		err = fmt.Errorf("exit status %d", r.Code)
	}
	if err != nil {
		h.tb.Fatalf("mcpauth %s: %v\nstderr:\n%s", strings.Join(args, " "), err, redact(r.Stderr))
	}
	return r.Stdout
}

// signIn adds the server as name and logs in with the fake browser.
func (h *home) signIn(name, url string) {
	h.tb.Helper()
	h.mcpauth("add", name, url)
	h.mcpauth("login", name)
	// The access token, for the leak check; `mcpauth token` is the one
	// command whose stdout is a token.
	h.addSecret(strings.TrimSpace(h.mcpauth("token", name)))
}

func (h *home) addSecret(s string) {
	if s == "" {
		h.tb.Fatal("no token to check for leaks")
	}
	h.mu.Lock()
	h.secrets = append(h.secrets, s)
	h.mu.Unlock()
}

// checkLeaks fails the test if a token the test saw appears in anything a
// bridge printed.
func (h *home) checkLeaks(t *testing.T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var rec e2ekit.Record
	for _, s := range h.secrets {
		rec.AddSecret(s)
	}
	for _, o := range h.outputs {
		rec.Output("a bridge (stderr)", o.String())
	}
	rec.CheckLeaks(t, "a token")
}

// longRun matches what may be a token; redact hides it.
var longRun = regexp.MustCompile(`[A-Za-z0-9_-]{32,}`)

func redact(s string) string { return longRun.ReplaceAllString(s, "[REDACTED]") }

// safeBuffer holds a process's output while it runs.
type safeBuffer = e2ekit.SyncBuffer

// handlers answer the server's requests the way a host app's user would.
type handlers struct{}

func (handlers) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	if req.Params.Message != "Pick a color" {
		return nil, fmt.Errorf("unexpected elicitation %q", req.Params.Message)
	}
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{
		Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"color": "blue"},
	}}, nil
}

func (handlers) CreateMessage(context.Context, mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
	return &mcp.CreateMessageResult{
		SamplingMessage: mcp.SamplingMessage{Role: mcp.RoleAssistant, Content: mcp.NewTextContent("hello from the model")},
		Model:           "test-model",
	}, nil
}

// bridgeClient is an mcp-go client running `mcpauth connect target`.
type bridgeClient struct {
	*client.Client
	stderr *safeBuffer
}

// connect starts an mcp-go stdio client on `mcpauth connect target` and
// initializes it (protocol 2025-11-25, which has server-to-client
// requests).
func (h *home) connect(ctx context.Context, target string) *bridgeClient {
	h.tb.Helper()
	bc, err := h.start(ctx, target)
	if err != nil {
		h.tb.Fatal(err)
	}
	return bc
}

// start is connect for goroutines: it returns the error instead.
func (h *home) start(ctx context.Context, target string) (*bridgeClient, error) {
	stderr := &safeBuffer{}
	h.mu.Lock()
	h.outputs = append(h.outputs, stderr)
	h.mu.Unlock()
	tr := transport.NewStdioWithOptions(e2ekit.MCPAuthBin, nil, []string{"connect", target},
		transport.WithCommandFunc(func(ctx context.Context, command string, _ []string, args []string) (*exec.Cmd, error) {
			cmd := exec.CommandContext(ctx, command, args...)
			cmd.Env = h.env
			cmd.Stderr = stderr
			return cmd, nil
		}))
	c := client.NewClient(tr, client.WithElicitationHandler(handlers{}), client.WithSamplingHandler(handlers{}))
	if err := c.Start(ctx); err != nil {
		return nil, fmt.Errorf("start mcpauth connect %s: %v", target, err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	init.Params.ClientInfo = mcp.Implementation{Name: "bridge-e2e", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		c.Close()
		return nil, fmt.Errorf("initialize through mcpauth connect %s: %v\nstderr:\n%s", target, err, redact(stderr.String()))
	}
	return &bridgeClient{Client: c, stderr: stderr}, nil
}

// call calls a tool and returns its text, failing on any error.
func (bc *bridgeClient) call(t testing.TB, ctx context.Context, name string, args map[string]any) string {
	t.Helper()
	out, err := bc.tryCall(ctx, name, args)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tryCall is call for goroutines.
func (bc *bridgeClient) tryCall(ctx context.Context, name string, args map[string]any) (string, error) {
	res, err := bc.callTool(ctx, name, args, nil)
	if err != nil {
		return "", fmt.Errorf("tools/call %s: %v\nbridge stderr:\n%s", name, err, redact(bc.stderr.String()))
	}
	if res.IsError {
		return "", fmt.Errorf("tools/call %s: tool error %s", name, text(res))
	}
	return text(res), nil
}

func (bc *bridgeClient) callTool(ctx context.Context, name string, args map[string]any, meta *mcp.Meta) (*mcp.CallToolResult, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	req.Params.Meta = meta
	return bc.CallTool(ctx, req)
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := mcp.AsTextContent(c); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// closeClean closes the client, which closes the bridge's stdin, and fails
// unless the bridge exits 0 promptly.
func (bc *bridgeClient) closeClean(t testing.TB) {
	t.Helper()
	start := time.Now()
	if err := bc.Close(); err != nil {
		t.Errorf("mcpauth connect did not exit cleanly: %v\nstderr:\n%s", err, redact(bc.stderr.String()))
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("mcpauth connect took %v to exit after stdin closed", d)
	}
}

// startFake starts the fake AS and MCP server for one test.
func startFake(tb testing.TB, cfg fakeas.Config) *fakeas.Server {
	tb.Helper()
	s, err := fakeas.Start(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
