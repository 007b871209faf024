package cli

import (
	"context"
	"strings"
	"time"

	"mcpauth/agent"
)

var addCmd = &command{
	name:    "add",
	args:    "NAME URL [flags]",
	summary: "register a remote MCP server",
	help: `
Registers the MCP server at URL under NAME. Nothing is contacted yet: the
first 'mcpauth login NAME' (or the first use) discovers the authorization
server and signs in.

mcpauth identifies itself to the authorization server with, in order: the
client ID given here, a Client ID Metadata Document (--client-metadata-url),
or dynamic registration. Secrets (the client secret, header values) go to
the OS keychain, never to a file. A client secret is never taken on the
command line: put it in an environment variable and name that variable.

NAME: letters, digits, '-', '_' and '.', at most 64 characters.`,
	example: `  mcpauth add linear https://mcp.linear.app/mcp
  mcpauth add corp https://mcp.corp.example/mcp --client-id 0oa1b2c3 \
      --client-secret-env CORP_SECRET --scope "openid offline_access" --no-resource`,
	run: runAdd,
}

func runAdd(ctx context.Context, r *runner, cmd *command, args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if f, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); strings.HasPrefix(a, "-") && f == "client-secret" {
			return usagef("mcpauth never takes a secret on the command line, where shell history and ps would show it: " +
				"put it in an environment variable and pass --client-secret-env VAR")
		}
	}
	fs := newFlagSet(cmd, r)
	clientID := fs.String("client-id", "", "a client `ID` registered with the server's authorization server")
	secretEnv := fs.String("client-secret-env", "", "read the client secret from the environment variable `VAR`")
	metadataURL := fs.String("client-metadata-url", "", "a Client ID Metadata Document `URL` to use as the client ID")
	var scopes scopesFlag
	fs.Var(&scopes, "scope", "`SCOPES` to request, space-separated; repeatable")
	headers := headerFlag{}
	fs.Var(headers, "header", "send `\"Name: value\"` on every request to the server (an API key, say);\nrepeatable; the value is kept in the keychain")
	noResource := fs.Bool("no-resource", false, "omit the RFC 8707 resource parameter, for authorization servers\nthat reject it (Entra ID)")
	params := paramFlag{}
	fs.Var(params, "authorize-param", "add `key=value` to the authorization request; repeatable")
	allowHTTP := fs.Bool("allow-http", false, "allow plain http to a host that is not loopback")
	pos, err := r.parse(fs, args, "NAME", "URL")
	if err != nil {
		return err
	}
	req := agent.AddRequest{
		Name: pos[0], URL: pos[1],
		ClientID: *clientID, ClientMetadataURL: *metadataURL,
		Scopes: scopes, NoResource: *noResource, AllowHTTP: *allowHTTP,
	}
	if err := validateName(req.Name); err != nil {
		return err
	}
	if err := validateURL("the server URL", req.URL, req.AllowHTTP); err != nil {
		return err
	}
	if req.ClientMetadataURL != "" {
		if err := validateURL("--client-metadata-url", req.ClientMetadataURL, false); err != nil {
			return err
		}
	}
	if *secretEnv != "" {
		if req.ClientID == "" {
			return usagef("--client-secret-env needs --client-id: a secret belongs to a client ID")
		}
		if req.ClientSecret = r.env.Getenv(*secretEnv); req.ClientSecret == "" {
			return usagef("--client-secret-env %s: $%s is unset or empty", *secretEnv, *secretEnv)
		}
	}
	if len(headers) > 0 {
		req.Headers = headers
	}
	if len(params) > 0 {
		req.AuthorizeParams = params
	}
	return r.withAPI(ctx, func(api agent.API) error {
		if err := api.Add(ctx, req); err != nil {
			return err
		}
		r.say("Added %s.\nNext: mcpauth login %s", req.Name, req.Name)
		return nil
	})
}

var removeCmd = &command{
	name:    "remove",
	args:    "NAME",
	summary: "log out of a server and forget it",
	help: `
Revokes the server's tokens at its authorization server (RFC 7009), then
deletes them from the keychain and forgets the server. If the revocation
fails, the server is kept and the error says why, so you can retry.`,
	example: "  mcpauth remove linear",
	run: func(ctx context.Context, r *runner, cmd *command, args []string) error {
		pos, err := r.parse(newFlagSet(cmd, r), args, "NAME")
		if err != nil {
			return err
		}
		return r.withAPI(ctx, func(api agent.API) error {
			if err := api.Remove(ctx, pos[0]); err != nil {
				return err
			}
			r.say("Removed %s.", pos[0])
			return nil
		})
	},
}

var listCmd = &command{
	name:    "list",
	args:    "[--json]",
	summary: "show every server and its state",
	help: `
Lists the registered servers: whether they are signed in, their
authorization server (ISSUER), how mcpauth identifies itself there (CLIENT:
pre-registered, cimd or dynamic), the granted scopes, when the access token
expires and when it was last refreshed. It never shows a secret.`,
	example: "  mcpauth list\n  mcpauth list --json | jq '.[] | select(.state != \"signed in\") | .name'",
	run: func(ctx context.Context, r *runner, cmd *command, args []string) error {
		fs := newFlagSet(cmd, r)
		asJSON := fs.Bool("json", false, "print the list as JSON")
		if _, err := r.parse(fs, args); err != nil {
			return err
		}
		return r.withAPI(ctx, func(api agent.API) error {
			list, err := api.List(ctx)
			if err != nil {
				return err
			}
			if *asJSON {
				return writeJSON(r.stdout, list)
			}
			if len(list) == 0 {
				r.say("no servers configured; try `mcpauth demo` or `mcpauth add NAME URL`")
				return nil
			}
			return writeTable(r.stdout, list, time.Now())
		})
	},
}
