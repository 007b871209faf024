package upstream

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"mime"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"time"

	"mcpauth/localproxy/jsonrpc"
)

const (
	headerSession     = "Mcp-Session-Id"
	headerVersion     = "Mcp-Protocol-Version"
	headerLastEventID = "Last-Event-ID"
	acceptBoth        = "application/json, text/event-stream"
	contentSSE        = "text/event-stream"
)

// exchange POSTs one message and relays its answer (MCP basic/transports,
// "Sending Messages to the Server"). It holds c.order until the request is
// written, so POSTs leave in Send's order while their answers are read
// concurrently. The initialize request holds it until the answer's headers
// are in: the session id must be known before anything else is sent, and a
// 400/404/405 means falling back to the 2024-11-05 transport first.
func (c *Conn) exchange(msg []byte, m jsonrpc.Message) {
	defer c.pending.Done()
	var once sync.Once
	release := func() { once.Do(func() { <-c.order }) }
	defer release()

	isInit := m.Kind == jsonrpc.Request && m.Method == "initialize"
	c.mu.Lock()
	session, version, legacy := c.session, c.version, c.legacy
	if legacy != nil && isInit && legacy.isEnded() {
		c.legacy, legacy = nil, nil // start over, and maybe fall back again
	}
	c.mu.Unlock()
	if legacy != nil {
		c.legacyPost(legacy, msg, m, release)
		return
	}
	ctx := c.ctx
	// notifications/initialized holds the order until the GET stream is
	// open too: a server may send its first requests (an elicitation
	// during the next tools/call) only on that stream, and some drop them
	// if it isn't open yet (the conformance suite's elicitation scenario).
	isInitialized := m.Kind == jsonrpc.Notification && m.Method == "notifications/initialized"
	if !isInit && !isInitialized {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { release() },
		})
	}
	req := c.newPost(ctx, msg)
	if isInit {
		// A new session: no session id, and no version yet (the
		// initialize result negotiates it).
		session, version = "", ""
	}
	if session != "" {
		req.Header.Set(headerSession, session)
	}
	if version != "" {
		req.Header.Set(headerVersion, version)
	}
	// The transport itself rather than c.hc.Do: redirects aren't
	// followed anyway, and the client's per-request header copy for
	// redirects and its error wrapping are work for nothing here.
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		if c.ctx.Err() == nil {
			c.fail(m, c.errorFor(err))
		}
		return
	}
	if resp.Body == nil { // as http.Client does
		resp.Body = http.NoBody
	}
	if isInit {
		switch resp.StatusCode {
		case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed:
			// MCP basic/transports, "Backwards Compatibility": maybe a
			// 2024-11-05 server. If not, report the original answer.
			if c.fallback(msg, m) {
				drain(resp)
				return
			}
		}
		if resp.StatusCode/100 == 2 {
			c.startSession(resp.Header.Get(headerSession))
		}
		release()
	}
	c.handle(resp, m, session, isInit)
	if resp.StatusCode/100 == 2 && m.Kind == jsonrpc.Notification && m.Method == "notifications/initialized" {
		c.mu.Lock()
		c.initialized = c.session == session
		c.mu.Unlock()
	}
	if resp.StatusCode/100 == 2 {
		if ready := c.ensureListening(); ready != nil && isInitialized {
			select {
			case <-ready:
			case <-time.After(listenWait):
			case <-c.ctx.Done():
			}
		}
	}
}

// newPost returns a POST of msg to the server, as
// http.NewRequestWithContext would make it but without parsing the URL
// again for every message (url.Parse was 4 % of connect's CPU under 1 KB
// calls).
func (c *Conn) newPost(ctx context.Context, msg []byte) *http.Request {
	u := *c.url
	req := &http.Request{
		Method:        http.MethodPost,
		URL:           &u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        make(http.Header, 6),
		Body:          io.NopCloser(bytes.NewReader(msg)),
		GetBody:       func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(msg)), nil },
		ContentLength: int64(len(msg)),
		Host:          u.Host,
	}
	req.Header["Content-Type"] = []string{"application/json"}
	req.Header["Accept"] = []string{acceptBoth}
	return req.WithContext(ctx)
}

// listenWait bounds how long notifications/initialized holds the order
// while the GET stream opens.
const listenWait = 2 * time.Second

// startSession records the session the initialize answer started, ending
// the previous one's GET stream.
func (c *Conn) startSession(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.listenCancel != nil {
		c.listenCancel()
		c.listenCancel = nil
	}
	c.session, c.version, c.initialized = id, "", false
}

// noteVersion records the protocolVersion of an initialize result, to send
// as MCP-Protocol-Version on every later request (MCP basic/transports,
// "Protocol Version Header"). The message itself is relayed untouched.
func (c *Conn) noteVersion(msg []byte, session string) {
	v, ok := jsonrpc.String(jsonrpc.Field(jsonrpc.Field(msg, "result"), "protocolVersion"))
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == session {
		c.version = v
	}
}

