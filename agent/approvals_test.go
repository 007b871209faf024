package agent

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"mcpauth/test/fakeas"
)

// newApprovalEnv is a test agent with a tray attached: it asks for
// approvals.
func newApprovalEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t, fakeas.Config{})
	if _, err := e.AttachTray(t.Context()); err != nil {
		t.Fatal(err)
	}
	return e
}

// waitApprovals waits until exactly n approvals are pending and returns them.
func waitApprovals(t *testing.T, api TrayAPI, n int) []Approval {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, err := api.Approvals(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == n {
			return list
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d approvals pending, want %d: %+v", len(list), n, list)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// loginAll starts n logins of testServer through api and returns their
// results' channel.
func loginAll(ctx context.Context, api API, n int, by string) <-chan error {
	errs := make(chan error, n)
	for range n {
		go func() { errs <- api.Login(WithRequester(ctx, by), testServer, LoginOptions{}) }()
	}
	return errs
}

func TestApprovalManyRequestsOneApprovalOneTab(t *testing.T) {
	e := newApprovalEnv(t)
	events, _ := e.Subscribe(t.Context())
	const n = 5
	errs := loginAll(t.Context(), e, n, "cursor")
	list := waitApprovals(t, e, 1)
	if list[0].Server != testServer || list[0].RequestedBy != "cursor" {
		t.Errorf("approval = %+v, want one for %s requested by cursor", list[0], testServer)
	}
	time.Sleep(50 * time.Millisecond) // the other logins queue behind the lock
	waitApprovals(t, e, 1)
	if o := e.Browser.Opens(); o != 0 {
		t.Fatalf("the browser opened %d times before the approval", o)
	}
	select {
	case ev := <-events:
		if ev.Kind != EventApprovals {
			t.Errorf("first event %q, want %q", ev.Kind, EventApprovals)
		}
	case <-time.After(time.Second):
		t.Error("no event for the new approval")
	}

	if err := e.Approve(t.Context(), list[0].ID); err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("a waiting login: %v", err)
		}
	}
	if o := e.Browser.Opens(); o != 1 {
		t.Errorf("the browser opened %d times, want 1", o)
	}
	waitApprovals(t, e, 0)
	if !e.state(t, testServer).Approved {
		t.Error("the server is not marked approved")
	}
	if err := e.Approve(t.Context(), list[0].ID); err == nil {
		t.Error("a second Approve of the same approval succeeded")
	}
}

func TestApprovalDenyFailsEveryWaiter(t *testing.T) {
	e := newApprovalEnv(t)
	const n = 3
	errs := loginAll(t.Context(), e, n, "vscode")
	list := waitApprovals(t, e, 1)
	time.Sleep(50 * time.Millisecond)
	if err := e.Deny(t.Context(), list[0].ID); err != nil {
		t.Fatal(err)
	}
	for range n {
		err := <-errs
		var denied *LoginDeniedError
		if !errors.As(err, &denied) || denied.Server != testServer {
			t.Errorf("a waiting login got %v, want *LoginDeniedError", err)
		}
		if err != nil && err.Error() != "the sign-in to fake was denied in mcpauth" {
			t.Errorf("message %q", err)
		}
	}
	if o := e.Browser.Opens(); o != 0 {
		t.Errorf("the browser opened %d times after a denial", o)
	}
	waitApprovals(t, e, 0)

	// A denial is not sticky: the next request asks again.
	errs = loginAll(t.Context(), e, 1, "vscode")
	list = waitApprovals(t, e, 1)
	if err := e.Approve(t.Context(), list[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Errorf("the login after the denial: %v", err)
	}
}

func TestApprovalNotAskedForTheWindowsOwnSignIn(t *testing.T) {
	e := newApprovalEnv(t)
	if err := e.Login(t.Context(), testServer, LoginOptions{Approved: true}); err != nil {
		t.Fatal(err)
	}
	if o := e.Browser.Opens(); o != 1 {
		t.Errorf("the browser opened %d times, want 1", o)
	}
	if !e.state(t, testServer).Approved {
		t.Error("a sign-in from the window does not count as approved")
	}
}

func TestApprovalHeadlessAgentNeverAsks(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	e.login(t)
	if list, _ := e.Approvals(t.Context()); len(list) != 0 {
		t.Errorf("the headless agent queued %+v", list)
	}
}

func TestAutoApproveOnceApproved(t *testing.T) {
	e := newApprovalEnv(t)
	on := true
	if err := e.Update(t.Context(), testServer, ServerUpdate{AutoApprove: &on}); err != nil {
		t.Fatal(err)
	}
	// Never approved yet: it asks.
	errs := loginAll(t.Context(), e, 1, "cursor")
	list := waitApprovals(t, e, 1)
	e.Approve(t.Context(), list[0].ID)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if err := e.Logout(t.Context(), testServer); err != nil {
		t.Fatal(err)
	}
	// Approved before: it signs in again without asking.
	if err := e.Login(t.Context(), testServer, LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	if o := e.Browser.Opens(); o != 2 {
		t.Errorf("the browser opened %d times, want 2", o)
	}
	servers, _ := e.List(t.Context())
	if !servers[0].AutoApprove {
		t.Error("List does not report the setting")
	}
}

// A caller that gives up while its login waits for approval takes the
// approval with it, and the callers queued behind it are asked again
// rather than handed its cancellation.
func TestApprovalCallerGivesUp(t *testing.T) {
	e := newApprovalEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	first := loginAll(ctx, e, 1, "cursor")
	waitApprovals(t, e, 1)
	second := loginAll(t.Context(), e, 1, "vscode")
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("the caller that gave up got %v", err)
	}
	list := waitApprovals(t, e, 1)
	if list[0].RequestedBy != "vscode" {
		t.Errorf("the next approval is requested by %q, want vscode", list[0].RequestedBy)
	}
	e.Approve(t.Context(), list[0].ID)
	if err := <-second; err != nil {
		t.Errorf("the second caller: %v", err)
	}
}

// Over the control socket: the requester crosses it, the events stream,
// Deny's typed error comes back, and Update changes the setting.
func TestControlApprovals(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	c := serveFake(t, e.Agent)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	events, err := c.AttachTray(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pending sync.WaitGroup
	pending.Add(1)
	errs := make(chan error, 1)
	go func() {
		errs <- c.Login(WithRequester(t.Context(), "claude\x1b[31m"), testServer, LoginOptions{OnPending: pending.Done})
	}()
	list := waitApprovals(t, c, 1)
	pending.Wait()
	if list[0].RequestedBy != "claude[31m" {
		t.Errorf("RequestedBy = %q, want the requester, without control characters", list[0].RequestedBy)
	}
	select {
	case ev := <-events:
		if ev.Kind != EventApprovals {
			t.Errorf("event %q, want %q", ev.Kind, EventApprovals)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no event over the socket")
	}
	if err := c.Deny(t.Context(), list[0].ID); err != nil {
		t.Fatal(err)
	}
	var denied *LoginDeniedError
	if err := <-errs; !errors.As(err, &denied) {
		t.Errorf("Login over the socket got %v, want *LoginDeniedError", err)
	}
	on, id, secret := true, "0oa1", "s3cret"
	if err := c.Update(t.Context(), testServer, ServerUpdate{AutoApprove: &on, ClientID: &id, ClientSecret: &secret}); err != nil {
		t.Fatal(err)
	}
	ent, _ := e.reg.get(testServer)
	if !ent.Config.AutoApprove || ent.Config.ClientID != "0oa1" || !ent.Config.HasClientSecret {
		t.Errorf("config after Update: %+v", ent.Config)
	}
	if got, _ := e.Store.Get(t.Context(), clientSecretKey(testServer)); string(got) != secret {
		t.Error("the client secret did not reach the keychain")
	}
	if st, err := c.Status(t.Context()); err != nil || st.PID == 0 {
		t.Errorf("Status: %+v, %v", st, err)
	}
	cancel()
	for range events {
	}
}

// When the last tray goes away, a login waiting for approval goes on as
// in a headless agent: the browser opens.
func TestApprovalTrayGoesAway(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	ctx, detach := context.WithCancel(t.Context())
	if _, err := e.AttachTray(ctx); err != nil {
		t.Fatal(err)
	}
	errs := loginAll(t.Context(), e, 1, "cursor")
	waitApprovals(t, e, 1)
	detach()
	if err := <-errs; err != nil {
		t.Fatalf("the waiting login: %v", err)
	}
	if o := e.Browser.Opens(); o != 1 {
		t.Errorf("the browser opened %d times, want 1", o)
	}
	waitApprovals(t, e, 0)
	// Headless again: no approval.
	if err := e.Logout(t.Context(), testServer); err != nil {
		t.Fatal(err)
	}
	e.login(t)
}

func TestCleanRequester(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"cursor":                 "cursor",
		" vs code ":              "vs code",
		"a\nb\x00c":              "abc",
		"é-app":                  "-app",
		string(make([]byte, 80)): "",
	} {
		if got := cleanRequester(in); got != want {
			t.Errorf("cleanRequester(%q) = %q, want %q", in, got, want)
		}
	}
}

// A grant that involves no user (client credentials) is nobody's to
// approve: it runs at once even with a tray attached.
func TestApprovalNotAskedForGrantsWithoutUser(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{ClientCredentials: true, PreRegistered: map[string]string{ccClient: ccSecret}},
		func(r *AddRequest) { r.ClientID, r.ClientSecret, r.ClientCredentials = ccClient, ccSecret, true })
	if _, err := e.AttachTray(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := e.Login(t.Context(), testServer, LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.Approvals(t.Context()); len(list) != 0 {
		t.Errorf("approvals %+v for a client credentials server", list)
	}
}

// TestRegressionRequesterLostOnBridgeConnections pins a bug found by
// test/e2e/tray: the stdio bridge sends its requests on contexts of its own
// (its upstream connection's), not the command's, so the requester the
// command named was lost and every approval said "mcpauth CLI". The
// Client now keeps the requester of Dial's context as its default.
func TestRegressionRequesterLostOnBridgeConnections(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	home := t.TempDir()
	ln, err := ListenControl(home)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go ServeControl(ctx, ln, e.Agent, nil)
	c, err := Dial(WithRequester(t.Context(), "claude (mcpauth connect)"), home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := e.AttachTray(ctx); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 1)
	go func() { errs <- c.Login(context.Background(), testServer, LoginOptions{}) }()
	list := waitApprovals(t, e, 1)
	if list[0].RequestedBy != "claude (mcpauth connect)" {
		t.Errorf("RequestedBy = %q, want the requester Dial was given", list[0].RequestedBy)
	}
	e.Deny(t.Context(), list[0].ID)
	<-errs
}
