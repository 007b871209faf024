package cli

import (
	"context"
	"flag"
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

Two kinds of server sign in without a browser:
  - a machine identity (--client-credentials): the client credentials
    grant (RFC 6749 §4.4) with --client-id and its secret
    (--client-secret-env) or private key (--client-key-file, private_key_jwt);
  - cross-app access (--idp-issuer): an ID token from the enterprise IdP is
    exchanged there for an identity assertion, which the server's
    authorization server takes (RFC 8693, RFC 7523). The ID token comes
    from --idp-id-token-env, or 'mcpauth login' signs in at the IdP.
Their tokens are renewed by running the grant again.

NAME: letters, digits, '-', '_' and '.', at most 64 characters.`,
	example: `  mcpauth add linear https://mcp.linear.app/mcp
  mcpauth add corp https://mcp.corp.example/mcp --client-id 0oa1b2c3 \
      --client-secret-env CORP_SECRET --scope "openid offline_access" --no-resource
  mcpauth add ci https://mcp.corp.example/mcp --client-credentials --client-id svc-ci \
      --client-key-file ci-key.pem --client-key-alg ES256
  mcpauth add wiki https://mcp.wiki.corp.example/mcp --client-id mcp-wiki \
      --client-secret-env WIKI_SECRET --idp-issuer https://corp.okta.com --idp-client-id 0oa-mcpauth`,
	run: runAdd,
}

func runAdd(ctx context.Context, r *runner, cmd *command, args []string) error {
	if err := refuseSecretFlag(args); err != nil {
		return err
	}
	fs := newFlagSet(cmd, r)
	af := defineAddFlags(fs)
	pos, err := r.parse(fs, args, "NAME", "URL")
	if err != nil {
		return err
	}
	if err := validateName(pos[0]); err != nil {
		return err
	}
	req, err := af.request(r, pos[0], pos[1])
	if err != nil {
		return err
	}
	return r.withAPI(ctx, func(api agent.API) error {
		if err := api.Add(ctx, req); err != nil {
			return err
		}
		r.say("Added %s.\nNext: mcpauth login %s", req.Name, req.Name)
		return nil
	})
}

// refuseSecretFlag refuses --client-secret and the other secretFlags: a
// secret on the command line shows in shell history and ps.
func refuseSecretFlag(args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		f, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if instead, ok := secretFlags[f]; ok && strings.HasPrefix(a, "-") {
			return usagef("mcpauth never takes a secret on the command line, where shell history and ps would show it: "+
				"pass %s instead", instead)
		}
	}
	return nil
}

// addFlags are the flags of `mcpauth add`, which `mcpauth connect URL`
// takes too, for the server it registers.
type addFlags struct {
	clientID, secretEnv, metadataURL *string
	scopes                           scopesFlag
	headers                          headerFlag
	noResource, allowHTTP            *bool
	params                           paramFlag
	grant                            *grantFlags // grantflags.go
}

func defineAddFlags(fs *flag.FlagSet) *addFlags {
	f := &addFlags{headers: headerFlag{}, params: paramFlag{}}
	f.clientID = fs.String("client-id", "", "a client `ID` registered with the server's authorization server")
	f.secretEnv = fs.String("client-secret-env", "", "read the client secret from the environment variable `VAR`")
	f.metadataURL = fs.String("client-metadata-url", "", "a Client ID Metadata Document `URL` to use as the client ID")
	fs.Var(&f.scopes, "scope", "`SCOPES` to request, space-separated; repeatable")
	fs.Var(f.headers, "header", "send `\"Name: value\"` on every request to the server (an API key, say);\nrepeatable; the value is kept in the keychain")
	f.noResource = fs.Bool("no-resource", false, "omit the RFC 8707 resource parameter, for authorization servers\nthat reject it (Entra ID)")
	fs.Var(f.params, "authorize-param", "add `key=value` to the authorization request; repeatable")
	f.allowHTTP = fs.Bool("allow-http", false, "allow plain http to a host that is not loopback")
	f.grant = defineGrantFlags(fs)
	return f
}

// request builds and checks the AddRequest for name (checked by the
// caller) and url from the parsed flags.
func (f *addFlags) request(r *runner, name, url string) (agent.AddRequest, error) {
	req := agent.AddRequest{
		Name: name, URL: url,
		ClientID: *f.clientID, ClientMetadataURL: *f.metadataURL,
		Scopes: f.scopes, NoResource: *f.noResource, AllowHTTP: *f.allowHTTP,
	}
	if err := validateURL("the server URL", req.URL, req.AllowHTTP); err != nil {
		return req, err
	}
	if req.ClientMetadataURL != "" {
		if err := validateURL("--client-metadata-url", req.ClientMetadataURL, false); err != nil {
			return req, err
		}
	}
	if *f.secretEnv != "" {
		if req.ClientID == "" {
			return req, usagef("--client-secret-env needs --client-id: a secret belongs to a client ID")
		}
		if req.ClientSecret = r.env.Getenv(*f.secretEnv); req.ClientSecret == "" {
			return req, usagef("--client-secret-env %s: $%s is unset or empty", *f.secretEnv, *f.secretEnv)
		}
	}
	if len(f.headers) > 0 {
		req.Headers = f.headers
	}
	if len(f.params) > 0 {
		req.AuthorizeParams = f.params
	}
	if err := f.grant.apply(r, &req); err != nil {
		return req, err
	}
	return req, nil
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
expires, when it was last refreshed, and when and by which local client it
was last used through the HTTP bridge (LAST USED). It never shows a secret.`,
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
