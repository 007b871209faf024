package grants

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"mcpauth/agent"
	"mcpauth/keystore"
	"mcpauth/test/e2e/e2ekit"
	"mcpauth/test/oidc"
)

// session is one MCPAUTH_HOME in the real keychain, and everything its
// commands printed, for the leak check.
type session struct {
	t    *testing.T
	home string
	env  []string

	mu      sync.Mutex
	outputs []string
	secrets []string // never to appear in any output or file
}

func newSession(t *testing.T) *session {
	home := t.TempDir()
	s := &session{t: t, home: home}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "MCPAUTH_HOME" && k != "BROWSER" && k != "DISPLAY" && k != "WAYLAND_DISPLAY" {
			s.env = append(s.env, kv)
		}
	}
	s.env = append(s.env, "MCPAUTH_HOME="+home)
	t.Cleanup(func() {
		s.checkLeaks()
		keystore.Open(home).DeleteAll(context.Background())
	})
	return s
}

// secret registers values the leak check looks for.
func (s *session) secret(v ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets = append(s.secrets, v...)
}

// agent is an in-process agent on the session's home and the real
// keychain, as `mcpauth` commands run it.
func (s *session) agent() *agent.Agent {
	a, err := agent.New(agent.Options{Home: s.home, Store: keystore.Open(s.home, keystore.WithTimeout(5*time.Second))})
	if err != nil {
		s.t.Fatal(err)
	}
	return a
}

// run runs mcpauth to completion.
func (s *session) run(extraEnv []string, args ...string) (stdout, stderr string, code int) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e2ekit.MCPAuthBin, args...)
	cmd.Env = append(append([]string(nil), s.env...), extraEnv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		s.t.Fatalf("mcpauth %s: %v", args[0], err)
	}
	if args[0] == "token" {
		s.record(errb.String()) // stdout is the token, the one output allowed to hold it
	} else {
		s.record(out.String(), errb.String())
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

func (s *session) record(out ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outputs = append(s.outputs, out...)
}

// checkLeaks fails if a secret appears in any output or any file under the
// home (the keychain is the only place for them).
func (s *session) checkLeaks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var files []string
	filepath.WalkDir(s.home, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if b, err := os.ReadFile(path); err == nil {
				files = append(files, string(b))
			}
		}
		return nil
	})
	for i, sec := range s.secrets {
		if sec == "" {
			continue
		}
		for _, text := range append(append([]string(nil), s.outputs...), files...) {
			if strings.Contains(text, sec) {
				s.t.Errorf("secret #%d leaked into an output or a file under MCPAUTH_HOME (value not shown)", i)
				break
			}
		}
	}
}

