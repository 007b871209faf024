package ui

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Host is an MCP host app that a config snippet is for.
type Host int

const (
	ClaudeDesktop Host = iota
	ClaudeCode
	Cursor
	VSCode
)

// Hosts in the order the window offers them.
var Hosts = []Host{ClaudeDesktop, ClaudeCode, Cursor, VSCode}

func (h Host) String() string {
	switch h {
	case ClaudeDesktop:
		return "Claude Desktop"
	case ClaudeCode:
		return "Claude Code"
	case Cursor:
		return "Cursor"
	case VSCode:
		return "VS Code"
	}
	return fmt.Sprintf("Host(%d)", int(h))
}

// Transport is how the host app reaches mcpauth: by spawning the stdio
// bridge, or over the HTTP bridge with a local client key.
type Transport int

const (
	Stdio Transport = iota
	HTTP
)

func (t Transport) String() string {
	if t == HTTP {
		return "HTTP bridge"
	}
	return "stdio (mcpauth connect)"
}

// SnippetInput is what a snippet depends on.
type SnippetInput struct {
	Server string
	// Exe is mcpauth's absolute path: host apps started from a desktop
	// often have a PATH without /usr/local/bin.
	Exe string
	// BridgeURL is the HTTP bridge's base URL, "" when none runs.
	BridgeURL string
}

// Snippet is a piece of configuration to paste, and where.
type Snippet struct {
	Where string // the file or place it goes
	Text  string // "" when there is nothing to paste
	Note  string // anything else the user must know
}

// keyEnv is the environment variable the HTTP snippets read the local
// client key from: keys are shown once and never written into a snippet.
const keyEnv = "MCPAUTH_KEY"

// snippetFor returns the configuration that makes host h use server
// in.Server through mcpauth.
func snippetFor(h Host, t Transport, in SnippetInput) Snippet {
	exe := in.Exe
	if exe == "" {
		exe = "mcpauth"
	}
	url := strings.TrimSuffix(in.BridgeURL, "/") + "/servers/" + in.Server + "/mcp"
	keyNote := "Create a key for it under Local clients, and set " + keyEnv + " to it where the app starts."
	if t == HTTP && in.BridgeURL == "" && h != ClaudeDesktop {
		return Snippet{
			Where: h.String(),
			Note:  "The agent runs no HTTP bridge (see `mcpauth status`). Use stdio, or start the agent with a free --port.",
		}
	}
	switch h {
	case ClaudeDesktop:
		s := Snippet{
			Where: "claude_desktop_config.json (Settings › Developer › Edit Config)",
			Text:  jsonText(map[string]any{"mcpServers": map[string]any{in.Server: stdioServer{Command: exe, Args: []string{"connect", in.Server}}}}),
		}
		if t == HTTP {
			s.Note = "Claude Desktop's config file runs only stdio servers, so this uses mcpauth connect."
		}
		return s
	case ClaudeCode:
		if t == HTTP {
			return Snippet{
				Where: "a terminal",
				Text: fmt.Sprintf("claude mcp add --transport http %s %s --header \"Authorization: Bearer $%s\"",
					shellQuote(in.Server), shellQuote(url), keyEnv),
				Note: "Create a key under Local clients and set " + keyEnv + " to it before you run this.",
			}
		}
		return Snippet{
			Where: "a terminal",
			Text:  fmt.Sprintf("claude mcp add %s -- %s connect %s", shellQuote(in.Server), shellQuote(exe), shellQuote(in.Server)),
		}
	case Cursor:
		var srv any = stdioServer{Command: exe, Args: []string{"connect", in.Server}}
		s := Snippet{Where: "~/.cursor/mcp.json, or .cursor/mcp.json in a project"}
		if t == HTTP {
			srv = httpServer{URL: url, Headers: map[string]string{"Authorization": "Bearer ${env:" + keyEnv + "}"}}
			s.Note = keyNote
		}
		s.Text = jsonText(map[string]any{"mcpServers": map[string]any{in.Server: srv}})
		return s
	case VSCode:
		s := Snippet{Where: ".vscode/mcp.json in a workspace, or the command MCP: Open User Configuration"}
		if t == HTTP {
			s.Text = jsonText(vscodeHTTP{
				Servers: map[string]any{in.Server: vscodeServer{Type: "http", URL: url,
					Headers: map[string]string{"Authorization": "Bearer ${input:mcpauth-key}"}}},
				Inputs: []vscodeInput{{Type: "promptString", ID: "mcpauth-key",
					Description: "mcpauth local client key (Local clients tab)", Password: true}},
			})
			s.Note = "VS Code asks for the key once and keeps it in its secret storage."
			return s
		}
		s.Text = jsonText(map[string]any{"servers": map[string]any{in.Server: vscodeServer{Type: "stdio", Command: exe, Args: []string{"connect", in.Server}}}})
		return s
	}
	return Snippet{}
}

type stdioServer struct {
	Command string   `json:"command"`
	Args    []string `json:"args"`
}

type httpServer struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
}

type vscodeServer struct {
	Type    string            `json:"type"`
	Command string            `json:"command,omitempty"`
	Args    []string          `json:"args,omitempty"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
}

type vscodeHTTP struct {
	Servers map[string]any `json:"servers"`
	Inputs  []vscodeInput  `json:"inputs"`
}

type vscodeInput struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	Description string `json:"description"`
	Password    bool   `json:"password"`
}

// jsonText renders v as indented JSON, without escaping <, > and &, which
// the apps' config files never need escaped.
func jsonText(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@=+,", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
