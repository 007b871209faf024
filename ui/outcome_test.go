package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"mcpauth/agent"
)

func TestOutcomeOf(t *testing.T) {
	t.Parallel()
	cid := &agent.ClientIDRequiredError{Server: "corp", Issuer: "https://login.corp.example"}
	tests := []struct {
		name        string
		r           result
		kind        outcomeKind
		title, text string
	}{
		{"success", result{act: action{kind: actRemove, server: "x"}}, outcomeNone, "", ""},
		{"canceled", result{act: action{kind: actSignIn, server: "x"}, err: fmt.Errorf("login: %w", context.Canceled)}, outcomeNone, "", ""},
		{"remove failed", result{act: action{kind: actRemove, server: "x"}, err: errors.New("revocation failed")},
			outcomeError, "Could not remove x", "revocation failed"},
		{"client id required", result{act: action{kind: actSignIn, server: "corp"}, err: fmt.Errorf("could not log in: %w", cid)},
			outcomeAskClientID, "Client ID needed for corp", "https://login.corp.example"},
		{"client id required outside a sign-in", result{act: action{kind: actApprove, server: "corp"}, err: cid},
			outcomeError, "Could not approve the sign-in to corp", "supports neither"},
		{"new key", result{act: action{kind: actAddClient, client: "cursor"}, key: "k"}, outcomeShowKey, "Key for cursor", "cannot show it again"},
		{"key failed", result{act: action{kind: actAddClient, client: "cursor"}, err: errors.New("exists")}, outcomeError, "Could not create a key for cursor", "exists"},
		{"deny failed", result{act: action{kind: actDeny, server: "s"}, err: errors.New("gone")}, outcomeError, "Could not deny the sign-in to s", "gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := outcomeOf(tt.r)
			if o.kind != tt.kind || o.title != tt.title || !strings.Contains(o.message, tt.text) {
				t.Errorf("outcomeOf() = %+v, want kind %v, title %q, message containing %q", o, tt.kind, tt.title, tt.text)
			}
		})
	}
}

func TestConfirmations(t *testing.T) {
	t.Parallel()
	in := agent.ServerStatus{Name: "linear", State: agent.StateSignedIn, Issuer: "https://mcp.linear.app"}
	out := agent.ServerStatus{Name: "linear", State: agent.StateNeedsLogin}
	tests := []struct {
		name string
		c    confirmation
		want confirmation // message: a substring
	}{
		{"remove signed in", confirmRemove(in), confirmation{"Remove linear?", "revoking its tokens at https://mcp.linear.app", "Remove"}},
		{"remove signed out", confirmRemove(out), confirmation{"Remove linear?", "forgets linear and its secrets", "Remove"}},
		{"sign out", confirmSignOut(in), confirmation{"Sign out of linear?", "revokes the tokens for linear at https://mcp.linear.app", "Sign out"}},
		{"sign out, issuer unknown", confirmSignOut(out), confirmation{"Sign out of linear?", "at the authorization server", "Sign out"}},
		{"revoke key", confirmRevokeClient("cursor"), confirmation{"Revoke the key of cursor?", "stops working at once", "Revoke"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.c.title != tt.want.title || tt.c.confirm != tt.want.confirm || !strings.Contains(tt.c.message, tt.want.message) {
				t.Errorf("got %+v, want %+v", tt.c, tt.want)
			}
		})
	}
}
