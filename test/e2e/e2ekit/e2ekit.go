// Package e2ekit is what the end-to-end test packages (test/e2e and its
// subpackages) share: building the mcpauth and fakebrowser binaries once in
// TestMain, the MCPAUTH_E2E gate, a home's environment, running mcpauth and
// capturing its output, running `mcpauth agent`, and the leak check that no
// token or key the test saw appears in any output or file.
//
// What is peculiar to one package (the tray's Xvfb, the bridges' MCP
// clients) stays in that package.
package e2ekit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mcpauth/agent"
	"mcpauth/keystore"
	"mcpauth/test/oidc"
)

// Built once by Main when MCPAUTH_E2E=1.
var (
	// MCPAuthBin is the mcpauth binary.
	MCPAuthBin string
	// FakeBrowserBin is test/fakebrowser's binary, for $BROWSER; empty
	// unless Main was asked for it.
	FakeBrowserBin string
	// BuildTray, set before Main, also builds cmd/mcpauth-tray beside
	// MCPAuthBin, where `mcpauth tray` finds it (cli.TrayBinary): a cgo
	// build of fyne, so only the tray's tests ask for it.
	BuildTray bool
	buildErr  error
)

// Enabled reports whether MCPAUTH_E2E=1.
func Enabled() bool { return os.Getenv("MCPAUTH_E2E") == "1" }

