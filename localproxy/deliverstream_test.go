package localproxy

import (
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

// TestDeliverStream: a message streamed in pieces of any size comes out as
// the one line Deliver would have written: CR and LF as spaces, no
// whitespace around it, whitespace inside kept.
func TestDeliverStream(t *testing.T) {
	body := " \r\n\t{\"jsonrpc\":\"2.0\", \"id\":7,\r\n\"result\":{\"text\":\"a\\nb\"}   }\r\n \n"
	want := `{"jsonrpc":"2.0", "id":7,  "result":{"text":"a\nb"}   }`
	for name, r := range map[string]func() io.Reader{
		"whole":    func() io.Reader { return strings.NewReader(body) },
		"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(body)) },
		"halves":   func() io.Reader { return iotest.HalfReader(strings.NewReader(body)) },
	} {
		t.Run(name, func(t *testing.T) {
			var out lines
			s := NewStdio(strings.NewReader(""), &out, nil)
			if err := s.DeliverStream(r()); err != nil {
				t.Fatal(err)
			}
			s.Deliver([]byte(`{"next":1}`))
			if got := out.get(); len(got) != 2 || got[0] != want || got[1] != `{"next":1}` {
				t.Errorf("stdout %q\nwant %q then the next message", got, want)
			}
		})
	}
}

// TestDeliverStreamBroken: a body that breaks off ends the line there and
// returns the error; a concurrent Deliver waits and is not interleaved.
func TestDeliverStreamBroken(t *testing.T) {
	var out lines
	s := NewStdio(strings.NewReader(""), &out, nil)
	boom := errors.New("connection reset")
	pr, pw := io.Pipe()
	var wg sync.WaitGroup
	wg.Add(1)
	var err error
	go func() {
		defer wg.Done()
		err = s.DeliverStream(pr)
	}()
	pw.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":{"text":"abc`))
	delivered := make(chan struct{})
	go func() {
		s.Deliver([]byte(`{"other":1}`))
		close(delivered)
	}()
	pw.Write([]byte(`def`))
	pw.CloseWithError(boom)
	wg.Wait()
	<-delivered
	if !errors.Is(err, boom) {
		t.Errorf("DeliverStream = %v, want %v", err, boom)
	}
	got := out.get()
	if len(got) != 2 || got[0] != `{"jsonrpc":"2.0","id":1,"result":{"text":"abcdef` || got[1] != `{"other":1}` {
		t.Errorf("stdout %q", got)
	}
}
