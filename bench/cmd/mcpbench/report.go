package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// report is what a run found, ready to be written.
type report struct {
	b       *bench
	machine []string // lines
	rows    []row    // the figures, one per line of the main table
	targets []target
	details []detail
}

// row is one figure for the four targets. fig/modes name the results; a
// missing value prints as "–".
type row struct {
	label  string
	unit   string
	fig    string
	modes  [4]string // direct, connect, HTTP bridge, mcp-remote; "" for n/a
	higher bool      // a higher value is better (throughput)
}

type target struct {
	what, goal, got string
	pass            bool
	missing         bool
}

type detail struct{ label, value, note string }

func (b *bench) report() *report {
	rep := &report{b: b}
	rep.machine = machineLines(b)
	rep.rows = []row{
		{"spawn → initialize result, warm keychain", "ms", "spawn", [4]string{mDirect, mConnect, mBridge, mRemote}, false},
		{"cold login, browser excluded", "ms", "cold", [4]string{"", mConnect, "", mRemote}, false},
		{"tools/call 1 KB result, p50", "ms", "lat_1k_p50", [4]string{mDirect, mConnect, mBridge, mRemote}, false},
		{"tools/call 1 KB result, p99", "ms", "lat_1k_p99", [4]string{mDirect, mConnect, mBridge, mRemote}, false},
		{"tools/call 1 MB result, p50", "ms", "lat_1m_p50", [4]string{mDirect, mConnect, mBridge, mRemote}, false},
		{"tools/call 1 MB result, p99", "ms", "lat_1m_p99", [4]string{mDirect, mConnect, mBridge, mRemote}, false},
	}
	for _, c := range b.cfg.sz.Levels {
		rep.rows = append(rep.rows, row{fmt.Sprintf("throughput, %d concurrent", c), "calls/s", "tput_" + strconv.Itoa(c),
			[4]string{mDirect, mConnect, mBridge, mRemote}, true})
	}
	rep.rows = append(rep.rows,
		row{"bridge peak RSS (VmHWM) after initialize + 1 KB calls", "MiB", "rss_peak", [4]string{"", mConnect, mBridge, mRemote}, false},
		row{"RSS growth while a 10 MB result streams through", "MiB", "rss_growth", [4]string{"", mConnect, mBridge, mRemote}, false},
		row{fmt.Sprintf("refreshes the AS sees: %d processes meet a stored token that expired", b.cfg.sz.Processes), "", "refresh_expired",
			[4]string{"", mConnect, "", mRemote}, false},
		row{fmt.Sprintf("refreshes the AS sees: %d running sessions meet a server-side expiry", b.cfg.sz.Processes), "", "refresh_revoked",
			[4]string{"", mConnect, mBridge, ""}, false},
	)
	rep.targets = rep.evaluate()
	rep.details = rep.collectDetails()
	return rep
}

func (rep *report) get(fig, mode string) (float64, bool) {
	if mode == "" {
		return 0, false
	}
	return rep.b.res.get(fig, mode)
}

