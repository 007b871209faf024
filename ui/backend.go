package ui

import (
	"context"

	"mcpauth/agent"
)

// Backend is what the UI needs from the agent. The UI holds no
// authoritative state: it reads everything through Backend and re-reads it
// when Subscribe says something changed (tailscale's client/systray
// works the same way against its local API). The methods mirror agent.API;
// NewBackend adapts an agent.API, in-process or over the control socket.
//
// Implementations must be safe for concurrent use.
type Backend interface {
	// List, Add, Remove, Logout, AddClient, ListClients and RemoveClient
	// are agent.API's.
	List(ctx context.Context) ([]agent.ServerStatus, error)
	Add(ctx context.Context, req agent.AddRequest) error
	Remove(ctx context.Context, name string) error
	Logout(ctx context.Context, name string) error
	AddClient(ctx context.Context, name string) (key string, err error)
	ListClients(ctx context.Context) ([]agent.LocalClient, error)
	RemoveClient(ctx context.Context, name string) error

	// SignIn is a login the user asked for in the UI itself, so it needs
	// no approval: the browser opens at once. It returns when the login
	// ends, with *agent.ClientIDRequiredError when the authorization server
	// needs a client ID the user must supply (then SetClientID).
	SignIn(ctx context.Context, name string) error
	// SetClientID configures a pre-registered client for server name; the
	// secret (may be empty) goes to the keychain.
	SetClientID(ctx context.Context, name, clientID, secret string) error
	// SetAutoApprove says whether server name may sign in again without
	// asking, once a login to it has been approved.
	SetAutoApprove(ctx context.Context, name string, on bool) error

	// Approvals lists the logins waiting for the user's approval, oldest
	// first. Approve lets one proceed (the browser opens); Deny fails
	// every request waiting on it.
	Approvals(ctx context.Context) ([]Approval, error)
	Approve(ctx context.Context, id string) error
	Deny(ctx context.Context, id string) error

	// AttachTray reports changes until ctx ends or the agent goes away;
	// then the channel is closed. Events are hints to re-read: a slow
	// reader may miss some but always gets one after the last change.
	// While attached, the agent asks the tray to approve logins.
	AttachTray(ctx context.Context) (<-chan Event, error)
	// Status tells where the HTTP bridge listens, for config snippets.
	Status(ctx context.Context) (agent.AgentStatus, error)
}

// Approval, Event and EventKind are the agent's.
type (
	Approval  = agent.Approval
	Event     = agent.Event
	EventKind = agent.EventKind
)

const (
	EventServers   = agent.EventServers
	EventApprovals = agent.EventApprovals
	EventClients   = agent.EventClients
)

// NewBackend adapts the agent's TrayAPI, in-process (*agent.Agent) or over
// the control socket (*agent.Client), to Backend.
func NewBackend(api agent.TrayAPI) Backend { return trayBackend{api} }

type trayBackend struct{ agent.TrayAPI }

// SignIn is a login the user asked for in the window: it needs no
// approval (agent.LoginOptions.Approved).
func (b trayBackend) SignIn(ctx context.Context, name string) error {
	return b.Login(ctx, name, agent.LoginOptions{Approved: true})
}

func (b trayBackend) SetClientID(ctx context.Context, name, clientID, secret string) error {
	return b.Update(ctx, name, agent.ServerUpdate{ClientID: &clientID, ClientSecret: &secret})
}

func (b trayBackend) SetAutoApprove(ctx context.Context, name string, on bool) error {
	return b.Update(ctx, name, agent.ServerUpdate{AutoApprove: &on})
}

func (b trayBackend) Status(ctx context.Context) (agent.AgentStatus, error) {
	st, err := b.TrayAPI.Status(ctx)
	if err != nil || st == nil {
		return agent.AgentStatus{}, err
	}
	return *st, nil
}
