package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mcpauth/test/fakeas"
)

// revocationRecorder stands in front of fakeas's revocation endpoint and
// records which token each call revoked, in order.
type revocationRecorder struct {
	mu    sync.Mutex
	calls []string // "refresh", "access" or "other", plus the hint
	// fail, when set, answers 400 with this OAuth error code for the
	// kind of token ("refresh" or "access") instead of forwarding.
	fail map[string]string
}

// recordRevocations points name's revocation endpoint at a recorder that
// forwards to fakeas. at and rt tell the recorder which token is which.
func recordRevocations(t *testing.T, e *testEnv, name, at, rt string) *revocationRecorder {
	t.Helper()
	rec := &revocationRecorder{}
	target := e.state(t, name).RevocationURL
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ParseForm()
		which := map[string]string{at: "access", rt: "refresh"}[r.PostForm.Get("token")]
		rec.mu.Lock()
		rec.calls = append(rec.calls, which+" (hint "+r.PostForm.Get("token_type_hint")+")")
		code := rec.fail[which]
		rec.mu.Unlock()
		if code != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":%q}`, code)
			return
		}
		fwd, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, target, bytes.NewReader(body))
		fwd.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(fwd)
		if err != nil {
			http.Error(w, "forward failed", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	if err := e.reg.updateState(t.Context(), name, func(s *serverState) { s.RevocationURL = srv.URL + "/revoke" }); err != nil {
		t.Fatal(err)
	}
	return rec
}

func (r *revocationRecorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

// TestLogout: the refresh token is revoked first, then the access token;
// only then are the local secrets deleted, and the dynamic registration
// goes with them (step 8).
func TestLogout(t *testing.T) {
	tests := []struct {
		name    string
		cfg     fakeas.Config
		add     func(*AddRequest)
		wantReg bool // registration still stored afterwards
	}{
		{name: "dynamic client", cfg: fakeas.Config{}, add: func(*AddRequest) {}},
		{
			name: "pre-registered confidential client",
			cfg:  fakeas.Config{PreRegistered: map[string]string{"app": "s3cret"}},
			add:  func(r *AddRequest) { r.ClientID, r.ClientSecret = "app", "s3cret" },
		},
		{
			name: "pre-registered public client, root issuer",
			cfg:  fakeas.Config{Layout: fakeas.LayoutRoot, PreRegistered: map[string]string{"app": ""}},
			add:  func(r *AddRequest) { r.ClientID = "app" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, tt.cfg, tt.add)
			e.login(t)
			at, rt := e.heldTokens(t, testServer)
			rec := recordRevocations(t, e, testServer, at, rt)
			if err := e.Logout(t.Context(), testServer); err != nil {
				t.Fatalf("Logout: %v", err)
			}
			want := []string{"refresh (hint refresh_token)", "access (hint access_token)"}
			if diff := cmp.Diff(want, rec.Calls()); diff != "" {
				t.Errorf("revocations (-want +got):\n%s", diff)
			}
			if e.AS.Introspect(at) || e.AS.Introspect(rt) {
				t.Error("a token is still active at the AS")
			}
			if gotAT, gotRT := e.heldTokens(t, testServer); gotAT != "" || gotRT != "" {
				t.Error("tokens still stored after Logout")
			}
			for _, k := range e.serverKeys(testServer) {
				if k != clientSecretKey(testServer) {
					t.Errorf("keystore still holds %s", k)
				}
			}
			if e.hasRegistration(t) != tt.wantReg {
				t.Errorf("registration stored = %v, want %v", e.hasRegistration(t), tt.wantReg)
			}
			_, err := e.Token(t.Context(), testServer)
			var lr *LoginRequiredError
			if !errors.As(err, &lr) {
				t.Errorf("Token after Logout: %v, want *LoginRequiredError", err)
			}
			list, _ := e.List(t.Context())
			if list[0].State != StateNeedsLogin {
				t.Errorf("List state after Logout = %q, want %q", list[0].State, StateNeedsLogin)
			}
		})
	}
}

// TestLogoutRevocationFails: if the AS can't revoke, Logout says so and
// deletes nothing, so the tokens keep working and a retry can finish.
func TestLogoutRevocationFails(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{FailRevocation: true})
	e.login(t)
	at, rt := e.heldTokens(t, testServer)
	keys := e.Store.Keys()
	err := e.Logout(t.Context(), testServer)
	if err == nil {
		t.Fatal("Logout succeeded although revocation failed")
	}
	assertNoSecret(t, "the Logout error", err.Error(), at, rt)
	for _, want := range []string{e.AS.Issuer() + "/revoke", "nothing was deleted", "mcpauth logout " + testServer} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if diff := cmp.Diff(keys, e.Store.Keys()); diff != "" {
		t.Errorf("keystore changed (-before +after):\n%s", diff)
	}
	if tok := e.token(t, testServer); tok.Value != at {
		t.Error("Token returns another token after the failed Logout")
	}
	if !e.AS.Introspect(at) || !e.AS.Introspect(rt) {
		t.Error("the tokens are no longer active")
	}

	err = e.Remove(t.Context(), testServer)
	if err == nil {
		t.Fatal("Remove succeeded although revocation failed")
	}
	if _, err := e.reg.get(testServer); err != nil {
		t.Errorf("Remove dropped the server although revocation failed: %v", err)
	}
}

