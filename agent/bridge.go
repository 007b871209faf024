package agent

import (
	"context"
	"os"
	"sync"
)

// What the HTTP bridge (localproxy/httpbridge), which runs inside the
// agent's process, needs from it beyond API: the server URLs and the local
// client keys without a disk read per request (ServerURL, ClientForKey),
// the audit record (NoteUse), and a place to report its address for
// GET /v1/status (SetBridge).

// serverURLs maps server names to URLs, from servers.json, reloaded when
// the file changes.
type serverURLs struct {
	cache statCache[map[string]string]
}

// ServerURL returns the URL of the server registered as name, or
// *NotFoundError. It costs one stat of servers.json while the file is
// unchanged, so that a server removed or re-added by another process is
// seen on the next request.
func (a *Agent) ServerURL(name string) (string, error) {
	urls, err := a.urls.cache.get(a.reg.path(), func() (map[string]string, error) {
		f, err := a.reg.load()
		if err != nil {
			return nil, err
		}
		m := make(map[string]string, len(f.Servers))
		for n, e := range f.Servers {
			m[n] = e.Config.URL
		}
		return m, nil
	})
	if err != nil {
		return "", err
	}
	u, ok := urls[name]
	if !ok {
		return "", &NotFoundError{Server: name}
	}
	return u, nil
}

// bridgeState is what SetBridge reported.
type bridgeState struct {
	mu      sync.Mutex
	url     string
	problem string
}

// SetBridge records the HTTP bridge's base URL (http://127.0.0.1:PORT), or
// why it is not running, for GET /v1/status and `mcpauth status`.
func (a *Agent) SetBridge(url, problem string) {
	a.bridge.mu.Lock()
	defer a.bridge.mu.Unlock()
	a.bridge.url, a.bridge.problem = url, problem
}

// Bridge returns what SetBridge recorded.
func (a *Agent) Bridge() (url, problem string) {
	a.bridge.mu.Lock()
	defer a.bridge.mu.Unlock()
	return a.bridge.url, a.bridge.problem
}

// Status reports what GET /v1/status does, for a client in the agent's
// own process (the tray).
func (a *Agent) Status(ctx context.Context) (*AgentStatus, error) {
	st := &AgentStatus{PID: os.Getpid(), Version: Version, Home: a.home}
	st.Bridge, st.BridgeProblem = a.Bridge()
	return st, nil
}
