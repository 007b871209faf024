package upstream

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestResumePostStream: a POST's SSE stream that ends, cleanly or broken,
// before the response is resumed with GET + Last-Event-ID after the
// server's retry delay, and the response arrives on the resumed stream.
func TestResumePostStream(t *testing.T) {
	const (
		progress = `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}`
		result   = `{"jsonrpc":"2.0","id":9,"result":{"content":[]}}`
	)
	for _, mode := range []string{"ended", "dropped"} {
		t.Run(mode, func(t *testing.T) {
			var rec recorder
			var dropped time.Time
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got := rec.add(r)
				switch {
				case r.Method == http.MethodPost && methodOf(got.body) == "initialize":
					answerInit(w, "s")
				case r.Method == http.MethodPost:
					ev := sse(w)
					ev("retry: 150\nid: e1\ndata: %s\n\n", progress)
					mu.Lock()
					dropped = time.Now()
					mu.Unlock()
					if mode == "dropped" {
						ev("id: e2\ndata: {\"jsonrpc\":") // half an event
						panic(http.ErrAbortHandler)
					}
				case r.Method == http.MethodGet && got.lastEventID == "e1":
					mu.Lock()
					waited := time.Since(dropped)
					mu.Unlock()
					if waited < 140*time.Millisecond {
						t.Errorf("resumed after %v, before the server's retry (150ms)", waited)
					}
					sse(w)("id: e3\ndata: %s\n\n", result)
				default:
					w.WriteHeader(http.StatusMethodNotAllowed)
				}
			}))
			t.Cleanup(srv.Close)
			s := newSink()
			c := newSession(t, srv.URL, s)
			send(t, c, `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"slow","_meta":{"progressToken":1}}}`)
			if got := s.next(t); got != progress {
				t.Errorf("first %s", got)
			}
			if got := s.next(t); got != result {
				t.Errorf("then %s, want the result", got)
			}
			var gets []record
			for _, r := range rec.all() {
				if r.method == http.MethodGet {
					gets = append(gets, r)
				}
			}
			if len(gets) != 1 || gets[0].session != "s" || gets[0].accept != "text/event-stream" || gets[0].version != "2025-06-18" {
				t.Errorf("resuming GETs: %+v", gets)
			}
		})
	}
}

// TestStreamLost: a stream that ends before the response without an event
// id can't be resumed; one whose resumption is refused neither.
func TestStreamLost(t *testing.T) {
	for _, withID := range []bool{false, true} {
		t.Run(fmt.Sprintf("id=%v", withID), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					w.WriteHeader(http.StatusMethodNotAllowed)
					return
				}
				ev := sse(w)
				if withID {
					ev("id: 1\n")
				}
				ev("data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}\n\n")
			}))
			t.Cleanup(srv.Close)
			s := newSink()
			c := newConn(t, srv.URL, s)
			send(t, c, `{"jsonrpc":"2.0","id":1,"method":"tools/call"}`)
			s.next(t) // the notification
			e := decodeErr(t, s.next(t))
			if e.Error.Code != CodeStreamLost || string(e.ID) != "1" || !strings.Contains(e.Error.Message, `"demo"`) {
				t.Errorf("answer %+v", e)
			}
		})
	}
}

// TestResumeGetStream: the GET stream reconnects with the last event id.
func TestResumeGetStream(t *testing.T) {
	var rec recorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := rec.add(r)
		switch {
		case r.Method == http.MethodGet && got.lastEventID == "":
			sse(w)("id: g1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/a\"}\n\n")
			panic(http.ErrAbortHandler)
		case r.Method == http.MethodGet:
			sse(w)("id: g2\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/b\"}\n\n")
			<-r.Context().Done()
		case methodOf(got.body) == "initialize":
			answerInit(w, "s")
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(srv.Close)
	s := newSink()
	c := newSession(t, srv.URL, s)
	send(t, c, initedMsg)
	for _, want := range []string{"notifications/a", "notifications/b"} {
		if got := s.next(t); !strings.Contains(got, want) {
			t.Errorf("got %s, want %s", got, want)
		}
	}
	var ids []string
	for _, r := range rec.all() {
		if r.method == http.MethodGet {
			ids = append(ids, r.lastEventID)
		}
	}
	if len(ids) != 2 || ids[1] != "g1" {
		t.Errorf("GET Last-Event-IDs %q, want [\"\" g1]", ids)
	}
}

// TestLegacyFallback: a 2024-11-05 server refuses the initialize POST; the
// GET stream's endpoint event names where to POST, and the answers come on
// the stream. An endpoint on another origin is refused.
func TestLegacyFallback(t *testing.T) {
	for _, foreign := range []bool{false, true} {
		t.Run(fmt.Sprintf("foreign=%v", foreign), func(t *testing.T) {
			var rec recorder
			out := make(chan string, 10)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got := rec.add(r)
				switch {
				case r.URL.Path == "/sse" && r.Method == http.MethodPost:
					w.WriteHeader(http.StatusMethodNotAllowed)
				case r.URL.Path == "/sse" && r.Method == http.MethodGet:
					ev := sse(w)
					if foreign {
						ev("event: endpoint\ndata: http://evil.example/messages\n\n")
						return
					}
					ev("event: endpoint\ndata: /messages?sid=abc\n\n")
					for {
						select {
						case m := <-out:
							ev("event: message\ndata: %s\n\n", m)
						case <-r.Context().Done():
							return
						}
					}
				case r.URL.Path == "/messages" && r.URL.Query().Get("sid") == "abc":
					if got.session != "" {
						t.Errorf("legacy POST carries a session id")
					}
					w.WriteHeader(http.StatusAccepted)
					switch methodOf(got.body) {
					case "initialize":
						out <- strings.Replace(initResult("0"), "2025-06-18", "2024-11-05", 1)
					case "tools/list":
						out <- `{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}`
					}
				default:
					http.NotFound(w, r)
				}
			}))
			t.Cleanup(srv.Close)
			s := newSink()
			c := newConn(t, srv.URL+"/sse", s)
			send(t, c, initReq)
			if foreign {
				e := decodeErr(t, s.next(t))
				if e.Error.Code != CodeHTTPStatus || e.Error.Data.Status != 405 {
					t.Errorf("answer %+v", e)
				}
				return
			}
			if got := s.next(t); !strings.Contains(got, "2024-11-05") {
				t.Fatalf("initialize answer %s", got)
			}
			send(t, c, initedMsg)
			send(t, c, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
			if got := s.next(t); got != `{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}` {
				t.Errorf("tools/list answer %s", got)
			}
		})
	}
}

