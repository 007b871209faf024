package localproxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mcpauth/localproxy/jsonrpc"
	"mcpauth/localproxy/upstream"
)

// fakeUpstream records what the bridge sends.
type fakeUpstream struct {
	mu     sync.Mutex
	sent   []string
	closed chan struct{}
}

func newFakeUpstream() *fakeUpstream { return &fakeUpstream{closed: make(chan struct{})} }

func (f *fakeUpstream) Send(msg []byte, m jsonrpc.Message) {
	f.mu.Lock()
	f.sent = append(f.sent, string(msg))
	f.mu.Unlock()
}

func (f *fakeUpstream) Close(context.Context) error {
	close(f.closed)
	return nil
}

func (f *fakeUpstream) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}

// lines is a concurrency-safe stdout that splits what it gets into lines.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.TrimSuffix(l.buf.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// TestStdioBadInput: a line that isn't JSON gets -32700 with id null, JSON
// that isn't JSON-RPC gets -32600 with its id, and the bridge keeps going;
// blank lines are skipped; CRLF is accepted.
func TestStdioBadInput(t *testing.T) {
	in := "not json\n" +
		`{"id":4,"method":"x"}` + "\n" +
		"\n   \n" +
		`{"jsonrpc":"2.0","id":5,"method":"ping"}` + "\r\n" +
		`[]` + "\n" +
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`
	var out lines
	up := newFakeUpstream()
	if err := NewStdio(strings.NewReader(in), &out, nil).Run(context.Background(), up, time.Second); err != nil {
		t.Fatal(err)
	}
	got := out.get()
	want := []struct {
		id   string
		code int
	}{{"null", -32700}, {"4", -32600}, {"null", -32600}}
	if len(got) != len(want) {
		t.Fatalf("stdout %q, want %d answers", got, len(want))
	}
	for i, w := range want {
		var e struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
			Error   struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(got[i]), &e); err != nil || e.JSONRPC != "2.0" || string(e.ID) != w.id || e.Error.Code != w.code {
			t.Errorf("answer %d: %s, want id %s code %d", i, got[i], w.id, w.code)
		}
	}
	if !strings.HasPrefix(got[0], `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: `) {
		t.Errorf("parse error answer %s", got[0])
	}
	sent := up.all()
	if len(sent) != 2 || sent[0] != `{"jsonrpc":"2.0","id":5,"method":"ping"}` || sent[1] != `{"jsonrpc":"2.0","method":"notifications/initialized"}` {
		t.Errorf("sent %q", sent)
	}
	select {
	case <-up.closed:
	default:
		t.Error("the upstream was not closed at EOF")
	}
}

// TestStdioEndToEnd: through a real upstream.Conn, bytes are relayed
// unchanged both ways, and closing stdin ends the session with DELETE.
func TestStdioEndToEnd(t *testing.T) {
	const (
		initReq = `{ "jsonrpc" : "2.0", "id":1 , "method":"initialize","params":{"protocolVersion":"2025-06-18","x":"\u00e9\n","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
		initRes = `{"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"s","version":"1"}} ,"id":1,"jsonrpc":"2.0"}`
		call    = `{"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"echo","arguments":{"text":"\"hi\""}}}`
		callRes = `{"jsonrpc":"2.0","id":"c1","result":{"content":[{"type":"text","text":"\"hi\""}]}}`
	)
	var mu sync.Mutex
	var got []string
	deleted := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+string(body))
		mu.Unlock()
		switch {
		case r.Method == http.MethodDelete:
			deleted <- r.Header.Get("Mcp-Session-Id")
		case r.Method == http.MethodGet:
			w.WriteHeader(http.StatusMethodNotAllowed)
		case string(body) == initReq:
			w.Header().Set("Mcp-Session-Id", "sess")
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, initRes)
		case string(body) == call:
			time.Sleep(100 * time.Millisecond) // still due when stdin closes
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: %s\n\n", callRes)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(srv.Close)

	stdinR, stdinW := io.Pipe()
	var out lines
	st := NewStdio(stdinR, &out, nil)
	conn, err := upstream.New(upstream.Options{URL: srv.URL, Server: "t", Deliver: st.Deliver})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(context.Background(), conn, 2*time.Second) }()

	io.WriteString(stdinW, initReq+"\n")
	waitLines(t, &out, 1)
	io.WriteString(stdinW, `{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n"+call+"\n")
	stdinW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after stdin closed")
	}
	if o := out.get(); len(o) != 2 || o[0] != initRes || o[1] != callRes {
		t.Errorf("stdout %q,\nwant the server's bytes", o)
	}
	select {
	case id := <-deleted:
		if id != "sess" {
			t.Errorf("DELETE for session %q", id)
		}
	default:
		t.Error("no DELETE after stdin closed")
	}
	mu.Lock()
	defer mu.Unlock()
	// The server handles requests concurrently, so only initialize (which
	// is answered before anything else is sent) has a fixed place.
	if got[0] != "POST "+initReq || !slices.Contains(got, "POST "+call) {
		t.Errorf("the server got %q", got)
	}
}

func waitLines(t *testing.T, out *lines, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if len(out.get()) >= n {
			return
		}
	}
	t.Fatalf("stdout has %q, want %d lines", out.get(), n)
}

// TestStdioLargeLines: lines of 10 MB in and out, no scanner limit.
func TestStdioLargeLines(t *testing.T) {
	big := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"blob":"` + strings.Repeat("ab", 5<<20) + `"}}}`
	up := newFakeUpstream()
	var out lines
	st := NewStdio(strings.NewReader(big+"\n"+big), &out, nil)
	if err := st.Run(context.Background(), up, time.Second); err != nil {
		t.Fatal(err)
	}
	if sent := up.all(); len(sent) != 2 || sent[0] != big || sent[1] != big {
		t.Fatalf("sent %d messages, want 2 of %d bytes", len(sent), len(big))
	}
	st.Deliver([]byte(big))
	if o := out.get(); len(o) != 1 || o[0] != big {
		t.Errorf("stdout lost the 10 MB message")
	}
}

// TestDeliverConcurrent: messages delivered at once never interleave.
func TestDeliverConcurrent(t *testing.T) {
	var out lines
	st := NewStdio(strings.NewReader(""), &out, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				size := 10 + (g*50+i)%3*(directWrite)
				st.Deliver([]byte(fmt.Sprintf(`{"g":%d,"i":%d,"pad":"%s"}`, g, i, strings.Repeat("x", size))))
			}
		})
	}
	wg.Wait()
	sc := bufio.NewScanner(strings.NewReader(strings.Join(out.get(), "\n")))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("line %d is not one message", n)
		}
		n++
	}
	if n != 400 {
		t.Errorf("%d lines, want 400", n)
	}
}

// TestStdoutGone: when stdout fails, the session ends although stdin is
// still open.
func TestStdoutGone(t *testing.T) {
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	up := newFakeUpstream()
	st := NewStdio(stdinR, failWriter{}, nil)
	done := make(chan error, 1)
	go func() { done <- st.Run(context.Background(), up, time.Second) }()
	st.Deliver([]byte(`{"jsonrpc":"2.0","method":"x"}`))
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run kept going with stdout gone")
	}
	<-up.closed
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }
