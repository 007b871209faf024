package e2e

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mcpauth/keystore"
	"mcpauth/keystore/keystoretest"
	"mcpauth/test/e2e/e2ekit"
	"mcpauth/test/oidc"
)

func TestMain(m *testing.M) { e2ekit.Main(m, "mcpauth-e2e-bin-", true) }

// requireE2E skips unless MCPAUTH_E2E=1. When it is set, every missing
// prerequisite is fatal: CI must never pass by skipping.
func requireE2E(tb testing.TB) {
	tb.Helper()
	e2ekit.Require(tb)
	e2ekit.RequireSecretTool(tb)
	e2ekit.RequireNode(tb)
}

// session is one MCPAUTH_HOME with its environment, and the record of
// everything its commands printed and every token the test saw, for the
// leak check.
type session struct {
	tb         testing.TB
	as         *oidc.AS
	home       string
	browserLog string
	env        []string

	// wantTokens makes the leak check fail if the test saw no token,
	// since it then checked nothing.
	wantTokens bool

	rec e2ekit.Record
}

// newSession makes a fresh home and environment: BROWSER is the fake
// browser, which logs every open to browserLog. In tests (not benchmarks)
// it checks for leaks when the test ends, and it always removes the home's
// keychain items.
func newSession(tb testing.TB, as *oidc.AS) *session {
	tb.Helper()
	home := tb.TempDir()
	s := &session{
		tb:         tb,
		as:         as,
		home:       home,
		browserLog: filepath.Join(tb.TempDir(), "browser.log"),
		wantTokens: as != nil,
	}
	s.env = e2ekit.Env(home, "FAKEBROWSER_LOG="+s.browserLog)
	// Cleanups run last-registered first: the leak check reads the
	// keychain before it is cleared.
	tb.Cleanup(s.clearKeychain)
	if t, ok := tb.(*testing.T); ok {
		t.Cleanup(func() { s.checkLeaks(t) })
	}
	return s
}

// clearKeychain deletes every keychain item of the home.
func (s *session) clearKeychain() { e2ekit.ClearKeychain(s.home) }

// result is one finished process.
type result struct {
	args           []string
	code           int
	stdout, stderr string
	dur            time.Duration
}

// proc is a started mcpauth process.
type proc struct {
	s            *session
	p            *e2ekit.Proc
	secretStdout bool // stdout is a token: keep it out of the record
}

func (s *session) start(args ...string) *proc {
	s.tb.Helper()
	p, err := e2ekit.Start(s.env, args...)
	if err != nil {
		s.tb.Fatal(err)
	}
	return &proc{s: s, p: p}
}

func (p *proc) wait() result {
	p.s.tb.Helper()
	er, err := p.p.Wait()
	r := result{args: er.Args, code: er.Code, stdout: er.Stdout, stderr: er.Stderr, dur: er.Dur}
	if err != nil {
		p.s.tb.Fatalf("mcpauth %s: %v (after %s); stderr:\n%s", strings.Join(r.args, " "), err, r.dur, p.s.redact(r.stderr))
	}
	label := "mcpauth " + strings.Join(r.args, " ")
	if p.secretStdout {
		if tok := strings.TrimSpace(r.stdout); tok != "" {
			p.s.addSecret(tok)
		}
	} else {
		p.s.record(label+" (stdout)", r.stdout)
	}
	p.s.record(label+" (stderr)", r.stderr)
	return r
}

// run runs mcpauth to completion.
func (s *session) run(args ...string) result {
	s.tb.Helper()
	return s.start(args...).wait()
}

// mustRun runs mcpauth and fails the test unless it exits 0.
func (s *session) mustRun(args ...string) result {
	s.tb.Helper()
	r := s.run(args...)
	if r.code != 0 {
		s.tb.Fatalf("%s", s.describe(r, "want exit 0"))
	}
	return r
}

// startToken starts `mcpauth token NAME`, whose stdout is a secret.
func (s *session) startToken(name string) *proc {
	s.tb.Helper()
	p := s.start("token", name)
	p.secretStdout = true
	return p
}

// token runs `mcpauth token NAME` and returns the token, failing unless it
// exits 0 with one.
func (s *session) token(name string) string {
	s.tb.Helper()
	r := s.startToken(name).wait()
	tok := strings.TrimSpace(r.stdout)
	if r.code != 0 || tok == "" || strings.ContainsAny(tok, " \n") {
		s.tb.Fatalf("%s", s.describe(r, "want exit 0 and one token on stdout"))
	}
	return tok
}

