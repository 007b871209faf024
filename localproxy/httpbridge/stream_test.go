package httpbridge

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// readEvent reads one SSE event (up to its blank line).
func readEvent(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var ev strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v (so far %q)", err, ev.String())
		}
		if line == "\n" {
			return ev.String()
		}
		ev.WriteString(line)
	}
}

// TestSSEStreamedUnbuffered: the server sends one event and waits until the
// client has it; a bridge that buffers (until a buffer fills or the stream
// ends) deadlocks here.
func TestSSEStreamedUnbuffered(t *testing.T) {
	received := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Last-Event-Id") != "0" {
			t.Errorf("Last-Event-ID %q did not reach the server", r.Header.Get("Last-Event-Id"))
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "id: 1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/one\"}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-received:
		case <-time.After(5 * time.Second):
			t.Error("the client did not get the first event while the server waited: the bridge buffers the stream")
			return
		}
		io.WriteString(w, "id: 2\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/two\"}\n\n")
	})
	base, _ := startBridge(t, &fakeBackend{urls: map[string]string{"linear": up.URL + "/mcp"}})

	resp := do(t, http.MethodGet, base+"/servers/linear/mcp", "", http.Header{
		"Authorization": {"Bearer " + testKey}, "Accept": {"text/event-stream"}, "Last-Event-Id": {"0"},
	}, "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	br := bufio.NewReader(resp.Body)
	got := make(chan string, 1)
	go func() { got <- readEvent(t, br) }()
	select {
	case ev := <-got:
		if !strings.Contains(ev, "id: 1\n") || !strings.Contains(ev, "notifications/one") {
			t.Errorf("first event %q", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s: the bridge buffers the stream")
	}
	close(received)
	if ev := readEvent(t, br); !strings.Contains(ev, "notifications/two") {
		t.Errorf("second event %q", ev)
	}
}
