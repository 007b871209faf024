package ui

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSnippets(t *testing.T) {
	t.Parallel()
	in := SnippetInput{Server: "linear", Exe: "/usr/local/bin/mcpauth", BridgeURL: "http://127.0.0.1:8719"}
	tests := []struct {
		h         Host
		t         Transport
		in        SnippetInput
		want      string
		wantWhere string
		wantNote  string
	}{
		{ClaudeDesktop, Stdio, in, `{
  "mcpServers": {
    "linear": {
      "command": "/usr/local/bin/mcpauth",
      "args": [
        "connect",
        "linear"
      ]
    }
  }
}`, "claude_desktop_config.json", ""},
		{ClaudeDesktop, HTTP, in, `"args": [`, "claude_desktop_config.json", "only stdio"},
		{ClaudeCode, Stdio, in, "claude mcp add linear -- /usr/local/bin/mcpauth connect linear", "a terminal", ""},
		{ClaudeCode, Stdio, SnippetInput{Server: "x", Exe: "/opt/my apps/mcpauth"},
			"claude mcp add x -- '/opt/my apps/mcpauth' connect x", "a terminal", ""},
		{ClaudeCode, HTTP, in,
			`claude mcp add --transport http linear http://127.0.0.1:8719/servers/linear/mcp --header "Authorization: Bearer $MCPAUTH_KEY"`,
			"a terminal", "MCPAUTH_KEY"},
		{Cursor, Stdio, in, `"command": "/usr/local/bin/mcpauth"`, "~/.cursor/mcp.json", ""},
		{Cursor, HTTP, in, `{
  "mcpServers": {
    "linear": {
      "url": "http://127.0.0.1:8719/servers/linear/mcp",
      "headers": {
        "Authorization": "Bearer ${env:MCPAUTH_KEY}"
      }
    }
  }
}`, "~/.cursor/mcp.json", "MCPAUTH_KEY"},
		{VSCode, Stdio, in, `{
  "servers": {
    "linear": {
      "type": "stdio",
      "command": "/usr/local/bin/mcpauth",
      "args": [
        "connect",
        "linear"
      ]
    }
  }
}`, ".vscode/mcp.json", ""},
		{VSCode, HTTP, in, `"Authorization": "Bearer ${input:mcpauth-key}"`, ".vscode/mcp.json", "asks for the key"},
		{Cursor, HTTP, SnippetInput{Server: "linear"}, "", "Cursor", "no HTTP bridge"},
		{ClaudeCode, Stdio, SnippetInput{Server: "linear"}, "claude mcp add linear -- mcpauth connect linear", "a terminal", ""},
	}
	for _, tt := range tests {
		t.Run(tt.h.String()+"/"+tt.t.String(), func(t *testing.T) {
			t.Parallel()
			got := snippetFor(tt.h, tt.t, tt.in)
			if tt.want == "" && got.Text != "" || !strings.Contains(got.Text, tt.want) {
				t.Errorf("Text = %s\nwant it to contain %s", got.Text, tt.want)
			}
			if !strings.Contains(got.Where, tt.wantWhere) {
				t.Errorf("Where = %q, want it to contain %q", got.Where, tt.wantWhere)
			}
			if tt.wantNote == "" && got.Note != "" || !strings.Contains(got.Note, tt.wantNote) {
				t.Errorf("Note = %q, want it to contain %q", got.Note, tt.wantNote)
			}
			if strings.HasPrefix(got.Text, "{") && !json.Valid([]byte(got.Text)) {
				t.Errorf("Text is not valid JSON:\n%s", got.Text)
			}
		})
	}
}

// Every JSON snippet stays valid JSON whatever the server's name, and no
// snippet ever carries a key: the HTTP ones read it from the environment
// or ask for it.
func TestSnippetsAreValidJSONAndKeyless(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"a", "my.server_1-x", `we"ird`} {
		for _, h := range Hosts {
			for _, tr := range []Transport{Stdio, HTTP} {
				s := snippetFor(h, tr, SnippetInput{Server: name, Exe: `C:\mcpauth "x".exe`, BridgeURL: "http://127.0.0.1:1"})
				if strings.HasPrefix(s.Text, "{") && !json.Valid([]byte(s.Text)) {
					t.Errorf("%v/%v %q: invalid JSON:\n%s", h, tr, name, s.Text)
				}
				if tr == HTTP && h != ClaudeDesktop && !strings.Contains(s.Text, "MCPAUTH_KEY") && !strings.Contains(s.Text, "${input:") {
					t.Errorf("%v/%v: the key comes from nowhere:\n%s", h, tr, s.Text)
				}
			}
		}
	}
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"linear":                 "linear",
		"/usr/local/bin/mcpauth": "/usr/local/bin/mcpauth",
		"a b":                    "'a b'",
		"it's":                   `'it'\''s'`,
		"":                       "''",
		"$HOME":                  "'$HOME'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
