package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Approvals: while a tray is attached (AttachTray), a login that a bridge
// or a command asks for waits for the user to approve it in the tray
// instead of opening the browser unannounced (DESIGN.md, step 9). With no
// tray, as in a headless agent, the browser opens at once; so it does for
// a login still waiting when the last tray goes away.
// Approve lets it go on; Deny fails it with *LoginDeniedError. Logins of
// one server are serialised by its login lock, so however many requests
// wait for a server, one approval stands for all of them, and those queued
// behind the lock share its outcome (Login, serverState.LoginSeq).

// Approval is a login waiting for the user's approval.
type Approval struct {
	ID     string `json:"id"`
	Server string `json:"server"`
	// RequestedBy names who asked: a local client of the HTTP bridge, the
	// app behind `mcpauth connect`, or "mcpauth CLI". It is what the
	// requester says, for the user's information; it proves nothing.
	RequestedBy string    `json:"requested_by,omitempty"`
	Created     time.Time `json:"created"`
}

// LoginDeniedError means the user denied the sign-in in the tray.
type LoginDeniedError struct{ Server string }

func (e *LoginDeniedError) Error() string {
	return fmt.Sprintf("the sign-in to %s was denied in mcpauth", e.Server)
}

// DefaultRequester is RequestedBy when the caller named nobody.
const DefaultRequester = "mcpauth CLI"

type requesterKey struct{}

// WithRequester returns ctx naming who asks for what is done with it; a
// login that needs approval shows the name. It crosses the control socket
// (Client sends it as a header).
func WithRequester(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, requesterKey{}, cleanRequester(name))
}

// RequesterFrom returns the name WithRequester put in ctx, or "".
func RequesterFrom(ctx context.Context) string {
	s, _ := ctx.Value(requesterKey{}).(string)
	return s
}

// cleanRequester keeps a requester's name displayable: printable ASCII, at
// most 64 bytes. It comes from another process and ends up in a menu.
func cleanRequester(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s[:min(len(s), 64)])
}

// recentUse is how recent a bridge's use of a server must be to name its
// client as the requester of a login that names nobody: the HTTP bridge
// notes the use just before its request asks for the login.
const recentUse = 30 * time.Second

// requester names who asked for a login of server name.
func (a *Agent) requester(ctx context.Context, name string) string {
	if by := RequesterFrom(ctx); by != "" {
		return by
	}
	if at, by := a.audit.serverLastUse(name); by != "" && a.now().Sub(at) < recentUse {
		return by
	}
	return DefaultRequester
}

// approvalQueue holds the pending approvals. It is safe for concurrent use.
type approvalQueue struct {
	mu      sync.Mutex
	next    int
	pending []*pendingApproval
}

type pendingApproval struct {
	Approval
	decided chan bool // buffered: true approves, false denies
}

func (q *approvalQueue) add(server, by string, now time.Time) *pendingApproval {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.next++
	p := &pendingApproval{
		Approval: Approval{ID: strconv.Itoa(q.next), Server: server, RequestedBy: by, Created: now},
		decided:  make(chan bool, 1),
	}
	q.pending = append(q.pending, p)
	return p
}

func (q *approvalQueue) remove(p *pendingApproval) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = slices.DeleteFunc(q.pending, func(x *pendingApproval) bool { return x == p })
}

func (q *approvalQueue) list() []Approval {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]Approval, len(q.pending))
	for i, p := range q.pending {
		out[i] = p.Approval
	}
	return out
}

// decide answers approval id once; a second answer finds nothing.
func (q *approvalQueue) decide(id string, ok bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, p := range q.pending {
		if p.ID == id {
			p.decided <- ok
			q.pending = slices.Delete(q.pending, i, i+1)
			return nil
		}
	}
	return fmt.Errorf("no sign-in waits for approval as %q: it was answered, or its requester gave up", id)
}

// Approvals lists the logins waiting for approval, oldest first.
func (a *Agent) Approvals(ctx context.Context) ([]Approval, error) {
	return a.approvals.list(), nil
}

// Approve lets the waiting login id go on: its browser opens.
func (a *Agent) Approve(ctx context.Context, id string) error {
	if err := a.approvals.decide(id, true); err != nil {
		return err
	}
	a.events.publish(EventApprovals)
	return nil
}

// Deny fails the waiting login id, and the requests queued behind it for
// the same server, with *LoginDeniedError.
func (a *Agent) Deny(ctx context.Context, id string) error {
	if err := a.approvals.decide(id, false); err != nil {
		return err
	}
	a.events.publish(EventApprovals)
	return nil
}

// awaitApproval holds a login until the user approves it, when the tray
// asks for approvals. It reports whether the user was asked. A server
// whose AutoApprove setting is on goes ahead without asking once a login
// to it has been approved.
func (a *Agent) awaitApproval(ctx context.Context, name string, opts LoginOptions, e *serverEntry) (asked bool, err error) {
	gone := a.trays.attached()
	if gone == nil || opts.Approved || e.Config.Grant != "" {
		// No tray; the user started it; or a grant that involves no user
		// (client credentials, cross-app access: grants.go).
		return false, nil
	}
	if e.Config.AutoApprove && e.State.Approved {
		a.log.Info("signing in again without asking, as the server's setting allows", "server", name)
		return false, nil
	}
	p := a.approvals.add(name, a.requester(ctx, name), a.now())
	a.log.Info("a sign-in waits for approval in the tray", "server", name, "requested_by", p.RequestedBy)
	a.events.publish(EventApprovals)
	defer func() {
		a.approvals.remove(p)
		a.events.publish(EventApprovals)
	}()
	if opts.OnPending != nil {
		opts.OnPending()
	}
	timer := time.NewTimer(a.loginTimeout)
	defer timer.Stop()
	select {
	case ok := <-p.decided:
		if !ok {
			return true, &LoginDeniedError{Server: name}
		}
		return true, nil
	case <-ctx.Done():
		return true, ctx.Err()
	case <-timer.C:
		return true, errApprovalTimeout
	case <-gone:
		a.log.Info("the tray went away; signing in without approval, as a headless agent does", "server", name)
		return false, nil
	}
}

// trayCount counts the attached trays. It is safe for concurrent use.
type trayCount struct {
	mu   sync.Mutex
	n    int
	gone chan struct{} // closed when n drops to 0
}

// attached returns a channel closed when no tray is attached any more, or
// nil if none is attached now.
func (t *trayCount) attached() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		return nil
	}
	return t.gone
}

func (t *trayCount) attach() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		t.gone = make(chan struct{})
	}
	t.n++
}

func (t *trayCount) detach() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.n == 0 {
		close(t.gone)
	}
}

// AttachTray is Subscribe for a tray: until ctx ends, logins wait for the
// user's approval (Approve, Deny), except those the user starts in the
// tray's window (LoginOptions.Approved).
func (a *Agent) AttachTray(ctx context.Context) (<-chan Event, error) {
	a.trays.attach()
	ch := a.events.subscribe(ctx)
	go func() {
		<-ctx.Done()
		a.trays.detach()
	}()
	return ch, nil
}

var errApprovalTimeout = errors.New("nobody approved the sign-in in the mcpauth menu in time")
