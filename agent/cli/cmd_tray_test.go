package cli

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"mcpauth/agent"
)

func TestTrayProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"DISPLAY": ":0", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}, ""},
		{map[string]string{"WAYLAND_DISPLAY": "wayland-0", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}, ""},
		{map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}, "no display"},
		{map[string]string{"DISPLAY": ":0"}, "no D-Bus session bus"},
	}
	for _, tt := range tests {
		got := trayProblem(func(k string) string { return tt.env[k] })
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("trayProblem(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
}

// `mcpauth` (no tray in this build) runs mcpauth-tray for the tray, with
// the same arguments, when there is a display.
func TestTrayDelegatesToTrayBinary(t *testing.T) {
	env := map[string]string{"DISPLAY": ":0", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}
	for _, args := range [][]string{{}, {"tray", "--port", "0"}} {
		var argv []string
		exec := func(path string, a, _ []string) error { argv = a; return nil }
		r := run(t.Context(), Env{
			Getenv:     func(k string) string { return env[k] },
			TrayBinary: "/opt/m/mcpauth-tray",
			Exec:       exec,
		}, args...)
		want := append([]string{"/opt/m/mcpauth-tray", "tray"}, args[min(len(args), 1):]...)
		if r.code != exitOK || !reflect.DeepEqual(argv, want) {
			t.Errorf("%q: exec %q, want %q; %+v", args, argv, want, r)
		}
	}
}

// Without mcpauth-tray beside it or on PATH, the error says what to install
// and what runs without it.
func TestTrayBinaryMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	env := map[string]string{"DISPLAY": ":0", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}
	r := run(t.Context(), Env{Getenv: func(k string) string { return env[k] }}, "tray")
	for _, want := range []string{"the tray app is in mcpauth-tray", "make build", "mcpauth agent"} {
		if r.code != exitError || !strings.Contains(r.stderr, want) {
			t.Errorf("no %q (code %d) in:\n%s", want, r.code, r.stderr)
		}
	}
}

// With no display, `mcpauth` says so in one line and runs as the agent.
func TestNoArgsWithoutDisplayRunsAgent(t *testing.T) {
	home := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // the agent stops at once
	called := false
	r := run(ctx, Env{
		Getenv: func(k string) string { return map[string]string{"MCPAUTH_HOME": home}[k] },
		Tray:   func(context.Context, agent.TrayAPI) error { called = true; return nil },
	})
	if called {
		t.Error("the tray ran without a display")
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if !strings.HasPrefix(lines[0], "mcpauth: no display (DISPLAY and WAYLAND_DISPLAY are unset), so no tray: running as `mcpauth agent`.") {
		t.Errorf("first line %q", lines[0])
	}
	if r.code != exitOK || !strings.Contains(r.stderr, "mcpauth agent listening on") {
		t.Errorf("code %d, stderr:\n%s", r.code, r.stderr)
	}
}

// With a display, `mcpauth` runs the agent in-process and hands the tray
// its API, on the calling goroutine; Quit (the tray returning) stops the
// agent.
func TestNoArgsRunsTrayWithInProcessAgent(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"MCPAUTH_HOME": home, "DISPLAY": ":99", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent"}
	var servers []agent.ServerStatus
	var listErr error
	r := run(t.Context(), Env{
		Getenv: func(k string) string { return env[k] },
		Tray: func(ctx context.Context, api agent.TrayAPI) error {
			if _, ok := api.(*agent.Agent); !ok {
				t.Errorf("the tray got %T, want the in-process *agent.Agent", api)
			}
			// The control socket serves other commands meanwhile.
			c, err := agent.Dial(ctx, home)
			if err != nil {
				t.Errorf("no agent on the control socket while the tray runs: %v", err)
				return nil
			}
			defer c.Close()
			servers, listErr = c.List(ctx)
			return nil
		},
	}, "tray", "--port", "0")
	if r.code != exitOK {
		t.Errorf("code %d, stderr:\n%s", r.code, r.stderr)
	}
	if listErr != nil || len(servers) != 0 {
		t.Errorf("List through the socket: %v, %v", servers, listErr)
	}
	if !strings.Contains(r.stderr, "mcpauth agent stopped") {
		t.Errorf("the agent did not stop after the tray:\n%s", r.stderr)
	}
}
