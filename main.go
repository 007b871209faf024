// Command mcpauth is a desktop OAuth agent for MCP clients. main only
// wires; the commands live in agent/cli.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"mcpauth/agent"
	"mcpauth/agent/cli"
	"mcpauth/test/fakeas"
	"mcpauth/ui"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	agent.Version = version // reported in /v1/status and dynamic registrations
	code := cli.Main(ctx, os.Args[1:], cli.Env{Demo: runDemo, Version: version, Tray: runTray})
	stop()
	os.Exit(code)
}

func runDemo(ctx context.Context, port int, logf func(string, ...any)) (string, func(), error) {
	s, err := fakeas.RunDemo(ctx, port, logf)
	if err != nil {
		return "", nil, err
	}
	return s.URL(), func() { s.Close() }, nil
}

// runTray runs the tray app. MCPAUTH_TRAY_PREVIEW=1 also draws its menu in
// a window, for scripts/screenshots.sh.
func runTray(ctx context.Context, api agent.TrayAPI) error {
	return ui.Run(ctx, ui.NewBackend(api), ui.Options{
		PreviewMenu: os.Getenv("MCPAUTH_TRAY_PREVIEW") == "1",
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
}
