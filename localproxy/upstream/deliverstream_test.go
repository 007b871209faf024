package upstream

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"mcpauth/localproxy/jsonrpc"
)

// streamSink is a DeliverStream that reads the message whole, as the stdio
// bridge's would write it.
type streamSink struct {
	got chan string
	err error
}

func (s *streamSink) deliver(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.err = err
	s.got <- string(jsonrpc.OneLine(bytes.TrimSpace(b)))
	return err
}

// TestDeliverStreamLargeJSON: a JSON answer over StreamAbove, with or
// without a Content-Length, goes to DeliverStream, intact; a small one
// and an initialize result still go to Deliver.
func TestDeliverStreamLargeJSON(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 2*StreamAbove/16)
	result := "{\"jsonrpc\":\"2.0\",\r\n\"id\":1,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"" + big + "\"}]}}\n"
	small := `{"jsonrpc":"2.0","id":2,"result":{}}`
	for _, length := range []bool{true, false} {
		t.Run("content-length="+strconv.FormatBool(length), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Mcp-Session-Id", "s1")
				out := result
				switch {
				case strings.Contains(string(body), `"initialize"`):
					out = initResult("0")
				case strings.Contains(string(body), `"id":2`):
					out = small
				}
				if length {
					w.Header().Set("Content-Length", strconv.Itoa(len(out)))
				}
				io.WriteString(w, out)
				if !length {
					w.(http.Flusher).Flush() // chunked
				}
			}))
			t.Cleanup(srv.Close)
			s := newSink()
			ss := &streamSink{got: make(chan string, 10)}
			c := newConn(t, srv.URL, s, func(o *Options) { o.DeliverStream = ss.deliver })
			send(t, c, initReq)
			if got := s.next(t); got != initResult("0") {
				t.Fatalf("initialize answer %s", got)
			}
			send(t, c, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"big"}}`)
			want := string(jsonrpc.OneLine([]byte(strings.TrimSpace(result))))
			select {
			case got := <-ss.got:
				if got != want || ss.err != nil {
					t.Errorf("streamed %d bytes (err %v), want the %d sent", len(got), ss.err, len(want))
				}
			case got := <-s.ch:
				t.Fatalf("the large answer went to Deliver (%d bytes)", len(got))
			}
			send(t, c, `{"jsonrpc":"2.0","id":2,"method":"ping"}`)
			if got := s.next(t); got != small {
				t.Errorf("small answer %s", got)
			}
		})
	}
}

// TestDeliverStreamBrokenBody: a large answer that breaks off mid-body is
// streamed as far as it came, then the request gets an error answer; one
// over MaxMessageSize is cut off the same way.
func TestDeliverStreamBrokenBody(t *testing.T) {
	for _, tc := range []struct {
		name   string
		max    int
		length int // announced Content-Length; more than is sent when broken
		send   int
	}{
		{"broken", 0, 3 * StreamAbove, 2 * StreamAbove},
		{"too large", 2 * StreamAbove, 0, 3 * StreamAbove},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				if tc.length > 0 {
					w.Header().Set("Content-Length", strconv.Itoa(tc.length))
				}
				io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"text":"`+strings.Repeat("x", tc.send))
				if tc.length > 0 {
					// Hijack and close: the body breaks off.
					w.(http.Flusher).Flush()
					conn, _, _ := http.NewResponseController(w).Hijack()
					conn.Close()
				}
			}))
			t.Cleanup(srv.Close)
			s := newSink()
			ss := &streamSink{got: make(chan string, 10)}
			c := newConn(t, srv.URL, s, func(o *Options) {
				o.DeliverStream = ss.deliver
				o.MaxMessageSize = tc.max
			})
			send(t, c, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"big"}}`)
			<-ss.got
			if ss.err == nil {
				t.Error("DeliverStream's reader did not fail")
			}
			if e := decodeErr(t, s.next(t)); string(e.ID) != "1" {
				t.Errorf("error answer for id %s", e.ID)
			}
		})
	}
}
