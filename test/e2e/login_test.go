package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mcpauth/agent"
	"mcpauth/test/e2e/e2ekit"
	"mcpauth/test/oidc"
)

// accessTTL is the access token lifetime at the AS: short, so that the test
// sees one real expiry. It is well inside the agent's 60 s refresh margin,
// so every `mcpauth token` after a login refreshes, unless another process
// refreshed while it waited for the per-server lock.
const accessTTL = 3 * time.Second

// concurrency is how many `mcpauth token` processes race for one refresh.
const concurrency = 8

// TestE2E_LoginRefreshLogout runs a server's whole life with the mcpauth
// binary and no agent running: every command runs the agent in-process.
func TestE2E_LoginRefreshLogout(t *testing.T) {
	requireE2E(t)
	as := oidc.Start(t, oidc.Options{AccessTokenTTL: accessTTL})
	s := newSession(t, as)
	lifecycle(t, s, nil)
}

// TestE2E_WithAgent runs the same life with `mcpauth agent` running: the
// other commands go through its control socket, and it does the refreshes.
func TestE2E_WithAgent(t *testing.T) {
	requireE2E(t)
	as := oidc.Start(t, oidc.Options{AccessTokenTTL: accessTTL})
	s := newSession(t, as)
	a := startAgent(t, s)
	lifecycle(t, s, a)
	a.stop(t)
	if n := strings.Count(a.log(), "refreshed token"); n == 0 {
		t.Errorf("the agent's log shows no refresh: did the token commands bypass it? log:\n%s", s.redact(a.log()))
	}
}

// lifecycle: add, login (one browser open), token, list, one expiry, then
// concurrent token processes that must share exactly one refresh, then
// logout, which must revoke at the AS and leave nothing in the keychain.
// a is the running agent, or nil.
func lifecycle(t *testing.T, s *session, a *agentProc) {
	as := s.as

	// add: loopback http needs no --allow-http; nothing secret is stored.
	s.mustRun("add", "oidc", as.MCPURL)
	if _, err := os.Stat(filepath.Join(s.home, "servers.json")); err != nil {
		t.Fatalf("after add: %v", err)
	}
	if items := s.keychainItems(); len(items) != 0 {
		t.Errorf("after add: keychain items %q, want none (no client secret, no headers)", items)
	}

	// login: the URL on stderr, the fake browser opened exactly once.
	loginStart := time.Now()
	r := s.mustRun("login", "oidc")
	if !strings.Contains(r.stderr, as.Issuer+"/") || !strings.Contains(r.stderr, "code_challenge=") {
		t.Errorf("%s", s.describe(r, "want the authorization URL on stderr"))
	}
	if n := s.browserOpens(); n != 1 {
		t.Fatalf("after login: the browser opened %d times, want 1", n)
	}
	items := s.keychainItems()
	for _, want := range []string{"server/oidc/access", "server/oidc/refresh", "client/" + as.Issuer} {
		if !slices.Contains(items, want) {
			t.Errorf("after login: keychain items %q lack %q", items, want)
		}
	}
	if st := as.Stats(t); st.Registrations != 1 || st.CodeExchanges != 1 {
		t.Errorf("after login: AS stats %+v, want 1 registration and 1 code exchange", st)
	}

	// token: a token the MCP server accepts.
	tok1 := s.token("oidc")
	if code := mcpInitialize(t, as.MCPURL, tok1); code != 200 {
		t.Fatalf("initialize with the token from `mcpauth token`: HTTP %d, want 200", code)
	}

	// list --json: signed in, no secret.
	r = s.mustRun("list", "--json")
	st := s.status("oidc")
	if st.State != "signed in" || st.Issuer != as.Issuer || st.ClientKind != "dynamic" || st.URL != as.MCPURL {
		t.Errorf("list --json: got %+v, want state \"signed in\", issuer %s, client_kind dynamic", st, as.Issuer)
	}
	if st.Expiry.Before(loginStart) || st.Expiry.After(time.Now().Add(accessTTL+5*time.Second)) {
		t.Errorf("list --json: expiry %s, want within %s of now", st.Expiry.Format(time.RFC3339Nano), accessTTL)
	}
	if strings.Contains(r.stdout, tok1) {
		t.Error("list --json prints the access token")
	}

	// One expiry: wait until the token is dead at the AS too.
	time.Sleep(time.Until(st.Expiry.Add(time.Second)))
	if as.Introspect(t, tok1) {
		t.Fatal("the access token is still active after its expiry: the AS clock or TTL is not what the test assumes")
	}

	tok := concurrentRefresh(t, s, tok1, a)

	// The whole test opened the browser once: token never opens one.
	if n := s.browserOpens(); n != 1 {
		t.Errorf("before logout: the browser opened %d times, want 1", n)
	}
	logout(t, s, tok)
}

