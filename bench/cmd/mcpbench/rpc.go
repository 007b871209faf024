package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"mcpauth/localproxy/jsonrpc"
)

// The benchmark's MCP client is a small raw JSON-RPC client, the same code
// for every target: over Streamable HTTP for the direct connection and the
// HTTP bridge, over stdio for `mcpauth connect` and mcp-remote. It builds
// each request with a few appends and never decodes a result, only checks
// that it is one (jsonrpc.Field skips a 1 MB string with memchr jumps), so
// the client costs the same few microseconds whatever the target; an SDK
// client (mcp-go decodes every result into structs) would add tens of
// microseconds per call and megabytes of garbage for large results, the
// same for all targets but noisier. One request is in flight per session:
// concurrency is many sessions (throughput) or many processes (stdio).

// protocolVersion is what the client asks for in initialize.
const protocolVersion = "2025-11-25"

// session is one initialized MCP client session.
type session interface {
	// initialize sends initialize, then notifications/initialized; it
	// returns when the initialize result arrived.
	initialize(ctx context.Context) (time.Time, error)
	// call calls tool with raw JSON arguments and returns the size of
	// the response message.
	call(ctx context.Context, tool, args string) (int, error)
	// close ends the session (and the process, for stdio).
	close() error
}

func initializeParams() string {
	return `{"protocolVersion":"` + protocolVersion + `","capabilities":{},"clientInfo":{"name":"mcpbench","version":"1"}}`
}

func request(id int, method, params string) []byte {
	b := make([]byte, 0, 64+len(method)+len(params))
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, `,"method":"`...)
	b = append(b, method...)
	b = append(b, `","params":`...)
	b = append(b, params...)
	return append(b, '}')
}

func notification(method string) []byte {
	return []byte(`{"jsonrpc":"2.0","method":"` + method + `"}`)
}

func callParams(tool, args string) string {
	return `{"name":"` + tool + `","arguments":` + args + `}`
}

// checkResult fails unless msg is a successful result (a tool error is a
// failure too).
func checkResult(msg []byte) error {
	res := jsonrpc.Field(msg, "result")
	if res == nil {
		e := jsonrpc.Field(msg, "error")
		if len(e) > 300 {
			e = e[:300]
		}
		return fmt.Errorf("not a result: %s", e)
	}
	if string(jsonrpc.Field(res, "isError")) == "true" {
		return errors.New("the tool answered an error")
	}
	return nil
}

// httpSession is a Streamable HTTP client session (MCP basic/transports):
// a POST per message, JSON or SSE answers, the session id and protocol
// version headers.
type httpSession struct {
	hc      *http.Client
	url     string
	auth    string // Authorization header value
	sid     string
	version string
	id      int
	buf     bytes.Buffer
}

// newHTTPClient returns a client with its own connection pool, as a
// separate host app would have.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 4
	return &http.Client{Transport: t, Timeout: 60 * time.Second}
}

func newHTTPSession(url, auth string) *httpSession {
	return &httpSession{hc: newHTTPClient(), url: url, auth: auth}
}

