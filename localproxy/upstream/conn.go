// Package upstream holds one MCP client session with a remote server over
// HTTP, for the bridges: it sends each JSON-RPC message it is given and
// delivers every message the server sends, unchanged, to a callback. It
// knows nothing of stdio or of the local client, so the stdio bridge, the
// HTTP bridge and the benchmarks share it.
//
// It speaks the Streamable HTTP transport (MCP basic/transports, revisions
// 2025-03-26 to 2025-11-25): a POST per message, JSON or SSE answers, the
// session id and protocol version headers, the GET stream for
// server-initiated messages, resumption with Last-Event-ID, and DELETE at
// the end. A server that only speaks the 2024-11-05 HTTP+SSE transport is
// detected the way the spec's "Backwards Compatibility" section says and
// used through that transport instead (legacy.go).
//
// Authorization is not its business: Options.Auth wraps its transport (with
// agent.Transport, in mcpauth).
package upstream

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mcpauth/localproxy/jsonrpc"
)

// DefaultMaxMessageSize bounds one message from the server, so that a
// broken server can't exhaust memory. Tool results of tens of megabytes
// fit.
const DefaultMaxMessageSize = 128 << 20

// StreamAbove is the size above which a JSON answer goes to
// Options.DeliverStream, when set, instead of being read whole.
const StreamAbove = 256 << 10

// DefaultReconnectDelay is how long to wait before resuming a broken SSE
// stream when the server sent no retry field.
const DefaultReconnectDelay = time.Second

// Options configure a Conn. URL and Deliver are required.
type Options struct {
	// URL is the server's MCP endpoint.
	URL string
	// Server names the server in errors and logs, e.g. "linear".
	Server string
	// Auth, if set, wraps the base transport, e.g. with agent.Transport.
	// interactive is false for the requests nobody waits for (the
	// background GET stream, the DELETE at the end), which must never
	// open a browser.
	Auth func(base http.RoundTripper, interactive bool) http.RoundTripper
	// Base carries the requests; nil means a clone of
	// http.DefaultTransport. Tests use it.
	Base http.RoundTripper
	// Deliver receives each message from the server (and each error
	// answer the Conn makes up), as one line: no CR or LF. It is called
	// from several goroutines, one at a time per stream, so it must be
	// safe for concurrent use. msg is valid only during the call.
	Deliver func(msg []byte)
	// DeliverStream, if set, receives each JSON answer longer than
	// StreamAbove bytes instead of Deliver, as a reader of the body as
	// it arrives, so that a large tool result is never held whole (a
	// 10 MB result cost the bridge 30 MB). The bytes are the body's: the
	// callee turns CR and LF into spaces and drops the whitespace around
	// the message, as Deliver's caller does. It returns the error that
	// stopped it; if r failed, the callee has ended the line, and the
	// request is then answered with an error as well. An initialize
	// result never comes this way.
	DeliverStream func(r io.Reader) error
	// Logger gets what the local client can't be told: failed
	// notifications, stream reconnections. Nil discards.
	Logger *slog.Logger
	// ReconnectDelay replaces DefaultReconnectDelay (tests).
	ReconnectDelay time.Duration
	// MaxMessageSize replaces DefaultMaxMessageSize.
	MaxMessageSize int
	// DeleteTimeout bounds the DELETE that ends the session; zero means
	// 2 s.
	DeleteTimeout time.Duration
}

// Conn is one MCP session with one server. Its methods are safe for
// concurrent use.
type Conn struct {
	url      *url.URL
	server   string
	base     http.RoundTripper
	hc       *http.Client      // interactive
	rt       http.RoundTripper // hc.Transport, for the POSTs
	quiet    *http.Client      // never interactive
	deliver  func([]byte)
	stream   func(io.Reader) error
	log      *slog.Logger
	delay    time.Duration
	max      int
	delTime  time.Duration
	ctx      context.Context // ends at Close
	cancel   context.CancelFunc
	order    chan struct{} // held from a POST's start until it is written
	work     chan job      // to an idle worker; unbuffered
	idle     atomic.Int32  // workers waiting on work
	pending  sync.WaitGroup
	bg       sync.WaitGroup
	redacted string // URL without its query, for messages

	mu           sync.Mutex // guards the session state below
	session      string     // Mcp-Session-Id
	version      string     // negotiated protocol version
	initialized  bool       // notifications/initialized was accepted
	listenCancel context.CancelFunc
	legacy       *legacySession
	draining     bool // Close waits for pending: no Send may add to it
	closing      bool // Close waits for bg: nothing may start
}

