package agent

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mcpauth/test/fakeas"
)

const ccClient, ccSecret = "machine-1", "cc-secret-value-123"

// testKey returns a fresh private key of kind ("ec", "rsa", "ed25519") as
// PKCS #8 PEM, and its public key.
func testKey(t *testing.T, kind string) (string, crypto.PublicKey) {
	t.Helper()
	var (
		priv any
		pub  crypto.PublicKey
	)
	switch kind {
	case "ec":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = k, &k.PublicKey
	case "rsa":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = k, &k.PublicKey
	case "ed25519":
		p, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = k, p
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), pub
}

// TestClientCredentials runs the grant with each client authentication:
// the token comes without a browser, carries resource and the PRM's
// scopes, and no refresh token is kept.
func TestClientCredentials(t *testing.T) {
	ecPEM, ecPub := testKey(t, "ec")
	edPEM, edPub := testKey(t, "ed25519")
	tests := []struct {
		name       string
		cfg        fakeas.Config
		add        func(*AddRequest)
		wantMethod string // as fakeas saw it
		secret     string // must never reach servers.json
	}{
		{
			name:       "client_secret_basic",
			cfg:        fakeas.Config{ClientCredentials: true, PreRegistered: map[string]string{ccClient: ccSecret}},
			add:        func(r *AddRequest) { r.ClientSecret = ccSecret },
			wantMethod: fakeas.AuthClientSecretBasic, secret: ccSecret,
		},
		{
			name: "client_secret_post",
			cfg: fakeas.Config{ClientCredentials: true, PreRegistered: map[string]string{ccClient: ccSecret},
				AuthMethods: []string{fakeas.AuthClientSecretPost}},
			add:        func(r *AddRequest) { r.ClientSecret = ccSecret },
			wantMethod: fakeas.AuthClientSecretPost, secret: ccSecret,
		},
		{
			name: "private_key_jwt ES256",
			cfg: fakeas.Config{ClientCredentials: true, ClientKeys: map[string]crypto.PublicKey{ccClient: ecPub},
				ClientKeyAlgs: []string{"ES256", "RS256"}},
			add:        func(r *AddRequest) { r.ClientKey = ecPEM },
			wantMethod: fakeas.AuthPrivateKeyJWT, secret: "PRIVATE KEY",
		},
		{
			name:       "private_key_jwt EdDSA",
			cfg:        fakeas.Config{ClientCredentials: true, ClientKeys: map[string]crypto.PublicKey{ccClient: edPub}},
			add:        func(r *AddRequest) { r.ClientKey, r.ClientKeyAlg = edPEM, "EdDSA" },
			wantMethod: fakeas.AuthPrivateKeyJWT, secret: "PRIVATE KEY",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, tt.cfg, func(r *AddRequest) {
				r.ClientID, r.ClientCredentials = ccClient, true
				tt.add(r)
			})
			tok := e.token(t, testServer)
			if !e.AS.Introspect(tok.Value) {
				t.Fatal("the token is not active at the AS")
			}
			if n := e.Browser.Opens(); n != 0 {
				t.Errorf("the browser opened %d times", n)
			}
			reqs, methods := e.AS.TokenRequests(), e.AS.TokenAuthMethods()
			if len(reqs) != 1 {
				t.Fatalf("%d token requests, want 1", len(reqs))
			}
			if got := reqs[0]; got.Get("grant_type") != "client_credentials" || got.Get("resource") != e.AS.URL() || got.Get("scope") != "admin mcp" {
				t.Errorf("token request: grant_type %q resource %q scope %q", got.Get("grant_type"), got.Get("resource"), got.Get("scope"))
			}
			if methods[0] != tt.wantMethod {
				t.Errorf("client authentication %s, want %s", methods[0], tt.wantMethod)
			}
			if _, rt := e.heldTokens(t, testServer); rt != "" {
				t.Error("a refresh token is held for a client credentials server")
			}
			st := e.state(t, testServer)
			if st.ClientKind != ClientPreRegistered || st.ClientID != ccClient || st.TokenURL == "" {
				t.Errorf("state: kind %q client %q token URL %q", st.ClientKind, st.ClientID, st.TokenURL)
			}
			data, err := os.ReadFile(filepath.Join(e.Home, "servers.json"))
			if err != nil {
				t.Fatal(err)
			}
			assertNoSecret(t, "servers.json", string(data), tt.secret, tok.Value)

			// Logout revokes with the same client authentication, and a
			// logged-out server stays so until a login.
			if err := e.Logout(t.Context(), testServer); err != nil {
				t.Fatalf("Logout: %v", err)
			}
			if e.AS.Introspect(tok.Value) {
				t.Error("the token is still active after logout")
			}
			var lr *LoginRequiredError
			if _, err := e.Token(t.Context(), testServer); !errors.As(err, &lr) {
				t.Fatalf("Token after logout: %v, want LoginRequiredError", err)
			}
			e.login(t)
			if n := e.AS.Stats().ClientCredentials; n != 2 {
				t.Errorf("%d client credentials grants, want 2", n)
			}
			if err := e.Remove(t.Context(), testServer); err != nil {
				t.Fatal(err)
			}
			if keys := e.serverKeys(testServer); len(keys) != 0 {
				t.Errorf("Remove left %v in the keychain", keys)
			}
		})
	}
}

