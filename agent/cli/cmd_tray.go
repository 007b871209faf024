package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"mcpauth/agent"
)

// TrayFunc runs the tray app against api until ctx ends or the user quits.
// It runs on the calling goroutine, which is the main one: fyne's GL
// driver needs the main OS thread. main sets it (ui.Run), so that this
// package needs neither fyne nor cgo.
type TrayFunc func(ctx context.Context, api agent.TrayAPI) error

var trayCmd = &command{
	name:    "tray",
	args:    "[--port N]",
	summary: "run the tray app (what 'mcpauth' with no command does)",
	help: `
Shows mcpauth in the system tray: every server and its state, and the
sign-ins that bridges and commands ask for, to approve or deny. The window
(Open mcpauth...) adds servers, signs in and out, issues the HTTP bridge's
client keys, and gives each app's config snippet.

If an agent already runs for the home, the tray attaches to it; otherwise
it runs the agent itself, as 'mcpauth agent' does (control socket, HTTP
bridge on --port, refresher), until you choose Quit. Either way, while the
tray runs, a sign-in waits for your approval instead of opening the browser
unasked.

With no display or no D-Bus session bus it says so and runs as
'mcpauth agent'. The tray app itself is the program mcpauth-tray, which
this command runs, found beside mcpauth or on PATH.`,
	example: "  mcpauth tray\n  mcpauth tray --port 0\n  mcpauth                # with no command: the tray",
	run:     runTray,
}

func runTray(ctx context.Context, r *runner, cmd *command, args []string) error {
	port, portSet, err := parsePort(r, cmd, args)
	if err != nil {
		return err
	}
	if why := trayProblem(r.env.Getenv); why != "" {
		r.say("mcpauth: %s, so no tray: running as `mcpauth agent`.", why)
		return serveAgent(ctx, r, port, portSet, nil)
	}
	if r.env.Tray == nil {
		return r.delegate("the tray app", append([]string{cmd.name}, args...))
	}
	home, err := homeDir(r.env)
	if err != nil {
		return err
	}
	// Attach to a running agent; else run one, unless one started
	// meanwhile, then attach to it.
	for range 2 {
		c, err := agent.Dial(ctx, home)
		if err == nil {
			defer c.Close()
			if st, err := c.Status(ctx); err == nil {
				r.say("mcpauth: the tray attached to the running agent (pid %d).", st.PID)
			}
			return r.env.Tray(ctx, c)
		}
		if !errors.Is(err, agent.ErrNoAgent) {
			return err
		}
		err = serveAgent(ctx, r, port, portSet, func(ctx context.Context, a *agent.Agent) error {
			return r.env.Tray(ctx, a)
		})
		var running *agent.AgentRunningError
		if !errors.As(err, &running) {
			return err
		}
	}
	return fmt.Errorf("could not start or reach the agent for %s", home)
}

// trayProblem says why the tray can't run in this environment, or "".
// fyne panics with no display, and its systray panics on quit with no
// session bus (DESIGN.md, gotchas). macOS and Windows always have both.
func trayProblem(getenv func(string) string) string {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return ""
	}
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return "no display (DISPLAY and WAYLAND_DISPLAY are unset)"
	}
	if getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)"
	}
	return ""
}

// connectRequester names the app behind `mcpauth connect` for an approval:
// the parent process, which spawned the bridge ("claude", "cursor"), where
// the platform tells (Linux's /proc).
func connectRequester() string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", os.Getppid()))
	if name := strings.TrimSpace(string(b)); err == nil && name != "" {
		return name + " (mcpauth connect)"
	}
	return "mcpauth connect"
}
