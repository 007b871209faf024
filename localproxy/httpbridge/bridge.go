// Package httpbridge is the loopback HTTP bridge that runs inside the agent
// (`mcpauth agent`, the tray): MCP host apps that speak Streamable HTTP
// (Cursor, VS Code, Claude Code) use http://127.0.0.1:PORT/servers/NAME/mcp
// as if it were the remote server, and the bridge forwards each request to
// NAME's URL with the agent's token (agent.Transport), logging in, refreshing
// and stepping up as needed.
//
// Who may use it (DESIGN.md, "The HTTP bridge"):
//   - it listens on 127.0.0.1 only;
//   - every request needs a local client key (`mcpauth client add NAME`) as
//     Authorization: Bearer KEY; the key goes no further, and neither does
//     any Authorization header the client sends;
//   - a request whose Host is not this listener (DNS rebinding), or that
//     carries Origin or Referer (a web page), is refused.
//
// Every refusal is a 403 without WWW-Authenticate: a 401, or a challenge,
// would make an MCP client start an OAuth flow of its own against the
// bridge. For the same reason the remote server's own challenges never
// reach the client (see fail.go).
package httpbridge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"mcpauth/agent"
)

// DefaultPort is the bridge's port unless `mcpauth agent --port` says
// otherwise. A fixed port keeps the URLs in host apps' configs valid from
// one run to the next.
const DefaultPort = 8719

// Backend is what the bridge needs from the agent it runs in. *agent.Agent
// implements it; its methods must be safe for concurrent use and cheap:
// they run on every request.
type Backend interface {
	// API gets tokens; agent.Transport calls Token, Retry and Login.
	agent.API
	// ClientForKey returns the local client a key belongs to.
	ClientForKey(key string) (client string, ok bool)
	// ServerURL returns a registered server's URL, or *agent.NotFoundError.
	ServerURL(name string) (string, error)
	// NoteUse records a use in the audit record.
	NoteUse(client, server string)
}

var _ Backend = (*agent.Agent)(nil)

// Options configure a Bridge.
type Options struct {
	// Logger gets one debug line per request (client, server, method,
	// status) and warnings; never a key, token or body. Nil discards.
	Logger *slog.Logger
	// Upstream carries requests to the remote servers; nil means a
	// dedicated http.Transport that keeps connections alive.
	Upstream http.RoundTripper
}

// maxBody bounds a POSTed JSON-RPC message. agent.Transport holds a body in
// memory to replay it after a refresh or step-up.
const maxBody = 32 << 20

// Bridge is the handler. It is safe for concurrent use.
type Bridge struct {
	backend Backend
	log     *slog.Logger
	port    string
	proxy   *httputil.ReverseProxy
}

// Listen listens on 127.0.0.1:port (0: an ephemeral port).
func Listen(port int) (net.Listener, error) {
	ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("could not listen for the HTTP bridge on 127.0.0.1:%d: %w", port, err)
	}
	return ln, nil
}

// New returns the bridge for a listener bound to addr (127.0.0.1:PORT):
// requests must name that port in their Host.
func New(backend Backend, addr string, opts Options) (*Bridge, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("httpbridge: bad listener address %q: %w", addr, err)
	}
	b := &Bridge{backend: backend, log: opts.Logger, port: port}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	up := opts.Upstream
	if up == nil {
		up = newUpstreamTransport()
	}
	b.proxy = &httputil.ReverseProxy{
		Rewrite:   rewrite,
		Transport: &authTransport{backend: backend, base: upstreamTransport{up}},
		// Zero: ReverseProxy flushes every write of an SSE response
		// (text/event-stream) or of one of unknown length, so events
		// reach the client as they come, and buffers a JSON answer of
		// known length into one write.
		FlushInterval:  0,
		BufferPool:     make(bufferPool, 16),
		ModifyResponse: modifyResponse,
		ErrorHandler:   b.fail,
		ErrorLog:       slog.NewLogLogger(b.log.Handler(), slog.LevelDebug),
	}
	return b, nil
}

// bufferPool recycles ReverseProxy's 32 KB copy buffers. Without one it
// allocates a buffer per response: three quarters of the bytes the bridge
// allocated, and most of its garbage collection (docs/benchmarks.md,
// "Fixes"). It keeps at most cap(p) idle buffers.
type bufferPool chan []byte

func (p bufferPool) Get() []byte {
	select {
	case b := <-p:
		return b
	default:
		return make([]byte, 32<<10)
	}
}

func (p bufferPool) Put(b []byte) {
	select {
	case p <- b:
	default:
	}
}

// URL is the bridge's base URL; server NAME is at URL()+"/servers/NAME/mcp".
func (b *Bridge) URL() string { return "http://127.0.0.1:" + b.port }

// newUpstreamTransport is http.DefaultTransport with enough idle connections kept
// per server for many concurrent clients, so requests reuse connections.
func newUpstreamTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// Serve serves the bridge on ln until ctx ends, then shuts down: request
// contexts are cancelled, which ends open SSE streams. ln is closed.
func (b *Bridge) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           b,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(b.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	return agent.ServeUntilDone(ctx, srv, ln, "the HTTP bridge")
}

// route is one accepted request, carried to the transport and the error
// handler in the request's context.
type route struct {
	client, server string
	target         *url.URL
	body           []byte // the POSTed message, to answer a JSON-RPC error
}

type routeKey struct{}

const pathPrefix, pathSuffix = "/servers/", "/mcp"