// TestClientCredentialsRenewedOnce: an expired token is renewed by running
// the grant again, exactly once for many concurrent callers; a 401 renews
// it too.
func TestClientCredentialsRenewedOnce(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{ClientCredentials: true, PreRegistered: map[string]string{ccClient: ccSecret}},
		func(r *AddRequest) { r.ClientID, r.ClientSecret, r.ClientCredentials = ccClient, ccSecret, true })
	first := e.token(t, testServer)
	e.Clock.Advance(2 * time.Hour)
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tok, err := e.Token(t.Context(), testServer); err == nil {
				got[i] = tok.Value
			}
		}()
	}
	wg.Wait()
	for i, v := range got {
		if v == "" || v == first.Value || v != got[0] {
			t.Fatalf("caller %d got a different, empty or stale token", i)
		}
	}
	if n := e.AS.Stats().ClientCredentials; n != 2 {
		t.Errorf("%d grants, want 2 (one login, one renewal)", n)
	}

	e.AS.ExpireAccessTokens()
	rt := &Transport{API: e.Agent, Server: testServer}
	resp, _, err := mcpCall(t, rt, e.AS.URL(), "", mcpInitialize)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("initialize after the AS expired the token: %d, %v", statusOf(resp), err)
	}
	if n := e.AS.Stats().ClientCredentials; n != 3 {
		t.Errorf("%d grants, want 3 (the 401 renewed it)", n)
	}
	if n := e.Browser.Opens(); n != 0 {
		t.Errorf("the browser opened %d times", n)
	}
}

// TestClientCredentialsErrors: each failure says what is wrong, and none
// quotes a secret.
func TestClientCredentialsErrors(t *testing.T) {
	rsaPEM, _ := testKey(t, "rsa")
	ecPEM, ecPub := testKey(t, "ec")
	tests := []struct {
		name    string
		cfg     fakeas.Config
		add     func(*AddRequest)
		wantErr string
		wantAs  any
	}{
		{
			name: "wrong secret",
			cfg:  fakeas.Config{ClientCredentials: true, PreRegistered: map[string]string{ccClient: "other"}},
			add:  func(r *AddRequest) { r.ClientSecret = ccSecret }, wantErr: "invalid_client", wantAs: new(*RegistrationGoneError),
		},
		{
			name: "grant not offered",
			cfg:  fakeas.Config{PreRegistered: map[string]string{ccClient: ccSecret}},
			add:  func(r *AddRequest) { r.ClientSecret = ccSecret }, wantErr: "does not offer the client_credentials grant",
		},
		{
			name: "algorithm not accepted",
			cfg: fakeas.Config{ClientCredentials: true, ClientKeys: map[string]crypto.PublicKey{ccClient: ecPub},
				ClientKeyAlgs: []string{"ES256"}},
			add: func(r *AddRequest) { r.ClientKey = rsaPEM }, wantErr: "takes private_key_jwt signed with ES256, not RS256",
		},
		{
			name: "AS takes no secret",
			cfg: fakeas.Config{ClientCredentials: true, PreRegistered: map[string]string{ccClient: ccSecret},
				AuthMethods: []string{fakeas.AuthNone}},
			add: func(r *AddRequest) { r.ClientSecret = ccSecret }, wantErr: "neither client_secret_basic nor client_secret_post",
		},
		{
			name: "unknown key",
			cfg:  fakeas.Config{ClientCredentials: true},
			add:  func(r *AddRequest) { r.ClientKey = ecPEM }, wantErr: "invalid_client",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, tt.cfg, func(r *AddRequest) {
				r.ClientID, r.ClientCredentials = ccClient, true
				tt.add(r)
			})
			_, err := e.Token(t.Context(), testServer)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Token: %v, want %q", err, tt.wantErr)
			}
			if tt.wantAs != nil && !errors.As(err, tt.wantAs) {
				t.Errorf("Token: %T, want %T", err, tt.wantAs)
			}
			if isTransient(err) {
				t.Errorf("a configuration error is marked transient: %v", err)
			}
			assertNoSecret(t, "the error", err.Error(), ccSecret, "PRIVATE KEY")
		})
	}
}

