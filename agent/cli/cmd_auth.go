package cli

import (
	"context"
	"fmt"
	"time"

	"mcpauth/agent"
)

var loginCmd = &command{
	name:    "login",
	args:    "NAME [--no-browser | --device]",
	summary: "sign in to a server now",
	help: `
Runs the OAuth sign-in for NAME: it discovers the authorization server,
registers mcpauth there if needed, and opens your browser at the
authorization URL (also printed, in case the browser doesn't open). It
returns once you have signed in. $BROWSER, if set, is the command that
opens the URL.

With --device it uses the device flow (RFC 8628) instead, if the
authorization server offers it: it prints a URL and a code, you enter the
code on any device (your phone, your laptop), and it waits until you have
approved. It is also used by itself when no browser can be opened here (no
$BROWSER and no display, as in an SSH session).

A server added with --client-credentials or for cross-app access signs in
without you: login just gets a token now (for cross-app access, after a
sign-in at the enterprise IdP if its ID token has expired).`,
	example: "  mcpauth login linear\n  mcpauth login corp --no-browser    # print the URL only\n" +
		"  mcpauth login corp --device        # over SSH: enter a code on another device",
	run: func(ctx context.Context, r *runner, cmd *command, args []string) error {
		fs := newFlagSet(cmd, r)
		noBrowser := fs.Bool("no-browser", false, "only print the URL; don't open a browser")
		device := fs.Bool("device", false, "sign in with a code on another device (device flow, RFC 8628)")
		pos, err := r.parse(fs, args, "NAME")
		if err != nil {
			return err
		}
		if *noBrowser && *device {
			return usagef("choose --no-browser or --device, not both")
		}
		return r.withAPI(ctx, func(api agent.API) error {
			return r.login(ctx, api, pos[0], *noBrowser, *device)
		})
	},
}

// login signs in to name, printing the URL, or the device flow's code, as
// soon as it is known.
func (r *runner) login(ctx context.Context, api agent.API, name string, noBrowser, device bool) error {
	err := api.Login(ctx, name, agent.LoginOptions{
		NoBrowser:    noBrowser,
		Device:       device,
		OnDeviceCode: func(dc agent.DeviceCode) { r.say("%s", deviceMessage(dc, time.Now())) },
		OnURL: func(u string) {
			r.say("Open this URL to sign in to %s:\n  %s\nWaiting for the sign-in to finish (Ctrl-C to cancel)...", name, u)
		},
		OnPending: func() {
			r.say("Approve the sign-in to %s in the mcpauth menu (Ctrl-C to cancel)...", name)
		},
	})
	if err != nil {
		return err
	}
	r.say("Signed in to %s.", name)
	return nil
}

var logoutCmd = &command{
	name:    "logout",
	args:    "NAME",
	summary: "revoke a server's tokens, keeping the server",
	help: `
Revokes NAME's tokens at its authorization server (RFC 7009), refresh token
first, and only then deletes them from the keychain. If the revocation
fails, the tokens are kept and the error says why, so you can retry. The
server stays registered: 'mcpauth login NAME' signs in again.`,
	example: "  mcpauth logout linear",
	run: func(ctx context.Context, r *runner, cmd *command, args []string) error {
		pos, err := r.parse(newFlagSet(cmd, r), args, "NAME")
		if err != nil {
			return err
		}
		return r.withAPI(ctx, func(api agent.API) error {
			if err := api.Logout(ctx, pos[0]); err != nil {
				return err
			}
			r.say("Signed out of %s.", pos[0])
			return nil
		})
	},
}

var tokenCmd = &command{
	name:    "token",
	args:    "NAME",
	summary: "print a valid access token for a server",
	help: `
Prints a valid access token for NAME, and nothing else, to stdout,
refreshing it first if it is about to expire. It never opens a browser: if
only a sign-in can help, it fails (exit 1) with the command to run.

The token is a secret: pass it straight to the program that needs it.`,
	example: `  mcpauth token linear
  curl -H "Authorization: Bearer $(mcpauth token linear)" https://mcp.linear.app/mcp`,
	run: func(ctx context.Context, r *runner, cmd *command, args []string) error {
		pos, err := r.parse(newFlagSet(cmd, r), args, "NAME")
		if err != nil {
			return err
		}
		return r.withAPI(ctx, func(api agent.API) error {
			tok, err := api.Token(ctx, pos[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(r.stdout, tok.Value)
			return err
		})
	},
}
