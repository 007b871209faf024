package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"fyne.io/fyne/v2"

	"mcpauth/agent"
)

// fakeBackend is an in-memory agent. Every change publishes an event, as
// the real agent does. Logins requested by "bridges" (requestLogin) wait
// for Approve or Deny, like the agent's approval queue.
type fakeBackend struct {
	mu        sync.Mutex
	servers   []agent.ServerStatus
	approvals []Approval
	clients   []agent.LocalClient
	bridge    string
	listErr   error
	signInErr []error // popped by each SignIn; nil: success
	calls     []string
	lists     int
	waiters   map[string][]chan error // server -> waiting logins
	nextID    int
	subs      []chan Event
}

var errDenied = errors.New("the sign-in was denied in mcpauth")

func newFake(servers ...agent.ServerStatus) *fakeBackend {
	return &fakeBackend{servers: servers, bridge: "http://127.0.0.1:8719", waiters: map[string][]chan error{}}
}

func (f *fakeBackend) record(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

// publish must be called with f.mu held.
func (f *fakeBackend) publish(k EventKind) {
	for _, ch := range f.subs {
		select {
		case ch <- Event{Kind: k}:
		default:
		}
	}
}

func (f *fakeBackend) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeBackend) setState(name string, st agent.State) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.servers {
		if f.servers[i].Name == name {
			f.servers[i].State = st
		}
	}
	f.publish(EventServers)
}

// requestLogin is a bridge needing a login: one approval per server, and
// the returned channel gets the login's outcome.
func (f *fakeBackend) requestLogin(server, by string) <-chan error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan error, 1)
	if len(f.waiters[server]) == 0 {
		f.nextID++
		f.approvals = append(f.approvals, Approval{ID: fmt.Sprint(f.nextID), Server: server, RequestedBy: by})
		f.publish(EventApprovals)
	}
	f.waiters[server] = append(f.waiters[server], ch)
	return ch
}

func (f *fakeBackend) resolve(id string, err error) error {
	i := slices.IndexFunc(f.approvals, func(a Approval) bool { return a.ID == id })
	if i < 0 {
		return fmt.Errorf("no approval %s", id)
	}
	a := f.approvals[i]
	f.approvals = slices.Delete(f.approvals, i, i+1)
	for _, ch := range f.waiters[a.Server] {
		ch <- err
	}
	delete(f.waiters, a.Server)
	if err == nil {
		for i := range f.servers {
			if f.servers[i].Name == a.Server {
				f.servers[i].State = agent.StateSignedIn
			}
		}
	}
	f.publish(EventApprovals)
	return nil
}

func (f *fakeBackend) List(ctx context.Context) ([]agent.ServerStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	return slices.Clone(f.servers), f.listErr
}

func (f *fakeBackend) Add(ctx context.Context, req agent.AddRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("add %s %s id=%q scopes=%v headers=%d", req.Name, req.URL, req.ClientID, req.Scopes, len(req.Headers))
	f.servers = append(f.servers, agent.ServerStatus{Name: req.Name, URL: req.URL, State: agent.StateNeedsLogin})
	f.publish(EventServers)
	return nil
}

func (f *fakeBackend) Remove(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("remove %s", name)
	f.servers = slices.DeleteFunc(f.servers, func(s agent.ServerStatus) bool { return s.Name == name })
	f.publish(EventServers)
	return nil
}

func (f *fakeBackend) Logout(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("logout %s", name)
	return nil
}

func (f *fakeBackend) SignIn(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("signin %s", name)
	if len(f.signInErr) > 0 {
		err := f.signInErr[0]
		f.signInErr = f.signInErr[1:]
		if err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeBackend) SetClientID(ctx context.Context, name, id, secret string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("setclientid %s %s secret=%v", name, id, secret != "")
	return nil
}

func (f *fakeBackend) SetAutoApprove(ctx context.Context, name string, on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("autoapprove %s %v", name, on)
	return nil
}

func (f *fakeBackend) Approvals(ctx context.Context) ([]Approval, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.approvals), nil
}

func (f *fakeBackend) Approve(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("approve %s", id)
	return f.resolve(id, nil)
}

func (f *fakeBackend) Deny(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("deny %s", id)
	return f.resolve(id, errDenied)
}

func (f *fakeBackend) AddClient(ctx context.Context, name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("addclient %s", name)
	f.clients = append(f.clients, agent.LocalClient{Name: name})
	f.publish(EventClients)
	return "mcpk_fakekey_" + name, nil
}

func (f *fakeBackend) ListClients(ctx context.Context) ([]agent.LocalClient, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.clients), nil
}

func (f *fakeBackend) RemoveClient(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("removeclient %s", name)
	f.clients = slices.DeleteFunc(f.clients, func(c agent.LocalClient) bool { return c.Name == name })
	f.publish(EventClients)
	return nil
}

func (f *fakeBackend) AttachTray(ctx context.Context) (<-chan Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan Event, 16)
	f.subs = append(f.subs, ch)
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.subs = slices.DeleteFunc(f.subs, func(c chan Event) bool { return c == ch })
		close(ch)
	}()
	return ch, nil
}

func (f *fakeBackend) Status(ctx context.Context) (agent.AgentStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return agent.AgentStatus{Bridge: f.bridge}, nil
}

// fakeTray records what the UI shows in the tray.
type fakeTray struct {
	menu *fyne.Menu
	icon fyne.Resource
}

func (t *fakeTray) SetSystemTrayMenu(m *fyne.Menu)    { t.menu = m }
func (t *fakeTray) SetSystemTrayIcon(r fyne.Resource) { t.icon = r }
