package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mcpauth/agent"
)

// harness runs the UI against a fake backend on fyne's test driver. fyne's
// test driver runs fyne.Do inline, so do serialises the UI loop's renders
// with the test's own clicks and reads: everything that touches a widget
// goes through h.do.
type harness struct {
	t    *testing.T
	u    *ui
	fb   *fakeBackend
	tray *fakeTray
	app  *recordingApp
	mu   sync.Mutex
}

// recordingApp records desktop notifications.
type recordingApp struct {
	fyne.App
	mu    sync.Mutex
	notes []fyne.Notification
}

func (a *recordingApp) SendNotification(n *fyne.Notification) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.notes = append(a.notes, *n)
}

func (a *recordingApp) notifications() []fyne.Notification {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.notes)
}

func newHarness(t *testing.T, fb *fakeBackend) *harness {
	h := &harness{t: t, fb: fb, tray: &fakeTray{}}
	h.app = &recordingApp{App: test.NewApp()}
	h.u = newUI(h.app, fb, h.tray, Options{Exe: "/usr/local/bin/mcpauth"}, h.do)
	ctx, cancel := context.WithCancel(context.Background())
	h.do(func() { h.u.start(ctx) })
	t.Cleanup(func() {
		cancel()
		h.u.wait()
		h.app.Quit()
	})
	return h
}

func (h *harness) do(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f()
}

// eventually waits until cond, run under h.do, holds.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ok bool
		h.do(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// trayLabels lists the tray menu's labels, submenus indented.
func (h *harness) trayLabels() []string {
	if h.tray.menu == nil {
		return nil
	}
	return menuLabels(h.tray.menu, "")
}

func menuLabels(m *fyne.Menu, indent string) []string {
	var out []string
	for _, it := range m.Items {
		if it.IsSeparator {
			continue
		}
		out = append(out, indent+it.Label)
		if it.ChildMenu != nil {
			out = append(out, menuLabels(it.ChildMenu, indent+"  ")...)
		}
	}
	return out
}

// trayItem finds a tray menu item by its path of labels.
func (h *harness) trayItem(path ...string) *fyne.MenuItem {
	h.t.Helper()
	m := h.tray.menu
	var found *fyne.MenuItem
	for _, label := range path {
		found = nil
		if m != nil {
			for _, it := range m.Items {
				if it.Label == label {
					found = it
				}
			}
		}
		if found == nil {
			h.t.Fatalf("no tray item %q", strings.Join(path, " > "))
		}
		m = found.ChildMenu
	}
	return found
}

// objects walks a canvas object tree, through widgets' renderers.
func objects(o fyne.CanvasObject) []fyne.CanvasObject {
	out := []fyne.CanvasObject{o}
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			out = append(out, objects(c)...)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(v).Objects() {
			out = append(out, objects(c)...)
		}
	}
	return out
}

func findButton(root fyne.CanvasObject, text string) *widget.Button {
	for _, o := range objects(root) {
		if b, ok := o.(*widget.Button); ok && b.Visible() && b.Text == text {
			return b
		}
	}
	return nil
}

func hasText(root fyne.CanvasObject, text string) bool {
	for _, o := range objects(root) {
		if l, ok := o.(*widget.Label); ok && l.Visible() && strings.Contains(l.Text, text) {
			return true
		}
	}
	return false
}

func (h *harness) content() fyne.CanvasObject { return h.u.win.w.Content() }

func (h *harness) overlay() fyne.CanvasObject { return h.u.win.w.Canvas().Overlays().Top() }

// tapInDialog taps the button labelled text in the dialog on top.
func (h *harness) tapInDialog(text string) {
	h.t.Helper()
	h.do(func() {
		top := h.overlay()
		if top == nil {
			h.t.Fatalf("no dialog is open; wanted to tap %q", text)
		}
		b := findButton(top, text)
		if b == nil {
			h.t.Fatalf("the dialog has no button %q", text)
		}
		test.Tap(b)
	})
}

