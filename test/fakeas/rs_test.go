package fakeas

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestResourceServerChallenges(t *testing.T) {
	s := start(t, Config{ChallengeScope: "mcp"})
	c := register(t, s, AuthNone)
	mcpOnly := login(t, s, c, "mcp")["access_token"].(string)
	admin := login(t, s, c, "mcp admin")["access_token"].(string)
	prm := `resource_metadata="` + s.PRMURL() + `"`

	tests := []struct {
		name       string
		token      string
		body       string
		wantStatus int
		wantChal   []string
	}{
		{"no token", "", initializeMsg, 401, []string{prm, `scope="mcp"`}},
		{"unknown token", "bogus", initializeMsg, 401, []string{`error="invalid_token"`, prm}},
		{"admin without scope", mcpOnly, callTool("admin", "{}"), 403, []string{`error="insufficient_scope"`, `scope="mcp admin"`, prm}},
		{"admin in a batch", mcpOnly, "[" + callTool("admin", "{}") + "]", 403, []string{`error="insufficient_scope"`}},
		{"initialize", mcpOnly, initializeMsg, 200, nil},
		{"admin with scope", admin, initializeMsg, 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := mcpPost(t, s, tt.token, "", tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			chal := resp.Header.Get("WWW-Authenticate")
			for _, want := range tt.wantChal {
				if !strings.Contains(chal, want) {
					t.Errorf("challenge %q lacks %s", chal, want)
				}
			}
		})
	}
}

func TestToolsAnswer(t *testing.T) {
	s := start(t, Config{})
	c := register(t, s, AuthNone)
	tok := login(t, s, c, "mcp admin")["access_token"].(string)
	resp, _ := mcpPost(t, s, tok, "", initializeMsg)
	session := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || session == "" {
		t.Fatalf("initialize: %d, session %q", resp.StatusCode, session)
	}
	mcpPost(t, s, tok, session, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	for tool, want := range map[string]string{
		"echo":   "hello there",
		"whoami": "subject=fake-user scopes=mcp admin",
		"admin":  "admin ok",
	} {
		resp, body := mcpPost(t, s, tok, session, callTool(tool, `{"text":"hello there"}`))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("%s: %d, body lacks %q", tool, resp.StatusCode, want)
		}
	}
}

func TestExpiredAndMisboundTokensGet401(t *testing.T) {
	s := start(t, Config{AccessTokenTTL: 2 * time.Second})
	c := register(t, s, AuthNone)
	tok := login(t, s, c, "")
	if tok["expires_in"] != float64(2) {
		t.Errorf("expires_in = %v, want 2", tok["expires_in"])
	}
	at := tok["access_token"].(string)
	if resp, _ := mcpPost(t, s, at, "", initializeMsg); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh token: %d", resp.StatusCode)
	}
	s.ExpireAccessTokens()
	resp, _ := mcpPost(t, s, at, "", initializeMsg)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("expired token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	status, fresh := refresh(t, s, c, tok["refresh_token"].(string))
	if status != http.StatusOK {
		t.Fatalf("refresh: %d", status)
	}
	if resp, _ := mcpPost(t, s, fresh["access_token"].(string), "", initializeMsg); resp.StatusCode != http.StatusOK {
		t.Errorf("refreshed token: %d", resp.StatusCode)
	}

	// A token bound to another resource (what a client that ignored a
	// PRM resource mismatch would get) is refused.
	other := start(t, Config{PRMResource: "https://elsewhere.example/mcp"})
	oc := register(t, other, AuthNone)
	_, q := authorize(t, other, oc, map[string][]string{"resource": {"https://elsewhere.example/mcp"}})
	verifier, _ := pkcePair()
	_, otok := tokenRequest(t, other, oc, map[string][]string{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}})
	if resp, _ := mcpPost(t, other, otok["access_token"].(string), "", initializeMsg); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token for another resource: %d, want 401", resp.StatusCode)
	}
}

func TestRunDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	lines := 0
	s, err := RunDemo(ctx, 0, func(string, ...any) { mu.Lock(); lines++; mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if s.Issuer() != s.BaseURL() || lines == 0 {
		t.Errorf("issuer %q, base %q, %d log lines", s.Issuer(), s.BaseURL(), lines)
	}
	mu.Unlock()
	c := register(t, s, AuthNone)
	if status, q := authorize(t, s, c, nil); status != http.StatusOK || q != nil {
		t.Errorf("demo authorize: %d, want the consent page", status)
	}
	cancel()
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, err := http.Get(s.URL()); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("demo server still up after ctx ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
