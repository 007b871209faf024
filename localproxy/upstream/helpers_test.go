package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"mcpauth/localproxy/jsonrpc"
)

// sink collects what a Conn delivers.
type sink struct {
	ch chan string
}

func newSink() *sink { return &sink{ch: make(chan string, 1000)} }

func (s *sink) deliver(msg []byte) {
	if strings.ContainsAny(string(msg), "\r\n") {
		panic(fmt.Sprintf("delivered a message with a line break: %q", msg))
	}
	s.ch <- string(msg)
}

// next returns the next delivered message, failing after 5 s.
func (s *sink) next(t *testing.T) string {
	t.Helper()
	select {
	case m := <-s.ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message delivered within 5s")
		return ""
	}
}

// none checks that nothing is delivered for d.
func (s *sink) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case m := <-s.ch:
		t.Fatalf("unexpected delivery %s", m)
	case <-time.After(d):
	}
}

// rpcError decodes an error answer.
type errAnswer struct {
	ID    json.RawMessage `json:"id"`
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Server string `json:"server"`
			Reason string `json:"reason"`
			Status int    `json:"status"`
		} `json:"data"`
	} `json:"error"`
}

func decodeErr(t *testing.T, msg string) errAnswer {
	t.Helper()
	var e errAnswer
	if err := json.Unmarshal([]byte(msg), &e); err != nil || e.Error.Code == 0 {
		t.Fatalf("not an error answer: %s (%v)", msg, err)
	}
	return e
}

func newConn(t *testing.T, url string, s *sink, mod ...func(*Options)) *Conn {
	t.Helper()
	opts := Options{URL: url, Server: "demo", Deliver: s.deliver, ReconnectDelay: 20 * time.Millisecond}
	for _, f := range mod {
		f(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c.Close(ctx)
	})
	return c
}

// send parses and sends msg.
func send(t *testing.T, c *Conn, msg string) {
	t.Helper()
	m, err := jsonrpc.Parse([]byte(msg))
	if err != nil {
		t.Fatalf("bad test message %s: %v", msg, err)
	}
	c.Send([]byte(msg), m)
}

// record is one request a test server saw.
type record struct {
	method, session, version, accept, lastEventID string
	body                                          string
}

// recorder records requests for a test server.
type recorder struct {
	mu   sync.Mutex
	reqs []record
}

func (r *recorder) add(req *http.Request) record {
	body, _ := io.ReadAll(req.Body)
	rec := record{
		method: req.Method, session: req.Header.Get("Mcp-Session-Id"), version: req.Header.Get("Mcp-Protocol-Version"),
		accept: req.Header.Get("Accept"), lastEventID: req.Header.Get("Last-Event-ID"), body: string(body),
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	return rec
}

func (r *recorder) all() []record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]record(nil), r.reqs...)
}

// waitFor polls until f is true, failing after 5 s.
func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// sse writes SSE headers and returns a function writing one event.
func sse(w http.ResponseWriter) func(format string, args ...any) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	return func(format string, args ...any) {
		fmt.Fprintf(w, format, args...)
		w.(http.Flusher).Flush()
	}
}

func methodOf(body string) string {
	var m struct {
		Method string `json:"method"`
	}
	json.Unmarshal([]byte(body), &m)
	return m.Method
}

const (
	initReq   = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	initedMsg = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
)

func initResult(id string) string {
	return `{"jsonrpc":"2.0","id":` + id + `,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"s","version":"1"}}}`
}

// answerInit answers an initialize POST with JSON, starting session id.
func answerInit(w http.ResponseWriter, id string) {
	w.Header().Set("Mcp-Session-Id", id)
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(initResult("0")))
}

// newSession is newConn with initialize sent and its answer taken from s.
func newSession(t *testing.T, url string, s *sink, mod ...func(*Options)) *Conn {
	t.Helper()
	c := newConn(t, url, s, mod...)
	send(t, c, initReq)
	s.next(t)
	return c
}
