package ui

import (
	"fyne.io/fyne/v2"

	"mcpauth/agent"
)

// actionKind is what a click in the tray or the window asks for. fyne
// callbacks only send an action to the UI loop (see app.go), which does
// the work.
type actionKind int

const (
	actNone           actionKind = iota
	actOpen                      // show the manager window
	actShowServer                // show the window at server
	actApprove                   // approve approval
	actDeny                      // deny approval
	actSignIn                    // sign in to server now (the user asked in the UI)
	actSignOut                   // sign out of server (revokes at the AS)
	actRemove                    // remove server (after the window confirmed it)
	actAdd                       // add req
	actSetClientID               // configure clientID (and secret) for server, then sign in
	actSetAutoApprove            // set server's auto-approval to on
	actAddClient                 // issue a key for local client
	actRemoveClient              // revoke local client's key
	actQuit
)

// action is one request from the tray or the window. It may carry the
// secret the user typed for a client (secret, req.ClientSecret): it is
// never logged.
type action struct {
	kind     actionKind
	server   string
	approval string
	client   string // a local client's name
	on       bool
	clientID string
	secret   string
	req      *agent.AddRequest
}

// menuEntry is one tray menu item, independent of fyne, so that the menu
// is a pure function of a Snapshot.
type menuEntry struct {
	label     string
	separator bool
	disabled  bool
	act       action
	children  []menuEntry
}

// Tray menu labels that tests and the end-to-end test look items up by
// (dbusmenu ids are not stable; labels are).
const (
	labelApprove = "Approve"
	labelDeny    = "Deny"
	labelOpen    = "Open mcpauth…"
	labelQuit    = "Quit"
)

// trayMenu builds the tray menu: pending sign-ins first, each with Approve
// and Deny; then one entry per server with its state; then Open and Quit.
func trayMenu(s Snapshot) []menuEntry {
	var m []menuEntry
	if s.Err != nil {
		m = append(m, menuEntry{label: "The mcpauth agent is not reachable", disabled: true})
	}
	for _, a := range s.Approvals {
		m = append(m, menuEntry{
			label: approvalLabel(a),
			children: []menuEntry{
				{label: labelApprove, act: action{kind: actApprove, server: a.Server, approval: a.ID}},
				{label: labelDeny, act: action{kind: actDeny, server: a.Server, approval: a.ID}},
			},
		})
	}
	if len(s.Approvals) > 0 {
		m = append(m, menuEntry{separator: true})
	}
	for _, srv := range s.Servers {
		_, waiting := pendingFor(s.Approvals, srv.Name)
		m = append(m, menuEntry{
			label: serverMenuLabel(srv, waiting),
			act:   action{kind: actShowServer, server: srv.Name},
		})
	}
	if len(s.Servers) == 0 && s.Err == nil {
		m = append(m, menuEntry{label: "No servers yet", disabled: true})
	}
	return append(m,
		menuEntry{separator: true},
		menuEntry{label: labelOpen, act: action{kind: actOpen}},
		menuEntry{label: labelQuit, act: action{kind: actQuit}},
	)
}

// fyneMenu renders entries as a fyne menu whose items send their action
// with send.
func fyneMenu(title string, entries []menuEntry, send func(action)) *fyne.Menu {
	items := make([]*fyne.MenuItem, 0, len(entries))
	for _, e := range entries {
		if e.separator {
			items = append(items, fyne.NewMenuItemSeparator())
			continue
		}
		item := fyne.NewMenuItem(e.label, nil)
		item.Disabled = e.disabled
		if e.act.kind != actNone {
			act := e.act
			item.Action = func() { send(act) }
		}
		if len(e.children) > 0 {
			item.ChildMenu = fyneMenu("", e.children, send)
		}
		item.IsQuit = e.act.kind == actQuit
		items = append(items, item)
	}
	return fyne.NewMenu(title, items...)
}

// signInOrApprove turns the window's Sign in into an approval when a
// sign-in to the same server already waits for one: the agent runs one
// login per server at a time, so a second would only queue behind it.
func signInOrApprove(act action, approvals []Approval) action {
	if act.kind != actSignIn {
		return act
	}
	if a, ok := pendingFor(approvals, act.server); ok {
		return action{kind: actApprove, server: a.Server, approval: a.ID}
	}
	return act
}