// New returns a Conn for opts.URL. It contacts nothing until the first
// Send.
func New(opts Options) (*Conn, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &url.Error{Op: "parse", URL: redactURL(opts.URL), Err: errBadURL}
	}
	base := opts.Base
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Concurrent requests and streams each hold an HTTP/1.1
		// connection; keep them for reuse.
		t.MaxIdleConnsPerHost = 32
		base = t
	}
	base = netMarker{base}
	wrap := func(interactive bool) http.RoundTripper {
		if opts.Auth == nil {
			return base
		}
		return opts.Auth(base, interactive)
	}
	// Redirects are never followed: the transport attaches a bearer token
	// to whatever URL it is given, and MCP servers don't redirect.
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	// http.NewRequest drops an empty port ("host:"); newPost doesn't parse.
	u.Host = strings.TrimSuffix(u.Host, ":")
	interactive := wrap(true)
	c := &Conn{
		url:      u,
		server:   opts.Server,
		base:     base,
		hc:       &http.Client{Transport: interactive, CheckRedirect: noRedirect},
		quiet:    &http.Client{Transport: wrap(false), CheckRedirect: noRedirect},
		deliver:  opts.Deliver,
		stream:   opts.DeliverStream,
		log:      opts.Logger,
		delay:    opts.ReconnectDelay,
		max:      opts.MaxMessageSize,
		delTime:  opts.DeleteTimeout,
		rt:       interactive,
		order:    make(chan struct{}, 1),
		work:     make(chan job),
		redacted: redactURL(opts.URL),
	}
	if c.server == "" {
		c.server = u.Host
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.delay <= 0 {
		c.delay = DefaultReconnectDelay
	}
	if c.max <= 0 {
		c.max = DefaultMaxMessageSize
	}
	if c.delTime <= 0 {
		c.delTime = 2 * time.Second
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Send sends msg, described by m (see jsonrpc.Parse), to the server. It
// takes ownership of msg. Messages leave in the order Send is called:
// each POST is written before the next one starts, and its answer is read
// concurrently with later ones, so a notifications/cancelled reaches the
// server while a long tools/call is pending. Answers, and errors for
// requests that failed, go to Options.Deliver; a notification or response
// that can't be delivered is logged.
func (c *Conn) Send(msg []byte, m jsonrpc.Message) {
	closed := &rpcError{code: CodeUnreachable, msg: "mcpauth: the connection to server " + quote(c.server) + " is closed"}
	select {
	case c.order <- struct{}{}:
	case <-c.ctx.Done():
		c.fail(m, closed)
		return
	}
	c.mu.Lock()
	if c.draining {
		c.mu.Unlock()
		<-c.order
		c.fail(m, closed)
		return
	}
	c.pending.Add(1) // under mu: never concurrent with Close's Wait
	c.mu.Unlock()
	select {
	case c.work <- job{msg, m}:
	default:
		go c.worker(msg, m)
	}
}

// job is a message for a worker.
type job struct {
	msg []byte
	m   jsonrpc.Message
}

// maxIdle bounds the workers kept waiting for a message.
const maxIdle = 16

// worker runs exchanges: msg's, then those Send hands it while it waits.
// Why not a goroutine per message (docs/benchmarks.md, "Fixes"): a new
// goroutine's stack grows two or three times on the way into net/http,
// each time copied (runtime.copystack, ~8 % of connect's CPU under 1 KB
// calls); a worker's has grown already. Up to maxIdle wait; the rest end.
func (c *Conn) worker(msg []byte, m jsonrpc.Message) {
	for {
		c.exchange(msg, m)
		msg, m = nil, jsonrpc.Message{} // don't hold a message while idle
		if c.idle.Add(1) > maxIdle {
			c.idle.Add(-1)
			return
		}
		select {
		case j := <-c.work:
			c.idle.Add(-1)
			msg, m = j.msg, j.m
		case <-c.ctx.Done():
			c.idle.Add(-1)
			return
		}
	}
}

// Close ends the session: it waits for the answers still due until ctx
// ends, then stops every stream and sends DELETE with the session id (MCP
// basic/transports, "Session Management", 5). It returns when nothing it
// started is left running, except a Deliver call that is stuck (a local
// client that stopped reading).
func (c *Conn) Close(ctx context.Context) error {
	c.mu.Lock()
	c.draining = true
	c.mu.Unlock()
	done := make(chan struct{})
	go func() {
		c.pending.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		c.log.Warn("closing with answers still due", "server", c.server)
	}
	c.mu.Lock()
	c.closing = true
	session, version, legacy := c.session, c.version, c.legacy
	c.mu.Unlock()
	c.cancel()
	stopped := make(chan struct{})
	go func() {
		c.bg.Wait()
		<-done
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(time.Second):
	}
	if session != "" && legacy == nil {
		c.deleteSession(session, version)
	}
	if ci, ok := c.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
	return nil
}

// deleteSession asks the server to end the session; a 405 means it
// doesn't let clients do that, which is fine.
func (c *Conn) deleteSession(session, version string) {
	ctx, cancel := context.WithTimeout(context.Background(), c.delTime)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, c.url.String(), nil)
	req.Header.Set(headerSession, session)
	if version != "" {
		req.Header.Set(headerVersion, version)
	}
	resp, err := c.quiet.Do(req)
	if err != nil {
		c.log.Info("could not end the session", "server", c.server, "err", err)
		return
	}
	drain(resp)
	c.log.Debug("ended the session", "server", c.server, "status", resp.StatusCode)
}

// Session returns the current session id and protocol version, for tests
// and status.
func (c *Conn) Session() (id, protocolVersion string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session, c.version
}

// expire forgets session after the server answered 404 to it: the local
// client must initialize again (MCP basic/transports, "Session
// Management", 4).
func (c *Conn) expire(session string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session != session {
		return
	}
	c.session, c.initialized = "", false
	if c.listenCancel != nil {
		c.listenCancel()
		c.listenCancel = nil
	}
	c.log.Warn("the server ended the session (HTTP 404); the client must initialize again", "server", c.server)
}

func (c *Conn) send(msg []byte) { c.deliver(msg) }
