package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"mcpauth/agent"
)

// fakeClientKey is what fakeAPI.AddClient issues.
const fakeClientKey = "mcpa_fake-key-for-tests"

// runningAPI is a fakeAPI behind a running agent: it answers Status.
type runningAPI struct {
	*fakeAPI
	status agent.AgentStatus
}

func (r *runningAPI) Status(context.Context) (*agent.AgentStatus, error) {
	st := r.status
	return &st, nil
}

func TestClientCommand(t *testing.T) {
	t.Parallel()
	created := time.Now().Add(-time.Hour)
	tests := []struct {
		name       string
		api        agent.API
		args       []string
		wantCode   int
		wantCalls  []string
		wantStdout string // exact
		wantStderr string // a substring
	}{
		{name: "add prints the key alone on stdout", api: &fakeAPI{}, args: []string{"client", "add", "cursor"},
			wantCalls: []string{"add-client cursor"}, wantStdout: fakeClientKey + "\n",
			wantStderr: "http://127.0.0.1:PORT/servers/SERVER/mcp"},
		{name: "add names the running bridge", api: &runningAPI{fakeAPI: &fakeAPI{}, status: agent.AgentStatus{Bridge: "http://127.0.0.1:8719"}},
			args: []string{"client", "add", "cursor"}, wantCalls: []string{"add-client cursor"}, wantStdout: fakeClientKey + "\n",
			wantStderr: "http://127.0.0.1:8719/servers/SERVER/mcp"},
		{name: "add fails", api: &fakeAPI{err: &agent.ClientExistsError{Client: "cursor"}}, args: []string{"client", "add", "cursor"},
			wantCode: exitError, wantCalls: []string{"add-client cursor"}, wantStdout: "", wantStderr: "mcpauth client remove cursor"},
		{name: "remove", api: &fakeAPI{}, args: []string{"client", "remove", "cursor"},
			wantCalls: []string{"remove-client cursor"}, wantStderr: "Removed local client cursor"},
		{name: "remove unknown", api: &fakeAPI{err: &agent.ClientNotFoundError{Client: "x"}}, args: []string{"client", "remove", "x"},
			wantCode: exitError, wantCalls: []string{"remove-client x"}, wantStderr: "mcpauth client list"},
		{name: "list empty", api: &fakeAPI{}, args: []string{"client", "list"},
			wantCalls: []string{"list-clients"}, wantStdout: "", wantStderr: "mcpauth client add NAME"},
		{name: "list", api: &fakeAPI{clients: []agent.LocalClient{{Name: "cursor", Created: created}}}, args: []string{"client", "list"},
			wantCalls: []string{"list-clients"}, wantStdout: "NAME    CREATED  LAST USED\ncursor  1h ago   -\n"},
		{name: "list json empty", api: &fakeAPI{}, args: []string{"client", "list", "--json"},
			wantCalls: []string{"list-clients"}, wantStdout: "[]\n"},
		{name: "no subcommand", api: &fakeAPI{}, args: []string{"client"}, wantCode: exitUsage, wantStderr: "missing a subcommand"},
		{name: "unknown subcommand", api: &fakeAPI{}, args: []string{"client", "rotate"}, wantCode: exitUsage, wantStderr: `unknown subcommand "rotate"`},
		{name: "add without a name", api: &fakeAPI{}, args: []string{"client", "add"}, wantCode: exitUsage, wantStderr: "missing NAME"},
		{name: "bad name", api: &fakeAPI{}, args: []string{"client", "add", "../x"}, wantCode: exitUsage, wantStderr: "invalid client name"},
		{name: "list takes no name", api: &fakeAPI{}, args: []string{"client", "list", "x"}, wantCode: exitUsage, wantStderr: `unexpected argument "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(context.Background(), Env{API: tt.api}, tt.args...)
			if r.code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tt.wantCode, r.stderr)
			}
			if r.stdout != tt.wantStdout {
				t.Errorf("stdout %q, want %q", r.stdout, tt.wantStdout)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", r.stderr, tt.wantStderr)
			}
			if tt.wantCode != exitOK && strings.Contains(r.stderr, fakeClientKey) {
				t.Error("a failed command printed a key")
			}
			var calls []string
			switch api := tt.api.(type) {
			case *fakeAPI:
				calls = api.calls
			case *runningAPI:
				calls = api.calls
			}
			if !slices.Equal(calls, tt.wantCalls) {
				t.Errorf("calls %q, want %q", calls, tt.wantCalls)
			}
		})
	}
}

func TestClientAddNeverPrintsKeyOnStderr(t *testing.T) {
	r := run(context.Background(), Env{API: &fakeAPI{}}, "client", "add", "cursor")
	if r.code != exitOK || strings.Contains(r.stderr, fakeClientKey) {
		t.Errorf("exit %d; the key must be on stdout only, stderr: %q", r.code, r.stderr)
	}
}

func TestStatusCommand(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	getenv := func(k string) string {
		if k == "MCPAUTH_HOME" {
			return home
		}
		return ""
	}
	running := &runningAPI{fakeAPI: &fakeAPI{}, status: agent.AgentStatus{PID: 42, Version: "v1", Home: home, Bridge: "http://127.0.0.1:8719"}}
	off := &runningAPI{fakeAPI: &fakeAPI{}, status: agent.AgentStatus{PID: 42, Version: "v1", Home: home, BridgeProblem: "port 8719 is in use"}}
	tests := []struct {
		name       string
		api        agent.API
		json       bool
		wantStdout []string
		wantStderr string
		wantReport statusReport
	}{
		{name: "running", api: running,
			wantStdout: []string{"running (pid 42, version v1)", "HTTP bridge: http://127.0.0.1:8719/servers/NAME/mcp", agent.ControlSocketPath(home)}},
		{name: "bridge off", api: off, wantStdout: []string{"HTTP bridge: off: port 8719 is in use"}},
		{name: "not running", api: nil, wantStdout: []string{"agent: not running", "home: " + home},
			wantStderr: "Start the agent with `mcpauth agent`"},
		{name: "running json", api: running, json: true, wantReport: statusReport{Running: true, PID: 42, Version: "v1", Home: home,
			ControlSocket: agent.ControlSocketPath(home), Bridge: "http://127.0.0.1:8719", BridgeServerURL: "http://127.0.0.1:8719/servers/NAME/mcp"}},
		{name: "not running json", api: nil, json: true, wantReport: statusReport{Home: home, ControlSocket: agent.ControlSocketPath(home)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"status"}
			if tt.json {
				args = append(args, "--json")
			}
			r := run(context.Background(), Env{API: tt.api, Getenv: getenv}, args...)
			if r.code != exitOK {
				t.Fatalf("exit %d, want 0 either way; stderr %q", r.code, r.stderr)
			}
			if tt.json {
				var got statusReport
				if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got != tt.wantReport {
					t.Errorf("--json: %v\n got %+v\nwant %+v", err, got, tt.wantReport)
				}
				return
			}
			// Compare with the table's padding collapsed.
			stdout := strings.Join(strings.Fields(r.stdout), " ")
			for _, want := range tt.wantStdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr %q lacks %q", r.stderr, tt.wantStderr)
			}
		})
	}
}

func TestWriteClients(t *testing.T) {
	var buf bytes.Buffer
	list := []agent.LocalClient{
		{Name: "cursor", Created: now.Add(-50 * time.Hour), LastUsed: now.Add(-2 * time.Minute)},
		{Name: "vscode", Created: now.Add(-time.Minute)},
	}
	if err := writeClients(&buf, list, now); err != nil {
		t.Fatal(err)
	}
	want := "NAME    CREATED  LAST USED\ncursor  2d ago   2m ago\nvscode  1m ago   -\n"
	if buf.String() != want {
		t.Errorf("(-want +got):\n-%s\n+%s", want, buf.String())
	}
}

func TestLastUsed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		at   time.Time
		by   string
		want string
	}{
		{time.Time{}, "", "-"},
		{now.Add(-2 * time.Minute), "cursor", "2m ago by cursor"},
		{now.Add(-2 * time.Minute), "", "2m ago"},
	} {
		if got := lastUsed(tt.at, tt.by, now); got != tt.want {
			t.Errorf("lastUsed(%v, %q) = %q, want %q", tt.at, tt.by, got, tt.want)
		}
	}
}

// TestAgentBridgePort: `mcpauth agent --port 0` serves the bridge on a free
// port and reports it; a port given with --port must be free.
func TestAgentBridgePort(t *testing.T) {
	home := t.TempDir()
	env := Env{Getenv: func(k string) string {
		if k == "MCPAUTH_HOME" {
			return home
		}
		return ""
	}}
	if r := run(context.Background(), env, "agent", "--port", "70000"); r.code != exitUsage || !strings.Contains(r.stderr, "--port must be between") {
		t.Errorf("--port 70000: %+v", r)
	}
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := fmt.Sprint(busy.Addr().(*net.TCPAddr).Port)
	if r := run(context.Background(), env, "agent", "--port", port); r.code != exitError || !strings.Contains(r.stderr, "could not listen for the HTTP bridge on 127.0.0.1:"+port) {
		t.Errorf("--port %s (taken): %+v", port, r)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan result, 1)
	go func() { done <- run(ctx, env, "agent", "--port", "0") }()
	var st *agent.AgentStatus
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := agent.Dial(ctx, home); err == nil {
			st, err = c.Status(ctx)
			c.Close()
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the agent did not come up")
		}
	}
	if !strings.HasPrefix(st.Bridge, "http://127.0.0.1:") || st.Bridge == "http://127.0.0.1:0" {
		t.Errorf("status reports bridge %q", st.Bridge)
	}
	if r := run(ctx, env, "status"); !strings.Contains(r.stdout, st.Bridge+"/servers/NAME/mcp") {
		t.Errorf("status: %+v", r)
	}
	cancel()
	if r := <-done; r.code != exitOK || !strings.Contains(r.stderr, "HTTP bridge listening on "+st.Bridge) {
		t.Errorf("agent: %+v", r)
	}
}
