package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"mcpauth/agent"
	"mcpauth/keystore"
	"mcpauth/localproxy/httpbridge"
)

var agentCmd = &command{
	name:    "agent",
	args:    "[--port N]",
	summary: "run the agent headless (without the tray)",
	help: `
Runs the agent in the foreground until interrupted (SIGINT or SIGTERM): it
serves the other commands, the bridges and the UI on its control socket in
the home directory, refreshes tokens before they expire, and serves the
HTTP bridge on 127.0.0.1:PORT, where host apps reach server NAME at
http://127.0.0.1:PORT/servers/NAME/mcp with a key from 'mcpauth client add'.
Only one agent runs per home. Logs go to stderr; they never hold a secret.

If the default port is taken, the agent runs without the HTTP bridge and
says so ('mcpauth status' too); a port given with --port must be free.`,
	example: "  mcpauth agent\n  mcpauth agent --port 0      # any free port; see it with `mcpauth status`",
	run:     runAgent,
}

// agentTokenCacheTTL is how long the agent answers Token from memory (see
// agent.Options.TokenCacheTTL): bridge requests then cost no keychain read,
// and a change made by another process is seen within this time.
const agentTokenCacheTTL = 30 * time.Second

func runAgent(ctx context.Context, r *runner, cmd *command, args []string) error {
	port, portSet, err := parsePort(r, cmd, args)
	if err != nil {
		return err
	}
	return serveAgent(ctx, r, port, portSet, nil)
}

// parsePort parses the agent's and the tray's only flag, --port.
func parsePort(r *runner, cmd *command, args []string) (port int, portSet bool, err error) {
	fs := newFlagSet(cmd, r)
	p := fs.Int("port", httpbridge.DefaultPort, "the HTTP bridge's `port` on 127.0.0.1; 0 picks a free one")
	if _, err := r.parse(fs, args); err != nil {
		return 0, false, err
	}
	fs.Visit(func(f *flag.Flag) { portSet = portSet || f.Name == "port" })
	if *p < 0 || *p > 65535 {
		return 0, false, usagef("--port must be between 0 and 65535")
	}
	return *p, portSet, nil
}

// serveAgent runs the agent: the control socket, the proactive refresher
// and the HTTP bridge, until ctx ends. With front (the tray), it runs
// front on the calling goroutine (fyne needs the main one) and stops the
// agent when front returns; front's ctx ends if the agent fails. It
// returns *agent.AgentRunningError if another agent serves the home.
func serveAgent(ctx context.Context, r *runner, port int, portSet bool, front func(context.Context, *agent.Agent) error) error {
	defer startProfiles(r.env.Getenv, r.stderr)()
	home, err := homeDir(r.env)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(r.stderr, nil))
	ln, err := agent.ListenControl(home)
	if err != nil {
		return err
	}
	defer ln.Close()
	a, err := agent.New(agent.Options{
		Home:          home,
		Store:         keystore.Open(home, keystore.WithTimeout(keychainTimeout)),
		Browser:       agent.SystemBrowser(),
		Logger:        logger,
		TokenCacheTTL: agentTokenCacheTTL,
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if front != nil {
		// The tray's own agent asks for approvals from its first request
		// on, before the UI has attached too.
		events, err := a.AttachTray(ctx)
		if err != nil {
			return err
		}
		go func() {
			for range events {
			}
		}()
	}
	// The bridge: a port the user chose must be free; the default one may
	// be taken (by another home's agent, say), and then the agent runs
	// without the bridge rather than not at all.
	var bridge *httpbridge.Bridge
	bln, err := httpbridge.Listen(port)
	switch {
	case err != nil && portSet:
		return err
	case err != nil:
		problem := fmt.Sprintf("port %d is in use; restart the agent with --port N (0: any free port)", port)
		a.SetBridge("", problem)
		logger.Warn("mcpauth agent: no HTTP bridge: " + problem)
	default:
		if bridge, err = httpbridge.New(a, bln.Addr().String(), httpbridge.Options{Logger: logger}); err != nil {
			bln.Close()
			return err
		}
		a.SetBridge(bridge.URL(), "")
	}
	logger.Info("mcpauth agent listening on "+ln.Addr().String(), "home", home, "pid", os.Getpid(), "version", r.env.Version)
	if bridge != nil {
		logger.Info("mcpauth HTTP bridge listening on " + bridge.URL() + "/servers/NAME/mcp")
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return agent.ServeControl(gctx, ln, a, logger) })
	g.Go(func() error { return a.Run(gctx) })
	if bridge != nil {
		g.Go(func() error { return bridge.Serve(gctx, bln) })
	}
	var ferr error
	if front != nil {
		ferr = front(gctx, a)
		stop()
	}
	err = g.Wait()
	logger.Info("mcpauth agent stopped")
	return errors.Join(ferr, err)
}

