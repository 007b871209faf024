package fakeas

import (
	"context"
	"time"
)

// DemoPort is the port `mcpauth demo` suggests.
const DemoPort = 8787

// RunDemo starts the server `mcpauth demo` shows to humans: root layout,
// dynamic registration, a consent page, 10-minute access tokens. It closes
// the server when ctx ends. port 0 picks an ephemeral port.
func RunDemo(ctx context.Context, port int, logf func(string, ...any)) (*Server, error) {
	s, err := Start(Config{
		Port:           port,
		Layout:         LayoutRoot,
		Consent:        true,
		ServerName:     "mcpauth demo MCP server",
		Subject:        "demo-user",
		AccessTokenTTL: 10 * time.Minute,
		Logf:           logf,
	})
	if err != nil {
		return nil, err
	}
	if logf != nil {
		logf("mcpauth demo: MCP server at %s (authorization server %s); add it with: mcpauth add demo %s", s.URL(), s.Issuer(), s.URL())
	}
	go func() {
		<-ctx.Done()
		_ = s.Close()
	}()
	return s, nil
}
