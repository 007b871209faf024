package upstream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"mcpauth/localproxy/jsonrpc"
)

const (
	// maxResumes bounds the reconnections in a row that bring no event.
	maxResumes = 5
	// maxBackoff caps the wait between failed reconnections.
	maxBackoff = 30 * time.Second
	// steadyStream is how long a GET stream must have lasted for its end
	// not to count as a failure.
	steadyStream = 30 * time.Second
)

// readStream relays an SSE answer to a POST, each event as it arrives. If
// the stream ends before it carried the responses m is owed, it is resumed
// with a GET carrying Last-Event-ID, after the server's retry delay (MCP
// basic/transports, "Sending Messages to the Server", 6, and "Resumability
// and Redelivery"). A stream that gave no event id can't be resumed: its
// requests are answered with CodeStreamLost.
func (c *Conn) readStream(resp *http.Response, m jsonrpc.Message, session string, isInit bool) {
	want, got := m.Requests(), 0
	sr := newSSEReader(resp.Body, c.max)
	body := resp.Body
	failures := 0
	for {
		n, err := c.relay(sr, func(data []byte) bool {
			if pm := jsonrpc.Peek(data); pm.Kind == jsonrpc.Response || pm.Kind == jsonrpc.Batch {
				if isInit && pm.Kind == jsonrpc.Response {
					c.noteVersion(data, session)
				}
				got += pm.Responses()
			}
			c.send(jsonrpc.OneLine(data))
			return want == 0 || got < want
		})
		body.Close()
		if want == 0 || got >= want || c.ctx.Err() != nil {
			return
		}
		if errors.Is(err, errTooLarge) {
			c.failStream(m, got, "sent a message larger than "+sizeString(c.max))
			return
		}
		if n > 0 {
			failures = 0
		}
		if sr.lastID == "" {
			c.failStream(m, got, "ended the response stream before the response, without an event id to resume it from")
			return
		}
		if failures++; failures > maxResumes {
			c.failStream(m, got, "kept ending the response stream before the response")
			return
		}
		c.log.Info("resuming the response stream", "server", c.server, "last_event_id", sr.lastID)
		if !c.sleep(c.ctx, c.retryDelay(sr, failures)) {
			return
		}
		resp, err := c.getStream(c.ctx, c.hc, session, sr.lastID)
		switch {
		case err != nil:
			if e := c.errorFor(err); e.code != CodeUnreachable {
				c.fail(m, e)
				return
			}
			body = http.NoBody
			sr.reset(body)
			continue
		case resp.StatusCode == http.StatusNotFound && session != "":
			drain(resp)
			c.expire(session)
			c.fail(m, c.expiredError(resp))
			return
		case resp.StatusCode != http.StatusOK || mediaType(resp) != contentSSE:
			e := c.statusError(resp)
			resp.Body.Close()
			if resp.StatusCode/100 == 4 {
				c.failStream(m, got, "could not resume the response stream: "+e.msg)
				return
			}
			body = http.NoBody
			sr.reset(body)
			continue
		}
		sr.reset(resp.Body)
		body = resp.Body
	}
}

func (c *Conn) failStream(m jsonrpc.Message, got int, why string) {
	if got > 0 { // part of a batch was answered: don't answer it twice
		c.log.Warn("lost part of a batch's answers", "server", c.server, "why", why)
		return
	}
	c.fail(m, &rpcError{code: CodeStreamLost, msg: "mcpauth: server " + quote(c.server) + " " + why + "; try again"})
}

// relay delivers the "message" events of sr through f until f returns
// false or the stream ends, and reports how many it delivered and why it
// stopped.
func (c *Conn) relay(sr *sseReader, f func(data []byte) bool) (int, error) {
	n := 0
	for {
		event, data, err := sr.next()
		if err != nil {
			return n, err
		}
		if event != "message" {
			c.log.Debug("ignoring an SSE event", "server", c.server, "event", event)
			continue
		}
		n++
		if !f(data) {
			return n, nil
		}
	}
}

