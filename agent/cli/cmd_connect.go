package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mcpauth/agent"
	"mcpauth/localproxy"
	"mcpauth/localproxy/upstream"
)

var connectCmd = &command{
	name:    "connect",
	args:    "NAME|URL [flags]",
	summary: "bridge a host app's stdio to a remote MCP server",
	help: `
Runs the stdio bridge that an MCP host app (Claude Desktop, Claude Code,
Cursor, VS Code) starts as a local MCP server: it reads JSON-RPC messages on
stdin, sends them to the remote server with a valid token, and writes the
server's messages on stdout, every message unchanged. Logs go to stderr.
Configure it in the host app as the command "mcpauth" with the arguments
"connect" and NAME.

NAME is a server added with 'mcpauth add'. A URL is registered on first use
under a name made from its host (mcp.linear.app, or 127.0.0.1-8080 with a
port), with the flags below, and reused after that; the flags only apply
then (change a server with 'mcpauth add').

The first request signs in if needed: the browser opens (its URL is also on
stderr) and the request waits for the login, at most 5 minutes; concurrent
bridges wait for the same login. A login that fails or times out, or any
other failure, is answered to the request that met it with a JSON-RPC
error saying what to do. It works with or without 'mcpauth agent' running.
When stdin closes, it waits up to 2 s for answers still due, ends the remote
session and exits 0.`,
	example: `  mcpauth connect linear
  mcpauth connect https://mcp.linear.app/mcp
  mcpauth connect https://mcp.corp.example/mcp --client-id 0oa1b2c3 --scope "mcp offline_access"`,
	run: runConnect,
}

// connectStdin is the bridge's input; tests replace it (Env has no stdin).
var connectStdin io.Reader = os.Stdin

// drainTimeout bounds the wait for answers still due when stdin closes.
const drainTimeout = 2 * time.Second

