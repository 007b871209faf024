package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The targets, as the report names them.
const (
	mDirect       = "direct"
	mConnect      = "connect"
	mConnectAgent = "connect+agent"
	mConnectTray  = "connect-tray" // `mcpauth-tray connect`: the same command in the binary with the tray
	mBridge       = "http-bridge"
	mRemote       = "mcp-remote"
	mRemoteNpx    = "mcp-remote-npx"
	mFloorStdio   = "floor-stdio"
	mFloorHTTP    = "floor-http"
	mLogin        = "login"
	mAgent        = "agent"
)

// bench holds everything a run sets up once: the servers, the homes, the
// agent and the process pools.
type bench struct {
	cfg     config
	self    string // this binary, for `mcpbench browse`
	tmp     string
	started time.Time
	res     *results

	main    *serverProc // every figure but the refresh ones
	refresh *serverProc // refreshes after a server-side expiry
	short   *serverProc // refreshes of a stored token that expired

	homes    []*home
	withA    *home // `mcpauth agent` runs for it: the HTTP bridge, connect+agent
	noAgent  *home // no agent: connect runs the agent code in-process
	token    string
	key      string // the HTTP bridge's local client key
	agent    *agentProc
	hdrFile  string // Authorization header for mcp-remote, outside argv
	mrStatic string // MCP_REMOTE_CONFIG_DIR of the static-header mcp-remote
	mrOAuth  string // MCP_REMOTE_CONFIG_DIR of mcp-remote signed in to short; "" if it could not sign in

	poolConnect []*stdioSession // initialized `mcpauth connect` processes, for throughput
	poolRemote  []*stdioSession // initialized mcp-remote processes
	poolFloor   []*stdioSession // initialized `mcpbench relay-stdio` processes

	relay     *stdioSession // `mcpbench relay-http` (only its stdin and pid are used)
	relayBase string

	shortUsed   time.Time // when short's token was last refreshed, at the latest
	mrShortUsed time.Time
}

func newBench(ctx context.Context, cfg config) (*bench, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, self: self, started: time.Now(), res: newResults()}
	if b.tmp, err = os.MkdirTemp("", "mcpbench-"); err != nil {
		return nil, err
	}
	if b.main, err = b.startServer(ctx, 0); err != nil {
		return b, err
	}
	if b.refresh, err = b.startServer(ctx, 0); err != nil {
		return b, err
	}
	if b.short, err = b.startServer(ctx, cfg.sz.ShortTTL); err != nil {
		return b, err
	}
	logf("servers: main %s, refresh %s, short %s (tokens live %v)", b.main.URL(), b.refresh.URL(), b.short.URL(), cfg.sz.ShortTTL)

	if b.withA, err = b.newHome("agent"); err != nil {
		return b, err
	}
	if b.noAgent, err = b.newHome("noagent"); err != nil {
		return b, err
	}
	for _, h := range []*home{b.withA, b.noAgent} {
		if err := h.signIn(ctx, "fake", b.main.URL()); err != nil {
			return b, err
		}
		if err := h.signIn(ctx, "refresh", b.refresh.URL()); err != nil {
			return b, err
		}
	}
	if err := b.noAgent.signIn(ctx, "short", b.short.URL()); err != nil {
		return b, err
	}
	b.shortUsed = time.Now()
	tok, err := b.noAgent.mcpauth(ctx, "token", "fake")
	if err != nil {
		return b, err
	}
	b.token = strings.TrimSpace(tok)
	key, err := b.withA.mcpauth(ctx, "client", "add", "mcpbench")
	if err != nil {
		return b, err
	}
	b.key = strings.TrimSpace(key)
	if b.agent, err = b.withA.startAgent(ctx); err != nil {
		return b, err
	}
	logf("signed in; agent pid %d, HTTP bridge %s", b.agent.pid(), b.agent.bridge)

	if cfg.mcpRemote != "" {
		b.hdrFile = filepath.Join(b.tmp, "mcp-remote-headers.txt")
		if err := os.WriteFile(b.hdrFile, []byte("Authorization: Bearer "+b.token+"\n"), 0o600); err != nil {
			return b, err
		}
		if b.mrStatic, err = os.MkdirTemp(b.tmp, "mcp-remote-static-"); err != nil {
			return b, err
		}
		// A first run proves mcp-remote works here before anything is timed.
		s, err := startStdio(ctx, b.remoteCmd(b.main.URL(), b.mrStatic, true))
		if err == nil {
			if _, err = s.initialize(ctx); err == nil {
				_, err = s.call(ctx, "big", `{"size":1024}`)
			}
			s.close()
		}
		if err != nil {
			return b, fmt.Errorf("mcp-remote does not work here: %w", err)
		}
	}
	if err := b.startRelay(ctx); err != nil {
		return b, err
	}
	if err := b.fillPools(ctx); err != nil {
		return b, err
	}
	return b, nil
}

// floorStdioCmd is the stdio floor (relay.go) for the main server.
func (b *bench) floorStdioCmd() *exec.Cmd {
	cmd := exec.Command(b.self, "relay-stdio", b.main.URL())
	cmd.Env = childEnv("MCPBENCH_TOKEN=" + b.token)
	return cmd
}

// startRelay starts the HTTP floor (relay.go) and reads its URL.
func (b *bench) startRelay(ctx context.Context) error {
	cmd := exec.Command(b.self, "relay-http", b.main.URL())
	cmd.Env = childEnv("MCPBENCH_TOKEN=" + b.token)
	s, err := startStdio(ctx, cmd)
	if err != nil {
		return err
	}
	b.relay = s
	line, err := s.readLine()
	if err != nil {
		return fmt.Errorf("mcpbench relay-http: %w; %s", err, s.stderr.String())
	}
	b.relayBase = strings.TrimSpace(string(line))
	return nil
}

