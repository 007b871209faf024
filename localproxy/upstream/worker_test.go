package upstream

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"mcpauth/localproxy/jsonrpc"
)

// Exchanges run on workers that wait for the next message: a burst of
// concurrent requests gets one each, at most maxIdle stay once it is over,
// the next message goes to one of them, and Close ends them.
func TestWorkers(t *testing.T) {
	release := make(chan struct{})
	var seen atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen.Add(1)
		<-release
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{}}`, jsonrpc.Peek(body).ID)
	}))
	defer srv.Close()
	s := newSink()
	c := newConn(t, srv.URL, s)
	call := func(id int) string { return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call"}`, id) }

	n := 3 * maxIdle
	for i := range n {
		send(t, c, call(i))
	}
	waitFor(t, "every request to reach the server", func() bool { return int(seen.Load()) == n })
	close(release)
	got := map[string]bool{}
	for range n {
		got[s.next(t)] = true
	}
	if len(got) != n {
		t.Fatalf("%d distinct answers to %d requests", len(got), n)
	}
	waitFor(t, "maxIdle workers left", func() bool { return c.idle.Load() == maxIdle })

	send(t, c, call(n))
	if want := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"result":{}}`, n); s.next(t) != want {
		t.Fatalf("answer to the request after the burst: want %s", want)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c.Close(ctx)
	waitFor(t, "the workers to end", func() bool { return c.idle.Load() == 0 })
}
