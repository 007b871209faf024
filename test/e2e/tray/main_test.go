// Package tray is the tray app's end-to-end test: the real `mcpauth tray`
// under Xvfb and a D-Bus session, driven over D-Bus as a desktop's tray
// host drives it, with the real keychain and test/fakeas.
package tray

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"mcpauth/test/e2e/e2ekit"
	"mcpauth/test/fakeas"
)

func TestMain(m *testing.M) {
	e2ekit.BuildTray = true // `mcpauth tray` runs mcpauth-tray
	e2ekit.Main(m, "mcpauth-e2e-tray-", true)
}

// requireE2E skips unless MCPAUTH_E2E=1; when it is set, a missing
// prerequisite fails the test: CI must never pass by skipping.
func requireE2E(t *testing.T) {
	t.Helper()
	e2ekit.Require(t)
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Fatal("MCPAUTH_E2E=1 but Xvfb is missing: apt install xvfb (scripts/deps.sh test)")
	}
}

// startXvfb starts an X server of its own and returns its DISPLAY.
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(r).ReadString('\n')
	r.Close()
	if err != nil {
		t.Fatalf("Xvfb did not say its display: %v", err)
	}
	return ":" + strings.TrimSpace(line)
}

func startFake(t *testing.T, cfg fakeas.Config) *fakeas.Server {
	t.Helper()
	s, err := fakeas.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// session is one MCPAUTH_HOME and the environment of its processes.
type session struct {
	t   *testing.T
	env []string
}

func newSession(t *testing.T, display string) *session {
	home := t.TempDir()
	env := e2ekit.Env(home,
		"DISPLAY="+display,
		"LANG=en_US.UTF-8",
		"XDG_CONFIG_HOME="+t.TempDir(), // fyne's preferences
	)
	s := &session{t: t, env: env}
	t.Cleanup(func() {
		// Leave nothing in the keychain: remove every server (this
		// revokes at fakeas, which the test still runs).
		out, _ := s.command(context.Background(), "list", "--json").Output()
		for _, name := range []string{"demo", "wiki"} {
			if bytes.Contains(out, []byte(`"`+name+`"`)) {
				s.command(context.Background(), "remove", name).Run()
			}
		}
	})
	return s
}

func (s *session) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, e2ekit.MCPAuthBin, args...)
	cmd.Env = s.env
	return cmd
}

// run runs mcpauth and fails the test on an error. Its output is not
// shown: `token` prints a token.
func (s *session) run(args ...string) {
	s.t.Helper()
	cmd := s.command(s.t.Context(), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("mcpauth %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
}

// proc is a background mcpauth process and its stderr.
type proc struct {
	*exec.Cmd
	stderr *safeBuffer
	done   chan error
}

func (s *session) start(args ...string) *proc {
	s.t.Helper()
	p := &proc{Cmd: s.command(context.Background(), args...), stderr: &safeBuffer{}, done: make(chan error, 1)}
	p.Stderr = p.stderr
	if err := p.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() { p.done <- p.Wait() }()
	s.t.Cleanup(func() {
		p.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits for the process to exit, within d.
func (p *proc) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(d):
		t.Fatalf("mcpauth %s did not exit within %v; stderr:\n%s", strings.Join(p.Args[1:], " "), d, p.stderr)
		return nil
	}
}

// safeBuffer holds a process's output while it runs.
type safeBuffer = e2ekit.SyncBuffer
