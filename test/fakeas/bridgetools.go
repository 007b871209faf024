package fakeas

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Tools for the bridges' end-to-end tests (test/e2e/bridge). Each exercises
// one kind of message a bridge must relay unchanged, in both directions.
const (
	// ToolElicit asks the client for input (elicitation/create, a
	// server-to-client request) and returns the client's answer.
	ToolElicit = "elicit"
	// ToolSample asks the client's model (sampling/createMessage) and
	// returns what it said.
	ToolSample = "sample"
	// ToolProgress sends "count" (default 3) notifications/progress for
	// the request's progress token, then returns "done".
	ToolProgress = "progress"
	// ToolSlow waits "seconds" (default 30) unless cancelled
	// (notifications/cancelled); ToolStats counts the cancellations.
	ToolSlow = "slow"
	// ToolBig returns a text of "size" bytes (default 1 MiB).
	ToolBig = "big"
	// ToolDropStream asks the client for input like ToolElicit, but the
	// server drops the POST's SSE connection right after that request
	// event, before the result: the client's side must resume the stream
	// with GET + Last-Event-ID (MCP basic/transports, "Resumability and
	// Redelivery") to get it. The server keeps the events (mcp-go's
	// event store) and finishes the call regardless of the connection.
	ToolDropStream = "drop_stream"
	// ToolHTTPError makes the MCP endpoint answer HTTP 503.
	ToolHTTPError = "http_error"
)

// ToolStats counts what the bridge tools saw.
type ToolStats struct {
	Cancelled int // ToolSlow calls ended by a cancellation
	Dropped   int // SSE connections ToolDropStream dropped
	Deletes   int // DELETE requests on the MCP endpoint (sessions ended)
}

type toolState struct {
	mu    sync.Mutex
	stats ToolStats
}

func (t *toolState) count(f func(*ToolStats)) {
	t.mu.Lock()
	f(&t.stats)
	t.mu.Unlock()
}

// ToolStats returns a snapshot of the bridge tools' counters.
func (s *Server) ToolStats() ToolStats {
	s.tools.mu.Lock()
	defer s.tools.mu.Unlock()
	return s.tools.stats
}

// addBridgeTools adds the tools above to ms.
func (s *Server) addBridgeTools(ms *server.MCPServer) {
	ms.AddTool(mcp.NewTool(ToolElicit, mcp.WithDescription("Asks the client for a color.")),
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return elicitColor(ctx, ms)
		})
	ms.AddTool(mcp.NewTool(ToolDropStream, mcp.WithDescription("Asks for a color; the stream drops meanwhile.")),
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return elicitColor(ctx, ms)
		})
	ms.AddTool(mcp.NewTool(ToolSample, mcp.WithDescription("Asks the client's model to say hello.")),
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			res, err := ms.RequestSampling(ctx, mcp.CreateMessageRequest{CreateMessageParams: mcp.CreateMessageParams{
				Messages:  []mcp.SamplingMessage{{Role: mcp.RoleUser, Content: mcp.NewTextContent("Say hello")}},
				MaxTokens: 20,
			}})
			if err != nil {
				return mcp.NewToolResultError("sampling failed: " + err.Error()), nil
			}
			text := ""
			if tc, ok := mcp.AsTextContent(res.Content); ok {
				text = tc.Text
			}
			return mcp.NewToolResultText(fmt.Sprintf("model=%s text=%s", res.Model, text)), nil
		})
	ms.AddTool(mcp.NewTool(ToolProgress, mcp.WithDescription("Reports progress."), mcp.WithNumber("count")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			n := req.GetInt("count", 3)
			var token any
			if req.Params.Meta != nil {
				token = req.Params.Meta.ProgressToken
			}
			for i := 1; i <= n; i++ {
				if err := ms.SendNotificationToClient(ctx, "notifications/progress", map[string]any{
					"progressToken": token, "progress": i, "total": n, "message": fmt.Sprintf("step %d", i),
				}); err != nil {
					return mcp.NewToolResultError("could not report progress: " + err.Error()), nil
				}
			}
			return mcp.NewToolResultText("done"), nil
		})
	ms.AddTool(mcp.NewTool(ToolSlow, mcp.WithDescription("Takes its time."), mcp.WithNumber("seconds")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			select {
			case <-ctx.Done():
				s.tools.count(func(t *ToolStats) { t.Cancelled++ })
				return nil, ctx.Err()
			case <-time.After(time.Duration(req.GetFloat("seconds", 30) * float64(time.Second))):
				return mcp.NewToolResultText("finished"), nil
			}
		})
	ms.AddTool(mcp.NewTool(ToolBig, mcp.WithDescription("Returns a large text."), mcp.WithNumber("size")),
		func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			n := req.GetInt("size", 1<<20)
			const pattern = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
			text := strings.Repeat(pattern, n/len(pattern)+1)[:n]
			return mcp.NewToolResultText(text), nil
		})
	ms.AddTool(mcp.NewTool(ToolHTTPError, mcp.WithDescription("The endpoint answers 503 (see bridgeMiddleware).")),
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultError("unreachable: the middleware answers first"), nil
		})
}

func elicitColor(ctx context.Context, ms *server.MCPServer) (*mcp.CallToolResult, error) {
	res, err := ms.RequestElicitation(ctx, mcp.ElicitationRequest{Params: mcp.ElicitationParams{
		Message: "Pick a color",
		RequestedSchema: map[string]any{
			"type":       "object",
			"properties": map[string]any{"color": map[string]any{"type": "string"}},
		},
	}})
	if err != nil {
		return mcp.NewToolResultError("elicitation failed: " + err.Error()), nil
	}
	content, _ := json.Marshal(res.Content)
	return mcp.NewToolResultText(fmt.Sprintf("action=%s content=%s", res.Action, content)), nil
}

// bridgeMiddleware does for the bridge tools what mcp-go's handler can't:
// it answers 503 for ToolHTTPError, drops ToolDropStream's SSE connection
// after its first event (keeping the request's context alive, so that the
// call completes and its result is recorded for the resumed stream), and
// counts DELETEs.
func (s *Server) bridgeMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			s.tools.count(func(t *ToolStats) { t.Deletes++ })
		}
		if r.Method != http.MethodPost || r.Body == nil {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "could not read the request", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		switch {
		case callsTool(body, ToolHTTPError):
			http.Error(w, "fakeas: the http_error tool makes the server fail", http.StatusServiceUnavailable)
		case callsTool(body, ToolDropStream):
			dw := &droppingWriter{ResponseWriter: w, onDrop: func() { s.tools.count(func(t *ToolStats) { t.Dropped++ }) }}
			next.ServeHTTP(dw, r.WithContext(context.WithoutCancel(r.Context())))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// droppingWriter lets the first SSE event through, then closes the
// connection under the handler, as a network failure would.
type droppingWriter struct {
	http.ResponseWriter
	onDrop  func()
	mu      sync.Mutex
	wrote   bool
	dropped bool
}

func (d *droppingWriter) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dropped {
		return 0, io.ErrClosedPipe
	}
	d.wrote = d.wrote || len(p) > 0
	return d.ResponseWriter.Write(p)
}

func (d *droppingWriter) Flush() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dropped {
		return
	}
	http.NewResponseController(d.ResponseWriter).Flush()
	if !d.wrote {
		return
	}
	if conn, _, err := http.NewResponseController(d.ResponseWriter).Hijack(); err == nil {
		conn.Close()
	}
	d.dropped = true
	d.onDrop()
}
