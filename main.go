// Command mcpauth is a desktop OAuth agent for MCP clients. main only
// wires; the commands live in agent/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"mcpauth/agent"
	"mcpauth/agent/cli"
	"mcpauth/test/fakeas"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	agent.Version = version // reported in /v1/status and dynamic registrations
	code := cli.Main(ctx, os.Args[1:], cli.Env{Demo: runDemo, Version: version})
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
