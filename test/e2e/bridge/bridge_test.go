package bridge

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"mcpauth/agent"
	"mcpauth/test/e2e/e2ekit"
	"mcpauth/test/fakeas"
	"mcpauth/test/oidc"
)

// TestBridge runs one session through `mcpauth connect` to the fake
// protected server, and every kind of message through it: a tool call,
// server-to-client requests answered by the client's handlers
// (elicitation, sampling), progress notifications, a cancellation, a
// stream the server drops and the bridge resumes, a 1 MB result; then
// closing stdin ends the remote session with DELETE.
func TestBridge(t *testing.T) {
	requireE2E(t)
	as := startFake(t, fakeas.Config{})
	h := newHome(t)
	h.signIn("fake", as.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bc := h.connect(ctx, "fake")
	var progress atomic.Int32
	bc.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/progress" && n.Params.AdditionalFields["progressToken"] == "p-1" {
			progress.Add(1)
		}
	})

	t.Run("tools/call", func(t *testing.T) {
		if got := bc.call(t, ctx, "echo", map[string]any{"text": "héllo \"world\"\n"}); got != "héllo \"world\"\n" {
			t.Errorf("echo = %q", got)
		}
	})
	t.Run("elicitation", func(t *testing.T) {
		if got := bc.call(t, ctx, fakeas.ToolElicit, nil); got != `action=accept content={"color":"blue"}` {
			t.Errorf("elicit = %q", got)
		}
	})
	t.Run("sampling", func(t *testing.T) {
		if got := bc.call(t, ctx, fakeas.ToolSample, nil); got != "model=test-model text=hello from the model" {
			t.Errorf("sample = %q", got)
		}
	})
	t.Run("progress", func(t *testing.T) {
		res, err := bc.callTool(ctx, fakeas.ToolProgress, map[string]any{"count": 3}, &mcp.Meta{ProgressToken: "p-1"})
		if err != nil || text(res) != "done" {
			t.Fatalf("progress: %v %v", res, err)
		}
		waitFor(t, "3 progress notifications", func() bool { return progress.Load() == 3 })
	})
	t.Run("cancellation", func(t *testing.T) {
		cctx, ccancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer ccancel()
		if _, err := bc.callTool(cctx, fakeas.ToolSlow, map[string]any{"seconds": 20}, nil); err == nil {
			t.Fatal("the slow call returned before it was cancelled")
		}
		// The client sent notifications/cancelled; the server's tool
		// sees its context end.
		waitFor(t, "the server to see the cancellation", func() bool { return as.ToolStats().Cancelled == 1 })
		bc.call(t, ctx, "echo", map[string]any{"text": "still here"})
	})
	t.Run("resumption", func(t *testing.T) {
		if got := bc.call(t, ctx, fakeas.ToolDropStream, nil); got != `action=accept content={"color":"blue"}` {
			t.Errorf("drop_stream = %q", got)
		}
		if n := as.ToolStats().Dropped; n != 1 {
			t.Errorf("the server dropped %d streams, want 1", n)
		}
		if !strings.Contains(bc.stderr.String(), "resuming the response stream") {
			t.Errorf("the bridge did not say it resumed; stderr:\n%s", redact(bc.stderr.String()))
		}
	})
	t.Run("1 MB result", func(t *testing.T) {
		got := bc.call(t, ctx, fakeas.ToolBig, map[string]any{"size": 1 << 20})
		if len(got) != 1<<20 || !strings.HasPrefix(got, "0123456789abcdef") {
			t.Errorf("big: %d bytes, want %d", len(got), 1<<20)
		}
	})

	deletes := as.ToolStats().Deletes
	bc.closeClean(t)
	if n := as.ToolStats().Deletes - deletes; n != 1 {
		t.Errorf("%d DELETEs after stdin closed, want 1", n)
	}
}

