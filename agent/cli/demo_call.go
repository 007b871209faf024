package cli

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"mcpauth/agent"
)

// demoCall proves the login worked the way a host app would see it: an
// mcp-go client initializes a session with the demo server and lists its
// tools, with agent.Transport attaching the token (and refreshing it on a
// 401). The client never sees the token.
func demoCall(ctx context.Context, api agent.API, name, url string) ([]string, error) {
	hc := &http.Client{Transport: &agent.Transport{API: api, Server: name}}
	c, err := client.NewStreamableHttpClient(url, transport.WithHTTPBasicClient(hc))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "mcpauth-demo", Version: agent.Version}
	if _, err := c.Initialize(ctx, init); err != nil {
		return nil, fmt.Errorf("could not initialize an MCP session with %s: %w", url, err)
	}
	res, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return nil, fmt.Errorf("could not list the tools of %s: %w", url, err)
	}
	names := make([]string, 0, len(res.Tools))
	for _, t := range res.Tools {
		names = append(names, t.Name)
	}
	return names, nil
}

func joinNames(names []string) string { return strings.Join(names, ", ") }
