package ui

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mcpauth/agent"
)

// menuText renders entries as lines for comparison: children indented,
// disabled items in brackets, separators as "---".
func menuText(entries []menuEntry, indent string) []string {
	var out []string
	for _, e := range entries {
		switch {
		case e.separator:
			out = append(out, indent+"---")
		case e.disabled:
			out = append(out, indent+"["+e.label+"]")
		default:
			out = append(out, indent+e.label)
		}
		out = append(out, menuText(e.children, indent+"  ")...)
	}
	return out
}

func TestTrayMenu(t *testing.T) {
	t.Parallel()
	in := agent.ServerStatus{Name: "demo", State: agent.StateSignedIn}
	out := agent.ServerStatus{Name: "linear", State: agent.StateNeedsLogin}
	tests := []struct {
		name string
		s    Snapshot
		want []string
	}{
		{"no servers", Snapshot{}, []string{"[No servers yet]", "---", "Open mcpauth…", "Quit"}},
		{"servers", Snapshot{Servers: []agent.ServerStatus{in, out}},
			[]string{"demo: signed in", "linear: needs sign-in", "---", "Open mcpauth…", "Quit"}},
		{"approval", Snapshot{
			Servers:   []agent.ServerStatus{in, out},
			Approvals: []Approval{{ID: "7", Server: "linear", RequestedBy: "cursor"}},
		}, []string{
			"Sign in to linear (requested by cursor)", "  Approve", "  Deny", "---",
			"demo: signed in", "linear: waiting for your approval", "---", "Open mcpauth…", "Quit",
		}},
		{"agent gone", Snapshot{Err: errors.New("gone"), Servers: []agent.ServerStatus{in}},
			[]string{"[The mcpauth agent is not reachable]", "demo: signed in", "---", "Open mcpauth…", "Quit"}},
		{"agent gone, nothing known", Snapshot{Err: errors.New("gone")},
			[]string{"[The mcpauth agent is not reachable]", "---", "Open mcpauth…", "Quit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, menuText(trayMenu(tt.s), "")); diff != "" {
				t.Errorf("trayMenu() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTrayMenuActions(t *testing.T) {
	t.Parallel()
	m := trayMenu(Snapshot{
		Servers:   []agent.ServerStatus{{Name: "linear", State: agent.StateNeedsLogin}},
		Approvals: []Approval{{ID: "7", Server: "linear", RequestedBy: "cursor"}},
	})
	got := []action{m[0].children[0].act, m[0].children[1].act, m[2].act, m[4].act, m[5].act}
	want := []action{
		{kind: actApprove, server: "linear", approval: "7"},
		{kind: actDeny, server: "linear", approval: "7"},
		{kind: actShowServer, server: "linear"},
		{kind: actOpen},
		{kind: actQuit},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(action{})); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
}

func TestFyneMenu(t *testing.T) {
	t.Parallel()
	var sent []action
	m := fyneMenu("mcpauth", trayMenu(Snapshot{
		Approvals: []Approval{{ID: "7", Server: "linear"}},
	}), func(a action) { sent = append(sent, a) })
	if m.Items[0].ChildMenu == nil || len(m.Items[0].ChildMenu.Items) != 2 {
		t.Fatalf("the approval has no Approve/Deny submenu: %+v", m.Items[0])
	}
	m.Items[0].ChildMenu.Items[1].Action()
	last := m.Items[len(m.Items)-1]
	if !last.IsQuit || last.Label != "Quit" {
		t.Errorf("the last item is %q (IsQuit %v), want Quit", last.Label, last.IsQuit)
	}
	last.Action()
	want := []action{{kind: actDeny, server: "linear", approval: "7"}, {kind: actQuit}}
	if diff := cmp.Diff(want, sent, cmp.AllowUnexported(action{})); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	if !m.Items[2].Disabled || m.Items[2].Action != nil {
		t.Errorf("%q is clickable; want it disabled", m.Items[2].Label)
	}
}