// TestBridge_BadInput speaks to `mcpauth connect` over raw pipes: a line
// that isn't JSON gets -32700 with id null and the session goes on; a
// server failing with HTTP 503 gets an error naming the server and the
// status; closing stdin ends the session with DELETE and exit 0.
func TestBridge_BadInput(t *testing.T) {
	requireE2E(t)
	as := startFake(t, fakeas.Config{})
	h := newHome(t)
	h.signIn("fake", as.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rb := h.raw(ctx, "fake")

	m := rb.roundTrip("this is not JSON")
	e, _ := m["error"].(map[string]any)
	if m["id"] != nil || e["code"] != float64(-32700) || !strings.HasPrefix(e["message"].(string), "Parse error") {
		t.Errorf("answer to garbage: %v", m)
	}
	m = rb.roundTrip(rawInit)
	if r, _ := m["result"].(map[string]any); r["protocolVersion"] != "2025-11-25" {
		t.Fatalf("initialize after garbage: %v", m)
	}
	rb.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	m = rb.roundTrip(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"http_error"}}`)
	e, _ = m["error"].(map[string]any)
	msg, _ := e["message"].(string)
	if m["id"] != float64(2) || !strings.Contains(msg, `server "fake"`) || !strings.Contains(msg, "503") {
		t.Errorf("answer to a 503: %v", m)
	}
	m = rb.roundTrip(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"after"}}}`)
	if m["id"] != float64(3) || m["result"] == nil {
		t.Errorf("the session did not go on after the 503: %v", m)
	}

	deletes := as.ToolStats().Deletes
	rb.closeClean()
	if n := as.ToolStats().Deletes - deletes; n != 1 {
		t.Errorf("%d DELETEs, want 1", n)
	}
	t.Logf("the bridge's stderr:\n%s", redact(rb.stderr.String()))
}

// TestBridge_LoginDenied: when the user denies the sign-in that the first
// request starts, that request gets a JSON-RPC error that says so, and the
// bridge goes on (and exits cleanly).
func TestBridge_LoginDenied(t *testing.T) {
	requireE2E(t)
	as := startFake(t, fakeas.Config{Deny: true})
	h := newHome(t)
	h.mcpauth("add", "fake", as.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rb := h.raw(ctx, "fake")
	m := rb.roundTrip(rawInit)
	e, _ := m["error"].(map[string]any)
	msg, _ := e["message"].(string)
	data, _ := e["data"].(map[string]any)
	if m["id"] != float64(1) || e["code"] != float64(-32050) || data["server"] != "fake" ||
		!strings.Contains(msg, "log in to fake") || !strings.Contains(msg, "access_denied") ||
		!strings.Contains(msg, "`mcpauth login fake`") {
		t.Errorf("answer when the login is denied: %v", m)
	}
	rb.closeClean()
	t.Logf("the answer: %s\nthe bridge's stderr:\n%s", msg, redact(rb.stderr.String()))
}

const rawInit = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// rawBridge is `mcpauth connect` on raw pipes.
type rawBridge struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *safeBuffer
}

func (h *home) raw(ctx context.Context, target string) *rawBridge {
	t := h.tb.(*testing.T)
	cmd := exec.CommandContext(ctx, e2ekit.MCPAuthBin, "connect", target)
	cmd.Env = h.env
	rb := &rawBridge{t: t, cmd: cmd, stderr: &safeBuffer{}}
	h.mu.Lock()
	h.outputs = append(h.outputs, rb.stderr)
	h.mu.Unlock()
	cmd.Stderr = rb.stderr
	rb.stdin, _ = cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	rb.stdout = bufio.NewReader(stdout)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return rb
}

func (rb *rawBridge) send(line string) { io.WriteString(rb.stdin, line+"\n") }

// roundTrip sends line and returns the next message on stdout.
func (rb *rawBridge) roundTrip(line string) map[string]any {
	rb.t.Helper()
	rb.send(line)
	out, err := rb.stdout.ReadString('\n')
	if err != nil {
		rb.t.Fatalf("reading the answer to %s: %v\nstderr:\n%s", line, err, redact(rb.stderr.String()))
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		rb.t.Fatalf("stdout line is not JSON: %q", out)
	}
	return m
}

// closeClean closes stdin and expects exit 0 within 3 s.
func (rb *rawBridge) closeClean() {
	rb.t.Helper()
	rb.stdin.Close()
	start := time.Now()
	if err := rb.cmd.Wait(); err != nil {
		rb.t.Errorf("exit: %v\nstderr:\n%s", err, redact(rb.stderr.String()))
	}
	if d := time.Since(start); d > 3*time.Second {
		rb.t.Errorf("took %v to exit after stdin closed", d)
	}
}

