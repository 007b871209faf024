package httpbridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mcpauth/agent"
	"mcpauth/keystore"
)

// Built once by TestMain when MCPAUTH_E2E=1.
var (
	mcpauthBin, fakebrowserBin string
	buildErr                   error
)

func TestMain(m *testing.M) {
	if os.Getenv("MCPAUTH_E2E") != "1" {
		os.Exit(m.Run()) // every test skips
	}
	dir, err := os.MkdirTemp("", "mcpauth-e2e-httpbridge-")
	if err != nil {
		buildErr = err
		os.Exit(m.Run())
	}
	mcpauthBin = filepath.Join(dir, "mcpauth")
	fakebrowserBin = filepath.Join(dir, "fakebrowser")
	for _, b := range []struct{ out, pkg string }{
		{mcpauthBin, "mcpauth"},
		{fakebrowserBin, "mcpauth/test/fakebrowser/cmd/fakebrowser"},
	} {
		if out, err := exec.Command("go", "build", "-o", b.out, b.pkg).CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
			break
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireE2E skips unless MCPAUTH_E2E=1; when it is set, a missing
// prerequisite fails the test: CI must never pass by skipping.
func requireE2E(t *testing.T) {
	t.Helper()
	if os.Getenv("MCPAUTH_E2E") != "1" {
		t.Skip("end-to-end test: run `make test` (it sets MCPAUTH_E2E=1 inside a D-Bus session with gnome-keyring unlocked)")
	}
	if buildErr != nil {
		t.Fatalf("building the binaries: %v", buildErr)
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("MCPAUTH_E2E=1 but there is no D-Bus session bus: run inside dbus-run-session with gnome-keyring unlocked, as scripts/test.sh does")
	}
	if _, err := exec.LookPath("secret-tool"); err != nil {
		t.Fatal("MCPAUTH_E2E=1 but secret-tool is missing: apt install libsecret-tools (scripts/deps.sh test)")
	}
}

// session is one MCPAUTH_HOME, its environment, and everything its
// processes printed, for the leak check.
type session struct {
	t    *testing.T
	home string
	env  []string

	mu      sync.Mutex
	outputs map[string]string
	secrets map[string]bool
}

func newSession(t *testing.T) *session {
	home := t.TempDir()
	s := &session{t: t, home: home, outputs: map[string]string{}, secrets: map[string]bool{}}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "MCPAUTH_HOME" && k != "BROWSER" && !strings.HasPrefix(k, "FAKEBROWSER_") {
			s.env = append(s.env, kv)
		}
	}
	s.env = append(s.env, "MCPAUTH_HOME="+home, "BROWSER="+fakebrowserBin)
	// Cleanups run last-registered first: the leak check, then the
	// keychain items go.
	t.Cleanup(func() { exec.Command("secret-tool", "clear", "service", keystore.ServiceName(home)).Run() })
	t.Cleanup(s.checkLeaks)
	return s
}

func (s *session) addSecret(v string) {
	if v == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[v] = true
}

func (s *session) record(label, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outputs[label] += text
}

// longRun is anything that may be a token or a key we never saw.
var longRun = regexp.MustCompile(`[A-Za-z0-9_-]{40,}`)

// redact makes text safe to print.
func (s *session) redact(text string) string {
	s.mu.Lock()
	for v := range s.secrets {
		text = strings.ReplaceAll(text, v, "[SECRET]")
	}
	s.mu.Unlock()
	return longRun.ReplaceAllString(text, "[REDACTED]")
}

// run runs mcpauth to completion. With secretStdout the stdout is a secret
// (`client add` prints a key) and is kept out of the record.
func (s *session) run(secretStdout bool, args ...string) (stdout, stderr string, code int) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, mcpauthBin, args...)
	cmd.Env = s.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		code = ee.ExitCode()
	default:
		s.t.Fatalf("mcpauth %s: %v; stderr:\n%s", strings.Join(args, " "), err, s.redact(errb.String()))
	}
	label := "mcpauth " + strings.Join(args, " ")
	if !secretStdout {
		s.record(label+" (stdout)", out.String())
	}
	s.record(label+" (stderr)", errb.String())
	return out.String(), errb.String(), code
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
	s.mu.Lock()
	defer s.mu.Unlock()
	for label, text := range s.outputs {
		for v := range s.secrets {
			if strings.Contains(text, v) {
				s.t.Errorf("LEAK: a token or key appears in the output of %s", label)
			}
		}
	}
	filepath.WalkDir(s.home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			s.t.Errorf("leak check: %v", err)
			return nil
		}
		for v := range s.secrets {
			if bytes.Contains(data, []byte(v)) {
				s.t.Errorf("LEAK: a token or key appears in the file %s", path)
			}
		}
		return nil
	})
	if len(s.secrets) == 0 && !s.t.Failed() {
		s.t.Error("leak check: the test saw no secret, so it checked nothing")
	}
}

// agentProc is a running `mcpauth agent`.
type agentProc struct {
	s      *session
	cmd    *exec.Cmd
	out    syncBuffer
	done   chan struct{}
	err    error
	exited bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startAgent starts `mcpauth agent ARGS...` and waits until its control
// socket answers.
func (s *session) startAgent(args ...string) *agentProc {
	s.t.Helper()
	a := &agentProc{s: s, done: make(chan struct{})}
	a.cmd = exec.Command(mcpauthBin, append([]string{"agent"}, args...)...)
	a.cmd.Env = s.env
	a.cmd.Stdout, a.cmd.Stderr = &a.out, &a.out
	if err := a.cmd.Start(); err != nil {
		s.t.Fatalf("start mcpauth agent: %v", err)
	}
	go func() { a.err = a.cmd.Wait(); close(a.done) }()
	s.t.Cleanup(func() {
		if !a.exited { // the test failed part way: don't leave it running
			a.cmd.Process.Kill()
			<-a.done
		}
		s.record("mcpauth agent (output)", a.out.String())
	})
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-a.done:
			a.exited = true
			s.t.Fatalf("mcpauth agent exited early (%v):\n%s", a.err, s.redact(a.out.String()))
		default:
		}
		if c, err := agent.Dial(context.Background(), s.home); err == nil {
			c.Close()
			return a
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("mcpauth agent did not answer within 15 s:\n%s", s.redact(a.out.String()))
		}
	}
}

// stop sends SIGTERM and checks that the agent exits 0 within 10 s, and
// leaves neither its socket nor any process of the home behind.
func (a *agentProc) stop() {
	t := a.s.t
	t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to the agent: %v", err)
	}
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
		a.cmd.Process.Kill()
		<-a.done
		t.Error("the agent did not exit within 10 s of SIGTERM")
	}
	a.exited = true
	if a.err != nil {
		t.Errorf("the agent exited with %v after SIGTERM, want 0; output:\n%s", a.err, a.s.redact(a.out.String()))
	}
	if _, err := os.Stat(agent.ControlSocketPath(a.s.home)); err == nil {
		t.Error("the agent left its control socket behind")
	}
	if pids := processesWithHome(a.s.home); len(pids) > 0 {
		t.Errorf("processes with MCPAUTH_HOME=%s still run after the agent stopped: %v", a.s.home, pids)
	}
}

// processesWithHome lists the pids whose environment holds
// MCPAUTH_HOME=home: the agent and anything it started ($BROWSER).
func processesWithHome(home string) []string {
	want := []byte("\x00MCPAUTH_HOME=" + home + "\x00")
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && bytes.Contains(append([]byte{0}, env...), want) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}