// Main is a package's TestMain: with MCPAUTH_E2E=1 it builds mcpauth (and
// fakebrowser, if fakebrowser) into a temporary directory named after
// tmpPrefix, runs the tests and exits. Without it every test skips (see
// Require). A build failure fails every test that calls Require.
func Main(m *testing.M, tmpPrefix string, fakebrowser bool) {
	if !Enabled() {
		os.Exit(m.Run()) // every test and benchmark skips
	}
	dir, err := os.MkdirTemp("", tmpPrefix)
	if err != nil {
		buildErr = err
		os.Exit(m.Run())
	}
	MCPAuthBin = filepath.Join(dir, "mcpauth")
	// mcpauth as `make build` ships it: static, without cgo.
	builds := []struct{ out, pkg string }{{MCPAuthBin, "mcpauth"}}
	if BuildTray {
		builds = append(builds, struct{ out, pkg string }{filepath.Join(dir, "mcpauth-tray"), "mcpauth/cmd/mcpauth-tray"})
	}
	if fakebrowser {
		FakeBrowserBin = filepath.Join(dir, "fakebrowser")
		builds = append(builds, struct{ out, pkg string }{FakeBrowserBin, "mcpauth/test/fakebrowser/cmd/fakebrowser"})
	}
	for _, b := range builds {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		if b.pkg == "mcpauth" {
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
			break
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Require skips unless MCPAUTH_E2E=1. When it is set, every missing
// prerequisite is fatal: CI must never pass by skipping. It checks the
// build and the D-Bus session; RequireSecretTool and RequireNode check
// more.
func Require(tb testing.TB) {
	tb.Helper()
	if !Enabled() {
		tb.Skip("end-to-end test: run `make test` (it sets MCPAUTH_E2E=1 inside a D-Bus session with gnome-keyring unlocked; see scripts/test.sh)")
	}
	if buildErr != nil {
		tb.Fatalf("building the binaries: %v", buildErr)
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		tb.Fatal("MCPAUTH_E2E=1 but there is no D-Bus session bus: run inside dbus-run-session with gnome-keyring unlocked, as scripts/test.sh does")
	}
}

// RequireSecretTool fails unless secret-tool, an independent client of the
// keychain, is installed.
func RequireSecretTool(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("secret-tool"); err != nil {
		tb.Fatal("MCPAUTH_E2E=1 but secret-tool is missing: apt install libsecret-tools (scripts/deps.sh test)")
	}
}

// RequireNode fails unless test/oidc's oidc-provider server can run.
func RequireNode(tb testing.TB) {
	tb.Helper()
	if err := oidc.NodeAvailable(); err != nil {
		tb.Fatalf("MCPAUTH_E2E=1 but the oidc-provider server can't run: %v", err)
	}
}

// Env is this process's environment for mcpauth processes of home:
// MCPAUTH_HOME=home, BROWSER=the fake browser (if built), then extra.
// Any MCPAUTH_HOME, BROWSER or FAKEBROWSER_* of our own is dropped.
func Env(home string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "MCPAUTH_HOME" && k != "BROWSER" && !strings.HasPrefix(k, "FAKEBROWSER_") {
			env = append(env, kv)
		}
	}
	env = append(env, "MCPAUTH_HOME="+home)
	if FakeBrowserBin != "" {
		env = append(env, "BROWSER="+FakeBrowserBin)
	}
	return append(env, extra...)
}

// ClearKeychain deletes every keychain item of home, with secret-tool.
func ClearKeychain(home string) {
	exec.Command("secret-tool", "clear", "service", keystore.ServiceName(home)).Run()
}

// CmdTimeout bounds every mcpauth process Start runs.
const CmdTimeout = 60 * time.Second

// Result is one finished mcpauth process.
type Result struct {
	Args           []string
	Code           int
	Stdout, Stderr string
	Dur            time.Duration
}

// Proc is an mcpauth process started by Start.
type Proc struct {
	Cmd            *exec.Cmd
	cancel         context.CancelFunc
	stdout, stderr bytes.Buffer
	start          time.Time
	args           []string
}

// Start starts mcpauth ARGS with env, killed after CmdTimeout.
func Start(env []string, args ...string) (*Proc, error) {
	ctx, cancel := context.WithTimeout(context.Background(), CmdTimeout)
	p := &Proc{cancel: cancel, args: args}
	p.Cmd = exec.CommandContext(ctx, MCPAuthBin, args...)
	p.Cmd.Env = env
	p.Cmd.Stdout, p.Cmd.Stderr = &p.stdout, &p.stderr
	p.Cmd.WaitDelay = 5 * time.Second
	p.start = time.Now()
	if err := p.Cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start mcpauth %s: %v", strings.Join(args, " "), err)
	}
	return p, nil
}

// Wait waits for the process. The error is nil if it exited on its own,
// whatever its exit code (in Result.Code); the Result is filled in either
// way.
func (p *Proc) Wait() (Result, error) {
	defer p.cancel()
	err := p.Cmd.Wait()
	r := Result{Args: p.args, Stdout: p.stdout.String(), Stderr: p.stderr.String(), Dur: time.Since(p.start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.Code = ee.ExitCode()
	default:
		return r, err
	}
	return r, nil
}

// Run runs mcpauth ARGS with env to completion, as Start and Wait.
func Run(env []string, args ...string) (Result, error) {
	p, err := Start(env, args...)
	if err != nil {
		return Result{Args: args}, err
	}
	return p.Wait()
}

// SyncBuffer is a bytes.Buffer that a process may write while the test
// reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Agent is a running `mcpauth agent`.
type Agent struct {
	Cmd     *exec.Cmd
	Out     SyncBuffer // stdout and stderr
	home    string
	redact  func(string) string
	done    chan struct{}
	err     error
	stopped bool
}

// StartAgent starts `mcpauth agent ARGS...` for home with env, and waits
// (15 s at most) until ready says it answers. When the test ends it kills
// the agent if it still runs, then passes its output to record (for the
// leak check). redact makes the output safe for failure messages.
func StartAgent(tb testing.TB, home string, env []string, ready func() bool, record func(string), redact func(string) string, args ...string) *Agent {
	tb.Helper()
	a := &Agent{home: home, redact: redact, done: make(chan struct{})}
	a.Cmd = exec.Command(MCPAuthBin, append([]string{"agent"}, args...)...)
	a.Cmd.Env = env
	a.Cmd.Stdout, a.Cmd.Stderr = &a.Out, &a.Out
	if err := a.Cmd.Start(); err != nil {
		tb.Fatalf("start mcpauth agent: %v", err)
	}
	go func() { a.err = a.Cmd.Wait(); close(a.done) }()
	tb.Cleanup(func() {
		if !a.stopped { // the test failed part way: don't leave it running
			a.Cmd.Process.Kill()
			<-a.done
		}
		record(a.Out.String())
	})
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-a.done:
			a.stopped = true
			tb.Fatalf("mcpauth agent exited early (%v); output:\n%s", a.err, redact(a.Out.String()))
		default:
		}
		if ready() {
			return a
		}
		if time.Now().After(deadline) {
			tb.Fatalf("mcpauth agent did not answer within 15 s; output:\n%s", redact(a.Out.String()))
		}
	}
}