func (b *Bridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if msg := b.refuse(r); msg != "" {
		b.log.Debug("bridge: refused", "method", r.Method, "why", msg)
		writeError(w, http.StatusForbidden, "forbidden", msg)
		return
	}
	client, ok := b.backend.ClientForKey(bearer(r.Header))
	if !ok {
		b.log.Debug("bridge: refused a request without a valid local client key", "method", r.Method)
		writeError(w, http.StatusForbidden, "forbidden",
			"this request needs a local client key: run `mcpauth client add NAME` and send the key it prints as the header Authorization: Bearer KEY")
		return
	}
	name, okPrefix := strings.CutPrefix(r.URL.Path, pathPrefix)
	name, okSuffix := strings.CutSuffix(name, pathSuffix)
	if !okPrefix || !okSuffix || name == "" || strings.Contains(name, "/") {
		writeError(w, http.StatusNotFound, "not_found", "the bridge serves only /servers/NAME/mcp")
		return
	}
	switch r.Method {
	case http.MethodPost, http.MethodGet, http.MethodDelete:
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Streamable HTTP uses POST, GET and DELETE")
		return
	}
	raw, err := b.backend.ServerURL(name)
	if err != nil {
		b.failLookup(w, name, err)
		return
	}
	target, err := url.Parse(raw)
	if err != nil {
		writeError(w, http.StatusBadGateway, "bad_gateway", fmt.Sprintf("server %q has an unusable URL", name))
		return
	}
	rt := &route{client: client, server: name, target: target}
	if r.Method == http.MethodPost && r.Body != nil {
		// Read the message here: agent.Transport would read it anyway to
		// replay it, and an auth failure is answered for its JSON-RPC id.
		rt.body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", "could not read the request body, or it is over 32 MiB")
			return
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(rt.body)), int64(len(rt.body))
		// agent.Transport replays the body from here after a refresh or
		// a step-up, instead of copying it once more.
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(rt.body)), nil }
		if len(rt.body) == 0 {
			r.Body, r.GetBody = http.NoBody, nil
		}
	}
	b.backend.NoteUse(client, name)
	b.log.Debug("bridge", "client", client, "server", name, "method", r.Method)
	// A login this request causes names its local client in the tray's
	// approval, exactly, rather than by the agent's guess from recent use.
	ctx := agent.WithRequester(context.WithValue(r.Context(), routeKey{}, rt), client)
	b.proxy.ServeHTTP(w, r.WithContext(ctx))
}

// refuse says why a request is refused before its key is even looked at,
// or "" to go on: the Host must be this listener, as 127.0.0.1 or
// localhost (DNS rebinding gives the attacker's name), and browsers send
// Origin or Referer with what web pages ask for.
func (b *Bridge) refuse(r *http.Request) string {
	switch {
	case len(r.Header.Values("Origin")) > 0:
		return "requests from web pages (with an Origin header) are refused"
	case len(r.Header.Values("Referer")) > 0:
		return "requests from web pages (with a Referer header) are refused"
	case !b.hostOK(r.Host):
		return "the Host header must be 127.0.0.1:" + b.port + " or localhost:" + b.port
	}
	return ""
}

func (b *Bridge) hostOK(host string) bool {
	h, p, err := net.SplitHostPort(host)
	return err == nil && p == b.port && (h == "127.0.0.1" || strings.EqualFold(h, "localhost"))
}

// bearer returns the token of an Authorization: Bearer header, or "".
func bearer(h http.Header) string {
	v := h.Get("Authorization")
	if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
		return ""
	}
	return strings.TrimSpace(v[7:])
}

// stripped are request headers that stay on this side of the bridge:
// credentials meant for the bridge or for 127.0.0.1 (agent.Transport sets
// the upstream Authorization), and what would tell the remote server about
// the local client's network. httputil.ReverseProxy removes the hop-by-hop
// headers (RFC 9110 §7.6.1) and, with Rewrite, the X-Forwarded-* ones; it
// would put back Upgrade, but Streamable HTTP never switches protocols.
var stripped = []string{"Authorization", "Cookie", "Origin", "Referer", "Forwarded", "X-Real-Ip", "Upgrade", "Connection"}

func rewrite(pr *httputil.ProxyRequest) {
	rt := pr.In.Context().Value(routeKey{}).(*route)
	u := *rt.target
	pr.Out.URL = &u
	pr.Out.Host = ""
	for _, h := range stripped {
		pr.Out.Header.Del(h)
	}
}

// modifyResponse keeps the remote's auth challenges from the client. A 401
// is left only when agent.Transport's refresh-or-login and retry did not
// help; it is answered like any other auth failure (fail.go).
func modifyResponse(resp *http.Response) error {
	resp.Header.Del("Www-Authenticate")
	if resp.StatusCode == http.StatusUnauthorized {
		return errRemoteRefused
	}
	return nil
}

// authTransport is agent.Transport for the request's server, with
// Interactive set: a login opens the browser from the agent, and the
// request waits for it.
type authTransport struct {
	backend Backend
	base    http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt := req.Context().Value(routeKey{}).(*route)
	return (&agent.Transport{API: t.backend, Server: rt.server, Base: t.base, Interactive: true}).RoundTrip(req)
}

// upstreamTransport marks errors of the remote connection, so that they
// are told apart from the agent's (auth) errors.
type upstreamTransport struct{ base http.RoundTripper }

func (t upstreamTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, &upstreamError{err}
	}
	return resp, nil
}

type upstreamError struct{ err error }

func (e *upstreamError) Error() string { return e.err.Error() }
func (e *upstreamError) Unwrap() error { return e.err }
