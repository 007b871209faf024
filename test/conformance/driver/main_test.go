package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

func TestConnectFlags(t *testing.T) {
	keyDir := t.TempDir()
	keyFile := filepath.Join(keyDir, "client-key.pem")
	for _, tc := range []struct {
		name        string
		ctx         string
		flags, env  []string
		unsupported []string
		key         string // the key file's content, if one is written
	}{
		{name: "no context", ctx: "",
			flags: []string{"--client-metadata-url", cimdURL}},
		{name: "pre-registration", ctx: `{"name":"auth/pre-registration","client_id":"pre-registered-client","client_secret":"s3"}`,
			flags: []string{"--client-id", "pre-registered-client", "--client-secret-env", secretEnv},
			env:   []string{secretEnv + "=s3"}},
		{name: "client-credentials-basic", ctx: `{"name":"auth/client-credentials-basic","client_id":"c","client_secret":"s3"}`,
			flags: []string{"--client-id", "c", "--client-secret-env", secretEnv, "--client-credentials"},
			env:   []string{secretEnv + "=s3"}},
		{name: "client-credentials-jwt", ctx: `{"name":"auth/client-credentials-jwt","client_id":"c","private_key_pem":"k","signing_algorithm":"ES256"}`,
			flags: []string{"--client-id", "c", "--client-credentials", "--client-key-file", keyFile, "--client-key-alg", "ES256"},
			key:   "k"},
		{name: "cross-app-access", ctx: `{"name":"auth/cross-app-access-complete-flow","client_id":"c","client_secret":"s3",
			"idp_client_id":"ic","idp_id_token":"idt","idp_issuer":"http://localhost:1","idp_token_endpoint":"http://localhost:1/token"}`,
			flags: []string{"--client-id", "c", "--client-secret-env", secretEnv, "--idp-issuer", "http://localhost:1",
				"--idp-client-id", "ic", "--idp-token-endpoint", "http://localhost:1/token", "--idp-id-token-env", idTokenEnv},
			env: []string{secretEnv + "=s3", idTokenEnv + "=idt"}},
		{name: "unknown key", ctx: `{"name":"auth/x","client_id":"c","future_key":"v"}`,
			flags: []string{"--client-id", "c"}, unsupported: []string{"future_key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := parseContext(tc.ctx)
			if err != nil {
				t.Fatal(err)
			}
			os.Remove(keyFile)
			flags, env, unsupported, err := connectFlags(sc, keyDir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(flags, tc.flags) || !reflect.DeepEqual(env, tc.env) || !reflect.DeepEqual(unsupported, tc.unsupported) {
				t.Errorf("connectFlags = %q, %q, %q; want %q, %q, %q", flags, env, unsupported, tc.flags, tc.env, tc.unsupported)
			}
			if data, _ := os.ReadFile(keyFile); string(data) != tc.key {
				t.Errorf("key file holds %q, want %q", data, tc.key)
			}
		})
	}
	if _, err := parseContext("[1]"); err == nil {
		t.Error("parseContext accepted a JSON array")
	}
}

// The schema of the suite's elicitation-sep1034-client-defaults scenario:
// every default must come back.
func TestElicitDefaults(t *testing.T) {
	var req mcp.ElicitationRequest
	req.Params.Message = "please accept with defaults"
	req.Params.RequestedSchema = map[string]any{
		"type": "object",
		"properties": map[string]any{
			"name":     map[string]any{"type": "string", "default": "John Doe"},
			"age":      map[string]any{"type": "integer", "default": float64(30)},
			"score":    map[string]any{"type": "number", "default": 95.5},
			"status":   map[string]any{"type": "string", "enum": []any{"active", "inactive"}, "default": "active"},
			"verified": map[string]any{"type": "boolean", "default": true},
			"nick":     map[string]any{"type": "string", "enum": []any{"a", "b"}},
		},
	}
	res, err := elicitDefaults{logf: t.Logf}.Elicit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "John Doe", "age": float64(30), "score": 95.5, "status": "active", "verified": true, "nick": "a"}
	if res.Action != mcp.ElicitationResponseActionAccept || !reflect.DeepEqual(res.Content, want) {
		t.Errorf("Elicit = %s %v, want accept %v", res.Action, res.Content, want)
	}
}

func TestToolArguments(t *testing.T) {
	tool := mcp.Tool{Name: "add_numbers"}
	tool.InputSchema.Type = "object"
	tool.InputSchema.Properties = map[string]any{
		"a": map[string]any{"type": "number"},
		"b": map[string]any{"type": "number"},
		"c": map[string]any{"type": "string"},
	}
	tool.InputSchema.Required = []string{"a", "b"}
	got := toolArguments(tool)
	if want := map[string]any{"a": 1, "b": 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("toolArguments = %v, want %v", got, want)
	}
}