// TestBridge_URL: `mcpauth connect URL` registers the server under its
// host's name, signs in from inside the first request (the fake browser
// approves), and reuses the registration next time.
func TestBridge_URL(t *testing.T) {
	requireE2E(t)
	as := startFake(t, fakeas.Config{})
	h := newHome(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for range 2 {
		bc := h.connect(ctx, as.URL())
		bc.call(t, ctx, "whoami", nil)
		bc.closeClean(t)
	}
	var list []agent.ServerStatus
	if err := json.Unmarshal([]byte(h.mcpauth("list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	want := "127.0.0.1-" + as.URL()[len("http://127.0.0.1:"):len(as.URL())-len("/mcp")]
	if len(list) != 1 || list[0].Name != want || list[0].URL != as.URL() || list[0].State != agent.StateSignedIn {
		t.Errorf("servers after two connects: %+v, want one named %s", list, want)
	}
	if st := as.Stats(); st.CodeExchanges != 1 {
		t.Errorf("%d logins, want 1", st.CodeExchanges)
	}
	h.addSecret(strings.TrimSpace(h.mcpauth("token", want)))
}

// TestBridge_ManyProcesses: ten bridges meet one expired access token at
// once; all of them initialize and call a tool, and the authorization
// server sees exactly one refresh (the engine's cross-process lock).
func TestBridge_ManyProcesses(t *testing.T) {
	requireE2E(t)
	as := startFake(t, fakeas.Config{})
	h := newHome(t)
	h.signIn("fake", as.URL())
	as.ExpireAccessTokens()
	before := as.Stats().Refreshes

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			bc, err := h.start(ctx, "fake")
			if err != nil {
				errs <- err
				return
			}
			defer bc.Close()
			if _, err := bc.tryCall(ctx, "whoami", nil); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := as.Stats().Refreshes - before; n != 1 {
		t.Errorf("%d refreshes for 10 bridges, want exactly 1", n)
	}
	h.addSecret(strings.TrimSpace(h.mcpauth("token", "fake")))
}

// TestBridge_WithAgent: the bridge works through a running agent too.
func TestBridge_WithAgent(t *testing.T) {
	requireE2E(t)
	as := startFake(t, fakeas.Config{})
	h := newHome(t)
	h.signIn("fake", as.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"agent"}
	if strings.Contains(h.mcpauth("agent", "--help"), "--port") {
		args = append(args, "--port", "0") // not the HTTP bridge's default port
	}
	ag := exec.CommandContext(ctx, e2ekit.MCPAuthBin, args...)
	ag.Env = h.env
	agLog := &safeBuffer{}
	h.outputs = append(h.outputs, agLog)
	ag.Stderr = agLog
	if err := ag.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ag.Process.Signal(syscall.SIGTERM)
		ag.Wait()
	}()
	sock := agent.ControlSocketPath(h.dir)
	waitFor(t, "the agent's socket", func() bool { _, err := os.Stat(sock); return err == nil })

	as.ExpireAccessTokens()
	bc := h.connect(ctx, "fake")
	bc.call(t, ctx, "whoami", nil)
	bc.closeClean(t)
	if !strings.Contains(agLog.String(), "refreshed token") {
		t.Errorf("the agent did not do the refresh: did the bridge bypass it? log:\n%s", redact(agLog.String()))
	}
	h.addSecret(strings.TrimSpace(h.mcpauth("token", "fake")))
}

// TestBridge_OIDC: against oidc-provider's protected MCP endpoint.
func TestBridge_OIDC(t *testing.T) {
	requireE2E(t)
	if err := oidc.NodeAvailable(); err != nil {
		t.Fatalf("MCPAUTH_E2E=1 but the oidc-provider server can't run: %v", err)
	}
	as := oidc.Start(t, oidc.Options{})
	h := newHome(t)
	h.signIn("oidc", as.MCPURL)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bc := h.connect(ctx, "oidc")
	if got := bc.call(t, ctx, "whoami", nil); !strings.Contains(got, `"sub":"demo-user"`) {
		t.Errorf("whoami = %s", got)
	}
	bc.closeClean(t)
}

func waitFor(t testing.TB, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
