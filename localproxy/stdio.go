package localproxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"mcpauth/localproxy/jsonrpc"
)

// Upstream is where the stdio bridge sends the local client's messages:
// an *upstream.Conn in mcpauth, a fake in tests.
type Upstream interface {
	// Send sends one message, described by m; it takes ownership of msg.
	// Answers come back through Stdio.Deliver.
	Send(msg []byte, m jsonrpc.Message)
	// Close ends the session once the answers still due have arrived or
	// ctx ends.
	Close(ctx context.Context) error
}

// MaxLine bounds one line from the local client. Tool arguments of tens of
// megabytes fit.
const MaxLine = 128 << 20

// directWrite is the size above which a message is written as it is,
// followed by its newline, rather than copied to be written in one call.
const directWrite = 64 << 10

// Stdio is the stdio side of `mcpauth connect`: newline-delimited JSON-RPC
// on stdin and stdout (MCP basic/transports, "stdio"). Every message is
// relayed as received; only what isn't a JSON-RPC message is answered
// here: -32700 for a line that isn't JSON, -32600 for JSON that isn't
// JSON-RPC (JSON-RPC 2.0 §5.1). stdout carries nothing but messages; logs
// go to the logger (stderr).
type Stdio struct {
	in  io.Reader
	log *slog.Logger

	mu     sync.Mutex // serialises writes to out
	out    io.Writer
	buf    []byte
	chunk  []byte // DeliverStream's
	outErr error
	broken chan struct{} // closed when out fails
}

// NewStdio returns a bridge reading in and writing out.
func NewStdio(in io.Reader, out io.Writer, log *slog.Logger) *Stdio {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Stdio{in: in, out: out, log: log, broken: make(chan struct{})}
}

// Deliver writes msg, which must be one line, and a newline to stdout. It
// is safe for concurrent use: messages are never interleaved. A small
// message goes out in one write, so the client wakes once.
func (s *Stdio) Deliver(msg []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outErr != nil {
		return
	}
	var err error
	if len(msg) < directWrite {
		s.buf = append(append(s.buf[:0], msg...), '\n')
		_, err = s.out.Write(s.buf)
	} else if _, err = s.out.Write(msg); err == nil {
		_, err = s.out.Write(newline)
	}
	if err != nil {
		s.outErr = err
		s.log.Warn("the client's stdout is gone; ending the session", "err", err)
		close(s.broken)
	}
}

var newline = []byte{'\n'}

// DeliverStream writes the message r yields as one line as it arrives, so
// that a large message is never held whole (upstream.Options.
// DeliverStream): CR and LF become spaces, as jsonrpc.OneLine does, and
// the whitespace around the message is dropped. Other messages wait until
// it is done. If r fails, the line is ended where it broke off and r's
// error is returned; a failing stdout ends the session, as in Deliver.
func (s *Stdio) DeliverStream(r io.Reader) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outErr != nil {
		return s.outErr
	}
	if s.chunk == nil {
		s.chunk = make([]byte, 64<<10)
	}
	started, held := false, 0 // held: whitespace not written yet
	var rerr, werr error
	for rerr == nil && werr == nil {
		var n int
		n, rerr = r.Read(s.chunk)
		p := jsonrpc.OneLine(s.chunk[:n])
		if !started {
			p = bytes.TrimLeft(p, " \t")
			started = len(p) > 0
		}
		end := len(bytes.TrimRight(p, " \t"))
		if end == 0 {
			held += len(p)
			continue
		}
		for ; held > 0 && werr == nil; held -= min(held, len(spaces)) {
			_, werr = s.out.Write(spaces[:min(held, len(spaces))])
		}
		if werr == nil {
			_, werr = s.out.Write(p[:end])
		}
		held = len(p) - end
	}
	if werr == nil {
		_, werr = s.out.Write(newline)
	}
	if werr != nil {
		s.outErr = werr
		s.log.Warn("the client's stdout is gone; ending the session", "err", werr)
		close(s.broken)
		return werr
	}
	if rerr == io.EOF {
		return nil
	}
	return rerr
}

var spaces = bytes.Repeat([]byte{' '}, 64)

// Run relays stdin to up until stdin closes, stdout fails or ctx ends.
// Then it closes up, which waits at most drain for the answers still due
// and ends the remote session. It returns the error that ended stdin, if
// not EOF.
func (s *Stdio) Run(ctx context.Context, up Upstream, drain time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- s.read(up) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
	case <-s.broken:
	}
	dctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	up.Close(dctx)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return err
}

// read sends each line of stdin to up. It reads lines of any length up to
// MaxLine (no bufio.Scanner limit), and copies each once, into the slice
// that up then owns.
func (s *Stdio) read(up Upstream) error {
	br := bufio.NewReaderSize(s.in, 64<<10)
	for {
		line, err := readLine(br)
		if errors.Is(err, errLineTooLong) {
			s.Deliver(jsonrpc.ErrorResponse(nil, jsonrpc.CodeParseError,
				"Parse error: the message is longer than "+strconv.Itoa(MaxLine>>20)+" MiB"))
			continue
		}
		if len(bytes.TrimSpace(line)) > 0 {
			m, perr := jsonrpc.Parse(line)
			if perr != nil {
				s.log.Info("answered a malformed message", "code", perr.Code, "err", perr.Message)
				s.Deliver(perr.Response())
			} else {
				up.Send(line, m)
			}
		}
		if err != nil {
			return err
		}
	}
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its LF or CRLF, in a new slice.
// At the end of the input it returns the last, unterminated, line (if any)
// with io.EOF. A line over MaxLine is skipped and reported as
// errLineTooLong.
func readLine(br *bufio.Reader) ([]byte, error) {
	frag, err := br.ReadSlice('\n')
	if err == nil || err != bufio.ErrBufferFull {
		return trimEOL(bytes.Clone(frag)), err
	}
	// A long line: gather the fragments in a buffer that grows as needed.
	line := append(make([]byte, 0, 4*len(frag)), frag...)
	for err == bufio.ErrBufferFull {
		frag, err = br.ReadSlice('\n')
		if len(line)+len(frag) > MaxLine+2 {
			for err == bufio.ErrBufferFull { // skip the rest of the line
				_, err = br.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				return nil, err
			}
			return nil, errLineTooLong
		}
		line = append(line, frag...)
	}
	return trimEOL(line), err
}

func trimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, newline)
	return bytes.TrimSuffix(line, []byte{'\r'})
}
