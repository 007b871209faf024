# The README's two commands are `make demo` and `make test`.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build demo test unit bench screenshots package clean

# bin/mcpauth: the commands and the bridges, static, no cgo; bin/mcpauth-tray:
# the tray app and the demo server (fyne: cgo, GL), which mcpauth runs for
# `mcpauth tray`, `mcpauth` on a desktop and `mcpauth demo`.
build:
	scripts/deps.sh build
	CGO_ENABLED=0 go build -ldflags "$(LDFLAGS)" -o bin/mcpauth .
	go build -ldflags "$(LDFLAGS)" -o bin/mcpauth-tray ./cmd/mcpauth-tray

# Runs the built-in demo: an OAuth server and a protected MCP server on
# loopback, registered as server "demo", then a login. scripts/demo.sh
# starts a throwaway Secret Service when the session has none.
demo: build
	scripts/deps.sh run
	scripts/demo.sh bin/mcpauth

# Every test, with the real keychain and oidc-provider: what CI runs.
test:
	scripts/test.sh

# The fast loop: unit tests only, no keychain, no Node.
unit:
	go test -race ./...

# The bridges against a direct connection and mcp-remote, measured here:
# writes docs/benchmarks.md and docs/benchmarks.png (bench/run.sh, ~15 min).
bench:
	bench/run.sh

# The README's screenshots of the tray app, under Xvfb (docs/screenshots).
screenshots:
	scripts/screenshots.sh

# The Linux desktop package (dist/), with fyne's packager.
package:
	scripts/package.sh

clean:
	rm -rf bin dist