// TestLogoutWithoutRevocationEndpoint: a server that offers no revocation
// (2025-03-26 fixed endpoints) is logged out locally.
func TestLogoutWithoutRevocationEndpoint(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{Layout: fakeas.LayoutLegacyNoMeta})
	e.login(t)
	if err := e.Logout(t.Context(), testServer); err != nil {
		t.Fatal(err)
	}
	if keys := e.serverKeys(testServer); len(keys) != 0 {
		t.Errorf("keystore still holds %v", keys)
	}
}

// TestLogoutKeepsSharedRegistration: the issuer's registration stays while
// another signed-in server uses it.
func TestLogoutKeepsSharedRegistration(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	if err := e.Add(t.Context(), AddRequest{Name: "other", URL: e.AS.URL()}); err != nil {
		t.Fatal(err)
	}
	e.login(t)
	if err := e.Login(t.Context(), "other", LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.Logout(t.Context(), testServer); err != nil {
		t.Fatal(err)
	}
	if !e.hasRegistration(t) {
		t.Fatal("the registration was dropped while another server uses it")
	}
	tok := e.token(t, "other")
	if !e.AS.Introspect(tok.Value) {
		t.Error("the other server's token was revoked")
	}
	if err := e.Logout(t.Context(), "other"); err != nil {
		t.Fatal(err)
	}
	if e.hasRegistration(t) {
		t.Error("the registration outlived the last server using it")
	}
}

// TestRemove: Remove revokes, then forgets the server and every secret it
// had, headers and client secret included.
func TestRemove(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{PreRegistered: map[string]string{"app": "s3cret"}}, func(r *AddRequest) {
		r.ClientID, r.ClientSecret = "app", "s3cret"
		r.Headers = map[string]string{"X-Api-Key": "k3y"}
	})
	e.login(t)
	at, rt := e.heldTokens(t, testServer)
	if err := e.Remove(t.Context(), testServer); err != nil {
		t.Fatal(err)
	}
	if keys := e.Store.Keys(); len(keys) != 0 {
		t.Errorf("keystore still holds %v", keys)
	}
	if e.AS.Introspect(at) || e.AS.Introspect(rt) {
		t.Error("a token is still active")
	}
	var nf *NotFoundError
	if _, err := e.reg.get(testServer); !errors.As(err, &nf) {
		t.Errorf("server still registered: %v", err)
	}
	// Removing a server that never logged in works too.
	if err := e.Add(t.Context(), AddRequest{Name: "idle", URL: e.AS.URL()}); err != nil {
		t.Fatal(err)
	}
	if err := e.Remove(t.Context(), "idle"); err != nil {
		t.Errorf("Remove of a server never logged in: %v", err)
	}
}