// TestOrder: POSTs leave in Send's order although their answers are read
// concurrently. The base transport records each request after a random
// delay, and the server answers in random order: without the ordering,
// the record would be shuffled.
func TestOrder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	var mu sync.Mutex
	var seen []string
	base := http.DefaultTransport.(*http.Transport).Clone()
	s := newSink()
	c := newConn(t, srv.URL, s, func(o *Options) {
		o.Base = rtFunc(func(r *http.Request) (*http.Response, error) {
			b, _ := io.ReadAll(r.Body)
			time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
			mu.Lock()
			seen = append(seen, string(b))
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(b))
			return base.RoundTrip(r)
		})
	})
	var want []string
	for i := range 200 {
		msg := `{"jsonrpc":"2.0","method":"notifications/n","params":{"i":` + strconv.Itoa(i) + `}}`
		want = append(want, msg)
		send(t, c, msg)
	}
	waitFor(t, "every POST", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == len(want)
	})
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("POST %d was %s, want %s", i, seen[i], want[i])
		}
	}
}

// TestCancelWhilePending: a notifications/cancelled reaches the server
// while the tools/call it cancels is still pending.
func TestCancelWhilePending(t *testing.T) {
	cancelled := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch methodOf(string(body)) {
		case "tools/call":
			ev := sse(w)
			select {
			case <-cancelled:
				ev("data: {\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":-32800,\"message\":\"cancelled\"}}\n\n")
			case <-time.After(5 * time.Second):
				ev("data: {\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}\n\n")
			}
		case "notifications/cancelled":
			close(cancelled)
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(srv.Close)
	s := newSink()
	c := newConn(t, srv.URL, s)
	start := time.Now()
	send(t, c, `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"slow"}}`)
	send(t, c, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}}`)
	if got := s.next(t); !strings.Contains(got, "cancelled") || time.Since(start) > 3*time.Second {
		t.Errorf("got %s after %v: the cancellation did not reach the server in time", got, time.Since(start))
	}
}

// TestLargeMessages: 10 MB in both directions, JSON and SSE, intact.
func TestLargeMessages(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 10<<20/16)
	result := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + big + `"}]}}`
	for _, mode := range []string{"json", "sse"} {
		t.Run(mode, func(t *testing.T) {
			var got []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ = io.ReadAll(r.Body)
				if mode == "sse" {
					sse(w)("data: %s\n\n", result)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, result)
			}))
			t.Cleanup(srv.Close)
			s := newSink()
			c := newConn(t, srv.URL, s)
			req := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"` + big + `"}}}`
			send(t, c, req)
			if ans := s.next(t); ans != result {
				t.Errorf("answer of %d bytes differs from the %d sent", len(ans), len(result))
			}
			if string(got) != req {
				t.Errorf("server got %d bytes, want the %d sent", len(got), len(req))
			}
		})
	}
}

// TestSSEReader covers the event stream format's corners.
func TestSSEReader(t *testing.T) {
	in := "retry: 2500\r\n: comment\r\nid: a\r\nevent: message\r\ndata: {\"a\":\r\ndata:1}\r\n\r\n" +
		"id: b\ndata:\n\n" + // priming: no message, but the id counts
		"data: x\n\nid: c\ndata: {\"half\""
	sr := newSSEReader(strings.NewReader(in), 1<<20)
	ev, data, err := sr.next()
	if err != nil || ev != "message" || string(data) != `{"a": 1}` || sr.lastID != "a" || sr.retry != 2500*time.Millisecond {
		t.Errorf("first event %q %q %v, id %q retry %v", ev, data, err, sr.lastID, sr.retry)
	}
	if _, data, err = sr.next(); err != nil || string(data) != "x" || sr.lastID != "b" {
		t.Errorf("second event %q %v, id %q", data, err, sr.lastID)
	}
	if _, _, err = sr.next(); err != io.ErrUnexpectedEOF || sr.lastID != "b" {
		t.Errorf("a cut event: %v, id %q (want the last complete one's)", err, sr.lastID)
	}
	sr = newSSEReader(strings.NewReader("data: "+strings.Repeat("x", 100)+"\n\n"), 10)
	if _, _, err = sr.next(); err != errTooLarge {
		t.Errorf("oversized event: %v", err)
	}
}

func FuzzSSEReader(f *testing.F) {
	f.Add([]byte("id: 1\nretry: 10\ndata: {}\n\n"))
	f.Add([]byte("data: a\r\ndata: b\r\n\r\n: x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sr := newSSEReader(bytes.NewReader(b), 1<<16)
		for range 1000 {
			_, data, err := sr.next()
			if err != nil {
				return
			}
			if bytes.ContainsAny(data, "\n") {
				t.Fatalf("event data with a line break: %q", data)
			}
		}
	})
}