// handle relays the answer to a POST.
func (c *Conn) handle(resp *http.Response, m jsonrpc.Message, session string, isInit bool) {
	switch {
	case resp.StatusCode == http.StatusNotFound && session != "":
		drain(resp)
		c.expire(session)
		c.fail(m, c.expiredError(resp))
	case resp.StatusCode/100 != 2:
		e := c.statusError(resp)
		resp.Body.Close()
		c.fail(m, e)
	case resp.StatusCode == http.StatusAccepted:
		drain(resp)
	case mediaType(resp) == contentSSE:
		if isInit {
			session = resp.Header.Get(headerSession)
		}
		c.readStream(resp, m, session, isInit)
	case m.Requests() == 0:
		// Nothing is owed to the client; a body (which the spec
		// doesn't allow here) is not a message for it.
		drain(resp)
	default:
		c.readJSON(resp, m, isInit)
	}
}

// readJSON relays an application/json answer: one message (or a batch).
func (c *Conn) readJSON(resp *http.Response, m jsonrpc.Message, isInit bool) {
	defer resp.Body.Close()
	var body []byte
	var err error
	if c.stream != nil && !isInit && (resp.ContentLength < 0 || resp.ContentLength > StreamAbove) {
		var rest io.Reader
		if body, rest, err = readHead(resp.Body, StreamAbove); err == nil && rest != nil {
			c.streamJSON(resp, m, body, rest)
			return
		}
	} else {
		body, err = readAll(resp.Body, resp.ContentLength, c.max)
	}
	if err != nil {
		if c.ctx.Err() == nil {
			c.fail(m, c.errorFor(&netError{err}))
		}
		return
	}
	body = bytes.TrimSpace(body)
	if e := c.notJSON(resp, body); e != nil {
		c.fail(m, e)
		return
	}
	if len(body) == 0 {
		if m.Requests() > 0 {
			c.fail(m, &rpcError{code: CodeHTTPStatus, status: resp.StatusCode,
				msg: "mcpauth: server " + quote(c.server) + " answered " + statusText(resp) + " without a message"})
		}
		return
	}
	if isInit {
		c.noteVersion(body, resp.Header.Get(headerSession))
	}
	c.send(jsonrpc.OneLine(body))
}

// notJSON refuses an answer that is not JSON-RPC (a proxy's HTML error
// page, say): relaying it would break the client's stream. body starts
// where the message does (leading whitespace trimmed).
func (c *Conn) notJSON(resp *http.Response, body []byte) *rpcError {
	if mt := mediaType(resp); mt != "application/json" && !strings.HasSuffix(mt, "+json") &&
		(mt != "" || len(body) == 0 || body[0] != '{' && body[0] != '[') {
		return &rpcError{code: CodeHTTPStatus, status: resp.StatusCode, msg: "mcpauth: server " + quote(c.server) +
			" answered " + statusText(resp) + " with " + strconv.Quote(cmp.Or(mt, "an untyped body")) + ", not a JSON-RPC message"}
	}
	return nil
}

// streamJSON relays a JSON answer longer than StreamAbove through
// Options.DeliverStream as it arrives: head is what was read of it, rest
// the remainder. The size limit holds as it goes. A body that breaks off
// can't be taken back from the line already written: the request is
// answered with an error after it.
func (c *Conn) streamJSON(resp *http.Response, m jsonrpc.Message, head []byte, rest io.Reader) {
	if e := c.notJSON(resp, bytes.TrimLeft(head, " \t\r\n")); e != nil {
		c.fail(m, e)
		return
	}
	r := &limitReader{r: io.MultiReader(bytes.NewReader(head), rest), left: c.max}
	c.stream(r)
	if r.err != nil && c.ctx.Err() == nil {
		c.fail(m, c.errorFor(&netError{r.err}))
	}
}

// limitReader reads at most left bytes of r, then fails with errTooLarge,
// and records the error that stopped it (not EOF).
type limitReader struct {
	r    io.Reader
	left int
	err  error
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	if l.left -= n; l.left < 0 {
		l.err = errTooLarge
		return 0, l.err
	}
	if err != nil && err != io.EOF {
		l.err = err
	}
	return n, err
}

// readHead reads up to n bytes of r. If there are more, rest reads them
// (from the first byte after head); if not, rest is nil.
func readHead(r io.Reader, n int) (head []byte, rest io.Reader, err error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(r, int64(n))); err != nil {
		return nil, nil, err
	}
	if buf.Len() < n {
		return buf.Bytes(), nil, nil
	}
	var one [1]byte
	switch k, err := io.ReadFull(r, one[:]); {
	case k == 1:
		return buf.Bytes(), io.MultiReader(bytes.NewReader(one[:]), r), nil
	case err == io.EOF:
		return buf.Bytes(), nil, nil
	default:
		return nil, nil, err
	}
}

// readAll reads a body of up to max bytes in one allocation when its length
// is known.
func readAll(r io.Reader, n int64, max int) ([]byte, error) {
	if n > int64(max) {
		return nil, errTooLarge
	}
	if n >= 0 {
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		return b, err
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(r, int64(max)+1)); err != nil {
		return nil, err
	}
	if buf.Len() > max {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

func mediaType(resp *http.Response) string {
	ct := resp.Header.Get("Content-Type")
	switch ct { // the usual ones, without mime.ParseMediaType's map
	case "application/json", contentSSE:
		return ct
	}
	mt, _, _ := mime.ParseMediaType(ct)
	return mt
}
