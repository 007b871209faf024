package fakeas

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// These helpers speak plain net/http on purpose: the fake must be proven
// without the client code it exists to test.

const testRedirect = "http://127.0.0.1:5555/callback"

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

type testClient struct {
	id, secret, method string
}

func register(t *testing.T, s *Server, method string) testClient {
	t.Helper()
	body := `{"redirect_uris":["http://127.0.0.1/callback"],"grant_types":["authorization_code","refresh_token"],"application_type":"native","token_endpoint_auth_method":"` + method + `"}`
	resp, err := http.Post(s.Issuer()+"/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: status %d", resp.StatusCode)
	}
	var out struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return testClient{id: out.ClientID, secret: out.ClientSecret, method: method}
}

func pkcePair() (verifier, challenge string) {
	verifier = strings.Repeat("v", 43) + "0123456789"
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorize sends an authorization request and returns the status and the
// redirect's query (nil when there is no redirect).
func authorize(t *testing.T, s *Server, c testClient, extra url.Values) (int, url.Values) {
	t.Helper()
	_, challenge := pkcePair()
	q := url.Values{
		"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {testRedirect},
		"state": {"st4te"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
		"resource": {s.URL()},
	}
	for k, v := range extra {
		q[k] = v
	}
	for k, v := range q {
		if len(v) == 1 && v[0] == "" {
			delete(q, k)
		}
	}
	resp, err := noRedirect.Get(s.Issuer() + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, loc.Query()
}

// tokenRequest posts form to the token endpoint with c's auth method.
func tokenRequest(t *testing.T, s *Server, c testClient, form url.Values) (int, map[string]any) {
	t.Helper()
	return postForm(t, s.Issuer()+"/token", c, form)
}

func postForm(t *testing.T, endpoint string, c testClient, form url.Values) (int, map[string]any) {
	t.Helper()
	form = cloneValues(form)
	switch c.method {
	case AuthClientSecretPost:
		form.Set("client_id", c.id)
		form.Set("client_secret", c.secret)
	case AuthClientSecretBasic:
	default:
		form.Set("client_id", c.id)
	}
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.method == AuthClientSecretBasic {
		req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// login runs the whole code flow and returns the token response.
func login(t *testing.T, s *Server, c testClient, scope string) map[string]any {
	t.Helper()
	_, q := authorize(t, s, c, url.Values{"scope": {scope}})
	if q.Get("code") == "" {
		t.Fatalf("authorize: no code, error %q", q.Get("error"))
	}
	verifier, _ := pkcePair()
	status, tok := tokenRequest(t, s, c, url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {testRedirect}, "code_verifier": {verifier}, "resource": {s.URL()},
	})
	if status != http.StatusOK {
		t.Fatalf("code exchange: status %d, error %v", status, tok["error"])
	}
	return tok
}

func refresh(t *testing.T, s *Server, c testClient, rt string) (int, map[string]any) {
	t.Helper()
	return tokenRequest(t, s, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// mcpPost sends one JSON-RPC message to the MCP endpoint.
func mcpPost(t *testing.T, s *Server, token, session, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const initializeMsg = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

func callTool(name, args string) string {
	return `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"` + name + `","arguments":` + args + `}}`
}

func getJSON(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}
