package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"mcpauth/agent"
)

var clientCmd = &command{
	name:    "client",
	args:    "add NAME | list [--json] | remove NAME",
	summary: "manage the keys of the HTTP bridge's local clients",
	help: `
The HTTP bridge (run by 'mcpauth agent') serves only local clients that
send a key of their own as the header "Authorization: Bearer KEY". Give each
program (Cursor, VS Code, Claude Code...) its own, so that you can revoke
one without the others, and 'mcpauth list' says which one used a server.

  add NAME     creates a client and prints its key, once: mcpauth keeps
               only a hash of it. Lost it? Remove the client and add it again.
  list         shows the clients, when they were added and last used; never a key.
  remove NAME  revokes the client's key at once.

NAME: letters, digits, '-', '_' and '.', at most 64 characters.`,
	example: `  mcpauth client add cursor
  mcpauth client list
  mcpauth client remove cursor`,
	run: runClient,
}

func runClient(ctx context.Context, r *runner, cmd *command, args []string) error {
	if len(args) == 0 {
		return usagef("missing a subcommand: add, list or remove")
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet(cmd, r)
	switch sub {
	case "add", "remove":
		pos, err := r.parse(fs, args, "NAME")
		if err != nil {
			return err
		}
		if err := validateName(pos[0]); err != nil {
			return usagef("%s", strings.Replace(err.Error(), "server name", "client name", 1))
		}
		if sub == "remove" {
			return r.withAPI(ctx, func(api agent.API) error {
				if err := api.RemoveClient(ctx, pos[0]); err != nil {
					return err
				}
				r.say("Removed local client %s; its key no longer works.", pos[0])
				return nil
			})
		}
		return r.withAPI(ctx, func(api agent.API) error { return r.addClient(ctx, api, pos[0]) })
	case "list":
		asJSON := fs.Bool("json", false, "print the list as JSON")
		if _, err := r.parse(fs, args); err != nil {
			return err
		}
		return r.withAPI(ctx, func(api agent.API) error {
			list, err := api.ListClients(ctx)
			if err != nil {
				return err
			}
			if *asJSON {
				if list == nil {
					list = []agent.LocalClient{}
				}
				enc := json.NewEncoder(r.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			if len(list) == 0 {
				r.say("no local clients; add one with `mcpauth client add NAME`")
				return nil
			}
			return writeClients(r.stdout, list, time.Now())
		})
	case "-h", "--help", "-help":
		fs.Usage()
		return nil
	}
	return usagef("unknown subcommand %q: use add, list or remove", sub)
}

// addClient prints the new key alone on stdout, so that
// KEY=$(mcpauth client add cursor) works, and how to use it on stderr.
func (r *runner) addClient(ctx context.Context, api agent.API, name string) error {
	key, err := api.AddClient(ctx, name)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(r.stdout, key); err != nil {
		return err
	}
	base := "http://127.0.0.1:PORT"
	if st, ok := agentStatus(ctx, r.env, api); ok && st.Bridge != "" {
		base = st.Bridge
	}
	r.say("Added local client %s. Its key (above) is shown only this once; mcpauth keeps only a hash.\n"+
		"Configure %s with the URL %s/servers/SERVER/mcp and the header\n  Authorization: Bearer <the key>",
		name, name, base)
	return nil
}

// writeClients prints `mcpauth client list`.
func writeClients(w io.Writer, list []agent.LocalClient, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCREATED\tLAST USED")
	for _, c := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, ago(c.Created, now), ago(c.LastUsed, now))
	}
	return tw.Flush()
}

// statusAPI is implemented by *agent.Client: the running agent's status.
type statusAPI interface {
	Status(ctx context.Context) (*agent.AgentStatus, error)
}

// agentStatus returns the running agent's status, through api if it is a
// client of one, else by dialling the home's socket.
func agentStatus(ctx context.Context, env Env, api agent.API) (*agent.AgentStatus, bool) {
	if s, ok := api.(statusAPI); ok {
		st, err := s.Status(ctx)
		return st, err == nil
	}
	if api != nil {
		return nil, false // an in-process agent: connect found none running
	}
	home, err := homeDir(env)
	if err != nil {
		return nil, false
	}
	c, err := agent.Dial(ctx, home)
	if err != nil {
		return nil, false
	}
	defer c.Close()
	st, err := c.Status(ctx)
	return st, err == nil
}

var statusCmd = &command{
	name:    "status",
	args:    "[--json]",
	summary: "show whether the agent runs, and its HTTP bridge URL",
	help: `
Says whether an agent runs for the home directory, with its pid, version,
control socket and the URL of its HTTP bridge. When none runs, it says how
to start one. It exits 0 either way (1 only when it can't tell); scripts
read "running" from --json.`,
	example: "  mcpauth status\n  mcpauth status --json | jq -r .bridge_server_url",
	run:     runStatus,
}

// statusReport is `mcpauth status --json`.
type statusReport struct {
	Running       bool   `json:"running"`
	PID           int    `json:"pid,omitempty"`
	Version       string `json:"version,omitempty"`
	Home          string `json:"home"`
	ControlSocket string `json:"control_socket"`
	// Bridge is the base URL, BridgeServerURL the template of a server's.
	Bridge          string `json:"bridge,omitempty"`
	BridgeServerURL string `json:"bridge_server_url,omitempty"`
	BridgeProblem   string `json:"bridge_problem,omitempty"`
}

func runStatus(ctx context.Context, r *runner, cmd *command, args []string) error {
	fs := newFlagSet(cmd, r)
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if _, err := r.parse(fs, args); err != nil {
		return err
	}
	home, err := homeDir(r.env)
	if err != nil {
		return err
	}
	rep := statusReport{Home: home, ControlSocket: agent.ControlSocketPath(home)}
	if st, ok := agentStatus(ctx, r.env, r.env.API); ok {
		rep.Running, rep.PID, rep.Version = true, st.PID, st.Version
		if st.Home != "" {
			rep.Home, rep.ControlSocket = st.Home, agent.ControlSocketPath(st.Home)
		}
		rep.Bridge, rep.BridgeProblem = st.Bridge, st.BridgeProblem
		if st.Bridge != "" {
			rep.BridgeServerURL = st.Bridge + "/servers/NAME/mcp"
		}
	}
	if *asJSON {
		enc := json.NewEncoder(r.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return writeStatus(r.stdout, r.stderr, rep)
}

func writeStatus(stdout, stderr io.Writer, rep statusReport) error {
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	if !rep.Running {
		fmt.Fprintf(tw, "agent:\tnot running\nhome:\t%s\ncontrol socket:\t%s (no agent listening)\nHTTP bridge:\toff (it runs inside the agent)\n",
			rep.Home, rep.ControlSocket)
		if err := tw.Flush(); err != nil {
			return err
		}
		_, err := fmt.Fprint(stderr, "\nStart the agent with `mcpauth agent` (for example as a systemd user service).\n"+
			"The other commands work without it; the HTTP bridge needs it.\n")
		return err
	}
	bridge := rep.BridgeServerURL
	switch {
	case bridge == "" && rep.BridgeProblem != "":
		bridge = "off: " + rep.BridgeProblem
	case bridge == "":
		bridge = "off"
	}
	fmt.Fprintf(tw, "agent:\trunning (pid %d, version %s)\nhome:\t%s\ncontrol socket:\t%s\nHTTP bridge:\t%s\n",
		rep.PID, rep.Version, rep.Home, rep.ControlSocket, bridge)
	return tw.Flush()
}
