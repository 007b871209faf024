package agent

// The control socket: the agent's API as HTTP/JSON under /v1/ on a Unix
// socket in the agent's home, the pattern of tailscale's LocalAPI. The CLI,
// the bridges and the UI reach a running agent through it (client.go).
//
// Routes:
//
//	GET    /v1/status                    AgentStatus
//	GET    /v1/servers                   []ServerStatus
//	POST   /v1/servers                   AddRequest                 -> 204
//	DELETE /v1/servers/{name}                                       -> 204
//	POST   /v1/servers/{name}/login      LoginOptions (optional)    -> NDJSON stream
//	POST   /v1/servers/{name}/logout                                -> 204
//	POST   /v1/servers/{name}/token                                 -> AccessToken
//	POST   /v1/servers/{name}/retry      Challenge                  -> AccessToken
//	POST   /v1/servers/{name}/headers                               -> map of header values
//	GET    /v1/clients                   []LocalClient
//	POST   /v1/clients                   {"name":...}               -> {"name":...,"key":...}
//	DELETE /v1/clients/{name}                                       -> 204
//
// and the tray's, in control_tray.go.
//
// A login answers 200 at once and streams one JSON object per line:
// {"pending":true} if it waits for approval in the tray, {"url":"..."} as
// soon as the authorization URL is known, {"device":{...}} (DeviceCode)
// when it signs in with the device flow instead, then a final
// {"ok":true} or {"error":{...}}. Closing the connection cancels the login.
// Every other failure is {"error":{...}} with the status in controlerr.go.
//
// Access control is the home directory's 0700 mode, plus the peer's uid
// (SO_PEERCRED, LOCAL_PEERCRED), checked on both ends of every connection.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxSocketPath is the longest socket path that fits every platform's
// sockaddr_un: sun_path is 104 bytes on macOS and the BSDs (108 on Linux),
// including the terminating NUL.
const maxSocketPath = 103

// ControlSocketPath returns where the agent for home listens: home/agent.sock.
//
// When that path is too long for sun_path (a deep MCPAUTH_HOME, as in
// t.TempDir), it falls back to os.TempDir()/mcpauth-<uid>/<hash>.sock, where
// hash is the first 16 hex digits of SHA-256(home), and to /tmp if even that
// is too long. ListenControl creates that directory 0700 and refuses it if
// another user owns it; clients also check the peer's uid, so a socket
// planted there by someone else is never trusted.
func ControlSocketPath(home string) string {
	home = filepath.Clean(home)
	if p := filepath.Join(home, "agent.sock"); len(p) <= maxSocketPath {
		return p
	}
	sum := sha256.Sum256([]byte(home))
	name := hex.EncodeToString(sum[:8]) + ".sock"
	dir := fmt.Sprintf("mcpauth-%d", os.Getuid())
	if p := filepath.Join(os.TempDir(), dir, name); len(p) <= maxSocketPath {
		return p
	}
	return filepath.Join("/tmp", dir, name)
}

// AgentRunningError is returned by ListenControl when another agent already
// holds the home's lock.
type AgentRunningError struct {
	Home string
	PID  int // 0 if the lock file names no pid
}

func (e *AgentRunningError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("an agent is already running for %s", e.Home)
	}
	return fmt.Sprintf("an agent is already running for %s (pid %d)", e.Home, e.PID)
}

// ListenControl makes home (0700), takes the exclusive lock home/agent.lock
// so that only one agent per home runs, and listens on ControlSocketPath
// (0600). A second agent gets *AgentRunningError naming the first one's pid.
// Closing the listener removes the socket and releases the lock.
func ListenControl(home string) (net.Listener, error) {
	home, err := filepath.Abs(home)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("could not create the agent's home: %w", err)
	}
	if err := os.Chmod(home, 0o700); err != nil {
		return nil, fmt.Errorf("could not restrict the agent's home to its owner: %w", err)
	}
	lock, err := lockHome(home)
	if err != nil {
		return nil, err
	}
	sock := ControlSocketPath(home)
	if dir := filepath.Dir(sock); dir != home {
		if err := privateDir(dir); err != nil {
			lock.Close()
			return nil, err
		}
	}
	// We hold the lock, so a socket left there is a dead agent's.
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		lock.Close()
		return nil, fmt.Errorf("could not remove the stale control socket: %w", err)
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("could not listen on the control socket: %w", err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		lock.Close()
		return nil, fmt.Errorf("could not restrict the control socket: %w", err)
	}
	return &controlListener{Listener: ln, home: home, lock: lock}, nil
}

type controlListener struct {
	net.Listener
	home string
	lock *os.File
	once sync.Once
	err  error
}

// Close closes the socket (net.UnixListener unlinks it), then releases the
// lock, in that order so the next agent never finds our socket.
func (l *controlListener) Close() error {
	l.once.Do(func() {
		l.err = l.Listener.Close()
		if err := l.lock.Close(); l.err == nil {
			l.err = err
		}
	})
	return l.err
}

