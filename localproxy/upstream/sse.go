package upstream

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"time"
)

// sseReader reads Server-Sent Events (WHATWG HTML, "Server-sent events",
// event stream interpretation) one event at a time, as they arrive: nothing
// is buffered beyond the event being read. It records the fields a client
// needs to resume the stream (MCP basic/transports, "Resumability and
// Redelivery"): the last event ID and the reconnection time (retry).
//
// Lines may end in LF or CRLF; a lone CR as a line end (allowed by the SSE
// spec, sent by no MCP server we know) is not supported. The data lines of
// an event are joined with a space instead of a newline: MCP sends one
// JSON-RPC message per event, where a line break can only be whitespace, so
// the message means the same and stays on one line.
//
// WARNING: not safe for concurrent use; one goroutine reads a stream.
type sseReader struct {
	br  *bufio.Reader
	max int

	// cursor, kept across reconnections by the owner.
	lastID   string
	retry    time.Duration
	hasRetry bool

	data  []byte // the event being read; reused, so valid until next()
	event string
	line  []byte // a line longer than br's buffer is assembled here
}

// errTooLarge is returned when an event's data exceeds the size limit.
var errTooLarge = errors.New("message exceeds the size limit")

func newSSEReader(r io.Reader, max int) *sseReader {
	return &sseReader{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

// reset points the reader at a new connection's body, keeping the cursor.
func (s *sseReader) reset(r io.Reader) { s.br.Reset(r) }

// next returns the next event with data. Events without data (a server
// primes a stream with an id and an empty data field) only move the
// cursor. data is valid until the next call. At the end of the stream it
// returns io.EOF if the stream ended between events, or the read error.
func (s *sseReader) next() (event string, data []byte, err error) {
	s.data, s.event = s.data[:0], ""
	var id string
	hasID, hasData := false, false
	for {
		line, err := s.readLine()
		if err != nil {
			if err == io.EOF && (hasData || hasID) {
				// The stream ended inside an event: per the SSE spec
				// it is discarded, and so is its id.
				return "", nil, io.ErrUnexpectedEOF
			}
			return "", nil, err
		}
		if len(line) == 0 { // dispatch
			if hasID {
				s.lastID = id
			}
			// An event without data, or with empty data (how a
			// server primes a stream), carries no message.
			if hasData && len(bytes.TrimSpace(s.data)) > 0 {
				return s.eventType(), s.data, nil
			}
			s.data, hasData = s.data[:0], false
			s.event, hasID = "", false
			continue
		}
		if line[0] == ':' { // comment, e.g. a keep-alive
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if hasData {
				s.data = append(s.data, ' ')
			}
			if len(s.data)+len(value) > s.max {
				return "", nil, errTooLarge
			}
			s.data, hasData = append(s.data, value...), true
		case "event":
			s.event = string(value)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				id, hasID = string(value), true
			}
		case "retry":
			if ms, err := strconv.ParseUint(string(value), 10, 31); err == nil {
				s.retry, s.hasRetry = time.Duration(ms)*time.Millisecond, true
			}
		}
	}
}

func (s *sseReader) eventType() string {
	if s.event == "" {
		return "message"
	}
	return s.event
}

// readLine returns one line without its line end. It is valid until the
// next call. A line that doesn't fit the buffer is assembled in s.line.
func (s *sseReader) readLine() ([]byte, error) {
	line, err := s.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.line = append(s.line[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(s.line) > s.max+64 {
				return nil, errTooLarge
			}
			line, err = s.br.ReadSlice('\n')
			s.line = append(s.line, line...)
		}
		line = s.line
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			// A last line without its line end is incomplete.
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}
