package agent

import (
	"context"
	"sync"
)

// EventKind says what changed in the agent.
type EventKind string

const (
	// EventServers: the server list, or a server's state (a login, a
	// refresh, a logout, an error).
	EventServers EventKind = "servers"
	// EventApprovals: a login started or stopped waiting for approval.
	EventApprovals EventKind = "approvals"
	// EventClients: the HTTP bridge's local clients.
	EventClients EventKind = "clients"
)

// Event tells a subscriber to read the agent again: it carries no state,
// so a UI never applies deltas and can't drift from the agent (the pattern
// of tailscale's IPN bus and client/systray).
type Event struct {
	Kind EventKind `json:"kind"`
}

// eventBuffer is each subscriber's buffer. A full buffer drops the event:
// the subscriber has events pending, and reads the state, which includes
// the dropped change, after the next one it receives.
const eventBuffer = 16

// eventHub fans events out to subscribers. It is safe for concurrent use.
type eventHub struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

func (h *eventHub) publish(k EventKind) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- Event{Kind: k}:
		default:
		}
	}
}

func (h *eventHub) subscribe(ctx context.Context) <-chan Event {
	ch := make(chan Event, eventBuffer)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[chan Event]struct{}{}
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
		close(ch)
	}()
	return ch
}

// Subscribe reports changes made through this agent until ctx ends, then
// closes the channel. The subscription is in place when it returns, so a
// caller that subscribes and then reads misses no change.
func (a *Agent) Subscribe(ctx context.Context) (<-chan Event, error) {
	return a.events.subscribe(ctx), nil
}