// mcpWhoami calls the test server's whoami tool through the agent's
// Transport and returns what it says about the token.
func mcpWhoami(t *testing.T, a *agent.Agent, name, url string) map[string]any {
	t.Helper()
	c := &http.Client{Transport: &agent.Transport{API: a, Server: name}, Timeout: 20 * time.Second}
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("whoami: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Result struct {
			StructuredContent map[string]any `json:"structuredContent"`
		} `json:"result"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil || out.Result.StructuredContent == nil {
		t.Fatalf("whoami: HTTP %d", resp.StatusCode)
	}
	return out.Result.StructuredContent
}

var (
	deviceURIRE  = regexp.MustCompile(`open this URL on any device:\n  (\S+)\n`)
	deviceCodeRE = regexp.MustCompile(`enter the code:\n  (\S+)\n`)
)

// loginDevice runs `mcpauth login NAME --device` with no browser and no
// display (an SSH session) and lets a user agent on "another device" enter
// the printed code. It returns the command's stderr and exit code.
func loginDevice(t *testing.T, s *session, name string, approve bool) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e2ekit.MCPAuthBin, "login", name, "--device")
	cmd.Env = s.env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		all    strings.Builder
		uaErr  = make(chan error, 1)
		asked  bool
		reader = bufio.NewReader(stderr)
	)
	for {
		line, err := reader.ReadString('\n')
		all.WriteString(line)
		if !asked {
			uri, code := deviceURIRE.FindStringSubmatch(all.String()), deviceCodeRE.FindStringSubmatch(all.String())
			if uri != nil && code != nil {
				asked = true
				go func() {
					page, err := newUserAgent().enterCode(ctx, uri[1], code[1], approve)
					if err == nil && approve && !strings.Contains(page, "Sign-in Success") {
						err = errors.New("the user agent did not reach the success page")
					}
					if !approve {
						err = nil // the abort re-renders the form with an error status
					}
					uaErr <- err
				}()
			}
		}
		if err != nil {
			break
		}
	}
	cmd.Wait()
	s.record(all.String())
	if !asked {
		t.Fatalf("mcpauth login --device printed no URL and code:\n%s", all.String())
	}
	if err := <-uaErr; err != nil {
		t.Fatalf("the user agent: %v", err)
	}
	return all.String(), cmd.ProcessState.ExitCode()
}

// TestE2E_DeviceFlow: `mcpauth login --device` prints the URL and code, a
// user agent on another device enters the code and approves, and the
// tokens land in the real keychain, where a fresh agent finds them.
func TestE2E_DeviceFlow(t *testing.T) {
	requireE2E(t)
	as := oidc.Start(t, oidc.Options{Grants: true})
	s := newSession(t)
	if _, errOut, code := s.run(nil, "add", "corp", as.MCPURL); code != 0 {
		t.Fatalf("add: exit %d: %s", code, errOut)
	}
	out, code := loginDevice(t, s, "corp", true)
	if code != 0 || !strings.Contains(out, "Signed in to corp.") {
		t.Fatalf("login --device: exit %d:\n%s", code, out)
	}
	if st := as.Stats(t); st.DeviceCodes != 1 || st.CodeExchanges != 0 {
		t.Errorf("AS saw %d device code grants and %d code exchanges, want 1 and 0", st.DeviceCodes, st.CodeExchanges)
	}

	// A fresh agent on the same home reads the token from the keychain,
	// without asking the AS.
	a := s.agent()
	tok, err := a.Token(t.Context(), "corp")
	if err != nil {
		t.Fatalf("Token from the keychain: %v", err)
	}
	s.secret(tok.Value)
	if !as.Introspect(t, tok.Value) {
		t.Error("the token in the keychain is not active at the AS")
	}
	if who := mcpWhoami(t, a, "corp", as.MCPURL); who["sub"] != "demo-user" {
		t.Errorf("whoami: sub %v, want demo-user", who["sub"])
	}
	list, err := a.List(t.Context())
	if err != nil || len(list) != 1 || list[0].State != agent.StateSignedIn || list[0].ClientKind != agent.ClientDynamic {
		t.Errorf("List = %+v, %v", list, err)
	}
	if st := as.Stats(t); st.DeviceCodes != 1 || st.Refreshes != 0 {
		t.Errorf("the fresh agent went to the AS: %+v", st)
	}
	if _, errOut, code := s.run(nil, "logout", "corp"); code != 0 {
		t.Fatalf("logout: exit %d: %s", code, errOut)
	}
	if as.Introspect(t, tok.Value) {
		t.Error("the token is still active after logout")
	}
}

// TestE2E_DeviceFlowDenied: the user aborts on the other device; login
// says the sign-in was denied and what to run.
func TestE2E_DeviceFlowDenied(t *testing.T) {
	requireE2E(t)
	as := oidc.Start(t, oidc.Options{Grants: true})
	s := newSession(t)
	if _, errOut, code := s.run(nil, "add", "corp", as.MCPURL); code != 0 {
		t.Fatalf("add: exit %d: %s", code, errOut)
	}
	out, code := loginDevice(t, s, "corp", false)
	if code != 1 || !strings.Contains(out, "denied") || !strings.Contains(out, "access_denied") ||
		!strings.Contains(out, "mcpauth login corp --device") {
		t.Fatalf("login --device, denied: exit %d:\n%s", code, out)
	}
	if _, err := s.agent().Token(t.Context(), "corp"); err == nil {
		t.Error("a token is held after a denied sign-in")
	}
}

// ecJWKS returns a P-256 key as PKCS #8 PEM and its public JWK Set.
func ecJWKS(t *testing.T) (string, string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	raw := pub.Bytes() // 0x04 || X || Y
	b64 := base64.RawURLEncoding.EncodeToString
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:]), "use": "sig", "alg": "ES256",
	}}})
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), string(jwks)
}

// TestE2E_ClientCredentials: a machine identity gets tokens with no
// browser, authenticating with a secret or with private_key_jwt; `mcpauth
// token` prints one, it is renewed by running the grant again, and the
// MCP server accepts it.
func TestE2E_ClientCredentials(t *testing.T) {
	requireE2E(t)
	secret := "cc-" + rand.Text()
	keyPEM, jwks := ecJWKS(t)
	as := oidc.Start(t, oidc.Options{Grants: true, CCClientSecret: secret, CCClientJWKS: jwks, AccessTokenTTL: 4 * time.Second})
	keyFile := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(keyFile, []byte(keyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, client string
		flags        []string
		env          []string
	}{
		{"client_secret_basic", oidc.CCSecretClientID, []string{"--client-secret-env", "CC_SECRET"}, []string{"CC_SECRET=" + secret}},
		{"private_key_jwt", oidc.CCJWTClientID, []string{"--client-key-file", keyFile, "--client-key-alg", "ES256"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(t)
			s.secret(secret, strings.Split(strings.TrimSpace(keyPEM), "\n")[1])
			before := as.Stats(t).ClientCredentials
			args := append([]string{"add", "svc", as.MCPURL, "--client-credentials", "--client-id", tt.client}, tt.flags...)
			if _, errOut, code := s.run(tt.env, args...); code != 0 {
				t.Fatalf("add: exit %d: %s", code, errOut)
			}
			out, errOut, code := s.run(nil, "token", "svc")
			tok := strings.TrimSpace(out)
			if code != 0 || tok == "" {
				t.Fatalf("token: exit %d: %s", code, errOut)
			}
			s.secret(tok)
			if !as.Introspect(t, tok) {
				t.Fatal("the printed token is not active at the AS")
			}
			a := s.agent()
			if who := mcpWhoami(t, a, "svc", as.MCPURL); who["client_id"] != tt.client {
				t.Errorf("whoami: client_id %v, want %s", who["client_id"], tt.client)
			}
			// The 4 s token is due after 2 s: the grant runs again.
			time.Sleep(2500 * time.Millisecond)
			next, err := a.Token(t.Context(), "svc")
			if err != nil {
				t.Fatalf("renewal: %v", err)
			}
			s.secret(next.Value)
			if next.Value == tok {
				t.Error("the token was not renewed")
			}
			if n := as.Stats(t).ClientCredentials - before; n != 2 {
				t.Errorf("%d client credentials grants, want 2", n)
			}
			if _, errOut, code := s.run(nil, "remove", "svc"); code != 0 {
				t.Fatalf("remove: exit %d: %s", code, errOut)
			}
			if as.Introspect(t, next.Value) {
				t.Error("the token is still active after remove (not revoked)")
			}
		})
	}
}
