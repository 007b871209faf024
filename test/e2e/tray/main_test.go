// Package tray is the tray app's end-to-end test: the real `mcpauth tray`
// under Xvfb and a D-Bus session, driven over D-Bus as a desktop's tray
// host drives it, with the real keychain and test/fakeas.
package tray

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mcpauth/test/fakeas"
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
	dir, err := os.MkdirTemp("", "mcpauth-e2e-tray-")
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
		t.Fatal("MCPAUTH_E2E=1 but there is no D-Bus session bus: run inside dbus-run-session, as scripts/test.sh does")
	}
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
	env := append(os.Environ(),
		"MCPAUTH_HOME="+home,
		"DISPLAY="+display,
		"BROWSER="+fakebrowserBin,
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
	cmd := exec.CommandContext(ctx, mcpauthBin, args...)
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

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