func (s *httpSession) post(ctx context.Context, body []byte, wantID int) ([]byte, *http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if s.auth != "" {
		req.Header.Set("Authorization", s.auth)
	}
	if s.sid != "" {
		req.Header.Set("Mcp-Session-Id", s.sid)
	}
	if s.version != "" {
		req.Header.Set("Mcp-Protocol-Version", s.version)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, resp, fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	if wantID == 0 || resp.StatusCode == http.StatusAccepted {
		io.Copy(io.Discard, resp.Body)
		return nil, resp, nil
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	s.buf.Reset()
	if mt == "text/event-stream" {
		msg, err := readSSEResponse(resp.Body, &s.buf, wantID)
		return msg, resp, err
	}
	if _, err := s.buf.ReadFrom(resp.Body); err != nil {
		return nil, resp, err
	}
	return s.buf.Bytes(), resp, nil
}

// readSSEResponse reads events until the response with id wantID.
func readSSEResponse(r io.Reader, buf *bytes.Buffer, wantID int) ([]byte, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	want := strconv.Itoa(wantID)
	var long []byte
	for {
		buf.Reset()
		for {
			line, err := br.ReadSlice('\n')
			if err == bufio.ErrBufferFull {
				long = append(long[:0], line...)
				for err == bufio.ErrBufferFull {
					line, err = br.ReadSlice('\n')
					long = append(long, line...)
				}
				line = long
			}
			if err != nil {
				return nil, fmt.Errorf("the SSE stream ended before the response: %w", err)
			}
			line = bytes.TrimRight(line, "\r\n")
			if len(line) == 0 {
				break
			}
			if data, ok := bytes.CutPrefix(line, []byte("data:")); ok {
				buf.Write(bytes.TrimPrefix(data, []byte(" ")))
			}
		}
		if msg := buf.Bytes(); len(msg) > 0 && string(jsonrpc.Field(msg, "id")) == want && jsonrpc.Field(msg, "method") == nil {
			return msg, nil
		}
	}
}

func (s *httpSession) initialize(ctx context.Context) (time.Time, error) {
	s.id++
	msg, resp, err := s.post(ctx, request(s.id, "initialize", initializeParams()), s.id)
	at := time.Now()
	if err != nil {
		return at, fmt.Errorf("initialize: %w", err)
	}
	if err := checkResult(msg); err != nil {
		return at, fmt.Errorf("initialize: %w", err)
	}
	s.sid = resp.Header.Get("Mcp-Session-Id")
	s.version, _ = jsonrpc.String(jsonrpc.Field(jsonrpc.Field(msg, "result"), "protocolVersion"))
	if _, _, err := s.post(ctx, notification("notifications/initialized"), 0); err != nil {
		return at, fmt.Errorf("notifications/initialized: %w", err)
	}
	return at, nil
}

func (s *httpSession) call(ctx context.Context, tool, args string) (int, error) {
	s.id++
	msg, _, err := s.post(ctx, request(s.id, "tools/call", callParams(tool, args)), s.id)
	if err != nil {
		return 0, err
	}
	return len(msg), checkResult(msg)
}

func (s *httpSession) close() error {
	if s.sid != "" {
		req, _ := http.NewRequest(http.MethodDelete, s.url, nil)
		req.Header.Set("Mcp-Session-Id", s.sid)
		if s.auth != "" {
			req.Header.Set("Authorization", s.auth)
		}
		if resp, err := s.hc.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	s.hc.CloseIdleConnections()
	return nil
}

// stdioSession runs a bridge process and speaks newline-delimited
// JSON-RPC on its stdin and stdout (MCP basic/transports, "stdio").
type stdioSession struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *tailBuffer
	line   []byte
	id     int
	wmu    sync.Mutex
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's error, after done
}

// startStdio starts cmd; stderr is kept (its tail) for error messages.
// The process is killed if ctx ends first, so a stuck bridge fails the
// benchmark instead of hanging it.
func startStdio(ctx context.Context, cmd *exec.Cmd) (*stdioSession, error) {
	s := &stdioSession{cmd: cmd, stderr: &tailBuffer{max: 8 << 10}, done: make(chan struct{})}
	var err error
	if s.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s.out = bufio.NewReaderSize(out, 256<<10)
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { cmd.Process.Kill() })
	go func() {
		s.err = cmd.Wait()
		stop()
		close(s.done)
	}()
	return s, nil
}

func (s *stdioSession) pid() int { return s.cmd.Process.Pid }

func (s *stdioSession) write(msg []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err := s.in.Write(append(msg, '\n'))
	return err
}

// readResponse reads lines until the response with id; others (the
// server's notifications) are skipped.
func (s *stdioSession) readResponse(ctx context.Context, id int) ([]byte, error) {
	want := strconv.Itoa(id)
	for {
		line, err := s.readLine()
		if err != nil {
			return nil, fmt.Errorf("reading the bridge's stdout: %w; its stderr ends with:\n%s", err, s.stderr.String())
		}
		if string(jsonrpc.Field(line, "id")) == want && jsonrpc.Field(line, "method") == nil {
			return line, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

func (s *stdioSession) readLine() ([]byte, error) {
	frag, err := s.out.ReadSlice('\n')
	if err == nil {
		return frag, nil
	}
	s.line = append(s.line[:0], frag...)
	for err == bufio.ErrBufferFull {
		frag, err = s.out.ReadSlice('\n')
		s.line = append(s.line, frag...)
	}
	return s.line, err
}

func (s *stdioSession) roundTrip(ctx context.Context, method, params string) ([]byte, error) {
	s.id++
	if err := s.write(request(s.id, method, params)); err != nil {
		return nil, err
	}
	return s.readResponse(ctx, s.id)
}

func (s *stdioSession) initialize(ctx context.Context) (time.Time, error) {
	msg, err := s.roundTrip(ctx, "initialize", initializeParams())
	at := time.Now()
	if err != nil {
		return at, fmt.Errorf("initialize: %w", err)
	}
	if err := checkResult(msg); err != nil {
		return at, fmt.Errorf("initialize: %w; stderr:\n%s", err, s.stderr.String())
	}
	return at, s.write(notification("notifications/initialized"))
}

func (s *stdioSession) call(ctx context.Context, tool, args string) (int, error) {
	msg, err := s.roundTrip(ctx, "tools/call", callParams(tool, args))
	if err != nil {
		return 0, err
	}
	if err := checkResult(msg); err != nil {
		return 0, fmt.Errorf("%w; stderr:\n%s", err, s.stderr.String())
	}
	return len(msg), nil
}

// close closes stdin, which ends the bridge, and waits for it to exit (at
// most 5 s, then it is killed).
func (s *stdioSession) close() error {
	s.in.Close()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("%s did not exit within 5 s of its stdin closing", s.cmd.Path)
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it, redacted when read.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return redact(string(t.b))
}
