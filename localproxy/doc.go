// Package localproxy holds the bridges local MCP clients use: the stdio
// bridge (`mcpauth connect`) and the loopback HTTP bridge. Both are clients
// of the agent and send requests through agent.Transport, which attaches
// the token and handles 401 and 403 insufficient_scope.
//
// It is empty until the bridge issue lands.
package localproxy
