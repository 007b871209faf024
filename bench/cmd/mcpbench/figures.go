package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"mcpauth/test/fakeas"
)

func args1K() string     { return `{"size":1024}` }
func args1M() string     { return `{"size":1048576}` }
func argsN(n int) string { return `{"size":` + strconv.Itoa(n) + `}` }

// stdioModes are the targets that are a process on stdio, with how to
// start each.
func (b *bench) stdioCmd(mode string) *exec.Cmd {
	switch mode {
	case mConnect:
		return b.noAgent.connectCmd("fake")
	case mConnectAgent:
		return b.withA.connectCmd("fake")
	case mConnectTray:
		cmd := exec.Command(b.cfg.tray, "connect", "fake")
		cmd.Env = b.noAgent.env
		return cmd
	case mRemote:
		return b.remoteCmd(b.main.URL(), b.mrStatic, true)
	case mRemoteNpx:
		return b.npxCmd(b.main.URL())
	case mFloorStdio:
		return b.floorStdioCmd()
	}
	panic("no command for " + mode)
}

// open starts a session with mode's target and initializes it. pid is the
// bridge process (0 for direct).
func (b *bench) open(ctx context.Context, mode string) (s session, pid int, err error) {
	switch mode {
	case mDirect:
		s = newHTTPSession(b.main.URL(), "Bearer "+b.token)
	case mBridge:
		s, pid = newHTTPSession(b.bridgeURL("fake"), "Bearer "+b.key), b.agent.pid()
	case mFloorHTTP:
		s, pid = newHTTPSession(b.relayBase+"/mcp", ""), b.relay.pid()
	default:
		ss, err := startStdio(ctx, b.stdioCmd(mode))
		if err != nil {
			return nil, 0, err
		}
		s, pid = ss, ss.pid()
	}
	if _, err := s.initialize(ctx); err != nil {
		s.close()
		return nil, 0, fmt.Errorf("%s: %w", mode, err)
	}
	return s, pid, nil
}

// spawnPhase: spawn → initialize result. The stdio bridges are started
// as a host app starts them; direct and the HTTP bridge have no process to
// start, so theirs is a new client (new connection) to the initialize
// result.
func (b *bench) spawnPhase(ctx context.Context, r int) error {
	modes := []string{mDirect, mBridge, mConnect, mConnectAgent, mFloorStdio}
	if b.cfg.tray != "" {
		modes = append(modes, mConnectTray)
	}
	if b.cfg.mcpRemote != "" {
		modes = append(modes, mRemote)
		if b.cfg.npxDir != "" {
			modes = append(modes, mRemoteNpx)
		}
	}
	times := map[string][]float64{}
	rss := map[string][]float64{}
	for i := range b.cfg.sz.Spawns {
		for _, m := range rotate(modes, r+i) {
			d, maxRSS, err := b.spawnOnce(ctx, m)
			if err != nil {
				return err
			}
			times[m] = append(times[m], ms(d))
			if maxRSS > 0 {
				rss[m] = append(rss[m], mib(maxRSS))
			}
		}
	}
	for m, v := range times {
		b.res.add("spawn", m, median(v))
	}
	for m, v := range rss {
		b.res.add("spawn_rss", m, median(v))
	}
	// What starting the binary costs at all: `mcpauth version`.
	bins := map[string]string{"mcpauth": b.cfg.mcpauth}
	if b.cfg.tray != "" {
		bins["mcpauth-tray"] = b.cfg.tray
	}
	for name, bin := range bins {
		var ts []float64
		for range b.cfg.sz.Version {
			cmd := exec.CommandContext(ctx, bin, "version")
			cmd.Env = b.noAgent.env
			t := time.Now()
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%s version: %w", name, err)
			}
			ts = append(ts, ms(time.Since(t)))
		}
		b.res.add("version", name, median(ts))
	}
	return nil
}

func (b *bench) spawnOnce(ctx context.Context, mode string) (time.Duration, int64, error) {
	switch mode {
	case mDirect, mBridge:
		url, auth := b.main.URL(), "Bearer "+b.token
		if mode == mBridge {
			url, auth = b.bridgeURL("fake"), "Bearer "+b.key
		}
		s := newHTTPSession(url, auth)
		t := time.Now()
		at, err := s.initialize(ctx)
		s.close()
		return at.Sub(t), 0, err
	}
	t := time.Now()
	s, err := startStdio(ctx, b.stdioCmd(mode))
	if err != nil {
		return 0, 0, err
	}
	at, err := s.initialize(ctx)
	// Not getrusage's ru_maxrss after exit: Go starts children with
	// vfork, and exec records the parent's peak as the child's.
	mem, merr := readMem(s.pid())
	cerr := s.close()
	if err = errors.Join(err, merr, cerr); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", mode, err)
	}
	return at.Sub(t), mem.HWM, nil
}