func (rep *report) evaluate() []target {
	var ts []target
	add := func(what, goal string, pass bool, got string, have bool) {
		ts = append(ts, target{what: what, goal: goal, got: got, pass: pass && have, missing: !have})
	}
	// Warm spawn.
	for _, m := range []string{mConnect, mConnectAgent} {
		v, ok := rep.get("spawn", m)
		add(modeName(m)+": warm spawn → initialize", "≤ 30 ms", v <= 30, fmtMS(v), ok)
	}
	for _, rm := range []struct{ mode, remote, what string }{
		{mConnect, mRemote, "started with `node …/proxy.js`"},
		{mConnectAgent, mRemote, "started with `node …/proxy.js`"},
		{mConnect, mRemoteNpx, "started with `npx mcp-remote`, as its README configures it"},
	} {
		if r, ok := rep.get("spawn", rm.remote); ok {
			v, ok2 := rep.get("spawn", rm.mode)
			add(modeName(rm.mode)+" vs mcp-remote "+rm.what+": warm spawn → initialize", "≥ 25× faster", ok2 && r/v >= 25,
				fmt.Sprintf("%.1f× faster", r/v), ok2)
		}
	}
	for _, m := range []string{mLogin, mConnect} {
		v, ok := rep.get("cold", m)
		add(modeName(m)+": cold login, browser excluded", "≤ 100 ms", v <= 100, fmtMS(v), ok)
	}
	v, ok := rep.get("rss_peak", mConnect)
	add("connect: peak RSS", "≤ 15 MiB", v <= 15, fmtMiB(v), ok)
	v, ok = rep.get("rss_peak", mConnectAgent)
	add("connect (agent running): peak RSS", "≤ 15 MiB", v <= 15, fmtMiB(v), ok)
	v, ok = rep.get("rss_peak", mBridge)
	add("headless agent (HTTP bridge): peak RSS after a session", "≤ 30 MiB", v <= 30, fmtMiB(v), ok)
	v, ok = rep.get("agent_load_rss", mAgent)
	add("headless agent: peak RSS after a whole round (64 clients, 10 MB)", "≤ 30 MiB", v <= 30, fmtMiB(v), ok)
	d, okd := rep.get("lat_1k_p50", mDirect)
	for _, m := range []string{mConnect, mBridge} {
		v, ok := rep.get("lat_1k_p50", m)
		add(modeName(m)+"/direct: 1 KB p50 latency", "≤ 1.05", v/d <= 1.05, fmt.Sprintf("%.2f", v/d), ok && okd)
	}
	top := rep.b.cfg.sz.Levels[len(rep.b.cfg.sz.Levels)-1]
	fig := "tput_" + strconv.Itoa(top)
	d, okd = rep.get(fig, mDirect)
	for _, m := range []string{mConnect, mBridge} {
		v, ok := rep.get(fig, m)
		add(fmt.Sprintf("%s/direct: throughput at %d concurrent", modeName(m), top), "≥ 0.95", v/d >= 0.95, fmt.Sprintf("%.2f", v/d), ok && okd)
	}
	for _, m := range []string{mConnect, mBridge} {
		v, ok := rep.get("rss_growth", m)
		add(modeName(m)+": RSS growth, 10 MB result", "< 2 MiB", v < 2, fmtMiB(v), ok)
	}
	for _, c := range []struct{ fig, mode, what string }{
		{"refresh_expired", mConnect, "connect: refreshes, %d processes meet a stored expired token"},
		{"refresh_revoked", mConnect, "connect: refreshes, %d sessions meet a server-side expiry"},
		{"refresh_revoked", mBridge, "HTTP bridge: refreshes, %d clients meet a server-side expiry"},
	} {
		r := rep.b.res.Values[c.fig][c.mode]
		worst := 0.0
		for _, x := range r {
			worst = math.Max(worst, x)
		}
		add(fmt.Sprintf(c.what, rep.b.cfg.sz.Processes), "1", len(r) > 0 && worst == 1 && slicesAll(r, 1),
			fmt.Sprintf("%s (every round)", fmtCount(worst)), len(r) > 0)
	}
	return ts
}

func slicesAll(v []float64, x float64) bool {
	for _, y := range v {
		if y != x {
			return false
		}
	}
	return true
}

