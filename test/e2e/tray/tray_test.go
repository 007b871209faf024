package tray

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"mcpauth/test/fakeas"
)

const rawInit = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}`

// TestTray runs `mcpauth tray` (in-process agent) and drives its menu over
// D-Bus: a login asked for by `mcpauth login` waits for approval, Approve
// opens the (fake) browser and the login completes; a login asked for by
// the stdio bridge is denied, and the bridge answers with a JSON-RPC
// error; Quit stops the tray and its agent.
func TestTray(t *testing.T) {
	requireE2E(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	display := startXvfb(t)
	as := startFake(t, fakeas.Config{})
	s := newSession(t, display)
	s.run("add", "demo", as.URL())
	s.run("add", "wiki", as.URL())

	tray := s.start("tray", "--port", "0")
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	menu, err := findTray(ctx, conn, tray.Process.Pid)
	if err != nil {
		t.Fatalf("%v\ntray stderr:\n%s", err, tray.stderr)
	}
	if _, err := menu.waitFor(ctx, "demo: needs sign-in"); err != nil {
		t.Fatal(err)
	}

	t.Run("approve", func(t *testing.T) {
		login := s.start("login", "demo")
		approve := []string{"Sign in to demo (requested by mcpauth CLI)", "Approve"}
		if _, err := menu.waitFor(ctx, approve...); err != nil {
			t.Fatalf("%v\nlogin stderr:\n%s", err, login.stderr)
		}
		start := time.Now()
		if err := menu.click(ctx, approve...); err != nil {
			t.Fatal(err)
		}
		if err := login.wait(t, 30*time.Second); err != nil {
			t.Fatalf("mcpauth login after Approve: %v\n%s", err, login.stderr)
		}
		t.Logf("Approve to token (login done, tokens in the keychain): %v", time.Since(start).Round(time.Millisecond))
		s.run("token", "demo") // its output, a token, is never shown
		if _, err := menu.waitFor(ctx, "demo: signed in"); err != nil {
			t.Error(err)
		}
		if err := menu.waitGone(ctx, "Sign in to demo"); err != nil {
			t.Error(err)
		}
	})

	t.Run("deny reaches the bridge", func(t *testing.T) {
		bridge := s.command(ctx, "connect", "wiki")
		stdin, _ := bridge.StdinPipe()
		stdout, _ := bridge.StdoutPipe()
		stderr := &safeBuffer{}
		bridge.Stderr = stderr
		if err := bridge.Start(); err != nil {
			t.Fatal(err)
		}
		defer bridge.Wait()
		defer stdin.Close()
		io.WriteString(stdin, rawInit+"\n")
		label := waitForPrefix(ctx, t, menu, "Sign in to wiki (requested by ")
		if !strings.Contains(label, "mcpauth connect") {
			t.Errorf("the approval %q does not name the bridge", label)
		}
		if err := menu.click(ctx, label, "Deny"); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			t.Fatalf("no answer from the bridge: %v\nstderr:\n%s", err, stderr)
		}
		var m struct {
			ID    json.RawMessage `json:"id"`
			Error *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil || m.Error == nil || string(m.ID) != "1" {
			t.Fatalf("the bridge answered %q, want a JSON-RPC error for id 1", line)
		}
		if !strings.Contains(m.Error.Message, "the sign-in to wiki was denied in mcpauth") {
			t.Errorf("the error says %q", m.Error.Message)
		}
		if err := menu.waitGone(ctx, "Sign in to wiki"); err != nil {
			t.Error(err)
		}
		if _, err := menu.waitFor(ctx, "wiki: needs sign-in"); err != nil {
			t.Error(err)
		}
	})

	// Idle memory, for the record: after the menu settled.
	time.Sleep(3 * time.Second)
	if rss := rssKB(tray.Process.Pid); rss > 0 {
		t.Logf("tray app idle RSS: %d MB", rss/1024)
	}

	if err := menu.click(ctx, "Quit"); err != nil {
		t.Fatal(err)
	}
	if err := tray.wait(t, 15*time.Second); err != nil {
		t.Errorf("the tray exited with %v after Quit\n%s", err, tray.stderr)
	}
	out, _ := s.command(ctx, "status", "--json").Output()
	if strings.Contains(string(out), `"running": true`) {
		t.Errorf("the agent still runs after Quit: %s", out)
	}
}

// waitForPrefix waits for a top-level item whose label starts with prefix.
func waitForPrefix(ctx context.Context, t *testing.T, m *trayMenu, prefix string) string {
	t.Helper()
	for {
		items, err := m.layout(ctx)
		if err == nil {
			for _, it := range items {
				if strings.HasPrefix(it.Label, prefix) {
					return it.Label
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the tray menu never showed %q…; it shows:\n%s", prefix, strings.Join(labels(items, ""), "\n"))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// rssKB is a process's resident set size in KB, 0 if unknown.
func rssKB(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}
