// Package localproxy holds the bridges local MCP clients use: the stdio
// bridge (`mcpauth connect`, stdio.go) and the loopback HTTP bridge
// (localproxy/httpbridge). Both are clients of the agent and send requests
// through agent.Transport, which attaches the token and handles 401 and
// 403 insufficient_scope; CacheTokens keeps that from costing an agent
// round trip per message.
//
// The MCP session with the remote server is localproxy/upstream's, which
// knows nothing of stdio; localproxy/jsonrpc frames and classifies
// messages without decoding them, so every message is relayed byte for
// byte.
package localproxy