func (rep *report) collectDetails() []detail {
	var ds []detail
	add := func(label, fig, mode string, f func(float64) string, note string) {
		if v, ok := rep.get(fig, mode); ok {
			value := f(v)
			if lo, hi, n := rep.b.res.spread(fig, mode); n > 1 && lo != hi {
				value += fmt.Sprintf(" (%s–%s)", f(lo), f(hi))
			}
			ds = append(ds, detail{label, value, note})
		}
	}
	add("connect with `mcpauth agent` running: warm spawn → initialize", "spawn", mConnectAgent, fmtMS, "the token comes over the control socket instead of the keychain")
	add("mcp-remote started with `npx mcp-remote` (as its README configures it)", "spawn", mRemoteNpx, fmtMS, "npx resolves the installed package first")
	add("`mcpauth login` in a fresh home, browser excluded", "cold", mLogin, fmtMS, "`mcpauth add` untimed")
	add("connect: peak RSS just after the initialize result", "spawn_rss", mConnect, fmtMiB, "VmHWM")
	add("connect with the agent running: same", "spawn_rss", mConnectAgent, fmtMiB, "")
	add("mcp-remote: same", "spawn_rss", mRemote, fmtMiB, "")
	add("connect with the agent running: peak RSS after initialize + 1 KB calls", "rss_peak", mConnectAgent, fmtMiB, "")
	add("connect: private (RssAnon) part of that RSS", "rss_anon", mConnect, fmtMiB, "the rest is the binary's and libraries' pages, shared by every process")
	add("headless agent: private part", "rss_anon", mBridge, fmtMiB, "")
	add("mcp-remote: private part", "rss_anon", mRemote, fmtMiB, "")
	add("headless agent, idle, 0.3 s after start", "agent_idle_rss", mAgent, fmtMiB, "VmHWM")
	add("headless agent after a whole round", "agent_load_rss", mAgent, fmtMiB, "VmHWM: 64 concurrent clients, 10 MB and 1 MB results")
	add("mcp-remote, stored token expired: refresh grants that succeeded", "refresh_expired_ok", mRemote, fmtCount, "")
	add("mcp-remote, stored token expired: replays of a rotated refresh token", "refresh_expired_reuse", mRemote, fmtCount, "the AS revokes the grant on each (reuse detection)")
	add("mcp-remote, stored token expired: new logins", "refresh_expired_logins", mRemote, fmtCount, "authorization requests the AS saw")
	add("mcp-remote, stored token expired: processes that failed", "refresh_expired_failed", mRemote, fmtCount, "")
	return ds
}

func modeName(m string) string {
	switch m {
	case mDirect:
		return "direct"
	case mConnect:
		return "connect"
	case mConnectAgent:
		return "connect (agent running)"
	case mConnectTray:
		return "connect in mcpauth-tray"
	case mBridge:
		return "HTTP bridge"
	case mRemote:
		return "mcp-remote"
	case mRemoteNpx:
		return "npx mcp-remote"
	case mLogin:
		return "mcpauth login"
	case mFloorStdio:
		return "floor: stdio relay"
	case mFloorHTTP:
		return "floor: HTTP proxy"
	}
	return m
}

