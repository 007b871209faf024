// Command mcpauth-tray is mcpauth's tray app, and the demo server: what
// `mcpauth` runs for `mcpauth tray`, `mcpauth` with no command on a desktop,
// and `mcpauth demo` (cli.TrayBinary). It takes every mcpauth command;
// with none it runs the tray. main only wires.
package main

import (
	"context"
	"log/slog"
	"os"

	"mcpauth/agent"
	"mcpauth/agent/cli"
	"mcpauth/test/fakeas"
	"mcpauth/ui"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	cli.Run(cli.Env{
		Version:   version,
		Demo:      runDemo,
		DemoTools: fakeas.DemoTools,
		Tray:      runTray,
	})
}

func runDemo(ctx context.Context, port int, logf func(string, ...any)) (string, func(), error) {
	s, err := fakeas.RunDemo(ctx, port, logf)
	if err != nil {
		return "", nil, err
	}
	return s.URL(), func() { s.Close() }, nil
}

// runTray runs the tray app. Its config snippets name `mcpauth`, the
// bridge host apps should run, found beside this program or on PATH.
// MCPAUTH_TRAY_PREVIEW=1 also draws the menu in a window, for
// scripts/screenshots.sh.
func runTray(ctx context.Context, api agent.TrayAPI) error {
	exe, err := cli.FindBinary("mcpauth")
	if err != nil {
		exe = "mcpauth"
	}
	return ui.Run(ctx, ui.NewBackend(api), ui.Options{
		Exe:         exe,
		PreviewMenu: os.Getenv("MCPAUTH_TRAY_PREVIEW") == "1",
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
}
