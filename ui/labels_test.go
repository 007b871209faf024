package ui

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mcpauth/agent"
)

var now = time.Date(2026, 5, 9, 12, 0, 0, 0, time.UTC)

func TestApprovalLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a    Approval
		want string
	}{
		{Approval{Server: "linear", RequestedBy: "cursor"}, "Sign in to linear (requested by cursor)"},
		{Approval{Server: "demo", RequestedBy: "mcpauth CLI"}, "Sign in to demo (requested by mcpauth CLI)"},
		{Approval{Server: "demo"}, "Sign in to demo (requested by a local client)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := approvalLabel(tt.a); got != tt.want {
				t.Errorf("approvalLabel() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestServerMenuLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s       agent.ServerStatus
		waiting bool
		want    string
	}{
		{agent.ServerStatus{Name: "a", State: agent.StateSignedIn}, false, "a: signed in"},
		{agent.ServerStatus{Name: "b", State: agent.StateNeedsLogin}, false, "b: needs sign-in"},
		{agent.ServerStatus{Name: "c", State: agent.StateError}, false, "c: error"},
		{agent.ServerStatus{Name: "d"}, false, "d: unknown"},
		{agent.ServerStatus{Name: "e", State: "weird"}, false, "e: weird"},
		{agent.ServerStatus{Name: "b", State: agent.StateNeedsLogin}, true, "b: waiting for your approval"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := serverMenuLabel(tt.s, tt.waiting); got != tt.want {
				t.Errorf("serverMenuLabel() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNeedsAttention(t *testing.T) {
	t.Parallel()
	in := agent.ServerStatus{Name: "a", State: agent.StateSignedIn}
	out := agent.ServerStatus{Name: "b", State: agent.StateNeedsLogin}
	bad := agent.ServerStatus{Name: "c", State: agent.StateError}
	tests := []struct {
		name string
		s    Snapshot
		want bool
	}{
		{"empty", Snapshot{}, false},
		{"all signed in", Snapshot{Servers: []agent.ServerStatus{in, in}}, false},
		{"one needs sign-in", Snapshot{Servers: []agent.ServerStatus{in, out}}, true},
		{"one error", Snapshot{Servers: []agent.ServerStatus{bad}}, true},
		{"approval pending", Snapshot{Servers: []agent.ServerStatus{in}, Approvals: []Approval{{ID: "1", Server: "a"}}}, true},
		{"agent unreachable", Snapshot{Err: errors.New("gone")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := needsAttention(tt.s); got != tt.want {
				t.Errorf("needsAttention() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTimes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    func() string
		want string
	}{
		{"expiry zero", func() string { return expiryText(time.Time{}, now) }, "—"},
		{"expiry future", func() string { return expiryText(now.Add(9*time.Minute+30*time.Second), now) }, "in 9m"},
		{"expiry hours", func() string { return expiryText(now.Add(2*time.Hour+5*time.Minute), now) }, "in 2h5m"},
		{"expiry past", func() string { return expiryText(now.Add(-3*time.Minute), now) }, "expired 3m ago"},
		{"ago zero", func() string { return agoText(time.Time{}, now) }, "never"},
		{"ago just now", func() string { return agoText(now.Add(-2*time.Second), now) }, "just now"},
		{"ago clock skew", func() string { return agoText(now.Add(time.Minute), now) }, "just now"},
		{"ago seconds", func() string { return agoText(now.Add(-45*time.Second), now) }, "45s ago"},
		{"ago days", func() string { return agoText(now.Add(-72*time.Hour), now) }, "3d ago"},
		{"ago 14h", func() string { return agoText(now.Add(-14*time.Hour-20*time.Minute), now) }, "14h ago"},
		{"last used by", func() string { return lastUsedText(now.Add(-2*time.Minute), "cursor", now) }, "2m ago by cursor"},
		{"last used nobody", func() string { return lastUsedText(now.Add(-2*time.Minute), "", now) }, "2m ago"},
		{"never used", func() string { return lastUsedText(time.Time{}, "cursor", now) }, "never"},
		{"approx negative", func() string { return approx(-time.Second) }, "0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.f(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewApprovals(t *testing.T) {
	t.Parallel()
	a, b, c := Approval{ID: "a"}, Approval{ID: "b"}, Approval{ID: "c"}
	tests := []struct {
		name      string
		prev, cur []Approval
		want      []Approval
	}{
		{"first", nil, []Approval{a}, []Approval{a}},
		{"unchanged", []Approval{a}, []Approval{a}, nil},
		{"one more", []Approval{a}, []Approval{a, b}, []Approval{b}},
		{"resolved", []Approval{a, b}, []Approval{b}, nil},
		{"replaced", []Approval{a}, []Approval{c}, []Approval{c}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, newApprovals(tt.prev, tt.cur)); diff != "" {
				t.Errorf("newApprovals() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNotification(t *testing.T) {
	t.Parallel()
	title, content := notification(Approval{Server: "linear", RequestedBy: "cursor"})
	if title != "Sign-in requested" || content != "Cursor asks to sign in to linear. Approve or deny it in the mcpauth menu." {
		t.Errorf("notification() = %q, %q", title, content)
	}
}

func TestDetailRows(t *testing.T) {
	t.Parallel()
	s := agent.ServerStatus{
		Name: "demo", URL: "http://127.0.0.1:8787/mcp", State: agent.StateSignedIn,
		Issuer: "http://127.0.0.1:8787", ClientKind: agent.ClientDynamic, Scopes: []string{"mcp", "read"},
		Expiry: now.Add(9 * time.Minute), LastRefresh: now.Add(-time.Minute), LastLogin: now.Add(-time.Hour),
		LastUsed: now.Add(-2 * time.Minute), LastUsedBy: "cursor",
	}
	want := [][2]string{
		{"State", "signed in"},
		{"URL", "http://127.0.0.1:8787/mcp"},
		{"Issuer", "http://127.0.0.1:8787"},
		{"Client", "dynamic registration"},
		{"Scopes", "mcp read"},
		{"Token expires", "in 9m"},
		{"Last refresh", "1m ago"},
		{"Last sign-in", "1h ago"},
		{"Last used", "2m ago by cursor"},
	}
	if diff := cmp.Diff(want, detailRows(s, now)); diff != "" {
		t.Errorf("detailRows() (-want +got):\n%s", diff)
	}
	empty := detailRows(agent.ServerStatus{Name: "x", State: agent.StateNeedsLogin}, now)
	for _, r := range empty[2:] {
		if r[1] == "" {
			t.Errorf("detailRows() of a new server: %s is empty; want a dash or never", r[0])
		}
	}
}

func TestClientKindText(t *testing.T) {
	t.Parallel()
	for k, want := range map[agent.ClientKind]string{
		agent.ClientPreRegistered: "pre-registered client ID",
		agent.ClientCIMD:          "client metadata document (CIMD)",
		agent.ClientDynamic:       "dynamic registration",
		"":                        "—",
	} {
		if got := clientKindText(k); got != want {
			t.Errorf("clientKindText(%q) = %q, want %q", k, got, want)
		}
	}
}