// Stop sends SIGTERM and checks that the agent exits 0 within 10 s, and
// leaves neither its control socket nor any process of the home behind.
func (a *Agent) Stop(tb testing.TB) {
	tb.Helper()
	a.stopped = true
	if err := a.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		tb.Fatalf("SIGTERM to the agent: %v", err)
	}
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
		a.Cmd.Process.Kill()
		<-a.done
		tb.Error("the agent did not exit within 10 s of SIGTERM")
	}
	if a.err != nil {
		tb.Errorf("the agent exited with %v after SIGTERM, want 0; output:\n%s", a.err, a.redact(a.Out.String()))
	}
	if _, err := os.Stat(agent.ControlSocketPath(a.home)); err == nil {
		tb.Error("the agent left its control socket behind")
	}
	if pids := ProcessesWithHome(a.home); len(pids) > 0 {
		tb.Errorf("processes with MCPAUTH_HOME=%s still run after the agent stopped: %v", a.home, pids)
	}
}

// ProcessesWithHome lists the pids whose environment holds
// MCPAUTH_HOME=home: the agent and anything it started ($BROWSER).
func ProcessesWithHome(home string) []string {
	want := []byte("\x00MCPAUTH_HOME=" + home + "\x00")
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && bytes.Contains(append([]byte{0}, env...), want) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// Record is what a test's processes printed and the secrets (tokens,
// keys) the test saw, for the leak check. It is safe for concurrent use.
type Record struct {
	mu      sync.Mutex
	outputs []output
	secrets map[string]bool
}

type output struct{ label, text string }

// AddSecret adds a value the leak check looks for; "" is ignored.
func (r *Record) AddSecret(v string) {
	if v == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.secrets == nil {
		r.secrets = map[string]bool{}
	}
	r.secrets[v] = true
}

// Output records text a process printed, under label ("mcpauth list
// (stdout)").
func (r *Record) Output(label, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outputs = append(r.outputs, output{label, text})
}

// longRun matches what may be a token or key we never saw (a refresh
// token, a code): Redact hides every such run along with the known
// secrets. oidc-provider's tokens and codes are 43 base64url characters.
var longRun = regexp.MustCompile(`[A-Za-z0-9_-]{40,}`)

// Redact hides every secret the test saw, and any long opaque string, so
// that failure messages are safe to print.
func (r *Record) Redact(text string) string {
	r.mu.Lock()
	for v := range r.secrets {
		text = strings.ReplaceAll(text, v, "[SECRET]")
	}
	r.mu.Unlock()
	return longRun.ReplaceAllString(text, "[REDACTED]")
}

// CheckLeaks fails the test if a secret appears in any recorded output or
// in any regular file under roots (sockets and all, the way `grep -r`
// would find it). what names the secrets in its messages ("a token"). It
// returns how many secrets it looked for.
func (r *Record) CheckLeaks(t testing.TB, what string, roots ...string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.outputs {
		for v := range r.secrets {
			if strings.Contains(o.text, v) {
				t.Errorf("LEAK: %s appears in the output of %s", what, o.label)
			}
		}
	}
	var files []string
	for _, root := range roots {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Errorf("leak check: %v", err)
			continue
		}
		for v := range r.secrets {
			if bytes.Contains(data, []byte(v)) {
				t.Errorf("LEAK: %s appears in the file %s", what, f)
			}
		}
	}
	return len(r.secrets)
}