// defaultDemoPort is fakeas.DemoPort: a fixed port keeps the demo server's
// URL, and so its registration, the same from one run to the next.
const defaultDemoPort = 8787

// demoName is the server name `mcpauth demo` registers.
const demoName = "demo"

var demoCmd = &command{
	name:    "demo",
	args:    "[--port N] [--no-login] [--no-browser]",
	summary: "try mcpauth against a local demo MCP server",
	help: `
Starts a demo MCP server with its own OAuth authorization server on
127.0.0.1, registers it as server "demo", and signs in to it (your browser
shows the demo's consent page). Then it keeps the demo server running until
you press Ctrl-C, so that you can try the other commands against it. The
demo server is in mcpauth-tray, which this command runs, found beside
mcpauth or on PATH.`,
	example: "  mcpauth demo\n  mcpauth demo --no-login --port 0",
	run:     runDemo,
}

func runDemo(ctx context.Context, r *runner, cmd *command, args []string) error {
	fs := newFlagSet(cmd, r)
	port := fs.Int("port", defaultDemoPort, "the demo server's `port` on 127.0.0.1; 0 picks a free one")
	noLogin := fs.Bool("no-login", false, "register the demo server but don't sign in")
	noBrowser := fs.Bool("no-browser", false, "only print the sign-in URL; don't open a browser")
	if _, err := r.parse(fs, args); err != nil {
		return err
	}
	if *port < 0 || *port > 65535 {
		return usagef("--port must be between 0 and 65535")
	}
	if r.env.Demo == nil || r.env.DemoTools == nil {
		return r.delegate("the demo server", append([]string{cmd.name}, args...))
	}
	url, stop, err := r.env.Demo(ctx, *port, func(format string, args ...any) { r.say(format, args...) })
	if err != nil {
		return fmt.Errorf("could not start the demo server: %w", err)
	}
	defer stop()
	return r.withAPI(ctx, func(api agent.API) error {
		if err := registerDemo(ctx, r, api, url); err != nil {
			return err
		}
		r.say("\nNext steps:\n  mcpauth login %[1]s     sign in (the demo's consent page opens)\n"+
			"  mcpauth token %[1]s     print an access token\n  mcpauth list           see its state", demoName)
		if !*noLogin {
			r.say("")
			if err := r.login(ctx, api, demoName, *noBrowser, false); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return nil // interrupted while signing in
			}
			hc := &http.Client{Transport: &agent.Transport{API: api, Server: demoName}}
			tools, err := r.env.DemoTools(ctx, hc, url)
			if err != nil {
				return err
			}
			r.say("\nAn MCP client, using the token mcpauth keeps for it, listed the demo server's tools: %s", strings.Join(tools, ", "))
		}
		r.say("\nThe demo server runs at %s until you press Ctrl-C.", url)
		<-ctx.Done()
		return nil
	})
}

// registerDemo makes server "demo" point at url: it adds it, or replaces a
// "demo" registered with another URL (an earlier run on another port).
func registerDemo(ctx context.Context, r *runner, api agent.API, url string) error {
	list, err := api.List(ctx)
	if err != nil {
		return err
	}
	for _, s := range list {
		if s.Name != demoName {
			continue
		}
		if s.URL == url {
			r.say("Server %q is already registered for %s.", demoName, url)
			return nil
		}
		var nf *agent.NotFoundError
		if err := api.Remove(ctx, demoName); err != nil && !errors.As(err, &nf) {
			return fmt.Errorf("could not replace server %q (registered for %s): %w", demoName, s.URL, err)
		}
		r.say("Removed the old server %q (registered for %s).", demoName, s.URL)
	}
	if err := api.Add(ctx, agent.AddRequest{Name: demoName, URL: url}); err != nil {
		return err
	}
	r.say("Registered the demo MCP server at %s as server %q.", url, demoName)
	return nil
}

var versionCmd = &command{
	name:    "version",
	args:    "",
	summary: "print mcpauth's version, and the running agent's",
	help:    "Prints this program's version and, if an agent is running for the home, its version and pid.",
	example: "  mcpauth version",
	run: func(ctx context.Context, r *runner, cmd *command, args []string) error {
		if _, err := r.parse(newFlagSet(cmd, r), args); err != nil {
			return err
		}
		v := r.env.Version
		if v == "" {
			v = "dev"
		}
		fmt.Fprintf(r.stdout, "mcpauth %s\n", v)
		if r.env.API != nil {
			return nil
		}
		home, err := homeDir(r.env)
		if err != nil {
			return nil
		}
		c, err := agent.Dial(ctx, home)
		if err != nil {
			return nil
		}
		defer c.Close()
		if st, err := c.Status(ctx); err == nil {
			fmt.Fprintf(r.stdout, "agent %s (pid %d, home %s)\n", st.Version, st.PID, st.Home)
		}
		return nil
	},
}
