package fakeas

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// adminChallengeScope is what a 403 insufficient_scope asks for when the
// admin tool is called without the admin scope.
const adminChallengeScope = "mcp admin"

type tokenKey struct{}

// newResourceHandler is the protected MCP server: mcp-go's Streamable HTTP
// server behind a bearer-token check (RFC 6750, MCP authorization §2.4).
func (s *Server) newResourceHandler() http.Handler {
	ms := server.NewMCPServer("fakeas", "1.0.0", server.WithToolCapabilities(false), server.WithElicitation())
	ms.AddTool(mcp.NewTool("echo",
		mcp.WithDescription("Returns its text argument."),
		mcp.WithString("text", mcp.Required(), mcp.Description("text to echo")),
	), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText(req.GetString("text", "")), nil
	})
	ms.AddTool(mcp.NewTool("whoami",
		mcp.WithDescription("Returns the token's subject and scopes."),
	), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		at, _ := ctx.Value(tokenKey{}).(accessToken)
		return mcp.NewToolResultText(fmt.Sprintf("subject=%s scopes=%s", at.subject, strings.Join(at.scope, " "))), nil
	})
	ms.AddTool(mcp.NewTool("admin",
		mcp.WithDescription("Needs the admin scope."),
	), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		at, _ := ctx.Value(tokenKey{}).(accessToken)
		if !slices.Contains(at.scope, "admin") {
			// The middleware answers 403 first; this is a backstop.
			return mcp.NewToolResultError("admin scope required"), nil
		}
		return mcp.NewToolResultText("admin ok"), nil
	})
	s.addBridgeTools(ms)
	h := server.NewStreamableHTTPServer(ms,
		server.WithStateful(true),
		// Resumable streams (MCP basic/transports, "Resumability and
		// Redelivery"), which ToolDropStream exercises.
		server.WithEventStore(server.NewInMemoryEventStore()),
		// The store keeps a session's events until it ends; bound the
		// ones no client ends (`mcpauth demo` runs for hours).
		server.WithSessionIdleTTL(30*time.Minute),
		server.WithStreamableHTTPLogger(slog.New(slog.DiscardHandler)),
	)
	return s.bearer(s.bridgeMiddleware(h))
}

// bearer authenticates every request to the MCP endpoint.
func (s *Server) bearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.OnMCPRequest != nil {
			s.cfg.OnMCPRequest(r)
		}
		tok, sent := bearerToken(r)
		if !sent {
			s.challenge(w, http.StatusUnauthorized, "", s.cfg.ChallengeScope)
			return
		}
		at, ok := s.activeAccess(tok)
		if !ok {
			s.challenge(w, http.StatusUnauthorized, "invalid_token", s.cfg.ChallengeScope)
			return
		}
		// RFC 8707: a token bound to another resource is not for us.
		if at.resource != "" && strings.TrimSuffix(at.resource, "/") != s.URL() {
			s.challenge(w, http.StatusUnauthorized, "invalid_token", s.cfg.ChallengeScope)
			return
		}
		if r.Method == http.MethodPost && r.Body != nil {
			body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
			if err != nil {
				http.Error(w, "could not read the request", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if callsTool(body, "admin") && !slices.Contains(at.scope, "admin") {
				s.challenge(w, http.StatusForbidden, "insufficient_scope", adminChallengeScope)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, at)))
	})
}

func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	return strings.TrimSpace(h[7:]), true
}

// challenge writes an RFC 6750 §3 challenge with RFC 9728's
// resource_metadata, which the legacy layouts and ChallengeWithoutMetadata
// leave out.
func (s *Server) challenge(w http.ResponseWriter, status int, errCode, scope string) {
	var params []string
	if errCode != "" {
		params = append(params, fmt.Sprintf("error=%q", errCode))
	}
	if scope != "" {
		params = append(params, fmt.Sprintf("scope=%q", scope))
	}
	if u := s.PRMURL(); u != "" && !s.cfg.ChallengeWithoutMetadata {
		params = append(params, fmt.Sprintf("resource_metadata=%q", u))
	}
	v := "Bearer"
	if len(params) > 0 {
		v += " " + strings.Join(params, ", ")
	}
	w.Header().Set("WWW-Authenticate", v)
	writeJSON(w, status, map[string]string{"error": cmp.Or(errCode, "unauthorized")})
}

// callsTool reports whether a JSON-RPC message or batch calls the tool.
func callsTool(body []byte, name string) bool {
	type msg struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	var batch []msg
	if err := json.Unmarshal(body, &batch); err != nil {
		var one msg
		if json.Unmarshal(body, &one) != nil {
			return false
		}
		batch = []msg{one}
	}
	for _, m := range batch {
		if m.Method == "tools/call" && m.Params.Name == name {
			return true
		}
	}
	return false
}