func TestAddGrantValidation(t *testing.T) {
	ecPEM, _ := testKey(t, "ec")
	e := newBareEnv(t, fakeas.Config{})
	url := e.AS.URL()
	tests := []struct {
		name string
		req  AddRequest
		want string
	}{
		{"cc without client", AddRequest{ClientCredentials: true}, "needs the client ID"},
		{"cc without credentials", AddRequest{ClientCredentials: true, ClientID: "c"}, "secret (--client-secret-env) or private key"},
		{"cc with CIMD", AddRequest{ClientCredentials: true, ClientID: "c", ClientSecret: "s", ClientMetadataURL: "https://c.example/md.json"}, "not --client-metadata-url"},
		{"key and secret", AddRequest{ClientCredentials: true, ClientID: "c", ClientSecret: "s", ClientKey: ecPEM}, "not both"},
		{"key without grant", AddRequest{ClientID: "c", ClientKey: ecPEM}, "used with --client-credentials"},
		{"key without client", AddRequest{ClientCredentials: true, ClientKey: ecPEM}, "needs the client ID"},
		{"bad key", AddRequest{ClientCredentials: true, ClientID: "c", ClientKey: "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n"}, "unusable"},
		{"alg mismatch", AddRequest{ClientCredentials: true, ClientID: "c", ClientKey: ecPEM, ClientKeyAlg: "RS256"}, "does not fit"},
		{"alg without key", AddRequest{ClientCredentials: true, ClientID: "c", ClientSecret: "s", ClientKeyAlg: "ES256"}, "needs a private key"},
		{"cc and xaa", AddRequest{ClientCredentials: true, ClientID: "c", ClientSecret: "s",
			CrossApp: &CrossAppRequest{IdPIssuer: "https://idp.example", IdPClientID: "i"}}, "not both"},
		{"xaa without idp client", AddRequest{ClientID: "c", ClientSecret: "s", CrossApp: &CrossAppRequest{IdPIssuer: "https://idp.example"}}, "--idp-client-id"},
		{"xaa over http", AddRequest{ClientID: "c", ClientSecret: "s",
			CrossApp: &CrossAppRequest{IdPIssuer: "http://idp.example", IdPClientID: "i"}}, "https is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Name, tt.req.URL = "x", url
			err := e.Add(t.Context(), tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Add: %v, want %q", err, tt.want)
			}
			assertNoSecret(t, "the error", err.Error(), "c2VjcmV0")
			if len(e.Store.Keys()) != 0 {
				t.Errorf("a refused Add stored %v", e.Store.Keys())
			}
		})
	}
	if s := fmt.Sprintf("%v %+v", AddRequest{ClientKey: ecPEM, CrossApp: &CrossAppRequest{IDToken: "idt-secret", IdPClientSecret: "s3"}},
		CrossAppRequest{IDToken: "idt-secret", IdPClientSecret: "s3"}); strings.Contains(s, "PRIVATE") || strings.Contains(s, "idt-secret") || strings.Contains(s, "s3") {
		t.Errorf("formatting leaks a secret: %s", s)
	}
}

// TestClientCredentialsProactiveRenewal: the agent's refresher renews a
// grant server's token before it expires, though it has no refresh token.
func TestClientCredentialsProactiveRenewal(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{ClientCredentials: true, PreRegistered: map[string]string{ccClient: ccSecret}},
		func(r *AddRequest) { r.ClientID, r.ClientSecret, r.ClientCredentials = ccClient, ccSecret, true })
	first := e.token(t, testServer)
	e.Clock.Advance(time.Hour - time.Minute)
	e.refreshDue(t.Context())
	if n := e.AS.Stats().ClientCredentials; n != 2 {
		t.Fatalf("%d grants, want 2: the refresher did not renew", n)
	}
	if acc, _ := e.heldTokens(t, testServer); acc == first.Value {
		t.Error("the held token was not replaced")
	}
}