// remoteCmd runs mcp-remote for url with its state in dir; static sends
// the token as a header (README "Custom Headers", with --header-file so
// that it is not in argv), otherwise mcp-remote signs in itself.
func (b *bench) remoteCmd(url, dir string, static bool) *exec.Cmd {
	args := []string{b.cfg.mcpRemote, url}
	if static {
		args = append(args, "--header-file", b.hdrFile)
	}
	cmd := exec.Command(b.cfg.node, args...)
	cmd.Env = childEnv("MCP_REMOTE_CONFIG_DIR="+dir, "BROWSER="+b.self+" browse",
		"MCPBENCH_BROWSER_LOG="+filepath.Join(dir, "browser.log"))
	return cmd
}

// npxCmd is what a host app's config usually runs: `npx mcp-remote URL`.
func (b *bench) npxCmd(url string) *exec.Cmd {
	cmd := exec.Command("npx", "--no-install", "mcp-remote", url, "--header-file", b.hdrFile)
	cmd.Dir = b.cfg.npxDir
	cmd.Env = childEnv("MCP_REMOTE_CONFIG_DIR=" + b.mrStatic)
	return cmd
}

func (b *bench) bridgeURL(name string) string { return b.agent.bridge + "/servers/" + name + "/mcp" }

// fillPools starts the processes the throughput figure uses at its
// highest level, a few at a time.
func (b *bench) fillPools(ctx context.Context) error {
	n := 0
	for _, l := range b.cfg.sz.Levels {
		n = max(n, l)
	}
	start := func(mk func() *exec.Cmd) ([]*stdioSession, error) {
		pool := make([]*stdioSession, n)
		errs := make([]error, n)
		sem := make(chan struct{}, 4)
		var wg sync.WaitGroup
		for i := range pool {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				s, err := startStdio(ctx, mk())
				if err == nil {
					_, err = s.initialize(ctx)
				}
				pool[i], errs[i] = s, err
			}()
		}
		wg.Wait()
		return pool, errors.Join(errs...)
	}
	t := time.Now()
	var err error
	b.poolConnect, err = start(func() *exec.Cmd { return b.noAgent.connectCmd("fake") })
	if err != nil {
		return fmt.Errorf("starting %d mcpauth connect: %w", n, err)
	}
	if b.poolFloor, err = start(b.floorStdioCmd); err != nil {
		return fmt.Errorf("starting %d mcpbench relay-stdio: %w", n, err)
	}
	logf("started %d mcpauth connect in %v", n, time.Since(t).Round(time.Millisecond))
	if b.cfg.mcpRemote != "" {
		t = time.Now()
		b.poolRemote, err = start(func() *exec.Cmd { return b.remoteCmd(b.main.URL(), b.mrStatic, true) })
		if err != nil {
			return fmt.Errorf("starting %d mcp-remote: %w", n, err)
		}
		logf("started %d mcp-remote in %v", n, time.Since(t).Round(time.Millisecond))
	}
	return nil
}

func (b *bench) cleanup() {
	var wg sync.WaitGroup
	all := append(append(append([]*stdioSession{b.relay}, b.poolConnect...), b.poolRemote...), b.poolFloor...)
	for _, s := range all {
		if s != nil {
			wg.Add(1)
			go func() { defer wg.Done(); s.close() }()
		}
	}
	wg.Wait()
	if b.agent != nil {
		b.agent.stop()
	}
	for _, s := range []*serverProc{b.main, b.refresh, b.short} {
		if s != nil {
			s.Close()
		}
	}
	for _, h := range b.homes {
		h.clearKeychain()
	}
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
}

// measure runs the rounds. Within a round every figure is measured for
// every target, the targets in an order that rotates from one round to the
// next, so that a burst of load from elsewhere on the machine doesn't
// always land on the same target.
func (b *bench) measure(ctx context.Context) error {
	for r := range b.cfg.sz.Rounds {
		t := time.Now()
		if err := b.round(ctx, r); err != nil {
			return fmt.Errorf("round %d: %w", r+1, err)
		}
		logf("round %d of %d done in %v", r+1, b.cfg.sz.Rounds, time.Since(t).Round(time.Second))
	}
	return nil
}

func (b *bench) round(ctx context.Context, r int) error {
	// A fresh agent each round: its RSS figures start from an idle agent.
	if err := b.agent.stop(); err != nil {
		return err
	}
	var err error
	if b.agent, err = b.withA.startAgent(ctx); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	if m, err := readMem(b.agent.pid()); err == nil {
		b.res.add("agent_idle_rss", mAgent, mib(m.HWM))
	}
	phases := []struct {
		name string
		f    func(context.Context, int) error
	}{
		{"spawn → initialize", b.spawnPhase},
		{"RSS and latency", b.sessionPhase},
		{"throughput", b.throughputPhase},
		{"cold login", b.coldPhase},
		{"refreshes", b.refreshPhase},
	}
	for _, p := range phases {
		t := time.Now()
		if err := p.f(ctx, r); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		logf("round %d: %s in %v", r+1, p.name, time.Since(t).Round(time.Millisecond))
	}
	if m, err := readMem(b.agent.pid()); err == nil {
		b.res.add("agent_load_rss", mAgent, mib(m.HWM))
	}
	return nil
}

// rotate returns modes rotated left by r.
func rotate(modes []string, r int) []string {
	if len(modes) == 0 {
		return nil
	}
	r %= len(modes)
	return append(append([]string(nil), modes[r:]...), modes[:r]...)
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
