package httpbridge

import (
	"context"
	"strings"
	"testing"

	"mcpauth/agent"
	"mcpauth/test/e2e/e2ekit"
)

func TestMain(m *testing.M) { e2ekit.Main(m, "mcpauth-e2e-httpbridge-", true) }

// requireE2E skips unless MCPAUTH_E2E=1; when it is set, a missing
// prerequisite fails the test: CI must never pass by skipping.
func requireE2E(t *testing.T) {
	t.Helper()
	e2ekit.Require(t)
	e2ekit.RequireSecretTool(t)
}

// session is one MCPAUTH_HOME, its environment, and everything its
// processes printed, for the leak check.
type session struct {
	t    *testing.T
	home string
	env  []string
	rec  e2ekit.Record
}

func newSession(t *testing.T) *session {
	home := t.TempDir()
	s := &session{t: t, home: home, env: e2ekit.Env(home)}
	// Cleanups run last-registered first: the leak check, then the
	// keychain items go.
	t.Cleanup(func() { e2ekit.ClearKeychain(home) })
	t.Cleanup(s.checkLeaks)
	return s
}

func (s *session) addSecret(v string) { s.rec.AddSecret(v) }

func (s *session) record(label, text string) { s.rec.Output(label, text) }

// redact makes text safe to print.
func (s *session) redact(text string) string { return s.rec.Redact(text) }

// run runs mcpauth to completion. With secretStdout the stdout is a secret
// (`client add` prints a key) and is kept out of the record.
func (s *session) run(secretStdout bool, args ...string) (stdout, stderr string, code int) {
	s.t.Helper()
	r, err := e2ekit.Run(s.env, args...)
	if err != nil {
		s.t.Fatalf("mcpauth %s: %v; stderr:\n%s", strings.Join(args, " "), err, s.redact(r.Stderr))
	}
	label := "mcpauth " + strings.Join(args, " ")
	if !secretStdout {
		s.record(label+" (stdout)", r.Stdout)
	}
	s.record(label+" (stderr)", r.Stderr)
	return r.Stdout, r.Stderr, r.Code
}

func (s *session) mustRun(args ...string) string {
	s.t.Helper()
	stdout, stderr, code := s.run(false, args...)
	if code != 0 {
		s.t.Fatalf("mcpauth %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, s.redact(stdout), s.redact(stderr))
	}
	return stdout
}

// checkLeaks fails the test if a token or key the test saw is in any
// output (but `client add`'s stdout) or any file under the home.
func (s *session) checkLeaks() {
	if s.rec.CheckLeaks(s.t, "a token or key", s.home) == 0 && !s.t.Failed() {
		s.t.Error("leak check: the test saw no secret, so it checked nothing")
	}
}

// agentProc is a running `mcpauth agent`.
type agentProc struct {
	*e2ekit.Agent
	t *testing.T
}

// startAgent starts `mcpauth agent ARGS...` and waits until its control
// socket answers.
func (s *session) startAgent(args ...string) *agentProc {
	s.t.Helper()
	ready := func() bool {
		c, err := agent.Dial(context.Background(), s.home)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	a := e2ekit.StartAgent(s.t, s.home, s.env, ready, func(out string) { s.record("mcpauth agent (output)", out) }, s.redact, args...)
	return &agentProc{Agent: a, t: s.t}
}

// stop sends SIGTERM and checks that the agent exits 0 within 10 s, and
// leaves neither its socket nor any process of the home behind.
func (a *agentProc) stop() {
	a.t.Helper()
	a.Stop(a.t)
}