// concurrentRefresh starts `concurrency` token processes before waiting for
// any, and checks that they shared one refresh: the same new token from all,
// one refresh at the AS, no reuse detected, the grant alive, and the rotated
// refresh token saved in the keychain.
func concurrentRefresh(t *testing.T, s *session, expired string, a *agentProc) string {
	as := s.as
	rtBefore := s.keychainRefreshToken("oidc")
	if rtBefore == "" {
		t.Fatal("before the concurrent refresh: no refresh token in the keychain")
	}
	before := as.Stats(t)
	procs := make([]*proc, concurrency)
	for i := range procs {
		procs[i] = s.startToken("oidc")
	}
	toks := make([]string, concurrency)
	for i, p := range procs {
		r := p.wait()
		toks[i] = strings.TrimSpace(r.stdout)
		if r.code != 0 || toks[i] == "" {
			t.Errorf("concurrent token %d: %s", i, s.describe(r, "want exit 0 and a token"))
		}
	}
	after := as.Stats(t)
	if t.Failed() {
		t.FailNow()
	}
	distinct := map[string]bool{}
	for _, tok := range toks {
		distinct[tok] = true
	}
	if len(distinct) != 1 {
		t.Errorf("%d concurrent token processes printed %d different tokens, want 1", concurrency, len(distinct))
	}
	tok := toks[0]
	if tok == expired {
		t.Error("the concurrent token processes printed the expired token")
	}
	if n := after.Refreshes - before.Refreshes; n != 1 {
		msg := ""
		if a != nil && time.Since(a.started) > 14*time.Second {
			msg = " (the agent ran for over 14 s, so its 15 s proactive refresh may have counted too: the test ran too slowly)"
		}
		t.Errorf("%d concurrent token processes made %d refreshes at the AS, want exactly 1%s", concurrency, n, msg)
	}
	if after.ReuseDetected != 0 {
		t.Errorf("the AS detected %d refresh token reuses, want 0", after.ReuseDetected)
	}
	if after.GrantsRevoked != before.GrantsRevoked {
		t.Errorf("the AS revoked %d grants during the concurrent refresh, want 0", after.GrantsRevoked-before.GrantsRevoked)
	}
	if !as.Introspect(t, tok) {
		t.Error("the refreshed access token is not active at the AS")
	}
	if code := mcpInitialize(t, as.MCPURL, tok); code != 200 {
		t.Errorf("initialize with the refreshed token: HTTP %d, want 200", code)
	}
	rtAfter := s.keychainRefreshToken("oidc")
	switch {
	case rtAfter == "":
		t.Error("after the concurrent refresh: no refresh token in the keychain")
	case rtAfter == rtBefore:
		t.Error("after the concurrent refresh: the keychain still holds the old refresh token, but the AS rotates them")
	case !as.Introspect(t, rtAfter):
		t.Error("after the concurrent refresh: the refresh token in the keychain is not active at the AS")
	}
	if as.Introspect(t, rtBefore) {
		t.Error("after the concurrent refresh: the old refresh token is still active at the AS")
	}
	return tok
}

// logout revokes at the AS (the last access token and the refresh token
// become inactive), leaves no keychain item, and makes token ask for a login.
func logout(t *testing.T, s *session, access string) {
	as := s.as
	rt := s.keychainRefreshToken("oidc")
	before := as.Stats(t)
	s.mustRun("logout", "oidc")
	after := as.Stats(t)
	if as.Introspect(t, access) {
		t.Error("after logout: the last access token is still active at the AS")
	}
	if rt != "" && as.Introspect(t, rt) {
		t.Error("after logout: the refresh token is still active at the AS")
	}
	if after.Revocations-before.Revocations < 1 {
		t.Errorf("after logout: the AS counted %d revocations, want at least 1", after.Revocations-before.Revocations)
	}
	if items := s.keychainItems(); len(items) != 0 {
		t.Errorf("after logout: keychain items %q remain, want none", items)
	}
	r := s.startToken("oidc").wait()
	if r.code == 0 || !strings.Contains(r.stderr, "mcpauth login oidc") || strings.TrimSpace(r.stdout) != "" {
		t.Errorf("%s", s.describe(r, "want a non-zero exit and `mcpauth login oidc` on stderr"))
	}
	if st := s.status("oidc"); st.State != "needs login" {
		t.Errorf("after logout: list says %q, want \"needs login\"", st.State)
	}
}

// agentProc is a running `mcpauth agent`.
type agentProc struct {
	*e2ekit.Agent
	started time.Time
}

func (a *agentProc) log() string { return a.Out.String() }

// startAgent starts `mcpauth agent` with the session's environment and
// waits until `mcpauth version` reports it.
func startAgent(t testing.TB, s *session) *agentProc {
	started := time.Now()
	sock := agent.ControlSocketPath(s.home)
	ready := func() bool {
		if _, err := os.Stat(sock); err != nil {
			return false
		}
		r := s.run("version")
		return r.code == 0 && strings.Contains(r.stdout, "\nagent ")
	}
	a := e2ekit.StartAgent(t, s.home, s.env, ready, func(out string) { s.record("mcpauth agent (output)", out) }, s.redact)
	return &agentProc{Agent: a, started: started}
}

// stop sends SIGTERM and checks that the agent exits 0, removes its socket
// and leaves no process that has the session's MCPAUTH_HOME behind.
func (a *agentProc) stop(t testing.TB) { a.Stop(t) }