func runConnect(ctx context.Context, r *runner, cmd *command, args []string) error {
	defer startProfiles(r.env.Getenv, r.stderr)()
	if err := refuseSecretFlag(args); err != nil {
		return err
	}
	fs := newFlagSet(cmd, r)
	af := defineAddFlags(fs)
	pos, err := r.parse(fs, args, "NAME|URL")
	if err != nil {
		return err
	}
	target, flagsSet := pos[0], 0
	fs.Visit(func(*flag.Flag) { flagsSet++ })
	var req *agent.AddRequest
	if strings.Contains(target, "://") {
		rq, err := af.request(r, "", target)
		if err != nil {
			return err
		}
		req = &rq
	} else {
		if err := validateName(target); err != nil {
			return err
		}
		if flagsSet > 0 {
			return usagef("the flags only apply when connecting to a URL; to change server %s, run `mcpauth add %s URL [flags]`", target, target)
		}
	}

	log := slog.New(slog.NewTextHandler(r.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	api, done, err := connect(ctx, r.env)
	if err != nil {
		return err
	}
	defer done()
	name, serverURL := target, ""
	if req != nil {
		lister := api
		if home, herr := homeDir(r.env); herr == nil && r.env.API == nil {
			lister = urlLister{API: api, home: home}
		}
		name, serverURL, err = registerURL(ctx, lister, *req, flagsSet > 0, log)
	} else {
		serverURL, err = lookupURL(ctx, r.env, api, name)
	}
	if err != nil {
		return err
	}

	tokens := localproxy.CacheTokens(api, log)
	// Ask for the token now, while the host app starts up: the first
	// request then finds it in memory. A failure is met again, and
	// answered, by that request.
	go tokens.Token(ctx, name)

	in, undo := localproxy.PollableStdin(connectStdin)
	defer undo()
	stdio := localproxy.NewStdio(in, r.stdout, log)
	up, err := upstream.New(upstream.Options{
		URL:    serverURL,
		Server: name,
		Auth: func(base http.RoundTripper, interactive bool) http.RoundTripper {
			return &agent.Transport{API: tokens, Server: name, Base: base, Interactive: interactive}
		},
		Deliver:       stdio.Deliver,
		DeliverStream: stdio.DeliverStream,
		Logger:        log,
	})
	if err != nil {
		return err
	}
	// A host app that quits closes our stdout: a write must fail with
	// EPIPE, which ends the session cleanly, instead of killing us.
	signal.Ignore(syscall.SIGPIPE)
	log.Info("mcpauth connect: relaying stdio", "server", name)
	return stdio.Run(ctx, up, drainTimeout)
}

// serverURLer is what an in-process agent offers beyond API: a server's URL
// without reading the keychain.
type serverURLer interface {
	ServerURL(name string) (string, error)
}

// lookupURL returns the URL of the server registered as name: from the
// in-process agent, else from the home's registry file (what the agent
// reads too), without API.List's keychain reads in a running agent.
func lookupURL(ctx context.Context, env Env, api agent.API, name string) (string, error) {
	if a, ok := api.(serverURLer); ok {
		return a.ServerURL(name)
	}
	if env.API == nil {
		if home, err := homeDir(env); err == nil {
			u, err := agent.RegisteredURL(home, name)
			var nf *agent.NotFoundError
			if err == nil || errors.As(err, &nf) {
				return u, err
			}
		}
	}
	list, err := api.List(ctx)
	if err != nil {
		return "", err
	}
	for _, s := range list {
		if s.Name == name {
			return s.URL, nil
		}
	}
	return "", &agent.NotFoundError{Server: name}
}

// registerURL returns the server registered for req.URL, registering it
// first (API.Add) under a name made from its host if there is none. A name
// taken by another URL gets a numeric suffix. Two bridges registering at
// once may collide on a name: then it looks again.
func registerURL(ctx context.Context, api agent.API, req agent.AddRequest, flagsSet bool, log *slog.Logger) (name, serverURL string, err error) {
	base, err := nameFromURL(req.URL)
	if err != nil {
		return "", "", err
	}
	for attempt := 0; ; attempt++ {
		list, err := api.List(ctx)
		if err != nil {
			return "", "", err
		}
		taken := map[string]bool{}
		for _, s := range list {
			if s.URL == req.URL {
				if flagsSet {
					log.Warn("the server is registered already; ignoring the flags (change it with `mcpauth add`)",
						"server", s.Name)
				}
				return s.Name, s.URL, nil
			}
			taken[s.Name] = true
		}
		req.Name = base
		for i := 2; taken[req.Name]; i++ {
			req.Name = base + "-" + strconv.Itoa(i)
		}
		err = api.Add(ctx, req)
		if err == nil {
			log.Info("registered the server", "server", req.Name)
			return req.Name, req.URL, nil
		}
		if attempt == 2 {
			return "", "", fmt.Errorf("could not register %s: %w", req.URL, err)
		}
	}
}

// urlLister answers List from the home's registry file with names and
// URLs only, all registerURL needs: API.List also reads two keychain items
// per server for their state (see agent.RegisteredURL). Other calls go to
// the API.
type urlLister struct {
	agent.API
	home string
}

func (l urlLister) List(ctx context.Context) ([]agent.ServerStatus, error) {
	urls, err := agent.RegisteredURLs(l.home)
	if err != nil {
		return l.API.List(ctx)
	}
	out := make([]agent.ServerStatus, 0, len(urls))
	for name, u := range urls {
		out = append(out, agent.ServerStatus{Name: name, URL: u})
	}
	slices.SortFunc(out, func(a, b agent.ServerStatus) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// nameFromURL makes a server name from a URL's host: mcp.linear.app, or
// host-port when the URL has a port (127.0.0.1-8080). Characters a name
// can't hold become '-'.
func nameFromURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "", usagef("the server URL must be an absolute http(s) URL, such as https://mcp.example.com/mcp")
	}
	host := strings.ToLower(u.Hostname())
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		host = strings.ReplaceAll(host, ":", "-") // IPv6
	}
	if p := u.Port(); p != "" {
		host += "-" + p
	}
	var b strings.Builder
	for _, r := range host {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	name := strings.TrimLeft(b.String(), "-._")
	if len(name) > maxNameLen-4 { // room for a suffix
		name = strings.TrimRight(name[:maxNameLen-4], "-._")
	}
	if name == "" {
		name = "server"
	}
	if err := validateName(name); err != nil {
		return "", errors.New("could not make a server name from the URL: add it with `mcpauth add NAME URL` and connect to NAME")
	}
	return name, nil
}
