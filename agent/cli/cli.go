// Package cli is mcpauth's command line. Every command is a thin client of
// the agent's API: of a running agent over its control socket when one
// answers, else of an agent run in-process for the one command (connect).
//
// Conventions: data goes to stdout, messages and errors to stderr as
// "mcpauth: <error>". Exit codes: 0 ok, 1 error, 2 usage error. No secret is
// ever printed, except by `mcpauth token`, whose output is the token.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"mcpauth/agent"
	"mcpauth/keystore"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// Env is what Main needs from its process. Zero fields get the process's
// own: os.Stdout, os.Stderr, os.Getenv.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Demo starts the demo server for `mcpauth demo`, and DemoTools lists
	// its tools as an MCP client would; nil means this build has none, and
	// `mcpauth demo` runs in mcpauth-tray (TrayBinary).
	Demo      DemoFunc
	DemoTools DemoToolsFunc
	// Version is printed by `mcpauth version`.
	Version string
	// API, if set, is used by every command instead of connecting to an
	// agent (tests).
	API agent.API
	// Tray runs the tray app (`mcpauth` with no command, `mcpauth tray`);
	// nil means this build has none, and the tray runs in mcpauth-tray.
	Tray TrayFunc
	// TrayBinary is mcpauth-tray's path; "" means FindBinary(TrayBinary).
	TrayBinary string
	// Exec replaces the process (delegate.go); nil means syscall.Exec.
	// Tests set it.
	Exec func(path string, argv, env []string) error
}

// DemoFunc starts a demo MCP server with its authorization server on port
// (0: any) and returns the MCP endpoint's URL. closer stops it.
type DemoFunc func(ctx context.Context, port int, logf func(string, ...any)) (url string, closer func(), err error)

// DemoToolsFunc proves a login worked the way a host app would see it: an
// MCP client, whose requests go through hc (agent.Transport attaching the
// token), initializes a session with url and returns its tools' names.
type DemoToolsFunc func(ctx context.Context, hc *http.Client, url string) ([]string, error)

// command is one `mcpauth NAME`.
type command struct {
	name    string
	args    string // the synopsis after the name, e.g. "NAME URL [flags]"
	summary string // one line, for `mcpauth help`
	help    string // what it does, for `mcpauth NAME --help`
	example string
	run     func(ctx context.Context, r *runner, cmd *command, args []string) error
}

// commands is in the order `mcpauth help` lists them.
var commands = []*command{
	addCmd, removeCmd, listCmd,
	loginCmd, logoutCmd, tokenCmd,
	connectCmd, clientCmd, statusCmd,
	agentCmd, trayCmd, demoCmd, versionCmd,
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// runner carries the environment to the commands.
type runner struct {
	env            Env
	stdout, stderr io.Writer
}

// Run is a main function's whole body: it runs Main with the process's
// arguments and a context that ends on SIGINT and SIGTERM, reports
// env.Version as agent.Version (in /v1/status and dynamic registrations),
// and exits with Main's code.
func Run(env Env) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	agent.Version = env.Version
	code := Main(ctx, os.Args[1:], env)
	stop()
	os.Exit(code)
}

// Main runs mcpauth with args (without the program name) and returns the
// exit code. ctx should end on SIGINT and SIGTERM: long-running commands
// (agent, demo, a login) stop when it does.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	if env.Stderr == nil {
		env.Stderr = os.Stderr
	}
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	r := &runner{env: env, stdout: env.Stdout, stderr: env.Stderr}
	if len(args) == 0 {
		args = []string{trayCmd.name}
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if cmd := lookup(args[1]); cmd != nil {
				cmd.usage(env.Stdout, newFlagSet(cmd, r))
				return exitOK
			}
			fmt.Fprintf(env.Stderr, "mcpauth: unknown command %q\nRun 'mcpauth help' for the list.\n", args[1])
			return exitUsage
		}
		r.usage(env.Stdout)
		return exitOK
	case "--version", "-version":
		args = []string{"version"}
	}
	cmd := lookup(args[0])
	if cmd == nil {
		fmt.Fprintf(env.Stderr, "mcpauth: unknown command %q\nRun 'mcpauth help' for the list.\n", args[0])
		return exitUsage
	}
	if cmd == connectCmd {
		ctx = agent.WithRequester(ctx, connectRequester())
	}
	err := cmd.run(ctx, r, cmd, args[1:])
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "mcpauth %s: %v\nRun 'mcpauth %s --help' for usage.\n", cmd.name, ue, cmd.name)
		return exitUsage
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		fmt.Fprintln(env.Stderr, "mcpauth: interrupted")
		return exitError
	default:
		fmt.Fprintf(env.Stderr, "mcpauth: %v\n", err)
		return exitError
	}
}

