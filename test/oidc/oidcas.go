// Package oidc runs a real OAuth 2.1 authorization server (oidc-provider from
// npm, see server.mjs) together with a small MCP resource server, for
// end-to-end tests.
//
// The server is a Node program in this directory; its dependencies are pinned
// in package-lock.json and installed with
//
//	npm ci --prefix test/oidc
//
// What the server does (all on one ephemeral 127.0.0.1 port):
//   - dynamic client registration (open), public native clients by default,
//     loopback redirect URIs match on any port (RFC 8252 §7.3);
//   - authorization code + PKCE (S256 only, required), RFC 9207 iss parameter;
//   - resource indicators (RFC 8707): the only known resource is MCPURL,
//     which is also the default; scopes "mcp" and "admin";
//   - refresh tokens for every client allowed the refresh_token grant,
//     rotated on every use, with reuse detection (reusing a rotated refresh
//     token revokes the whole grant);
//   - revocation and introspection endpoints;
//   - an interaction endpoint that auto-approves as account "demo-user", so a
//     browser that only follows redirects (cookies optional) completes login;
//   - MCPURL: Bearer-protected minimal MCP JSON-RPC (initialize, tools/list,
//     tools/call "whoami"); 401 carries
//     WWW-Authenticate: Bearer resource_metadata="<PRM URL>";
//   - /test/stats and /test/introspect helpers;
//   - with Options.Grants: the device flow and client credentials (the
//     MCP endpoint accepts client credentials tokens too).
package oidc

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure the server. The zero value is fine.
type Options struct {
	// AccessTokenTTL is the access token lifetime, rounded up to whole
	// seconds. Zero means one hour.
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the refresh token lifetime, rounded up to whole
	// seconds. Zero means 14 days.
	RefreshTokenTTL time.Duration
	// WebClientDefault makes a registration that omits application_type a
	// "web" client (oidc-provider's and RFC 7591's default). Web clients get
	// exact redirect URI matching, ports included. By default such a
	// registration is treated as application_type "native".
	WebClientDefault bool
	// Env holds extra KEY=VALUE pairs for the node process.
	Env []string

	// Grants enables the device authorization grant (RFC 8628) and client
	// credentials (RFC 6749 §4.4). Dynamic clients may then register for
	// the device grant; the verification URI's pages need a browser that
	// keeps cookies and submits forms (oidc-provider's CSRF protection).
	Grants bool
	// CCClientSecret, with Grants, adds the client credentials client
	// CCSecretClientID, authenticating with client_secret_basic.
	CCClientSecret string
	// CCClientJWKS, with Grants, adds the client credentials client
	// CCJWTClientID, authenticating with private_key_jwt (RFC 7523 §2.2)
	// with the keys of this JSON JWK Set (RFC 7517 §5).
	CCClientJWKS string
}

// The client credentials clients of Options.Grants.
const (
	CCSecretClientID = "mcpauth-cc-secret"
	CCJWTClientID    = "mcpauth-cc-jwt"
)

// AS is a running authorization server + MCP resource server.
type AS struct {
	// Issuer is the issuer identifier, http://127.0.0.1:PORT.
	Issuer string
	// MCPURL is the protected MCP endpoint and the only resource indicator
	// the server accepts.
	MCPURL string
	// ResourceMetadataURL is the RFC 9728 metadata URL of MCPURL.
	ResourceMetadataURL string
	// RSClientID and RSClientSecret authenticate (client_secret_basic) at the
	// real introspection endpoint; that client may introspect any token.
	RSClientID     string
	RSClientSecret string

	statsURL      string
	introspectURL string
}

// Stats counts what the server saw, from oidc-provider events.
type Stats struct {
	Registrations int `json:"registrations"`  // registration_create.success
	CodeExchanges int `json:"code_exchanges"` // grant.success, grant_type=authorization_code
	Refreshes     int `json:"refreshes"`      // grant.success, grant_type=refresh_token
	ReuseDetected int `json:"reuse_detected"` // grant.error "refresh token already used"
	Revocations   int `json:"revocations"`    // tokens destroyed by the revocation endpoint
	GrantsRevoked int `json:"grants_revoked"` // grant.revoked (revocation or reuse detection)
	Logins        int `json:"logins"`         // auto-approved login interactions
	// With Options.Grants: grant.success per grant type.
	ClientCredentials int `json:"client_credentials"`
	DeviceCodes       int `json:"device_codes"`
}

// Dir returns the directory holding server.mjs and package.json.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "test/oidc"
	}
	return filepath.Dir(file)
}

// NodeAvailable reports whether a usable node (>= 20.18, which has URL.parse)
// is on PATH and the npm dependencies are installed.
func NodeAvailable() error {
	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("node not found on PATH: %w", err)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return fmt.Errorf("node --version: %w", err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return fmt.Errorf("cannot parse node version %q", v)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return fmt.Errorf("cannot parse node version %q", v)
	}
	if major < 20 || (major == 20 && minor < 18) {
		return fmt.Errorf("node v%s is too old: oidc-provider needs >= 20.18 (22 LTS recommended)", v)
	}
	return depsInstalled()
}

