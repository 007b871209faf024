package bridge

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"mcpauth/agent"
	"mcpauth/test/e2e/e2ekit"
	"mcpauth/test/fakeas"
)

const benchInit = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`

// benchSetup signs in to a fake server once; the keychain is warm after.
func benchSetup(b *testing.B) (*fakeas.Server, *home, string) {
	requireE2E(b)
	as := startFake(b, fakeas.Config{})
	h := newHome(b)
	h.signIn("fake", as.URL())
	return as, h, strings.TrimSpace(h.mcpauth("token", "fake"))
}

// BenchmarkSpawnToInitialize measures what a host app waits for when it
// starts the bridge: spawning `mcpauth connect` until the initialize answer
// is on its stdout, with a warm keychain and a signed-in server, without
// and with a running agent. "direct" is an mcp-go Streamable HTTP client
// initializing with the token in hand, in the same run, for scale.
func BenchmarkSpawnToInitialize(b *testing.B) {
	as, h, token := benchSetup(b)
	spawn := func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command(e2ekit.MCPAuthBin, "connect", "fake")
			cmd.Env = h.env
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			io.WriteString(stdin, benchInit+"\n")
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil || !strings.Contains(line, `"protocolVersion"`) {
				b.Fatalf("no initialize answer: %q %v", line, err)
			}
			b.StopTimer()
			stdin.Close()
			if err := cmd.Wait(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	b.Run("connect", spawn)
	b.Run("connect-with-agent", func(b *testing.B) {
		stop := startAgent(b, h)
		defer stop()
		spawn(b)
	})
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			c, err := client.NewStreamableHttpClient(as.URL(),
				transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
			if err != nil {
				b.Fatal(err)
			}
			init := mcp.InitializeRequest{}
			init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
			init.Params.ClientInfo = mcp.Implementation{Name: "bench", Version: "1"}
			if _, err := c.Initialize(context.Background(), init); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			c.Close()
			b.StartTimer()
		}
	})
}

// BenchmarkRoundTrip1KB measures a tools/call with 1 KB of arguments and
// result on an initialized session: through `mcpauth connect` over stdio,
// and directly with mcp-go's Streamable HTTP client, in the same run.
func BenchmarkRoundTrip1KB(b *testing.B) {
	as, h, token := benchSetup(b)
	ctx := context.Background()
	args := map[string]any{"text": strings.Repeat("x", 1024)}
	loop := func(b *testing.B, c *client.Client) {
		req := mcp.CallToolRequest{}
		req.Params.Name = "echo"
		req.Params.Arguments = args
		for b.Loop() {
			res, err := c.CallTool(ctx, req)
			if err != nil || res.IsError {
				b.Fatalf("echo: %v %v", res, err)
			}
		}
	}
	b.Run("connect", func(b *testing.B) {
		bc := h.connect(ctx, "fake")
		defer bc.Close()
		loop(b, bc.Client)
	})
	b.Run("direct", func(b *testing.B) {
		c, err := client.NewStreamableHttpClient(as.URL(),
			transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		init := mcp.InitializeRequest{}
		init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
		init.Params.ClientInfo = mcp.Implementation{Name: "bench", Version: "1"}
		if _, err := c.Initialize(ctx, init); err != nil {
			b.Fatal(err)
		}
		loop(b, c)
	})
}

// startAgent runs `mcpauth agent` for h until stop.
func startAgent(tb testing.TB, h *home) (stop func()) {
	tb.Helper()
	args := []string{"agent"}
	if strings.Contains(h.mcpauth("agent", "--help"), "--port") {
		args = append(args, "--port", "0")
	}
	cmd := exec.Command(e2ekit.MCPAuthBin, args...)
	cmd.Env = h.env
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	sock := agent.ControlSocketPath(h.dir)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			tb.Fatal("the agent's socket did not appear")
		}
	}
	return func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
}