// sessionPhase: for each target, one session: the bridge's peak RSS after
// RSSCalls 1 KB calls, its growth while one BigResult result streams
// through, then the round-trip latency of 1 KB and 1 MB results.
func (b *bench) sessionPhase(ctx context.Context, r int) error {
	modes := []string{mDirect, mConnect, mConnectAgent, mBridge, mFloorStdio, mFloorHTTP}
	if b.cfg.tray != "" {
		modes = append(modes, mConnectTray)
	}
	if b.cfg.mcpRemote != "" {
		modes = append(modes, mRemote)
	}
	for _, m := range rotate(modes, r) {
		if err := b.sessionOnce(ctx, m); err != nil {
			return fmt.Errorf("%s: %w%s", m, err, b.stderrOf(m))
		}
	}
	return nil
}

// stderrOf is the tail of what an HTTP target's process logged, for an
// error message (the stdio targets' is in their errors already).
func (b *bench) stderrOf(mode string) string {
	s := ""
	switch mode {
	case mBridge:
		s = "; the agent's stderr ends with:\n" + b.agent.stderr.String()
	case mFloorHTTP:
		s = "; mcpbench relay-http's stderr ends with:\n" + b.relay.stderr.String()
	}
	if e := b.main.proc.stderr.String(); e != "" {
		s += "\nthe server's stderr ends with:\n" + e
	}
	return s
}

func (b *bench) sessionOnce(ctx context.Context, mode string) error {
	s, pid, err := b.open(ctx, mode)
	if err != nil {
		return err
	}
	defer s.close()
	for range b.cfg.sz.RSSCalls {
		if _, err := s.call(ctx, "big", args1K()); err != nil {
			return err
		}
	}
	if pid != 0 {
		before, err := readMem(pid)
		if err != nil {
			return err
		}
		b.res.add("rss_peak", mode, mib(before.HWM))
		b.res.add("rss_anon", mode, mib(before.Anon))
		n, err := s.call(ctx, "big", argsN(b.cfg.sz.BigResult))
		if err != nil {
			return err
		}
		if n < b.cfg.sz.BigResult {
			return fmt.Errorf("the %d-byte result arrived as %d bytes", b.cfg.sz.BigResult, n)
		}
		after, err := readMem(pid)
		if err != nil {
			return err
		}
		b.res.add("rss_growth", mode, mib(after.HWM-before.HWM))
	}
	if mode == mConnectAgent || mode == mConnectTray {
		return nil // same relay as connect once initialized
	}
	for _, c := range []struct {
		fig         string
		args        string
		warm, calls int
	}{
		{"lat_1k", args1K(), 20, b.cfg.sz.Calls1K},
		{"lat_1m", args1M(), 2, b.cfg.sz.Calls1M},
	} {
		for range min(c.warm, c.calls) {
			if _, err := s.call(ctx, "big", c.args); err != nil {
				return err
			}
		}
		d := make([]float64, 0, c.calls)
		for range c.calls {
			t := time.Now()
			if _, err := s.call(ctx, "big", c.args); err != nil {
				return err
			}
			d = append(d, ms(time.Since(t)))
		}
		b.res.add(c.fig+"_p50", mode, percentile(d, 50))
		b.res.add(c.fig+"_p99", mode, percentile(d, 99))
	}
	return nil
}

// throughputPhase: tools/call with 1 KB results from c concurrent clients,
// each with its own session, one call in flight each: c HTTP clients (each
// with its own connection pool, as c host apps) for direct and the HTTP
// bridge, c processes for the stdio bridges.
func (b *bench) throughputPhase(ctx context.Context, r int) error {
	modes := []string{mDirect, mConnect, mBridge, mFloorStdio, mFloorHTTP}
	if b.cfg.mcpRemote != "" {
		modes = append(modes, mRemote)
	}
	for _, c := range b.cfg.sz.Levels {
		for _, m := range rotate(modes, r) {
			v, err := b.throughput(ctx, m, c)
			if err != nil {
				return fmt.Errorf("%s with %d clients: %w%s", m, c, err, b.stderrOf(m))
			}
			b.res.add("tput_"+strconv.Itoa(c), m, v)
		}
	}
	return nil
}