func (h *harness) waitCall(call string) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(h.fb.Calls(), call) {
		if time.Now().After(deadline) {
			h.t.Fatalf("the backend never got %q; calls: %q", call, h.fb.Calls())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var (
	demoIn    = agent.ServerStatus{Name: "demo", URL: "http://127.0.0.1:8787/mcp", State: agent.StateSignedIn, Issuer: "http://127.0.0.1:8787"}
	linearOut = agent.ServerStatus{Name: "linear", URL: "https://mcp.linear.app/mcp", State: agent.StateNeedsLogin}
)

func TestApprovalAppearsAndDisappears(t *testing.T) {
	fb := newFake(demoIn, linearOut)
	h := newHarness(t, fb)
	h.eventually("the servers in the tray", func() bool {
		return slices.Contains(h.trayLabels(), "linear: needs sign-in")
	})

	waiting := fb.requestLogin("linear", "cursor")
	h.eventually("the approval in the tray", func() bool {
		return slices.Contains(h.trayLabels(), "Sign in to linear (requested by cursor)")
	})
	h.do(func() {
		if h.tray.icon != iconAttention {
			t.Errorf("the tray icon is %v, want the attention icon", h.tray.icon.Name())
		}
		if !hasText(h.content(), "Sign in to linear (requested by cursor)") {
			t.Errorf("the window shows no banner for the approval")
		}
	})
	want := fyne.Notification{Title: "Sign-in requested", Content: "Cursor asks to sign in to linear. Approve or deny it in the mcpauth menu."}
	if got := h.app.notifications(); !slices.Equal(got, []fyne.Notification{want}) {
		t.Errorf("notifications = %+v, want one: %+v", got, want)
	}

	// A second bridge waiting for the same server makes no second entry.
	waiting2 := fb.requestLogin("linear", "vscode")
	h.do(func() {
		if n := strings.Count(strings.Join(h.trayLabels(), "\n"), "Sign in to linear"); n != 1 {
			t.Errorf("%d approval entries for linear, want 1", n)
		}
	})

	h.do(func() { h.trayItem("Sign in to linear (requested by cursor)", labelApprove).Action() })
	for _, w := range []<-chan error{waiting, waiting2} {
		select {
		case err := <-w:
			if err != nil {
				t.Errorf("the waiting login got %v, want success", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Approve never reached the waiting login")
		}
	}
	h.eventually("the approval to leave the tray", func() bool {
		return !slices.ContainsFunc(h.trayLabels(), func(s string) bool { return strings.HasPrefix(s, "Sign in to") })
	})
	h.eventually("the normal icon", func() bool { return h.tray.icon == iconNormal })
	h.do(func() {
		if hasText(h.content(), "Sign in to linear") {
			t.Errorf("the window still shows the approval")
		}
	})
}

func TestDenyInWindowReachesWaitingLogin(t *testing.T) {
	fb := newFake(linearOut)
	h := newHarness(t, fb)
	waiting := fb.requestLogin("linear", "mcpauth CLI")
	h.eventually("the approval banner", func() bool { return findButton(h.content(), labelDeny) != nil })
	h.do(func() { test.Tap(findButton(h.content(), labelDeny)) })
	select {
	case err := <-waiting:
		if !errors.Is(err, errDenied) {
			t.Errorf("the waiting login got %v, want the denial", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Deny never reached the waiting login")
	}
	h.eventually("the banner to go", func() bool { return findButton(h.content(), labelDeny) == nil })
	h.eventually("linear still needing sign-in", func() bool {
		return slices.Contains(h.trayLabels(), "linear: needs sign-in")
	})
}

func TestRemoveAsksForConfirmation(t *testing.T) {
	fb := newFake(demoIn, linearOut)
	h := newHarness(t, fb)
	h.eventually("demo in the window", func() bool { return h.u.win.detail.srv.Name == "demo" })

	h.do(func() { test.Tap(h.u.win.detail.remove) })
	h.do(func() {
		if !hasText(h.overlay(), "revoking its tokens at http://127.0.0.1:8787") {
			t.Errorf("the confirmation does not say the tokens are revoked")
		}
	})
	h.tapInDialog("Cancel")
	time.Sleep(50 * time.Millisecond)
	if calls := fb.Calls(); len(calls) != 0 {
		t.Fatalf("Cancel called the agent: %q", calls)
	}

	h.do(func() { test.Tap(h.u.win.detail.remove) })
	h.tapInDialog("Remove")
	h.waitCall("remove demo")
	h.eventually("demo to leave the tray", func() bool {
		return !slices.Contains(h.trayLabels(), "demo: signed in") && slices.Contains(h.trayLabels(), "linear: needs sign-in")
	})
	h.eventually("the window to show linear", func() bool { return h.u.win.detail.srv.Name == "linear" })
}

func TestSignOutAsksForConfirmation(t *testing.T) {
	fb := newFake(demoIn)
	h := newHarness(t, fb)
	h.eventually("demo in the window", func() bool { return h.u.win.detail.srv.Name == "demo" })
	h.do(func() { test.Tap(h.u.win.detail.signOut) })
	h.tapInDialog("Sign out")
	h.waitCall("logout demo")
}

func TestSignInAsksForClientID(t *testing.T) {
	fb := newFake(agent.ServerStatus{Name: "corp", URL: "https://mcp.corp.example/mcp", State: agent.StateNeedsLogin})
	fb.signInErr = []error{&agent.ClientIDRequiredError{Server: "corp", Issuer: "https://login.corp.example"}}
	h := newHarness(t, fb)
	h.eventually("corp in the window", func() bool { return h.u.win.detail.srv.Name == "corp" })
	h.do(func() { test.Tap(h.u.win.detail.signIn) })
	h.waitCall("signin corp")
	h.eventually("the client ID dialog", func() bool {
		top := h.overlay()
		return top != nil && hasText(top, "https://login.corp.example")
	})
	h.do(func() {
		for _, o := range objects(h.overlay()) {
			if e, ok := o.(*widget.Entry); ok && !e.Password {
				test.Type(e, "0oa1b2c3")
				break
			}
		}
	})
	h.tapInDialog("Sign in")
	h.waitCall("setclientid corp 0oa1b2c3 secret=false")
	deadline := time.Now().Add(5 * time.Second)
	for n := 0; n < 2; {
		n = 0
		for _, c := range fb.Calls() {
			if c == "signin corp" {
				n++
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no second sign-in after the client ID was set: %q", fb.Calls())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAddServer(t *testing.T) {
	fb := newFake()
	h := newHarness(t, fb)
	h.eventually("the empty state", func() bool { return slices.Contains(h.trayLabels(), "No servers yet") })
	h.do(func() { test.Tap(findButton(h.content(), "Add server…")) })
	h.do(func() {
		var entries []*widget.Entry
		for _, o := range objects(h.overlay()) {
			if e, ok := o.(*widget.Entry); ok {
				entries = append(entries, e)
			}
		}
		if len(entries) < 7 {
			t.Fatalf("the form has %d entries, want 7", len(entries))
		}
		test.Type(entries[0], "linear")
		test.Type(entries[1], "https://mcp.linear.app/mcp")
		test.Type(entries[5], "read write")
		test.Type(entries[6], "X-Api-Key: k")
	})
	h.tapInDialog("Add")
	h.waitCall("add linear https://mcp.linear.app/mcp id=\"\" scopes=[read write] headers=1")
	h.eventually("linear in the tray", func() bool { return slices.Contains(h.trayLabels(), "linear: needs sign-in") })
}

func TestLocalClientKeyShownOnceAndRevoked(t *testing.T) {
	fb := newFake(demoIn)
	h := newHarness(t, fb)
	h.eventually("the window", func() bool { return h.u.win.detail.srv.Name == "demo" })
	h.do(func() {
		h.u.win.tabs.SelectIndex(1)
		test.Tap(findButton(h.content(), "New key…"))
		for _, o := range objects(h.overlay()) {
			if e, ok := o.(*widget.Entry); ok {
				test.Type(e, "cursor")
				break
			}
		}
	})
	h.tapInDialog("Create key")
	h.waitCall("addclient cursor")
	h.eventually("the key dialog", func() bool {
		top := h.overlay()
		return top != nil && hasText(top, "mcpk_fakekey_cursor")
	})
	h.tapInDialog("Done")
	h.eventually("cursor in the list", func() bool { return findButton(h.content(), "Revoke…") != nil })
	h.do(func() {
		if hasText(h.content(), "mcpk_fakekey_cursor") {
			t.Errorf("the key is still shown after Done")
		}
		test.Tap(findButton(h.content(), "Revoke…"))
	})
	h.tapInDialog("Revoke")
	h.waitCall("removeclient cursor")
}

func TestAgentUnreachable(t *testing.T) {
	fb := newFake(demoIn)
	fb.listErr = errors.New("no agent is running")
	h := newHarness(t, fb)
	h.eventually("the unreachable entry", func() bool {
		return slices.Contains(h.trayLabels(), "The mcpauth agent is not reachable")
	})
	h.do(func() {
		if h.tray.icon != iconAttention {
			t.Errorf("the icon does not ask for attention")
		}
		if !hasText(h.content(), "no agent is running") {
			t.Errorf("the window does not say why")
		}
	})
}

// A burst of change events becomes one pending rebuild (tailscale's
// rebuildCh), not one re-read each.
func TestRebuildCoalesces(t *testing.T) {
	t.Parallel()
	u := &ui{rebuild: make(chan struct{}, 1)}
	for range 100 {
		u.requestRebuild()
	}
	if n := len(u.rebuild); n != 1 {
		t.Errorf("%d rebuilds pending, want 1", n)
	}
}

func TestSignInOrApprove(t *testing.T) {
	t.Parallel()
	pending := []Approval{{ID: "3", Server: "linear"}}
	tests := []struct {
		name string
		in   action
		want action
	}{
		{"no approval", action{kind: actSignIn, server: "demo"}, action{kind: actSignIn, server: "demo"}},
		{"approval pending", action{kind: actSignIn, server: "linear"}, action{kind: actApprove, server: "linear", approval: "3"}},
		{"other action", action{kind: actRemove, server: "linear"}, action{kind: actRemove, server: "linear"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := signInOrApprove(tt.in, pending); got != tt.want {
				t.Errorf("signInOrApprove() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestRegressionTrayMenuBeforeRun pins a bug found by test/e2e/tray: fyne
// starts the system tray only if it has a menu when the app starts
// running, and the first menu came from the loop, later, so the tray
// never appeared on the bus. start now sets a menu itself.
func TestRegressionTrayMenuBeforeRun(t *testing.T) {
	tray := &fakeTray{}
	var mu sync.Mutex
	do := func(f func()) { mu.Lock(); defer mu.Unlock(); f() }
	u := newUI(&recordingApp{App: test.NewApp()}, newFake(), tray, Options{}, do)
	ctx, cancel := context.WithCancel(t.Context())
	defer func() { cancel(); u.wait() }()
	do(func() {
		u.start(ctx)
		// Still holding the lock: the loop can't have set the menu yet.
		if tray.menu == nil || tray.icon == nil {
			t.Fatal("start returned without a tray menu and icon")
		}
	})
}
