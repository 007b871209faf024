// Command mcpauth is a desktop OAuth agent for MCP clients: every command,
// the stdio bridge and the headless agent. main only wires; the commands
// live in agent/cli. The tray app and the demo server are in
// cmd/mcpauth-tray, which `mcpauth` runs for them (cli.TrayBinary), so that
// this program links neither fyne nor cgo.
package main

import "mcpauth/agent/cli"

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() { cli.Run(cli.Env{Version: version}) }