func (b *bench) throughput(ctx context.Context, mode string, c int) (float64, error) {
	var sessions []session
	switch mode {
	case mConnect:
		for _, s := range b.poolConnect[:c] {
			sessions = append(sessions, s)
		}
	case mRemote:
		for _, s := range b.poolRemote[:c] {
			sessions = append(sessions, s)
		}
	case mFloorStdio:
		for _, s := range b.poolFloor[:c] {
			sessions = append(sessions, s)
		}
	default:
		for range c {
			s, _, err := b.open(ctx, mode)
			if err != nil {
				return 0, err
			}
			defer s.close()
			sessions = append(sessions, s)
		}
	}
	var done atomic.Int64
	var stop atomic.Bool
	errs := make([]error, len(sessions))
	var wg sync.WaitGroup
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if _, err := s.call(ctx, "big", args1K()); err != nil {
					errs[i] = err
					return
				}
				done.Add(1)
			}
		}()
	}
	time.Sleep(b.cfg.sz.Warm)
	n0, t0 := done.Load(), time.Now()
	time.Sleep(b.cfg.sz.Window)
	n1, t1 := done.Load(), time.Now()
	stop.Store(true)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return float64(n1-n0) / t1.Sub(t0).Seconds(), nil
}

// coldPhase: a sign-in from nothing (a fresh home, so discovery, dynamic
// registration, PKCE login, code exchange and keychain writes), minus the
// browser's own time (browse.go): `mcpauth login`, `mcpauth connect URL`
// spawn → initialize result, and mcp-remote's spawn → initialize result
// with a fresh MCP_REMOTE_CONFIG_DIR.
func (b *bench) coldPhase(ctx context.Context, r int) error {
	modes := []string{mLogin, mConnect}
	if b.cfg.mcpRemote != "" {
		modes = append(modes, mRemote)
	}
	times := map[string][]float64{}
	for i := range b.cfg.sz.Cold {
		for _, m := range rotate(modes, r+i) {
			d, err := b.coldOnce(ctx, m)
			if err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
			times[m] = append(times[m], ms(d))
		}
	}
	for m, v := range times {
		b.res.add("cold", m, median(v))
	}
	return nil
}