func depsInstalled() error {
	if _, err := os.Stat(filepath.Join(Dir(), "node_modules", "oidc-provider", "package.json")); err != nil {
		return errors.New("test/oidc/node_modules is missing: run `npm ci --prefix test/oidc`")
	}
	return nil
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// firstLine sends the first complete line written to it and discards the rest.
type firstLine struct {
	mu   sync.Mutex
	buf  []byte
	ch   chan<- []byte
	sent bool
}

func (f *firstLine) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sent {
		return len(p), nil
	}
	f.buf = append(f.buf, p...)
	if i := bytes.IndexByte(f.buf, '\n'); i >= 0 {
		f.ch <- bytes.TrimSpace(f.buf[:i])
		f.sent = true
		f.buf = nil
	} else if len(f.buf) > 1<<20 {
		f.sent = true
		f.buf = nil
	}
	return len(p), nil
}

func seconds(d, def time.Duration) int {
	if d <= 0 {
		d = def
	}
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

func randomSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Start runs `node server.mjs` on an ephemeral loopback port, waits (at most
// 30 s) until it is ready and stops it when the test ends.
func Start(t testing.TB, opts Options) *AS {
	t.Helper()
	if err := NodeAvailable(); err != nil {
		t.Fatalf("oidc test AS: %v", err)
	}
	dir := Dir()
	secret := randomSecret()
	env := make([]string, 0, len(os.Environ())+8)
	for _, kv := range os.Environ() {
		// oidc-provider logs through the "debug" module; keep it quiet so that
		// nothing sensitive can reach the logs.
		if strings.HasPrefix(kv, "DEBUG=") || strings.HasPrefix(kv, "NODE_ENV=") {
			continue
		}
		env = append(env, kv)
	}
	appType := "native"
	if opts.WebClientDefault {
		appType = "web"
	}
	env = append(env,
		"PORT=0",
		"ACCESS_TOKEN_TTL="+strconv.Itoa(seconds(opts.AccessTokenTTL, time.Hour)),
		"REFRESH_TOKEN_TTL="+strconv.Itoa(seconds(opts.RefreshTokenTTL, 14*24*time.Hour)),
		"RS_CLIENT_SECRET="+secret,
		"CLIENT_DEFAULT_APPLICATION_TYPE="+appType,
		"EXIT_ON_STDIN_EOF=1",
	)
	if opts.Grants {
		env = append(env, "GRANTS=1", "CC_CLIENT_SECRET="+opts.CCClientSecret, "CC_CLIENT_JWKS="+opts.CCClientJWKS)
	}
	env = append(env, opts.Env...)

	cmd := exec.Command("node", "server.mjs")
	cmd.Dir = dir
	cmd.Env = env
	stderr := &tail{max: 8 << 10}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe() // closed when we exit: the server then exits too
	if err != nil {
		t.Fatalf("oidc test AS: %v", err)
	}
	readyLine := make(chan []byte, 1)
	cmd.Stdout = &firstLine{ch: readyLine}
	if err := cmd.Start(); err != nil {
		t.Fatalf("oidc test AS: start node: %v", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("oidc test AS stderr (tail):\n%s", stderr.String())
		}
	})

	type ready struct {
		Issuer           string `json:"issuer"`
		MCP              string `json:"mcp"`
		ResourceMetadata string `json:"resource_metadata"`
		Stats            string `json:"stats"`
		Introspect       string `json:"introspect"`
		RSClientID       string `json:"rs_client_id"`
	}
	select {
	case line := <-readyLine:
		var r ready
		if err := json.Unmarshal(line, &r); err != nil || r.Issuer == "" || r.MCP == "" {
			t.Fatalf("oidc test AS: bad ready line %q; stderr:\n%s", line, stderr.String())
		}
		return &AS{
			Issuer:              r.Issuer,
			MCPURL:              r.MCP,
			ResourceMetadataURL: r.ResourceMetadata,
			RSClientID:          r.RSClientID,
			RSClientSecret:      secret,
			statsURL:            r.Stats,
			introspectURL:       r.Introspect,
		}
	case <-done:
		t.Fatalf("oidc test AS exited before it was ready (%v); stderr:\n%s", cmd.ProcessState, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("oidc test AS not ready after 30s; stderr:\n%s", stderr.String())
	}
	return nil
}

var client = &http.Client{Timeout: 10 * time.Second}

// Stats returns the server's counters.
func (a *AS) Stats(t testing.TB) Stats {
	t.Helper()
	resp, err := client.Get(a.statsURL)
	if err != nil {
		t.Fatalf("oidc test AS stats: %v", err)
	}
	defer resp.Body.Close()
	var s Stats
	if err := decode(resp, &s); err != nil {
		t.Fatalf("oidc test AS stats: %v", err)
	}
	return s
}

// Introspect reports whether token is a currently valid access token (a
// client credentials one included) or (unused, unrevoked) refresh token. It uses a test-only endpoint that needs
// no client credentials.
func (a *AS) Introspect(t testing.TB, token string) bool {
	t.Helper()
	resp, err := client.PostForm(a.introspectURL, url.Values{"token": {token}})
	if err != nil {
		t.Fatalf("oidc test AS introspect: %v", err)
	}
	defer resp.Body.Close()
	var r struct {
		Active bool `json:"active"`
	}
	if err := decode(resp, &r); err != nil {
		t.Fatalf("oidc test AS introspect: %v", err)
	}
	return r.Active
}

func decode(resp *http.Response, v any) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return json.Unmarshal(body, v)
}
