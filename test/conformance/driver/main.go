// Command driver is the MCP client that the MCP conformance suite
// (@modelcontextprotocol/conformance, client scenarios) runs to test
// `mcpauth connect`:
//
//	conformance client --suite all --command "driver"
//
// The suite starts a scenario's servers, then runs "driver SERVER_URL" with
// MCP_CONFORMANCE_SCENARIO (the scenario's name) and, for some scenarios,
// MCP_CONFORMANCE_CONTEXT (JSON such as {"name": ..., "client_id": ...,
// "client_secret": ...}). The driver maps the context to `mcpauth connect`
// flags, starts `mcpauth connect SERVER_URL` over stdio with a fresh
// MCPAUTH_HOME and the fake browser as $BROWSER, and speaks MCP to it with
// mcp-go's client: initialize, tools/list, then tools/call of every listed
// tool, accepting elicitation requests with the requested schema's defaults.
// mcpauth does the OAuth part (discovery, registration, PKCE login through
// $BROWSER, tokens in the keychain); the suite's servers check it.
//
// This mirrors the suite's own example client (everything-client.ts): the
// same Client ID Metadata Document URL for every auth scenario, the
// pre-registered credentials from the context (a client secret, a private
// key, the enterprise IdP's ID token for cross-app access: see
// connectFlags), and elicitation answered with defaults.
//
// Environment (set by test/conformance/run.sh):
//
//	MCPAUTH_BIN                  the mcpauth binary (required)
//	FAKEBROWSER_BIN              test/fakebrowser/cmd/fakebrowser (required)
//	CONFORMANCE_DRIVER_STATUS    a directory: the driver writes one file per
//	                             run there, named after the scenario, holding
//	                             "ok" or "error: ..." (run.sh reads them: the
//	                             suite ignores the client's exit status)
//	CONFORMANCE_DRIVER_TIMEOUT   bound on the whole run (default 25s, under
//	                             the suite's 30s)
//
// It exits 0 when every step succeeded, 1 otherwise. Its stderr (with
// mcpauth's, prefixed "mcpauth: ") lands in the suite's stderr.txt.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// cimdURL is the Client ID Metadata Document URL the suite's
// auth/basic-cimd scenario expects as client_id (everything-client.ts uses
// it for every auth scenario; the servers that don't advertise
// client_id_metadata_document_supported get dynamic registration).
const cimdURL = "https://conformance-test.local/client-metadata.json"

// secretEnv carries a context's client_secret to mcpauth, which only reads
// secrets from the environment (--client-secret-env).
const secretEnv = "MCPAUTH_CONFORMANCE_CLIENT_SECRET"

// idTokenEnv carries a context's idp_id_token (--idp-id-token-env).
const idTokenEnv = "MCPAUTH_CONFORMANCE_IDP_ID_TOKEN"

// protocolVersion is the newest revision the suite's client scenarios
// accept in initialize (mcp-go would otherwise probe 2026-07-28 first).
const protocolVersion = mcp.ProtocolVersion20251125

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

func run(args []string, getenv func(string) string, stderr io.Writer) int {
	scenario := getenv("MCP_CONFORMANCE_SCENARIO")
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "conformance-driver: "+format+"\n", a...)
	}
	err := drive(args, getenv, stderr, logf)
	status := "ok"
	if err != nil {
		status = "error: " + oneLine(err.Error())
	}
	logf("scenario %s: %s", scenario, status)
	if dir := getenv("CONFORMANCE_DRIVER_STATUS"); dir != "" && scenario != "" {
		name := strings.NewReplacer("/", "_", string(filepath.Separator), "_").Replace(scenario)
		if werr := os.WriteFile(filepath.Join(dir, name), []byte(status+"\n"), 0o644); werr != nil {
			logf("could not write the status file: %v", werr)
		}
	}
	if err != nil {
		return 1
	}
	return 0
}