func (b *bench) coldOnce(ctx context.Context, mode string) (time.Duration, error) {
	switch mode {
	case mLogin, mConnect:
		h, err := b.newHome("cold")
		if err != nil {
			return 0, err
		}
		defer func() { h.clearKeychain(); os.RemoveAll(h.dir) }()
		var total time.Duration
		if mode == mLogin {
			if _, err := h.mcpauth(ctx, "add", "fake", b.main.URL()); err != nil {
				return 0, err
			}
			t := time.Now()
			if _, err := h.mcpauth(ctx, "login", "fake"); err != nil {
				return 0, err
			}
			total = time.Since(t)
		} else {
			t := time.Now()
			s, err := startStdio(ctx, h.connectCmd(b.main.URL()))
			if err != nil {
				return 0, err
			}
			at, err := s.initialize(ctx)
			s.close()
			if err != nil {
				return 0, err
			}
			total = at.Sub(t)
		}
		bt, err := h.browserTime()
		return total - bt, err
	case mRemote:
		dir, err := os.MkdirTemp(b.tmp, "mcp-remote-cold-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		t := time.Now()
		s, err := startStdio(ctx, b.remoteCmd(b.main.URL(), dir, false))
		if err != nil {
			return 0, err
		}
		at, err := s.initialize(ctx)
		s.close()
		if err != nil {
			return 0, err
		}
		bt, err := browserTimeIn(filepath.Join(dir, "browser.log"))
		return at.Sub(t) - bt, err
	}
	panic("no cold login for " + mode)
}

func browserTimeIn(log string) (time.Duration, error) {
	h := &home{browserLog: log}
	return h.browserTime()
}

// refreshPhase: how many refreshes the authorization server sees when N
// processes (or N HTTP bridge clients) meet one expired token.
//   - "expired": the stored token expired (the short server's tokens
//     live ShortTTL); N bridges start at once, each initializes and calls
//     a tool. mcpauth connect without an agent (each process refreshes
//     in-process, under the per-server file lock), and mcp-remote signed
//     in with its own OAuth (its token file shared by the N processes).
//   - "revoked": N running sessions hold a token the server then treats
//     as expired (fakeas ExpireAccessTokens); all call a tool at once, get
//     401 and retry.
func (b *bench) refreshPhase(ctx context.Context, r int) error {
	n := b.cfg.sz.Processes
	// Expired in store, N connect processes starting together.
	time.Sleep(time.Until(b.shortUsed.Add(b.cfg.sz.ShortTTL + 100*time.Millisecond)))
	before, err := b.short.Stats()
	if err != nil {
		return err
	}
	err = b.together(ctx, n, func(ctx context.Context) (session, error) {
		s, err := startStdio(ctx, b.noAgent.connectCmd("short"))
		if err != nil {
			return nil, err
		}
		return s, nil
	}, nil)
	b.shortUsed = time.Now()
	if err != nil {
		return fmt.Errorf("connect, stored token expired: %w", err)
	}
	after, err := b.short.Stats()
	if err != nil {
		return err
	}
	b.res.add("refresh_expired", mConnect, float64(after.Refreshes-before.Refreshes))

	if b.cfg.mcpRemote != "" {
		if err := b.remoteRefresh(ctx, n); err != nil {
			return err
		}
	}

	// A server-side expiry while N sessions run.
	for _, m := range []string{mConnect, mBridge} {
		var before fakeas.Stats
		err := b.together(ctx, n, func(ctx context.Context) (session, error) {
			if m == mBridge {
				return newHTTPSession(b.bridgeURL("refresh"), "Bearer "+b.key), nil
			}
			return startStdio(ctx, b.noAgent.connectCmd("refresh"))
		}, func() error {
			var err error
			if before, err = b.refresh.Stats(); err != nil {
				return err
			}
			return b.refresh.ExpireAccessTokens()
		})
		if err != nil {
			return fmt.Errorf("%s, server-side expiry: %w", m, err)
		}
		after, err := b.refresh.Stats()
		if err != nil {
			return err
		}
		b.res.add("refresh_revoked", m, float64(after.Refreshes-before.Refreshes))
	}
	return nil
}

// remoteRefresh is the "expired" case for mcp-remote: N processes that
// share one mcp-remote sign-in to the short server start at once after its
// token expired. The first round signs in first (mcp-remote's own OAuth).
// It counts every refresh request the server gets (successful or a replay
// of a rotated refresh token) and the new logins they lead to.
func (b *bench) remoteRefresh(ctx context.Context, n int) error {
	if b.mrOAuth == "" {
		dir, err := os.MkdirTemp(b.tmp, "mcp-remote-oauth-")
		if err != nil {
			return err
		}
		s, err := startStdio(ctx, b.remoteCmd(b.short.URL(), dir, false))
		if err == nil {
			_, err = s.initialize(ctx)
			s.close()
		}
		if err != nil {
			return fmt.Errorf("mcp-remote could not sign in to the short server: %w", err)
		}
		b.mrOAuth, b.mrShortUsed = dir, time.Now()
	}
	time.Sleep(time.Until(b.mrShortUsed.Add(b.cfg.sz.ShortTTL + 100*time.Millisecond)))
	before, err := b.short.Stats()
	if err != nil {
		return err
	}
	var failed atomic.Int64
	cctx, cancel := context.WithTimeout(ctx, b.cfg.sz.RemoteWait)
	defer cancel()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := startStdio(cctx, b.remoteCmd(b.short.URL(), b.mrOAuth, false))
			if err == nil {
				if _, err = s.initialize(cctx); err == nil {
					_, err = s.call(cctx, "big", args1K())
				}
				s.close()
			}
			if err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	b.mrShortUsed = time.Now()
	after, err := b.short.Stats()
	if err != nil {
		return err
	}
	b.res.add("refresh_expired", mRemote, float64(after.Refreshes-before.Refreshes+after.ReuseDetected-before.ReuseDetected))
	b.res.add("refresh_expired_ok", mRemote, float64(after.Refreshes-before.Refreshes))
	b.res.add("refresh_expired_reuse", mRemote, float64(after.ReuseDetected-before.ReuseDetected))
	b.res.add("refresh_expired_logins", mRemote, float64(after.Authorizations-before.Authorizations))
	b.res.add("refresh_expired_failed", mRemote, float64(failed.Load()))
	return nil
}

// together opens n sessions (initialize and one call each), then, after
// between (if any), has all of them call a tool at the same moment, and
// closes them. With between nil the n sessions start at the same moment.
func (b *bench) together(ctx context.Context, n int, mk func(context.Context) (session, error), between func() error) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	sessions := make([]session, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := mk(ctx)
			if err != nil {
				errs[i] = err
				return
			}
			sessions[i] = s
			if _, err = s.initialize(ctx); err == nil {
				_, err = s.call(ctx, "big", args1K())
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	defer func() {
		for _, s := range sessions {
			if s != nil {
				s.close()
			}
		}
	}()
	if err := errors.Join(errs...); err != nil || between == nil {
		return err
	}
	if err := between(); err != nil {
		return err
	}
	gate := make(chan struct{})
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			_, errs[i] = s.call(ctx, "big", args1K())
		}()
	}
	close(gate)
	wg.Wait()
	return errors.Join(errs...)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(v []float64) float64 { return percentile(v, 50) }

// percentile is the nearest-rank percentile of v.
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if p == 50 && len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	i := int(p/100*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}