// getStream opens (or resumes, with lastID) an SSE stream with GET.
func (c *Conn) getStream(ctx context.Context, hc *http.Client, session, lastID string) (*http.Response, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.url.String(), nil)
	req.Header.Set("Accept", contentSSE)
	if session != "" {
		req.Header.Set(headerSession, session)
	}
	c.mu.Lock()
	version := c.version
	c.mu.Unlock()
	if version != "" {
		req.Header.Set(headerVersion, version)
	}
	if lastID != "" {
		req.Header.Set(headerLastEventID, lastID)
	}
	return hc.Do(req)
}

// ensureListening opens the GET stream for server-initiated messages
// (MCP basic/transports, "Listening for Messages from the Server") once the
// session is initialized, and again after it stopped for a reason that may
// have passed (a failed login, the network).
//
// The channel it returns, if it started the stream, is closed once the GET
// has its answer's headers (or failed).
func (c *Conn) ensureListening() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.initialized || c.listenCancel != nil || c.legacy != nil || c.closing {
		return nil
	}
	ctx, cancel := context.WithCancel(c.ctx)
	c.listenCancel = cancel
	session := c.session
	ready := make(chan struct{})
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		none := c.listen(ctx, session, ready)
		c.mu.Lock()
		defer c.mu.Unlock()
		if ctx.Err() == nil && c.session == session {
			if none {
				// The server has no GET stream: don't ask again in
				// this session.
				c.listenCancel = func() {}
			} else {
				c.listenCancel = nil
			}
		}
		cancel()
	}()
	return ready
}

// listen relays the GET stream until ctx ends, reconnecting (with
// Last-Event-ID, after the retry delay) when it breaks. It reports true if
// the server has no such stream (405), so it needn't be asked again.
func (c *Conn) listen(ctx context.Context, session string, ready chan struct{}) (none bool) {
	var once sync.Once
	signal := func() { once.Do(func() { close(ready) }) }
	defer signal()
	sr := newSSEReader(http.NoBody, c.max)
	failures := 0
	for ctx.Err() == nil {
		start := time.Now()
		resp, err := c.getStream(ctx, c.quiet, session, sr.lastID)
		signal()
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return false
			}
			if e := c.errorFor(err); e.code != CodeUnreachable {
				// Not authorized, and nobody to ask: the next
				// request, which may log in, reopens the stream.
				c.log.Info("the server-to-client stream stopped", "server", c.server, "err", e.msg)
				return false
			}
			failures++
		case resp.StatusCode == http.StatusMethodNotAllowed:
			drain(resp)
			c.log.Debug("the server offers no server-to-client stream (405)", "server", c.server)
			return true
		case resp.StatusCode == http.StatusNotFound && session != "":
			drain(resp)
			c.expire(session)
			return false
		case resp.StatusCode != http.StatusOK || mediaType(resp) != contentSSE:
			e := c.statusError(resp)
			resp.Body.Close()
			c.log.Info("could not open the server-to-client stream", "server", c.server, "err", e.msg)
			failures++
		default:
			sr.reset(resp.Body)
			n, err := c.relay(sr, func(data []byte) bool {
				c.send(jsonrpc.OneLine(data))
				return true
			})
			resp.Body.Close()
			if ctx.Err() != nil {
				return false
			}
			if n > 0 || time.Since(start) >= steadyStream {
				failures = 0
			} else {
				failures++
			}
			if err != io.EOF {
				c.log.Debug("the server-to-client stream broke; reconnecting", "server", c.server, "err", err)
			}
		}
		if failures > maxResumes {
			c.log.Warn("giving up on the server-to-client stream for now", "server", c.server)
			return false
		}
		if !c.sleep(ctx, c.retryDelay(sr, failures)) {
			return false
		}
	}
	return false
}

// retryDelay is the server's retry field, or the default, doubled for each
// failure in a row after the first, up to maxBackoff (but never below the
// server's retry, which the client MUST respect).
func (c *Conn) retryDelay(sr *sseReader, failures int) time.Duration {
	d := c.delay
	if sr.hasRetry {
		d = sr.retry
	}
	for i := 1; i < failures && d < maxBackoff; i++ {
		d *= 2
	}
	if sr.hasRetry && d < sr.retry {
		d = sr.retry
	}
	// A retry of 0 must not make a tight loop.
	return max(min(d, max(maxBackoff, sr.retry)), 10*time.Millisecond)
}

// sleep waits d, or until ctx ends; it reports whether ctx is still live.
func (c *Conn) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func sizeString(n int) string {
	switch {
	case n >= 1<<20:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}