func (r *runner) usage(w io.Writer) {
	fmt.Fprint(w, `mcpauth signs MCP clients in to remote MCP servers protected by OAuth, and
keeps their tokens in the OS keychain. One agent per user does every login
and refresh; these commands talk to it, or run it in-process when none is
running.

Usage:
  mcpauth                  the tray app (mcpauth tray)
  mcpauth COMMAND [ARGS] [flags]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'mcpauth COMMAND --help' for a command's flags and an example.
Start with 'mcpauth demo'. MCPAUTH_HOME sets the agent's home directory.
`)
}

// usage prints a command's --help.
func (c *command) usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: mcpauth %s %s\n\n%s\n", c.name, c.args, strings.TrimSpace(c.help))
	if hasFlags(fs) {
		fmt.Fprint(w, "\nFlags:\n")
		printFlags(w, fs)
	}
	fmt.Fprintf(w, "\nExample:\n%s\n", strings.TrimRight(c.example, "\n"))
}

// newFlagSet returns the command's flag set; parseArgs prints its --help.
func newFlagSet(cmd *command, r *runner) *flag.FlagSet {
	fs := flag.NewFlagSet("mcpauth "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() { cmd.usage(r.stdout, fs) }
	return fs
}

// parse parses args for cmd and checks the number of positional arguments.
// names lists the required ones, for the error message.
func (r *runner) parse(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
		}
		return nil, err
	}
	switch {
	case len(pos) < len(names):
		return nil, usagef("missing %s", strings.Join(names[len(pos):], " and "))
	case len(pos) > len(names):
		return nil, usagef("unexpected argument %q", pos[len(names)])
	}
	return pos, nil
}

// homeDir is the agent's home: $MCPAUTH_HOME, else the user's config dir.
func homeDir(env Env) (string, error) {
	if h := env.Getenv("MCPAUTH_HOME"); h != "" {
		return filepath.Abs(h)
	}
	return agent.DefaultHome()
}

// keychainTimeout bounds each keychain call: Secret Service activation can
// hang, and gh waits 3 s too.
const keychainTimeout = 3 * time.Second

// connect returns the API every command uses: env.API if set; else the
// agent running for the home, over its control socket; else, when none
// answers, an agent in-process, on the same home and keychain. The agent's
// file locks make the in-process agent safe beside other processes. done
// releases it.
func connect(ctx context.Context, env Env) (api agent.API, done func(), err error) {
	if env.API != nil {
		return env.API, func() {}, nil
	}
	home, err := homeDir(env)
	if err != nil {
		return nil, nil, err
	}
	c, err := agent.Dial(ctx, home)
	if err == nil {
		return c, func() { c.Close() }, nil
	}
	if !errors.Is(err, agent.ErrNoAgent) {
		return nil, nil, err
	}
	a, err := agent.New(agent.Options{
		Home:    home,
		Store:   keystore.Open(home, keystore.WithTimeout(keychainTimeout)),
		Browser: agent.SystemBrowser(),
		Logger:  slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return nil, nil, err
	}
	return a, func() { a.Close() }, nil
}

// withAPI runs f with the connected API.
func (r *runner) withAPI(ctx context.Context, f func(api agent.API) error) error {
	api, done, err := connect(ctx, r.env)
	if err != nil {
		return err
	}
	defer done()
	return f(api)
}

func (r *runner) say(format string, args ...any) {
	fmt.Fprintf(r.stderr, format+"\n", args...)
}
