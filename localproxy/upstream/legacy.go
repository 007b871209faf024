package upstream

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"

	"mcpauth/localproxy/jsonrpc"
)

// endpointTimeout bounds the wait for a 2024-11-05 server's endpoint event.
const endpointTimeout = 10 * time.Second

// legacySession is a session over the HTTP+SSE transport of protocol
// revision 2024-11-05 (MCP basic/transports of that revision, "HTTP with
// SSE"): one long GET stream carries every message from the server, and
// each message to the server is POSTed to the URL of its endpoint event.
// The stream can't be resumed; when it ends, the session is over.
type legacySession struct {
	endpoint string

	mu    sync.Mutex
	ended bool
}

func (l *legacySession) end() {
	l.mu.Lock()
	l.ended = true
	l.mu.Unlock()
}

func (l *legacySession) isEnded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ended
}

// fallback is called when the initialize POST got 400, 404 or 405: it tries
// the 2024-11-05 transport, as the Streamable HTTP spec's "Backwards
// Compatibility" section tells clients to, with a GET that should open an
// SSE stream whose first event is `endpoint`. It reports whether the server
// speaks it; if it does, the initialize request has been sent that way.
func (c *Conn) fallback(msg []byte, m jsonrpc.Message) bool {
	resp, err := c.getStream(c.ctx, c.hc, "", "")
	if err != nil {
		c.log.Debug("no HTTP+SSE fallback", "server", c.server, "err", err)
		return false
	}
	if resp.StatusCode != http.StatusOK || mediaType(resp) != contentSSE {
		drain(resp)
		return false
	}
	sr := newSSEReader(resp.Body, c.max)
	timer := time.AfterFunc(endpointTimeout, func() { resp.Body.Close() })
	event, data, err := sr.next()
	if !timer.Stop() || err != nil || event != "endpoint" {
		resp.Body.Close()
		c.log.Info("the server's GET stream has no endpoint event: not a 2024-11-05 server", "server", c.server)
		return false
	}
	endpoint, err := c.resolveEndpoint(string(bytes.TrimSpace(data)))
	if err != nil {
		resp.Body.Close()
		c.log.Warn("refusing the 2024-11-05 endpoint", "server", c.server, "err", err)
		return false
	}
	ls := &legacySession{endpoint: endpoint}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		resp.Body.Close()
		return false
	}
	c.legacy, c.session, c.version = ls, "", ""
	c.bg.Add(1) // under mu: never concurrent with Close's Wait
	c.mu.Unlock()
	c.log.Info("the server speaks the 2024-11-05 HTTP+SSE transport; using it", "server", c.server)
	go c.legacyRead(ls, resp, sr)
	c.legacyPost(ls, msg, m, func() {})
	return true
}

// resolveEndpoint resolves the endpoint event's URI against the server URL
// and refuses another origin: every request carries the server's token.
func (c *Conn) resolveEndpoint(ref string) (string, error) {
	u, err := c.url.Parse(ref)
	if err != nil {
		return "", err
	}
	if u.Scheme != c.url.Scheme || u.Host != c.url.Host {
		return "", errors.New("the endpoint event names another origin (" + u.Scheme + "://" + u.Host +
			"), which would get the server's token")
	}
	return u.String(), nil
}

// legacyRead relays the stream's message events until it ends.
func (c *Conn) legacyRead(ls *legacySession, resp *http.Response, sr *sseReader) {
	defer c.bg.Done()
	defer resp.Body.Close()
	_, err := c.relay(sr, func(data []byte) bool {
		c.send(jsonrpc.OneLine(data))
		return true
	})
	ls.end()
	if c.ctx.Err() == nil {
		c.log.Warn("the server closed its HTTP+SSE stream: the session is over", "server", c.server, "err", err)
	}
}

// legacyPost POSTs one message to the endpoint; the answer, if any, comes
// on the stream. release is called once the request is written.
func (c *Conn) legacyPost(ls *legacySession, msg []byte, m jsonrpc.Message, release func()) {
	if ls.isEnded() {
		c.fail(m, &rpcError{code: CodeSessionExpired, msg: "mcpauth: server " + quote(c.server) +
			" closed its event stream (2024-11-05 transport), which ends the session: initialize a new session"})
		return
	}
	ctx := httptrace.WithClientTrace(c.ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { release() },
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ls.endpoint, bytes.NewReader(msg))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	switch {
	case err != nil:
		if c.ctx.Err() == nil {
			c.fail(m, c.errorFor(err))
		}
	case resp.StatusCode/100 == 2:
		drain(resp)
	case resp.StatusCode == http.StatusNotFound:
		drain(resp)
		ls.end()
		c.fail(m, c.expiredError(resp))
	default:
		e := c.statusError(resp)
		resp.Body.Close()
		c.fail(m, e)
	}
}
