package cli

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"mcpauth/agent"
)

func TestAddGrantFlags(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	const keyPEM = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END PRIVATE KEY-----\n"
	if err := os.WriteFile(keyFile, []byte(keyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SECRET": "s3cret-value", "IDP_SECRET": "idp-s3cret", "ID_TOKEN": "id-token-value"}
	const url = "https://mcp.corp.example/mcp"
	tests := []struct {
		name    string
		args    []string
		want    *agent.AddRequest
		wantErr string
	}{
		{name: "client credentials, secret", args: []string{"--client-credentials", "--client-id", "m", "--client-secret-env", "SECRET"},
			want: &agent.AddRequest{ClientCredentials: true, ClientID: "m", ClientSecret: "s3cret-value"}},
		{name: "client credentials, key", args: []string{"--client-credentials", "--client-id", "m", "--client-key-file", keyFile, "--client-key-alg", "ES256"},
			want: &agent.AddRequest{ClientCredentials: true, ClientID: "m", ClientKey: keyPEM, ClientKeyAlg: "ES256"}},
		{name: "cross-app access", args: []string{"--client-id", "m", "--client-secret-env", "SECRET", "--idp-issuer", "https://corp.okta.example",
			"--idp-client-id", "ic", "--idp-client-secret-env", "IDP_SECRET", "--idp-token-endpoint", "https://corp.okta.example/token",
			"--idp-id-token-env", "ID_TOKEN"},
			want: &agent.AddRequest{ClientID: "m", ClientSecret: "s3cret-value", CrossApp: &agent.CrossAppRequest{
				IdPIssuer: "https://corp.okta.example", IdPTokenEndpoint: "https://corp.okta.example/token", IdPClientID: "ic",
				IdPClientSecret: "idp-s3cret", IDToken: "id-token-value"}}},
		{name: "cc without client", args: []string{"--client-credentials", "--client-secret-env", "SECRET"}, wantErr: "needs --client-id"},
		{name: "cc without credentials", args: []string{"--client-credentials", "--client-id", "m"}, wantErr: "--client-key-file FILE"},
		{name: "alg without key", args: []string{"--client-id", "m", "--client-key-alg", "ES256"}, wantErr: "needs --client-key-file"},
		{name: "missing key file", args: []string{"--client-credentials", "--client-id", "m", "--client-key-file", "/nonexistent/k.pem"},
			wantErr: "--client-key-file"},
		{name: "key on the command line", args: []string{"--client-key=" + keyPEM}, wantErr: "pass --client-key-file FILE instead"},
		{name: "ID token on the command line", args: []string{"--idp-id-token", "id-token-value"}, wantErr: "--idp-id-token-env VAR"},
		{name: "IdP secret on the command line", args: []string{"--idp-client-secret=idp-s3cret"}, wantErr: "--idp-client-secret-env VAR"},
		{name: "idp flags without issuer", args: []string{"--client-id", "m", "--idp-client-id", "ic"}, wantErr: "need --idp-issuer"},
		{name: "idp without client ids", args: []string{"--idp-issuer", "https://idp.example"}, wantErr: "--idp-client-id"},
		{name: "idp over http", args: []string{"--client-id", "m", "--idp-issuer", "http://idp.example", "--idp-client-id", "i"}, wantErr: "plain http"},
		{name: "ID token env unset", args: []string{"--client-id", "m", "--idp-issuer", "https://idp.example", "--idp-client-id", "i",
			"--idp-id-token-env", "NOPE"}, wantErr: "$NOPE is unset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{}
			r := run(context.Background(), Env{API: api, Getenv: func(k string) string { return env[k] }},
				append([]string{"add", "corp", url}, tt.args...)...)
			for _, secret := range []string{"s3cret-value", "idp-s3cret", "id-token-value", "c2VjcmV0LWtleQ"} {
				if strings.Contains(r.stdout+r.stderr, secret) {
					t.Errorf("a secret was printed:\n%s%s", r.stdout, r.stderr)
				}
			}
			if tt.want == nil {
				if r.code != exitUsage || !strings.Contains(r.stderr, tt.wantErr) || len(api.added) != 0 {
					t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tt.wantErr)
				}
				return
			}
			if r.code != exitOK || len(api.added) != 1 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			tt.want.Name, tt.want.URL = "corp", url
			if got := api.added[0]; !reflect.DeepEqual(got, *tt.want) {
				t.Errorf("AddRequest:\n got %+v %+v\nwant %+v %+v", got, got.CrossApp, *tt.want, tt.want.CrossApp)
			}
		})
	}
}

// TestConnectTakesGrantFlags: `connect URL` registers with the same flags.
func TestConnectTakesGrantFlags(t *testing.T) {
	t.Parallel()
	fs := newFlagSet(connectCmd, &runner{})
	defineAddFlags(fs)
	for _, f := range []string{"client-credentials", "client-key-file", "client-key-alg", "idp-issuer", "idp-client-id",
		"idp-client-secret-env", "idp-token-endpoint", "idp-id-token-env"} {
		if fs.Lookup(f) == nil {
			t.Errorf("connect has no --%s", f)
		}
	}
}

func TestLoginDevice(t *testing.T) {
	t.Parallel()
	dc := agent.DeviceCode{Server: "corp", VerificationURI: "https://as.example/device", UserCode: "WDJB-MJHT",
		VerificationURIComplete: "https://as.example/device?user_code=WDJB-MJHT", Expiry: time.Now().Add(10*time.Minute + 5*time.Second)}
	api := &fakeAPI{}
	api.onLogin = func() { api.opts.OnDeviceCode(dc) }
	r := run(context.Background(), Env{API: api}, "login", "corp", "--device")
	if r.code != exitOK || !api.opts.Device {
		t.Fatalf("exit %d, Device %v: %s", r.code, api.opts.Device, r.stderr)
	}
	for _, want := range []string{"open this URL on any device:\n  https://as.example/device\n", "enter the code:\n  WDJB-MJHT\n",
		"(or open https://as.example/device?user_code=WDJB-MJHT", "expires in 10 minutes", "Signed in to corp."} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
	r = run(context.Background(), Env{API: &fakeAPI{}}, "login", "corp", "--device", "--no-browser")
	if r.code != exitUsage || !strings.Contains(r.stderr, "not both") {
		t.Errorf("--device --no-browser: %+v", r)
	}
}