func fmtMS(v float64) string {
	switch {
	case v < 1:
		return fmt.Sprintf("%.3f ms", v)
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

func fmtMiB(v float64) string { return fmt.Sprintf("%.1f MiB", v) }

func fmtCount(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func (r row) format(v float64) string {
	switch r.unit {
	case "ms":
		return fmtMS(v)
	case "MiB":
		return fmtMiB(v)
	case "calls/s":
		return fmt.Sprintf("%.0f/s", v)
	}
	return fmtCount(v)
}

func ratio(a, b float64, okA, okB bool) string {
	if !okA || !okB || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// missingSamples lists the figures a smoke run must have produced.
func (rep *report) missingSamples() []string {
	var missing []string
	for _, r := range rep.rows {
		for _, m := range r.modes {
			if m == "" || (m == mRemote && rep.b.cfg.mcpRemote == "") {
				continue
			}
			if _, ok := rep.get(r.fig, m); !ok {
				missing = append(missing, r.fig+"/"+m)
			}
		}
	}
	// The tray comparison, when it was asked for: both rows filled.
	if rep.b.cfg.tray != "" {
		for _, fm := range [][2]string{
			{"version", "mcpauth"}, {"version", "mcpauth-tray"},
			{"spawn", mConnectTray}, {"rss_peak", mConnectTray}, {"rss_anon", mConnectTray}, {"rss_anon", mConnect},
		} {
			if _, ok := rep.get(fm[0], fm[1]); !ok {
				missing = append(missing, fm[0]+"/"+fm[1])
			}
		}
	}
	return missing
}

func (rep *report) markdown() []byte {
	var w bytes.Buffer
	b := rep.b
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	p("# Benchmarks\n\n")
	p("Generated by `make bench` (bench/run.sh → bench/cmd/mcpbench) on %s; do not edit, run it again.", b.started.Format("2006-01-02 15:04 MST"))
	if b.cfg.smoke {
		p(" **SMOKE RUN: one short iteration, the figures mean nothing.**")
	}
	p("\n\n")
	for _, l := range rep.machine {
		p("- %s\n", l)
	}
	p("\nThe same raw JSON-RPC client (bench/cmd/mcpbench/rpc.go) against the same protected MCP server " +
		"(test/fakeas: mcp-go's Streamable HTTP server behind a bearer-token check, on loopback, in a process of its own: `mcpbench serve`), signed in, keychain warm:\n\n" +
		"1. **direct**: the client holds the token itself (`mcpauth token`) and speaks Streamable HTTP to the server, no bridge;\n" +
		"2. **connect**: through `mcpauth connect NAME` over stdio (no agent running: the agent code runs in-process);\n" +
		"3. **HTTP bridge**: through `mcpauth agent`'s loopback bridge, `http://127.0.0.1:PORT/servers/NAME/mcp` with a local key;\n")
	p("4. **mcp-remote** %s: `node …/mcp-remote/dist/proxy.js URL --header-file F` with `Authorization: Bearer TOKEN` in F, over stdio.\n\n", remoteVersion(b))
	p("Every figure is the median of %d rounds; inside a round the targets are measured one after the other, in an order that rotates from round to round. ", b.cfg.sz.Rounds)
	p("Ratios are value ÷ (1) and value ÷ (4): below 1 is better for times and memory, above 1 for throughput. " +
		"Every round's value is in benchmarks.json.\n\n")
	p("![benchmarks](benchmarks.png)\n\n")

	p("## Targets\n\n| figure | target | measured | |\n|---|---|---|---|\n")
	for _, t := range rep.targets {
		verdict := "**miss**"
		switch {
		case t.missing:
			verdict, t.got = "not measured", "–"
		case t.pass:
			verdict = "pass"
		}
		p("| %s | %s | %s | %s |\n", t.what, t.goal, t.got, verdict)
	}

	p("\n## Figures\n\n| figure | (1) direct | (2) connect | (3) HTTP bridge | (4) mcp-remote | (2)÷(1) | (3)÷(1) | (2)÷(4) | (3)÷(4) |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rep.rows {
		var vals [4]float64
		var oks [4]bool
		cells := make([]string, 4)
		for i, m := range r.modes {
			vals[i], oks[i] = rep.get(r.fig, m)
			cells[i] = "–"
			if oks[i] {
				cells[i] = r.format(vals[i])
			}
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.label, cells[0], cells[1], cells[2], cells[3],
			ratio(vals[1], vals[0], oks[1], oks[0]), ratio(vals[2], vals[0], oks[2], oks[0]),
			ratio(vals[1], vals[3], oks[1], oks[3]), ratio(vals[2], vals[3], oks[2], oks[3]))
	}
	p("\n## Floors: the extra hop alone\n\n" +
		"What a bridge that does nothing but relay costs here (relay.go): `mcpbench relay-stdio` (stdin → POST → stdout, a static token, " +
		"nothing checked) and `mcpbench relay-http` (httputil.ReverseProxy adding a static token). A bridge can't beat its floor; the ratio is what mcpauth adds.\n\n" +
		"| figure | (1) direct | floor: stdio relay | (2) connect | (2)÷floor | floor÷(1) | floor: HTTP proxy | (3) HTTP bridge | (3)÷floor | floor÷(1) |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rep.rows {
		if !slices.Contains([]string{"spawn", "lat_1k_p50", "lat_1k_p99", "lat_1m_p50", "rss_peak", "rss_growth"}, r.fig) && !strings.HasPrefix(r.fig, "tput_") {
			continue
		}
		cell := func(m string) (string, float64, bool) {
			v, ok := rep.get(r.fig, m)
			if !ok {
				return "–", 0, false
			}
			return r.format(v), v, true
		}
		dc, d, dok := cell(mDirect)
		fs, f1, ok1 := cell(mFloorStdio)
		cs, c, okc := cell(mConnect)
		fh, f2, ok2 := cell(mFloorHTTP)
		bs, bv, okb := cell(mBridge)
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.label, dc, fs, cs, ratio(c, f1, okc, ok1), ratio(f1, d, ok1, dok),
			fh, bs, ratio(bv, f2, okb, ok2), ratio(f2, d, ok2, dok))
	}
	p("\n## What linking the tray costs every process\n\n" +
		"Since the split, `mcpauth` (what host apps spawn for `connect`, and the headless `mcpauth agent`) links neither fyne (the tray) " +
		"nor mcp-go's server, and is built static (CGO_ENABLED=0); `mcpauth tray` and `mcpauth demo` run `mcpauth-tray`, which has the tray " +
		"and the demo server (test/fakeas) and accepts every mcpauth command too. The table runs the same `connect NAME` " +
		"(same home, same keychain) in both binaries: what every bridge process would pay if the tray and the demo were still linked in.\n\n" +
		"| binary | size | `version` | connect: spawn → initialize | connect: peak RSS | of which private |\n|---|---|---|---|---|---|\n")
	for _, v := range []struct{ name, mode, bin, path string }{
		{"`mcpauth`", mConnect, "mcpauth", b.cfg.mcpauth},
		{"`mcpauth-tray`", mConnectTray, "mcpauth-tray", b.cfg.tray},
	} {
		if v.path == "" {
			continue
		}
		size := "–"
		if fi, err := os.Stat(v.path); err == nil {
			size = fmt.Sprintf("%.0f MB", float64(fi.Size())/1e6)
		}
		cell := func(fig, mode string, f func(float64) string) string {
			if x, ok := rep.get(fig, mode); ok {
				return f(x)
			}
			return "–"
		}
		p("| %s | %s | %s | %s | %s | %s |\n", v.name, size, cell("version", v.bin, fmtMS), cell("spawn", v.mode, fmtMS),
			cell("rss_peak", v.mode, fmtMiB), cell("rss_anon", v.mode, fmtMiB))
	}
	p("\n## More figures\n\nMedians of the rounds, with the smallest and largest round in brackets where they differ.\n\n| figure | value | note |\n|---|---|---|\n")
	for _, d := range rep.details {
		p("| %s | %s | %s |\n", d.label, d.value, d.note)
	}
	p("\n%s", methodNotes(b))
	if b.cfg.notes != "" {
		if notes, err := os.ReadFile(b.cfg.notes); err == nil {
			p("\n%s", notes)
		}
	}
	return w.Bytes()
}

func methodNotes(b *bench) string {
	sz := b.cfg.sz
	return fmt.Sprintf(`## How each figure is measured

- **spawn → initialize result**: from just before the process is started (exec) to the moment the
  initialize result is read from its stdout; %d per target and round. direct and the HTTP bridge have no
  process to start (the agent runs already): theirs is a new HTTP client, with a new connection, to the
  initialize result. The token is in the keychain (gnome-keyring over D-Bus) and the server signed in.
- **cold login, browser excluded**: a fresh MCPAUTH_HOME (or MCP_REMOTE_CONFIG_DIR): discovery, dynamic
  registration, the PKCE login, the code exchange and the keychain writes; for connect and mcp-remote up to
  the initialize result. $BROWSER is `+"`mcpbench browse`"+`, which logs when it started and when it
  followed the redirect to the client's loopback callback; that interval (a real browser, the user, the
  authorization page) is subtracted. The browser's exec and the callback's handling stay counted.
- **latency**: sequential tools/call of the fakeas "big" tool (a text result of 1 KB or 1 MB) on one
  initialized session, after a warm-up; %d and %d calls per round; p50 and p99 per round.
- **throughput**: c clients, each with its own session and one call in flight, calling for %v after a
  %v warm-up; c HTTP clients with their own connection pools (direct, HTTP bridge) or c bridge processes
  (connect, mcp-remote), started once per run.
- **peak RSS**: VmHWM in /proc/PID/status of the bridge process (for the HTTP bridge: the agent, restarted
  every round) after initialize and %d calls with 1 KB results. **RSS growth**: VmHWM after one call
  with a %d MB result, minus VmHWM before it.
- **refreshes**: the fake authorization server's count of refresh-token grants (for mcp-remote also the
  replays of rotated refresh tokens it rejected). "Stored token expired": the server's tokens live %v; after
  that, %d bridges start at the same moment, each initializes and calls a tool. "Server-side expiry": %d
  running sessions, then the server expires its tokens and all call a tool at the same moment (each gets a 401).
- The benchmark client is a small raw JSON-RPC client (rpc.go) for every target, so that client-side
  costs are the same few microseconds everywhere: it never decodes a result, only checks it is one.
- The server, the client and the bridges share the machine's %d cores, as on a user's machine: a bridge's
  CPU time is taken from the client and the server, which is what the throughput ratio shows.
`, sz.Spawns, sz.Calls1K, sz.Calls1M, sz.Window, sz.Warm, sz.RSSCalls, sz.BigResult>>20, sz.ShortTTL, sz.Processes, sz.Processes, runtime.NumCPU())
}

func remoteVersion(b *bench) string {
	if b.cfg.mcpRemote == "" {
		return "(not measured)"
	}
	data, err := os.ReadFile(filepath.Join(filepath.Dir(b.cfg.mcpRemote), "..", "package.json"))
	if err != nil {
		return ""
	}
	var pj struct{ Version string }
	json.Unmarshal(data, &pj)
	return pj.Version
}

func machineLines(b *bench) []string {
	var lines []string
	cpu := "?"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(string(data))
		if len(f) > 1 {
			if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
				mem = fmt.Sprintf(", %.0f GiB RAM", kb/(1<<20))
			}
		}
	}
	osName := ""
	if data, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				osName = strings.Trim(v, `"`)
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	load, _ := os.ReadFile("/proc/loadavg")
	lines = append(lines, fmt.Sprintf("Machine: %s, %d cores%s; %s, Linux %s; load average at the end: %s",
		cpu, runtime.NumCPU(), mem, osName, strings.TrimSpace(string(kernel)), strings.Join(strings.Fields(string(load))[:3], " ")))
	ver := strings.TrimSpace(b.cfg.versions)
	if ver == "" {
		out, _ := exec.Command(b.cfg.mcpauth, "version").Output()
		ver = strings.TrimSpace(string(out)) + ", " + runtime.Version()
	}
	lines = append(lines, "Versions: "+ver)
	lines = append(lines, fmt.Sprintf("Run: %d rounds, %s", b.cfg.sz.Rounds, time.Since(b.started).Round(time.Second)))
	return lines
}

func (rep *report) write(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, "benchmarks.md"), rep.markdown(), 0o644); err != nil {
		return err
	}
	png, err := rep.plot()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "benchmarks.png"), png, 0o644); err != nil {
		return err
	}
	rep.b.res.mu.Lock()
	data, err := json.MarshalIndent(struct {
		Started time.Time                       `json:"started"`
		Smoke   bool                            `json:"smoke"`
		Sizes   sizes                           `json:"sizes"`
		Values  map[string]map[string][]float64 `json:"values"`
	}{rep.b.started, rep.b.cfg.smoke, rep.b.cfg.sz, rep.b.res.Values}, "", "  ")
	rep.b.res.mu.Unlock()
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "benchmarks.json"), append(data, '\n'), 0o644)
}
