// Command mcpbench measures mcpauth's two bridges side by side with a
// direct connection and with mcp-remote, against the same protected MCP
// server (test/fakeas on loopback, signed in, keychain warm), and writes
// docs/benchmarks.md and docs/benchmarks.png. bench/run.sh builds it and
// runs it inside a throwaway D-Bus session with gnome-keyring unlocked;
// see docs/benchmarks.md for what each figure means.
//
//	mcpbench -mcpauth BIN -mcp-remote bench/node_modules/mcp-remote/dist/proxy.js -out docs
//	mcpbench -smoke ...   # one short iteration of everything, for CI
//	mcpbench browse URL   # the fake $BROWSER (browse.go)
//	mcpbench serve [-port N]     # only the server, for profiling by hand (docs/benchmarks.md)
//	mcpbench relay-stdio URL, relay-http URL   # the floors (relay.go)
//	mcpbench load [flags] [-- CMD...]          # one target under load, for profiling (load.go)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "browse":
			os.Exit(browse(os.Args[2:]))
		case "serve":
			os.Exit(serve(os.Args[2:]))
		case "relay-stdio":
			os.Exit(relayStdio(os.Args[2:]))
		case "relay-http":
			os.Exit(relayHTTP(os.Args[2:]))
		case "load":
			os.Exit(load(os.Args[2:]))
		}
	}
	os.Exit(run(os.Args[1:]))
}

// sizes are how much each figure measures per round.
type sizes struct {
	Rounds      int
	Spawns      int           // spawn → initialize, per mode and round
	Calls1K     int           // 1 KB round trips timed per round
	Calls1M     int           // 1 MB round trips timed per round
	Levels      []int         // concurrent clients (or processes)
	Window      time.Duration // throughput measurement window
	Warm        time.Duration // throughput warm-up before the window
	Cold        int           // cold logins per mode and round
	Processes   int           // N, for the refresh figure
	Version     int           // `mcpauth version` runs per round
	RSSCalls    int           // 1 KB calls before reading the peak RSS
	BigResult   int           // bytes of the RSS-growth result
	ShortTTL    time.Duration // access token lifetime on the "short" server
	RemoteWait  time.Duration // bound on mcp-remote processes meeting an expired token
	MaxDuration time.Duration // the whole run
}

var fullSizes = sizes{
	Rounds: 5, Spawns: 8, Calls1K: 300, Calls1M: 20, Levels: []int{1, 16, 64},
	Window: 2 * time.Second, Warm: 300 * time.Millisecond, Cold: 3, Processes: 8, Version: 8,
	RSSCalls: 100, BigResult: 10 << 20, ShortTTL: 4 * time.Second, RemoteWait: 40 * time.Second, MaxDuration: 40 * time.Minute,
}

var smokeSizes = sizes{
	Rounds: 1, Spawns: 1, Calls1K: 3, Calls1M: 1, Levels: []int{1, 4},
	Window: 100 * time.Millisecond, Warm: 20 * time.Millisecond, Cold: 1, Processes: 3, Version: 1,
	RSSCalls: 3, BigResult: 10 << 20, ShortTTL: 2 * time.Second, RemoteWait: 15 * time.Second, MaxDuration: 3 * time.Minute,
}

type config struct {
	mcpauth   string // the mcpauth binary under test
	tray      string // optional: mcpauth-tray (the tray and the demo server), run as `connect` for comparison
	node      string // node binary for mcp-remote
	mcpRemote string // mcp-remote's dist/proxy.js; "" skips mcp-remote
	npxDir    string // a directory where `npx mcp-remote` resolves; "" skips the npx row
	out       string // where benchmarks.md, benchmarks.png and benchmarks.json go
	smoke     bool
	rounds    int
	versions  string // what to print as the versions line (run.sh fills it)
	notes     string // a markdown file appended to the report
	sz        sizes
}

func run(args []string) int {
	var cfg config
	fs := flag.NewFlagSet("mcpbench", flag.ContinueOnError)
	fs.StringVar(&cfg.mcpauth, "mcpauth", "", "the mcpauth `binary` to measure (required)")
	fs.StringVar(&cfg.tray, "mcpauth-tray", "", "optional: the mcpauth-tray `binary`, whose `connect` is measured beside mcpauth's to show what linking the tray and the demo server costs")
	fs.StringVar(&cfg.node, "node", "node", "the node `binary` that runs mcp-remote")
	fs.StringVar(&cfg.mcpRemote, "mcp-remote", "", "mcp-remote's dist/proxy.js (`path`); empty skips mcp-remote")
	fs.StringVar(&cfg.npxDir, "npx-dir", "", "a `directory` where `npx mcp-remote` finds the pinned package; empty skips the npx row")
	fs.StringVar(&cfg.out, "out", "", "the `directory` to write benchmarks.md, benchmarks.png and benchmarks.json to (required)")
	fs.BoolVar(&cfg.smoke, "smoke", false, "one short iteration of everything: checks that it works, times nothing")
	fs.IntVar(&cfg.rounds, "rounds", 0, "rounds (default 5, or 1 with -smoke)")
	fs.StringVar(&cfg.versions, "versions", "", "the versions line of the report")
	fs.StringVar(&cfg.notes, "notes", "", "a markdown `file` appended to the report (profiles and fixes)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.mcpauth == "" || cfg.out == "" {
		fmt.Fprintln(os.Stderr, "mcpbench: -mcpauth and -out are required")
		return 2
	}
	cfg.sz = fullSizes
	if cfg.smoke {
		cfg.sz = smokeSizes
	}
	if cfg.rounds > 0 {
		cfg.sz.Rounds = cfg.rounds
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		fmt.Fprintln(os.Stderr, "mcpbench: no D-Bus session: run it through bench/run.sh, which starts one with an unlocked gnome-keyring")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.sz.MaxDuration)
	defer cancel()

	b, err := newBench(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mcpbench: setting up: %v\n", err)
		if b != nil {
			b.cleanup()
		}
		return 1
	}
	err = b.measure(ctx)
	b.cleanup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "mcpbench: %v\n", err)
		return 1
	}
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "mcpbench: %v\n", err)
		return 1
	}
	rep := b.report()
	if err := rep.write(cfg.out); err != nil {
		fmt.Fprintf(os.Stderr, "mcpbench: writing the report: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "mcpbench: wrote %s, %s and %s\n", filepath.Join(cfg.out, "benchmarks.md"),
		filepath.Join(cfg.out, "benchmarks.png"), filepath.Join(cfg.out, "benchmarks.json"))
	if cfg.smoke {
		if missing := rep.missingSamples(); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "mcpbench -smoke: no figure for %v\n", missing)
			return 1
		}
	}
	return 0
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s mcpbench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
