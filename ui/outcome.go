package ui

import (
	"context"
	"errors"
	"fmt"

	"mcpauth/agent"
)

// result is what a Backend call started by the UI loop came back with.
type result struct {
	act action
	err error
	key string // AddClient's key: shown once, never stored
}

// outcomeKind is how the UI reacts to a result.
type outcomeKind int

const (
	outcomeNone        outcomeKind = iota // nothing to say: the window updates from the agent's events
	outcomeError                          // show title and message
	outcomeAskClientID                    // ask for a client ID for server, then sign in again
	outcomeShowKey                        // show a new local client's key, once
)

type outcome struct {
	kind           outcomeKind
	title, message string
	server         string
}

// outcomeOf decides what the user sees after act ended with err. Error
// messages are the agent's, which say what to do; they never hold a secret.
func outcomeOf(r result) outcome {
	act, err := r.act, r.err
	if err == nil {
		if act.kind == actAddClient {
			return outcome{kind: outcomeShowKey, title: "Key for " + act.client,
				message: "Copy this key now: mcpauth keeps only a hash of it, and cannot show it again."}
		}
		return outcome{}
	}
	if errors.Is(err, context.Canceled) {
		return outcome{}
	}
	var cid *agent.ClientIDRequiredError
	if act.kind == actSignIn && errors.As(err, &cid) {
		return outcome{kind: outcomeAskClientID, server: act.server, title: "Client ID needed for " + act.server,
			message: fmt.Sprintf("The authorization server %s supports neither dynamic client registration nor client "+
				"metadata documents. Register a client there with the redirect URI http://127.0.0.1/callback, "+
				"then enter its client ID (and secret, if it has one).", cid.Issuer)}
	}
	return outcome{kind: outcomeError, title: failureTitle(act), message: err.Error()}
}

func failureTitle(act action) string {
	switch act.kind {
	case actApprove:
		return "Could not approve the sign-in to " + act.server
	case actDeny:
		return "Could not deny the sign-in to " + act.server
	case actSignIn:
		return "Could not sign in to " + act.server
	case actSignOut:
		return "Could not sign out of " + act.server
	case actRemove:
		return "Could not remove " + act.server
	case actAdd:
		return "Could not add the server"
	case actSetClientID:
		return "Could not save the client ID for " + act.server
	case actSetAutoApprove:
		return "Could not change the setting for " + act.server
	case actAddClient:
		return "Could not create a key for " + act.client
	case actRemoveClient:
		return "Could not revoke the key of " + act.client
	}
	return "Something went wrong"
}

// confirmation is a question asked before a destructive action.
type confirmation struct {
	title, message, confirm string
}

func confirmRemove(s agent.ServerStatus) confirmation {
	msg := fmt.Sprintf("mcpauth forgets %s and its secrets. Apps that use it through mcpauth stop working.", s.Name)
	if s.State == agent.StateSignedIn {
		msg = fmt.Sprintf("mcpauth signs out of %s first, revoking its tokens at %s, then forgets it and its secrets. "+
			"Apps that use it through mcpauth stop working.", s.Name, issuerText(s.Issuer))
	}
	return confirmation{title: "Remove " + s.Name + "?", message: msg, confirm: "Remove"}
}

func confirmSignOut(s agent.ServerStatus) confirmation {
	return confirmation{
		title: "Sign out of " + s.Name + "?",
		message: fmt.Sprintf("mcpauth revokes the tokens for %s at %s and deletes them. Apps using %s need a new sign-in.",
			s.Name, issuerText(s.Issuer), s.Name),
		confirm: "Sign out",
	}
}

func confirmRevokeClient(name string) confirmation {
	return confirmation{
		title:   "Revoke the key of " + name + "?",
		message: fmt.Sprintf("The key stops working at once: %s can no longer use the HTTP bridge until you give it a new key.", name),
		confirm: "Revoke",
	}
}

func issuerText(s string) string {
	if s == "" {
		return "the authorization server"
	}
	return s
}
