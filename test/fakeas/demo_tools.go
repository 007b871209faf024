package fakeas

import (
	"context"
	"fmt"
	"net/http"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// DemoTools is what `mcpauth demo` shows after its login: an mcp-go client
// initializes a session with the MCP server at url and lists its tools.
// Its requests go through hc, whose transport (agent.Transport) attaches
// the token and refreshes it on a 401; the client never sees the token. It
// lives here, with the demo server, so that only mcpauth-tray links
// mcp-go (see cli.TrayBinary).
func DemoTools(ctx context.Context, hc *http.Client, url string) ([]string, error) {
	c, err := mcpclient.NewStreamableHttpClient(url, transport.WithHTTPBasicClient(hc))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "mcpauth-demo", Version: "demo"}
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
