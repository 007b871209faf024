package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mcpauth/agent"
	"mcpauth/keystore"
)

// home is one MCPAUTH_HOME and the environment its processes run with:
// $BROWSER is `mcpbench browse`, which logs its own time (browse.go).
type home struct {
	b          *bench
	dir        string
	env        []string
	browserLog string
}

func (b *bench) newHome(name string) (*home, error) {
	dir, err := os.MkdirTemp(b.tmp, "home-"+name+"-")
	if err != nil {
		return nil, err
	}
	h := &home{b: b, dir: dir, browserLog: filepath.Join(dir, "browser.log")}
	h.env = childEnv("MCPAUTH_HOME="+dir, "BROWSER="+b.self+" browse", "MCPBENCH_BROWSER_LOG="+h.browserLog)
	b.homes = append(b.homes, h)
	return h, nil
}

// childEnv is this process's environment with kv set, and nothing of
// mcpauth's or mcp-remote's own.
func childEnv(kv ...string) []string {
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		switch {
		case k == "MCPAUTH_HOME", k == "BROWSER", k == "MCP_REMOTE_CONFIG_DIR", strings.HasPrefix(k, "MCPBENCH_"),
			strings.HasPrefix(k, "MCPAUTH_CPUPROFILE"), strings.HasPrefix(k, "MCPAUTH_MEMPROFILE"):
			continue
		}
		env = append(env, e)
	}
	return append(env, kv...)
}

// mcpauth runs a command to completion; it fails unless it exits 0.
func (h *home) mcpauth(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.b.cfg.mcpauth, args...)
	cmd.Env = h.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("mcpauth %s: %v\n%s", args[0], err, redact(stderr.String()))
	}
	return stdout.String(), nil
}

// signIn adds the server and logs in (the fake browser approves).
func (h *home) signIn(ctx context.Context, name, url string) error {
	if _, err := h.mcpauth(ctx, "add", name, url); err != nil {
		return err
	}
	_, err := h.mcpauth(ctx, "login", name)
	return err
}

// connectCmd is `mcpauth connect target` for this home.
func (h *home) connectCmd(target string) *exec.Cmd {
	cmd := exec.Command(h.b.cfg.mcpauth, "connect", target)
	cmd.Env = h.env
	return cmd
}

// clearKeychain deletes every keychain item of this home.
func (h *home) clearKeychain() {
	exec.Command("secret-tool", "clear", "service", keystore.ServiceName(h.dir)).Run()
}

// browserTime returns how long the last `mcpbench browse` of this home
// took from its start to following the redirect to the callback, and
// clears the log.
func (h *home) browserTime() (time.Duration, error) {
	data, err := os.ReadFile(h.browserLog)
	if err != nil {
		return 0, fmt.Errorf("the browser did not run: %w", err)
	}
	os.Remove(h.browserLog)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 2 {
		return 0, fmt.Errorf("bad browser log %q", lines[len(lines)-1])
	}
	t0, err0 := strconv.ParseInt(f[0], 10, 64)
	t1, err1 := strconv.ParseInt(f[1], 10, 64)
	if err0 != nil || err1 != nil {
		return 0, fmt.Errorf("bad browser log %q", lines[len(lines)-1])
	}
	return time.Duration(t1 - t0), nil
}

// agentProc is a running `mcpauth agent`.
type agentProc struct {
	cmd    *exec.Cmd
	bridge string // http://127.0.0.1:PORT
	stderr *tailBuffer
}

// startAgent runs `mcpauth agent --port 0` for h and waits until its
// control socket answers.
func (h *home) startAgent(ctx context.Context) (*agentProc, error) {
	cmd := exec.Command(h.b.cfg.mcpauth, "agent", "--port", "0")
	cmd.Env = h.env
	a := &agentProc{cmd: cmd, stderr: &tailBuffer{max: 8 << 10}}
	cmd.Stderr = a.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sock := agent.ControlSocketPath(h.dir)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, fmt.Errorf("the agent's control socket did not appear; its stderr:\n%s", a.stderr.String())
		}
	}
	out, err := h.mcpauth(ctx, "status", "--json")
	if err != nil {
		a.stop()
		return nil, err
	}
	var st struct {
		Running bool   `json:"running"`
		Bridge  string `json:"bridge"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || !st.Running || st.Bridge == "" {
		a.stop()
		return nil, fmt.Errorf("mcpauth status --json: no bridge in %q (%v)", out, err)
	}
	a.bridge = st.Bridge
	return a, nil
}

func (a *agentProc) pid() int { return a.cmd.Process.Pid }

func (a *agentProc) stop() error {
	a.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		a.cmd.Process.Kill()
		return fmt.Errorf("the agent did not stop within 10 s of SIGTERM")
	}
}

// procMem is a process's resident memory, from /proc/PID/status.
type procMem struct {
	RSS, HWM int64 // bytes: VmRSS now, VmHWM (the peak)
	Anon     int64 // RssAnon: private memory; the rest (the binary, libraries) is shared
}

func readMem(pid int) (procMem, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procMem{}, err
	}
	defer f.Close()
	var m procMem
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM" && k != "RssAnon") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return procMem{}, fmt.Errorf("bad %s line %q", k, sc.Text())
		}
		switch k {
		case "VmRSS":
			m.RSS = kb << 10
		case "VmHWM":
			m.HWM = kb << 10
		default:
			m.Anon = kb << 10
		}
	}
	if m.HWM == 0 {
		return m, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
	}
	return m, sc.Err()
}

// longRun matches what may be a token.
var longRun = regexp.MustCompile(`[A-Za-z0-9_.~+/-]{32,}`)

func redact(s string) string { return longRun.ReplaceAllString(s, "[REDACTED]") }