func drive(args []string, getenv func(string) string, stderr io.Writer, logf func(string, ...any)) error {
	if len(args) == 0 {
		return errors.New("usage: driver SERVER_URL (the conformance suite appends it)")
	}
	serverURL := args[len(args)-1]
	mcpauthBin, browserBin := getenv("MCPAUTH_BIN"), getenv("FAKEBROWSER_BIN")
	if mcpauthBin == "" || browserBin == "" {
		return errors.New("MCPAUTH_BIN and FAKEBROWSER_BIN must name the mcpauth and fakebrowser binaries")
	}
	timeout := 25 * time.Second
	if v := getenv("CONFORMANCE_DRIVER_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("bad CONFORMANCE_DRIVER_TIMEOUT: %w", err)
		}
		timeout = d
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	sc, err := parseContext(getenv("MCP_CONFORMANCE_CONTEXT"))
	if err != nil {
		return err
	}
	home, err := os.MkdirTemp("", "mcpauth-conformance-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	keyDir, err := os.MkdirTemp("", "mcpauth-conformance-key-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(keyDir)
	flags, env, unsupported, err := connectFlags(sc, keyDir)
	if err != nil {
		return err
	}
	for _, k := range unsupported {
		logf("context key %q has no mcpauth connect flag: ignored", k)
	}
	env = append(env, "MCPAUTH_HOME="+home, "BROWSER="+browserBin)
	cmdArgs := append([]string{"connect", serverURL}, flags...)
	logf("running mcpauth %s", strings.Join(redactArgs(cmdArgs), " "))

	mcpauthErr := &prefixWriter{w: stderr, prefix: "mcpauth: "}
	defer mcpauthErr.Flush()
	stdio := transport.NewStdioWithOptions(mcpauthBin, env, cmdArgs,
		transport.WithCommandFunc(func(ctx context.Context, command string, env, args []string) (*exec.Cmd, error) {
			cmd := exec.CommandContext(ctx, command, args...)
			cmd.Env = append(os.Environ(), env...)
			cmd.Stderr = mcpauthErr
			setParentDeathSignal(cmd)
			return cmd, nil
		}))
	c := client.NewClient(stdio,
		client.WithProtocolVersion(protocolVersion),
		client.WithClientCapabilities(mcp.ClientCapabilities{
			Elicitation: &mcp.ElicitationCapability{Form: &struct{}{}},
		}),
		client.WithElicitationHandler(elicitDefaults{logf: logf}))
	if err := c.Start(ctx); err != nil {
		return fmt.Errorf("could not start mcpauth connect: %w", err)
	}
	closed := false
	closeClient := func() error {
		if closed {
			return nil
		}
		closed = true
		return c.Close()
	}
	defer closeClient()

	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = protocolVersion
	init.Params.ClientInfo = mcp.Implementation{Name: "mcpauth-conformance-driver", Version: "1.0.0"}
	res, err := c.Initialize(ctx, init)
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	logf("initialized: server %s %s, protocol %s", res.ServerInfo.Name, res.ServerInfo.Version, res.ProtocolVersion)

	tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	names := make([]string, 0, len(tools.Tools))
	for _, t := range tools.Tools {
		names = append(names, t.Name)
	}
	logf("tools: %s", strings.Join(names, ", "))
	for _, t := range tools.Tools {
		req := mcp.CallToolRequest{}
		req.Params.Name = t.Name
		req.Params.Arguments = toolArguments(t)
		out, err := c.CallTool(ctx, req)
		if err != nil {
			return fmt.Errorf("tools/call %s: %w", t.Name, err)
		}
		if out.IsError {
			return fmt.Errorf("tools/call %s: the tool reported an error: %s", t.Name, contentText(out.Content))
		}
		logf("tools/call %s: %s", t.Name, contentText(out.Content))
	}
	// Closing stdin is how a host app ends the bridge: it must exit.
	if err := closeClient(); err != nil {
		return fmt.Errorf("mcpauth connect did not exit cleanly after stdin closed: %w", err)
	}
	return nil
}

// scenarioContext is MCP_CONFORMANCE_CONTEXT: {"name": scenario, ...keys}.
type scenarioContext map[string]any

func parseContext(raw string) (scenarioContext, error) {
	if raw == "" {
		return scenarioContext{}, nil
	}
	var sc scenarioContext
	if err := json.Unmarshal([]byte(raw), &sc); err != nil {
		return nil, fmt.Errorf("MCP_CONFORMANCE_CONTEXT is not a JSON object: %w", err)
	}
	return sc, nil
}

func (sc scenarioContext) str(key string) string {
	s, _ := sc[key].(string)
	return s
}

// connectFlags maps a scenario's context to `mcpauth connect` flags and
// environment. The suite's contexts (0.1.x) hold, besides "name":
//
//	client_id, client_secret             auth/pre-registration,
//	                                     auth/client-credentials-basic
//	client_id, private_key_pem,          auth/client-credentials-jwt
//	  signing_algorithm
//	client_id, client_secret,            auth/cross-app-access-complete-flow
//	  idp_client_id, idp_id_token,
//	  idp_issuer, idp_token_endpoint
//
// A pre-registered client_id is used alone, as everything-client.ts does;
// otherwise the Client ID Metadata Document URL is offered, which mcpauth
// uses only where the authorization server supports it (else dynamic
// registration). The client-credentials scenarios are a machine identity
// (SEP-1046): what tells them from pre-registration is the scenario, as in
// everything-client.ts, which is the user's configuration here. Secrets go
// through the environment, and a private key through a file in keyDir,
// since mcpauth takes neither on the command line. Keys with no mcpauth
// equivalent are returned as unsupported.
func connectFlags(sc scenarioContext, keyDir string) (flags, env, unsupported []string, err error) {
	handled := map[string]bool{"name": true}
	use := func(key string) string {
		handled[key] = true
		return sc.str(key)
	}
	if id := use("client_id"); id != "" {
		flags = append(flags, "--client-id", id)
		if secret := use("client_secret"); secret != "" {
			flags = append(flags, "--client-secret-env", secretEnv)
			env = append(env, secretEnv+"="+secret)
		}
	} else {
		flags = append(flags, "--client-metadata-url", cimdURL)
	}
	if strings.HasPrefix(sc.str("name"), "auth/client-credentials") {
		flags = append(flags, "--client-credentials")
	}
	if key := use("private_key_pem"); key != "" {
		path := filepath.Join(keyDir, "client-key.pem")
		if err := os.WriteFile(path, []byte(key), 0o600); err != nil {
			return nil, nil, nil, fmt.Errorf("could not write the private key for mcpauth: %w", err)
		}
		flags = append(flags, "--client-key-file", path)
		if alg := use("signing_algorithm"); alg != "" {
			flags = append(flags, "--client-key-alg", alg)
		}
	}
	if issuer := use("idp_issuer"); issuer != "" {
		flags = append(flags, "--idp-issuer", issuer)
		if id := use("idp_client_id"); id != "" {
			flags = append(flags, "--idp-client-id", id)
		}
		if ep := use("idp_token_endpoint"); ep != "" {
			flags = append(flags, "--idp-token-endpoint", ep)
		}
		if tok := use("idp_id_token"); tok != "" {
			flags = append(flags, "--idp-id-token-env", idTokenEnv)
			env = append(env, idTokenEnv+"="+tok)
		}
	}
	if s := use("scope"); s != "" {
		flags = append(flags, "--scope", s)
	}
	for k := range sc {
		if !handled[k] {
			unsupported = append(unsupported, k)
		}
	}
	sort.Strings(unsupported)
	return flags, env, unsupported, nil
}

// redactArgs hides nothing secret today (secrets go through the
// environment) but keeps it that way if a flag ever carries one.
func redactArgs(args []string) []string {
	out := slices.Clone(args)
	for i := 0; i+1 < len(out); i++ {
		if out[i] == "--header" {
			if name, _, ok := strings.Cut(out[i+1], ":"); ok {
				out[i+1] = name + ": <redacted>"
			}
		}
	}
	return out
}

// toolArguments builds arguments for a tool from its input schema: each
// required property gets its default, else a value of its type (numbers
// count up from 1, so add_numbers gets a=1, b=2).
func toolArguments(t mcp.Tool) map[string]any {
	args := map[string]any{}
	props := t.InputSchema.Properties
	n := 0
	for _, name := range t.InputSchema.Required {
		n++
		schema, _ := props[name].(map[string]any)
		args[name] = valueFor(schema, n)
	}
	return args
}

// valueFor picks a value that satisfies a (simple) JSON schema: its
// default, its first enum member, else one of its type.
func valueFor(schema map[string]any, n int) any {
	if v, ok := schema["default"]; ok {
		return v
	}
	if enum, ok := schema["enum"].([]any); ok && len(enum) > 0 {
		return enum[0]
	}
	if oneOf, ok := schema["oneOf"].([]any); ok && len(oneOf) > 0 {
		if first, ok := oneOf[0].(map[string]any); ok {
			if c, ok := first["const"]; ok {
				return c
			}
		}
	}
	typ, _ := schema["type"].(string)
	switch typ {
	case "number", "integer":
		return n
	case "boolean":
		return true
	case "array":
		return []any{}
	case "object":
		return map[string]any{}
	case "null":
		return nil
	default:
		return "test"
	}
}

// elicitDefaults accepts form elicitations with content built from the
// requested schema: every property's default (what the suite's
// elicitation-sep1034-client-defaults scenario checks), else a value of its
// type. URL-mode elicitations are declined: there is no user to send there.
type elicitDefaults struct{ logf func(string, ...any) }

func (e elicitDefaults) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	if req.Params.Mode == mcp.ElicitationModeURL {
		e.logf("elicitation (url mode) declined: %q", req.Params.Message)
		return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}, nil
	}
	schema, _ := toMap(req.Params.RequestedSchema)
	props, _ := schema["properties"].(map[string]any)
	content := map[string]any{}
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		ps, _ := props[name].(map[string]any)
		content[name] = valueFor(ps, i+1)
	}
	e.logf("elicitation %q accepted with %v", req.Params.Message, content)
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{
		Action:  mcp.ElicitationResponseActionAccept,
		Content: content,
	}}, nil
}

// toMap turns a schema decoded into any shape back into a map.
func toMap(v any) (map[string]any, error) {
	if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	err = json.Unmarshal(b, &m)
	return m, err
}

func contentText(content []mcp.Content) string {
	var parts []string
	for _, c := range content {
		if t, ok := c.(mcp.TextContent); ok {
			parts = append(parts, t.Text)
		} else {
			parts = append(parts, fmt.Sprintf("<%T>", c))
		}
	}
	return oneLine(strings.Join(parts, " "))
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}

// prefixWriter prefixes every line written to w, so mcpauth's messages are
// told apart from the driver's in the suite's stderr.txt.
type prefixWriter struct {
	mu      sync.Mutex
	w       io.Writer
	prefix  string
	partial []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, b...)
	for {
		i := strings.IndexByte(string(p.partial), '\n')
		if i < 0 {
			break
		}
		if _, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.partial[:i]); err != nil {
			return 0, err
		}
		p.partial = p.partial[i+1:]
	}
	return len(b), nil
}

// Flush writes a last line that had no newline.
func (p *prefixWriter) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.partial) > 0 {
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.partial)
		p.partial = nil
	}
}
