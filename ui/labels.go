package ui

import (
	"fmt"
	"strings"
	"time"

	"mcpauth/agent"
	"mcpauth/agent/humanize"
)

// The texts the tray and the window show, as pure functions of the data,
// so that they are tested in tables without a display.

// Snapshot is everything the UI shows, read from the Backend in one go.
type Snapshot struct {
	Servers   []agent.ServerStatus
	Approvals []Approval
	Clients   []agent.LocalClient
	// BridgeURL is http://127.0.0.1:PORT, or "" when no bridge runs.
	BridgeURL string
	// Err is set when the agent could not be read; the rest may be stale.
	Err error
}

// approvalLabel is a pending sign-in's menu entry.
func approvalLabel(a Approval) string {
	return fmt.Sprintf("Sign in to %s (requested by %s)", a.Server, requester(a))
}

func requester(a Approval) string {
	if a.RequestedBy == "" {
		return "a local client"
	}
	return a.RequestedBy
}

// stateText is a server's state for people.
func stateText(s agent.ServerStatus) string {
	switch s.State {
	case agent.StateSignedIn:
		return "signed in"
	case agent.StateNeedsLogin:
		return "needs sign-in"
	case agent.StateError:
		return "error"
	case "":
		return "unknown"
	default:
		return string(s.State)
	}
}

// serverMenuLabel is a server's tray entry: its name and state, or that a
// sign-in waits for approval.
func serverMenuLabel(s agent.ServerStatus, waiting bool) string {
	if waiting {
		return s.Name + ": waiting for your approval"
	}
	return s.Name + ": " + stateText(s)
}

// needsAttention chooses the tray icon: attention when a sign-in waits for
// approval, a server needs a sign-in or has an error, or the agent can't
// be reached.
func needsAttention(s Snapshot) bool {
	if s.Err != nil || len(s.Approvals) > 0 {
		return true
	}
	for _, srv := range s.Servers {
		if srv.State != agent.StateSignedIn {
			return true
		}
	}
	return false
}

// clientKindText explains how mcpauth identifies itself to a server's
// authorization server.
func clientKindText(k agent.ClientKind) string {
	switch k {
	case agent.ClientPreRegistered:
		return "pre-registered client ID"
	case agent.ClientCIMD:
		return "client metadata document (CIMD)"
	case agent.ClientDynamic:
		return "dynamic registration"
	case "":
		return "—"
	default:
		return string(k)
	}
}

// scopesText lists granted scopes.
func scopesText(scopes []string) string {
	if len(scopes) == 0 {
		return "—"
	}
	return strings.Join(scopes, " ")
}

// expiryText says when a token expires: "in 9m", "expired 3m ago", "—".
func expiryText(t, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return humanize.Expiry(t, now)
}

// agoText says how long ago t was: "5m ago", "just now", or "never".
func agoText(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return humanize.Ago(t, now, 5*time.Second)
}

// lastUsedText is the audit record's last use: "2m ago by cursor".
func lastUsedText(t time.Time, by string, now time.Time) string {
	if t.IsZero() || by == "" {
		return agoText(t, now)
	}
	return agoText(t, now) + " by " + by
}

// approx is humanize.Approx: 45s, 9m, 2h5m, 14h, 3d.
func approx(d time.Duration) string { return humanize.Approx(d) }

// newApprovals returns the approvals in cur that were not in prev: each
// gets one desktop notification.
func newApprovals(prev, cur []Approval) []Approval {
	seen := make(map[string]bool, len(prev))
	for _, a := range prev {
		seen[a.ID] = true
	}
	var out []Approval
	for _, a := range cur {
		if !seen[a.ID] {
			out = append(out, a)
		}
	}
	return out
}

// notification is a desktop notification's title and text for a new
// approval.
func notification(a Approval) (title, content string) {
	return "Sign-in requested",
		fmt.Sprintf("%s asks to sign in to %s. Approve or deny it in the mcpauth menu.", capitalize(requester(a)), a.Server)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// pendingFor returns the approval waiting for server name, if any.
func pendingFor(approvals []Approval, name string) (Approval, bool) {
	for _, a := range approvals {
		if a.Server == name {
			return a, true
		}
	}
	return Approval{}, false
}

// detailRows are the facts the window shows about a server, in order.
func detailRows(s agent.ServerStatus, now time.Time) [][2]string {
	issuer := s.Issuer
	if issuer == "" {
		issuer = "—"
	}
	return [][2]string{
		{"State", stateText(s)},
		{"URL", s.URL},
		{"Issuer", issuer},
		{"Client", clientKindText(s.ClientKind)},
		{"Scopes", scopesText(s.Scopes)},
		{"Token expires", expiryText(s.Expiry, now)},
		{"Last refresh", agoText(s.LastRefresh, now)},
		{"Last sign-in", agoText(s.LastLogin, now)},
		{"Last used", lastUsedText(s.LastUsed, s.LastUsedBy, now)},
	}
}

// clientRow describes a local client of the HTTP bridge.
func clientRow(c agent.LocalClient, now time.Time) string {
	return fmt.Sprintf("added %s · last used %s", agoText(c.Created, now), agoText(c.LastUsed, now))
}

// signInLabel is the Sign in button's text.
func signInLabel(s agent.ServerStatus) string {
	if s.State == agent.StateSignedIn {
		return "Sign in again"
	}
	return "Sign in"
}