func lockHome(home string) (*os.File, error) {
	path := filepath.Join(home, "agent.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("could not open the agent lock: %w", err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			b, _ := os.ReadFile(path)
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			return nil, &AgentRunningError{Home: home, PID: pid}
		}
		return nil, fmt.Errorf("could not lock %s: %w", path, err)
	}
	// The pid is only informational, for the message above.
	if f.Truncate(0) == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// privateDir makes dir 0700 and refuses it unless it is a real directory
// owned by us: it may live in a shared temporary directory.
func privateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("could not create the control socket's directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("refusing %s for the control socket: not a directory", dir)
	}
	if uid, ok := fileOwner(fi); ok && uid != os.Getuid() {
		return fmt.Errorf("refusing %s for the control socket: it belongs to uid %d", dir, uid)
	}
	if fi.Mode().Perm() != 0o700 {
		return os.Chmod(dir, 0o700)
	}
	return nil
}

// AgentStatus is the answer to GET /v1/status.
type AgentStatus struct {
	PID     int    `json:"pid"`
	Version string `json:"version"`
	Home    string `json:"home"`
	// Bridge is the HTTP bridge's base URL, http://127.0.0.1:PORT; a
	// server NAME is at Bridge + "/servers/NAME/mcp". Empty when the
	// agent runs no bridge; then BridgeProblem may say why.
	Bridge        string `json:"bridge,omitempty"`
	BridgeProblem string `json:"bridge_problem,omitempty"`
}

// bridgeReporter is implemented by *Agent: an agent running the HTTP
// bridge reports it in GET /v1/status.
type bridgeReporter interface {
	Bridge() (url, problem string)
}

// addClientRequest and addClientResponse are POST /v1/clients. The key
// crosses the socket once, like a token, and is never logged.
type addClientRequest struct {
	Name string `json:"name"`
}

type addClientResponse struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// ServeControl serves api on ln until ctx ends, then shuts down: request
// contexts are cancelled (an unfinished login ends with an error line) and
// ServeControl returns nil once the handlers have returned. ln is closed in
// every case. /v1/status reports Version, and the home ln was made for by
// ListenControl. logger may be nil; it never sees a token or a body.
func ServeControl(ctx context.Context, ln net.Listener, api API, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var home string
	if cl, ok := ln.(*controlListener); ok {
		home = cl.home
	}
	h := &controlHandler{api: api, log: logger, status: AgentStatus{PID: os.Getpid(), Version: Version, Home: home}}
	srv := &http.Server{
		Handler:           h.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			uid, err := peerUID(c)
			return context.WithValue(ctx, peerKey{}, peer{uid: uid, err: err})
		},
	}
	return ServeUntilDone(ctx, srv, ln, "the control socket")
}

var (
	// errLocked: another process holds the home's lock (tryLock).
	errLocked = errors.New("locked by another process")
	// errPeerUnsupported: this platform cannot tell a socket peer's uid.
	errPeerUnsupported = errors.New("peer credentials are not supported on this platform")
)

type peerKey struct{}

type peer struct {
	uid int
	err error
}

type controlHandler struct {
	api    API
	log    *slog.Logger
	status AgentStatus
}

func (h *controlHandler) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		st := h.status
		if b, ok := h.api.(bridgeReporter); ok {
			st.Bridge, st.BridgeProblem = b.Bridge()
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("GET /v1/clients", func(w http.ResponseWriter, r *http.Request) {
		list, err := h.api.ListClients(r.Context())
		if list == nil {
			list = []LocalClient{}
		}
		h.reply(w, r, list, err)
	})
	mux.HandleFunc("POST /v1/clients", func(w http.ResponseWriter, r *http.Request) {
		var req addClientRequest
		if err := readBody(r, &req, false); err != nil {
			h.fail(w, r, err)
			return
		}
		key, err := h.api.AddClient(r.Context(), req.Name)
		if err == nil && key == "" {
			err = errors.New("the agent issued no key")
		}
		h.reply(w, r, addClientResponse{Name: req.Name, Key: key}, err)
	})
	mux.HandleFunc("DELETE /v1/clients/{name}", func(w http.ResponseWriter, r *http.Request) {
		h.reply(w, r, nil, h.api.RemoveClient(r.Context(), r.PathValue("name")))
	})
	mux.HandleFunc("GET /v1/servers", func(w http.ResponseWriter, r *http.Request) {
		list, err := h.api.List(r.Context())
		if list == nil {
			list = []ServerStatus{}
		}
		h.reply(w, r, list, err)
	})
	mux.HandleFunc("POST /v1/servers", func(w http.ResponseWriter, r *http.Request) {
		var req AddRequest
		if err := readBody(r, &req, false); err != nil {
			h.fail(w, r, err)
			return
		}
		h.reply(w, r, nil, h.api.Add(r.Context(), req))
	})
	mux.HandleFunc("DELETE /v1/servers/{name}", func(w http.ResponseWriter, r *http.Request) {
		h.reply(w, r, nil, h.api.Remove(r.Context(), r.PathValue("name")))
	})
	mux.HandleFunc("POST /v1/servers/{name}/logout", func(w http.ResponseWriter, r *http.Request) {
		h.reply(w, r, nil, h.api.Logout(r.Context(), r.PathValue("name")))
	})
	mux.HandleFunc("POST /v1/servers/{name}/token", func(w http.ResponseWriter, r *http.Request) {
		tok, err := h.api.Token(r.Context(), r.PathValue("name"))
		if err == nil && tok == nil {
			err = errors.New("the agent produced no token")
		}
		h.reply(w, r, tok, err)
	})
	mux.HandleFunc("POST /v1/servers/{name}/headers", func(w http.ResponseWriter, r *http.Request) {
		hdrs, err := h.api.Headers(r.Context(), r.PathValue("name"))
		h.reply(w, r, hdrs, err)
	})
	mux.HandleFunc("POST /v1/servers/{name}/retry", func(w http.ResponseWriter, r *http.Request) {
		var c Challenge
		if err := readBody(r, &c, false); err != nil {
			h.fail(w, r, err)
			return
		}
		tok, err := h.api.Retry(r.Context(), r.PathValue("name"), c)
		if err == nil && tok == nil {
			err = errors.New("the agent produced no token")
		}
		h.reply(w, r, tok, err)
	})
	mux.HandleFunc("POST /v1/servers/{name}/login", h.login)
	h.trayRoutes(mux)
	return h.checkPeer(withRequester(mux))
}

