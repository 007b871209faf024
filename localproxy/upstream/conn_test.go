package upstream

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mcpauth/agent"
)

// TestAnswers: JSON answers are relayed as one message, byte for byte
// (re-framed to one line); SSE answers event by event; 202 with nothing.
func TestAnswers(t *testing.T) {
	const call = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}`
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter)
		send    string
		want    []string
	}{
		{
			name: "json",
			handler: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"jsonrpc":"2.0", "id":7,` + "\n" + `"result":{"text":"a\u00e9\n"}}` + "\n"))
			},
			send: call,
			want: []string{`{"jsonrpc":"2.0", "id":7, "result":{"text":"a\u00e9\n"}}`},
		},
		{
			name: "json with charset",
			handler: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.Write([]byte(`{"jsonrpc":"2.0","id":7,"result":{}}`))
			},
			send: call,
			want: []string{`{"jsonrpc":"2.0","id":7,"result":{}}`},
		},
		{
			name: "sse",
			handler: func(w http.ResponseWriter) {
				ev := sse(w)
				ev(": keep-alive\n\n")
				ev("id: p\ndata:\n\n") // priming event: no message
				ev("event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\n\n")
				ev("data: {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"elicitation/create\",\"params\":{}}\r\n\r\n")
				ev("data: {\"jsonrpc\":\"2.0\",\ndata: \"id\":7,\"result\":{}}\n\n")
			},
			send: call,
			want: []string{
				`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}`,
				`{"jsonrpc":"2.0","id":1,"method":"elicitation/create","params":{}}`,
				`{"jsonrpc":"2.0", "id":7,"result":{}}`,
			},
		},
		{
			name:    "accepted",
			handler: func(w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) },
			send:    `{"jsonrpc":"2.0","method":"notifications/progress"}`,
		},
		{
			name: "batch",
			handler: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"result":{}}]`))
			},
			send: `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`,
			want: []string{`[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"result":{}}]`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got := rec.add(r)
				if r.Method != http.MethodPost {
					w.WriteHeader(http.StatusMethodNotAllowed)
					return
				}
				if got.accept != "application/json, text/event-stream" || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("Accept %q, Content-Type %q", got.accept, r.Header.Get("Content-Type"))
				}
				tt.handler(w)
			}))
			t.Cleanup(srv.Close)
			s := newSink()
			c := newConn(t, srv.URL, s)
			send(t, c, tt.send)
			for _, want := range tt.want {
				if got := s.next(t); got != want {
					t.Errorf("delivered\n %s\nwant\n %s", got, want)
				}
			}
			s.none(t, 50*time.Millisecond)
			if b := rec.all()[0].body; b != tt.send {
				t.Errorf("server got %s, want the bytes sent", b)
			}
		})
	}
}

// TestSessionHeaders: the session id from the initialize answer and the
// negotiated protocol version go on every later request, and not on
// initialize itself, whether the answer is JSON or SSE.
func TestSessionHeaders(t *testing.T) {
	for _, mode := range []string{"json", "sse"} {
		t.Run(mode, func(t *testing.T) {
			var rec recorder
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got := rec.add(r)
				switch {
				case r.Method == http.MethodGet || r.Method == http.MethodDelete:
					w.WriteHeader(http.StatusMethodNotAllowed)
				case methodOf(got.body) == "initialize":
					w.Header().Set("Mcp-Session-Id", "sess-1")
					if mode == "sse" {
						sse(w)("data: %s\n\n", initResult("0"))
						return
					}
					w.Header().Set("Content-Type", "application/json")
					w.Write([]byte(initResult("0")))
				default:
					w.WriteHeader(http.StatusAccepted)
				}
			}))
			t.Cleanup(srv.Close)
			s := newSink()
			c := newConn(t, srv.URL, s)
			send(t, c, initReq)
			if got := s.next(t); got != initResult("0") {
				t.Fatalf("initialize answer %s", got)
			}
			send(t, c, initedMsg)
			send(t, c, `{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}`)
			waitFor(t, "4 requests", func() bool { return len(rec.all()) >= 4 }) // + the GET
			if id, v := c.Session(); id != "sess-1" || v != "2025-06-18" {
				t.Errorf("Session() = %q, %q", id, v)
			}
			for i, r := range rec.all() {
				wantS, wantV := "sess-1", "2025-06-18"
				if i == 0 {
					wantS, wantV = "", ""
				}
				if r.session != wantS || r.version != wantV {
					t.Errorf("request %d (%s %s): session %q version %q, want %q %q", i, r.method, methodOf(r.body), r.session, r.version, wantS, wantV)
				}
			}
		})
	}
}

// TestGetStream: once initialized, the GET stream is opened, and its
// messages are relayed; a 405 means the server has none, and it is not
// asked again.
func TestGetStream(t *testing.T) {
	var gets atomic.Int32
	offer := atomic.Bool{}
	offer.Store(true)
	var rec recorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := rec.add(r)
		switch {
		case r.Method == http.MethodGet:
			gets.Add(1)
			if !offer.Load() {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			if got.accept != "text/event-stream" || got.session != "s" || got.version != "2025-06-18" {
				t.Errorf("GET headers: %+v", got)
			}
			ev := sse(w)
			ev("id: g1\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"srv-1\",\"method\":\"roots/list\"}\n\n")
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
	if gets.Load() != 0 {
		t.Error("GET before notifications/initialized")
	}
	send(t, c, initedMsg)
	if got := s.next(t); got != `{"jsonrpc":"2.0","id":"srv-1","method":"roots/list"}` {
		t.Errorf("GET stream delivered %s", got)
	}
	// The client's answer goes back as a POST.
	send(t, c, `{"jsonrpc":"2.0","id":"srv-1","result":{"roots":[]}}`)
	waitFor(t, "the answer", func() bool {
		all := rec.all()
		return strings.Contains(all[len(all)-1].body, `"roots":[]`)
	})

	// Another server: 405, asked once.
	offer.Store(false)
	s2 := newSink()
	c2 := newConn(t, srv.URL, s2)
	before := gets.Load()
	send(t, c2, initReq)
	s2.next(t)
	send(t, c2, initedMsg)
	send(t, c2, `{"jsonrpc":"2.0","method":"notifications/x"}`)
	send(t, c2, `{"jsonrpc":"2.0","method":"notifications/y"}`)
	time.Sleep(100 * time.Millisecond)
	if n := gets.Load() - before; n != 1 {
		t.Errorf("after a 405, %d GETs, want 1", n)
	}
}

// TestDeleteOnClose: Close ends the session with DELETE and its id.
func TestDeleteOnClose(t *testing.T) {
	var rec recorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := rec.add(r)
		switch {
		case r.Method == http.MethodGet:
			w.WriteHeader(http.StatusMethodNotAllowed)
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusOK)
		case methodOf(got.body) == "initialize":
			answerInit(w, "s-del")
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(srv.Close)
	s := newSink()
	c := newSession(t, srv.URL, s)
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	all := rec.all()
	last := all[len(all)-1]
	if last.method != http.MethodDelete || last.session != "s-del" || last.version != "2025-06-18" {
		t.Errorf("last request %+v, want DELETE with the session", last)
	}
}

// TestSessionExpired: a 404 to a request carrying the session id is
// answered with CodeSessionExpired, and the next initialize starts afresh.
func TestSessionExpired(t *testing.T) {
	var rec recorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := rec.add(r)
		switch {
		case r.Method != http.MethodPost:
			w.WriteHeader(http.StatusMethodNotAllowed)
		case methodOf(got.body) == "initialize":
			answerInit(w, "s")
		default:
			http.Error(w, "session not found", http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	s := newSink()
	c := newSession(t, srv.URL, s)
	send(t, c, `{"jsonrpc":"2.0","id":"q","method":"tools/list"}`)
	e := decodeErr(t, s.next(t))
	if string(e.ID) != `"q"` || e.Error.Code != CodeSessionExpired || e.Error.Data.Status != 404 ||
		!strings.Contains(e.Error.Message, `"demo"`) || !strings.Contains(e.Error.Message, "initialize") {
		t.Errorf("answer %+v", e)
	}
	if id, _ := c.Session(); id != "" {
		t.Errorf("session %q kept after 404", id)
	}
	send(t, c, initReq)
	s.next(t)
	if last := rec.all()[len(rec.all())-1]; last.session != "" {
		t.Errorf("re-initialize carried session %q", last.session)
	}
}

// TestFailures: an HTTP error status, an unreachable server and an
// authorization failure are answered with an error that names the server
// and what happened; a failed notification is only logged.
func TestFailures(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		url     string
		auth    error
		code    int
		reason  string
		status  int
		has     []string
	}{
		{name: "503", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
		}, code: CodeHTTPStatus, reason: "http_status", status: 503, has: []string{`"demo"`, "503 Service Unavailable", "overloaded", "try again"}},
		{name: "401 after the retry", handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
		}, code: CodeAuth, reason: "remote_refused", status: 401, has: []string{"refused", "mcpauth list"}},
		{name: "500 with JSON-RPC body", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			w.Write([]byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"db down"}}`))
		}, code: CodeHTTPStatus, status: 500, has: []string{"500 Internal Server Error", "db down"}},
		{name: "redirect", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/mcp", http.StatusTemporaryRedirect)
		}, code: CodeHTTPStatus, status: 307, has: []string{"307", "redirects"}},
		{name: "not JSON", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>captive portal</html>"))
		}, code: CodeHTTPStatus, status: 200, has: []string{"200 OK", "text/html", "not a JSON-RPC message"}},
		{name: "unreachable", url: downURL, code: CodeUnreachable, reason: "unreachable", has: []string{`could not reach server "demo"`, "connection refused"}},
		{name: "auth", handler: func(w http.ResponseWriter, r *http.Request) { t.Error("request sent") },
			auth: &agent.LoginRequiredError{Server: "demo"}, code: CodeAuth, reason: "login_required", has: []string{"needs a login", "`mcpauth login demo`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := tt.url
			if url == "" {
				srv := httptest.NewServer(tt.handler)
				t.Cleanup(srv.Close)
				url = srv.URL + "/mcp?key=SECRET"
			}
			s := newSink()
			c := newConn(t, url, s, func(o *Options) {
				if tt.auth != nil {
					o.Auth = func(base http.RoundTripper, _ bool) http.RoundTripper {
						return rtFunc(func(*http.Request) (*http.Response, error) { return nil, tt.auth })
					}
				}
			})
			send(t, c, `{"jsonrpc":"2.0","id":3,"method":"tools/call"}`)
			msg := s.next(t)
			e := decodeErr(t, msg)
			if string(e.ID) != "3" || e.Error.Code != tt.code || e.Error.Data.Server != "demo" || e.Error.Data.Status != tt.status ||
				tt.reason != "" && e.Error.Data.Reason != tt.reason {
				t.Errorf("answer %s", msg)
			}
			for _, h := range tt.has {
				if !strings.Contains(e.Error.Message, h) {
					t.Errorf("message %q lacks %q", e.Error.Message, h)
				}
			}
			if strings.Contains(msg, "SECRET") {
				t.Errorf("the URL's query leaked: %s", msg)
			}
			send(t, c, `{"jsonrpc":"2.0","method":"notifications/x"}`)
			s.none(t, 50*time.Millisecond)
		})
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestGetStreamOpenBeforeNextRequest pins the conformance suite's
// elicitation failure: a server that sends its elicitation only on the GET
// stream drops it if the stream isn't open yet, so the request sent right
// after notifications/initialized must leave only once the GET has its
// answer.
func TestGetStreamOpenBeforeNextRequest(t *testing.T) {
	var mu sync.Mutex
	var order []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		method := methodOf(string(body))
		if r.Method == http.MethodGet {
			method = "GET"
			time.Sleep(150 * time.Millisecond) // a slow stream start
		}
		mu.Lock()
		order = append(order, method)
		mu.Unlock()
		switch method {
		case "GET":
			sse(w)
			<-r.Context().Done()
		case "initialize":
			answerInit(w, "s")
		case "tools/call":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"jsonrpc":"2.0","id":2,"result":{}}`))
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(srv.Close)
	s := newSink()
	c := newSession(t, srv.URL, s)
	send(t, c, initedMsg)
	send(t, c, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x"}}`)
	s.next(t)
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"initialize", "notifications/initialized", "GET", "tools/call"}; !slices.Equal(order, want) {
		t.Errorf("server saw %q, want %q", order, want)
	}
}