// describe renders a result for a failure message, redacted.
func (s *session) describe(r result, want string) string {
	return fmt.Sprintf("mcpauth %s: exit %d after %s, %s\nstdout:\n%s\nstderr:\n%s",
		strings.Join(r.args, " "), r.code, r.dur.Round(time.Millisecond), want, s.redact(r.stdout), s.redact(r.stderr))
}

func (s *session) record(label, text string) { s.rec.Output(label, text) }

func (s *session) addSecret(v string) { s.rec.AddSecret(v) }

// redact hides every token the test saw, and any long opaque string, so
// that failure messages are safe to print.
func (s *session) redact(text string) string { return s.rec.Redact(text) }

// checkLeaks fails the test if any token the test saw appears in any
// command's output (other than token's stdout), or in any file under the
// home, sockets and all, the way `grep -r` would find it.
func (s *session) checkLeaks(t *testing.T) {
	// The current refresh token too, if the keychain still holds one.
	s.addSecret(s.keychainRefreshToken("oidc"))
	n := s.rec.CheckLeaks(t, "a token", s.home, filepath.Dir(s.browserLog))
	if s.wantTokens && n == 0 && !t.Failed() {
		t.Error("leak check: the test saw no token, so it checked nothing")
	}
}

// keychainRefreshToken reads server name's refresh token straight from the
// Secret Service with secret-tool, an independent client, or returns "" if
// there is none. It knows keystore's item layout (see keystore/chunk.go and
// agent/secrets.go): item "server/NAME/refresh" under ServiceName(home),
// holding "mcpauth-value:" + base64 of a JSON object. Its output is never
// recorded or logged.
func (s *session) keychainRefreshToken(name string) string {
	s.tb.Helper()
	out, err := exec.Command("secret-tool", "lookup",
		"service", keystore.ServiceName(s.home), "username", "server/"+name+"/refresh").Output()
	if err != nil || len(out) == 0 {
		return "" // secret-tool exits 1 when nothing matches
	}
	b64, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "mcpauth-value:")
	if !ok {
		s.tb.Fatalf("keychain item server/%s/refresh is not in keystore's single-item layout; update keychainRefreshToken", name)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	var v struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err == nil {
		err = json.Unmarshal(raw, &v)
	}
	if err != nil || v.RefreshToken == "" {
		s.tb.Fatalf("keychain item server/%s/refresh: can't decode it (%v)", name, err)
	}
	s.addSecret(v.RefreshToken)
	return v.RefreshToken
}

// keychainItems lists the accounts of the home's keychain items, as
// secret-tool, an independent client of the keychain, sees them.
func (s *session) keychainItems() []string {
	s.tb.Helper()
	items, ok, err := keystoretest.SecretToolUsers(keystore.ServiceName(s.home))
	if err != nil {
		s.tb.Fatal(err)
	}
	if !ok { // never an empty list for want of a way to look
		s.tb.Fatal("secret-tool is missing: apt install libsecret-tools (scripts/deps.sh test)")
	}
	return items
}

// browserOpens returns how many URLs the fake browser opened.
func (s *session) browserOpens() int {
	data, err := os.ReadFile(s.browserLog)
	if errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	if err != nil {
		s.tb.Fatalf("reading FAKEBROWSER_LOG: %v", err)
	}
	return strings.Count(string(data), "\n")
}

// serverStatus is one entry of `mcpauth list --json`.
type serverStatus struct {
	Name       string    `json:"name"`
	URL        string    `json:"url"`
	State      string    `json:"state"`
	Error      string    `json:"error"`
	Issuer     string    `json:"issuer"`
	ClientKind string    `json:"client_kind"`
	Expiry     time.Time `json:"expiry"`
}

// status returns name's entry in `mcpauth list --json`.
func (s *session) status(name string) serverStatus {
	s.tb.Helper()
	r := s.mustRun("list", "--json")
	var list []serverStatus
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		s.tb.Fatalf("%s", s.describe(r, fmt.Sprintf("want a JSON list (%v)", err)))
	}
	for _, st := range list {
		if st.Name == name {
			return st
		}
	}
	s.tb.Fatalf("%s", s.describe(r, "want server "+name+" in the list"))
	return serverStatus{}
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// mcpInitialize POSTs an MCP initialize request to the server with the
// token and returns the HTTP status.
func mcpInitialize(tb testing.TB, mcpURL, token string) int {
	tb.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",` +
		`"capabilities":{},"clientInfo":{"name":"mcpauth-e2e","version":"0"}}}`
	req, err := http.NewRequest(http.MethodPost, mcpURL, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := httpClient.Do(req)
	if err != nil {
		tb.Fatalf("POST initialize to the MCP server: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