// checkPeer refuses connections from another uid: defence in depth beside
// the home's 0700 mode. Where the platform cannot tell (peerUID returns
// errPeerUnsupported), the directory mode alone protects the socket.
func (h *controlHandler) checkPeer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := r.Context().Value(peerKey{}).(peer)
		switch {
		case p.err != nil && !errors.Is(p.err, errPeerUnsupported):
			h.log.Warn("control socket: refusing a peer whose uid is unknown", "err", p.err)
			writeError(w, &wireError{Code: codeForbidden, Message: "could not identify the caller"})
		case p.err == nil && p.uid != os.Getuid():
			h.log.Warn("control socket: refusing another user", "uid", p.uid)
			writeError(w, &wireError{Code: codeForbidden, Message: "the mcpauth agent serves only its own user"})
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// reply writes v (nil: 204) or the typed error. It logs the method, path
// and outcome, never a body.
func (h *controlHandler) reply(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Debug("control", "method", r.Method, "path", r.URL.Path)
	if v == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (h *controlHandler) fail(w http.ResponseWriter, r *http.Request, err error) {
	we := encodeError(err)
	h.log.Debug("control", "method", r.Method, "path", r.URL.Path, "code", we.Code, "err", we.Message)
	writeError(w, we)
}

// loginLine is one line of the login stream.
type loginLine struct {
	Pending bool        `json:"pending,omitempty"`
	URL     string      `json:"url,omitempty"`
	Device  *DeviceCode `json:"device,omitempty"` // device.go
	OK      bool        `json:"ok,omitempty"`
	Error   *wireError  `json:"error,omitempty"`
}

func (h *controlHandler) login(w http.ResponseWriter, r *http.Request) {
	var opts LoginOptions
	if err := readBody(r, &opts, true); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	s := &lineStream{w: w, rc: http.NewResponseController(w)}
	s.flush()
	opts.OnURL = func(u string) { s.write(loginLine{URL: u}) }
	opts.OnDeviceCode = func(dc DeviceCode) { s.write(loginLine{Device: &dc}) }
	opts.OnPending = func() { s.write(loginLine{Pending: true}) }
	err := h.api.Login(r.Context(), r.PathValue("name"), opts)
	if err != nil {
		we := encodeError(err)
		h.log.Debug("control", "method", r.Method, "path", r.URL.Path, "code", we.Code, "err", we.Message)
		s.write(loginLine{Error: we})
	} else {
		h.log.Debug("control", "method", r.Method, "path", r.URL.Path)
		s.write(loginLine{OK: true})
	}
	s.close()
}

// lineStream writes NDJSON lines, each flushed at once. OnURL may be called
// from any goroutine, and even after Login returned: writes are serialised
// and dropped once the handler is done with the ResponseWriter.
type lineStream struct {
	mu     sync.Mutex
	w      io.Writer
	rc     *http.ResponseController
	closed bool
}

func (s *lineStream) write(v loginLine) {
	b, _ := json.Marshal(v)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.w.Write(append(b, '\n'))
	s.rc.Flush()
}

func (s *lineStream) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rc.Flush()
}

func (s *lineStream) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// maxBody bounds request bodies; an AddRequest is a few KB.
const maxBody = 1 << 20

// readBody decodes a JSON body into v, then drains it: the server notices a
// client hanging up (and cancels the request's context) only once the body
// has been read to its end.
func readBody(r *http.Request, v any, optional bool) error {
	body := http.MaxBytesReader(nil, r.Body, maxBody)
	err := json.NewDecoder(body).Decode(v)
	if errors.Is(err, io.EOF) && optional {
		err = nil
	}
	if err != nil {
		return &badRequestError{msg: "could not read the request: " + err.Error()}
	}
	io.Copy(io.Discard, body)
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, we *wireError) {
	writeJSON(w, we.status(), struct {
		Error *wireError `json:"error"`
	}{we})
}
