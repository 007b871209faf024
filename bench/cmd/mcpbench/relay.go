package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"
)

// The floors: the least a bridge of each kind can cost on this machine, to
// tell the price of the extra hop (a process, a pipe, a socket) from what
// mcpauth adds on top. Neither validates, authorizes, retries, resumes or
// logs anything; they hold a static token (MCPBENCH_TOKEN).
//
//   - `mcpbench relay-stdio URL`: reads a line on stdin, POSTs it, writes
//     the answer's message (JSON, or the data of SSE events) as a line on
//     stdout; one message at a time.
//   - `mcpbench relay-http URL`: httputil.ReverseProxy on 127.0.0.1:0,
//     as the HTTP bridge uses it (FlushInterval 0, one keep-alive
//     transport); prints its base URL on stdout.

func relayStdio(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: mcpbench relay-stdio URL")
		return 2
	}
	target, auth := args[0], "Bearer "+os.Getenv("MCPBENCH_TOKEN")
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 8
	hc := &http.Client{Transport: t}
	in := bufio.NewReaderSize(os.Stdin, 64<<10)
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	var sid, line []byte
	var body bytes.Buffer
	for {
		frag, err := in.ReadSlice('\n')
		line = append(line[:0], frag...)
		for err == bufio.ErrBufferFull {
			frag, err = in.ReadSlice('\n')
			line = append(line, frag...)
		}
		if err != nil {
			return 0
		}
		req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(line))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", auth)
		if sid != nil {
			req.Header.Set("Mcp-Session-Id", string(sid))
			req.Header.Set("Mcp-Protocol-Version", protocolVersion)
		}
		resp, err := hc.Do(req)
		if err != nil {
			fmt.Fprintf(os.Stderr, "relay-stdio: %v\n", err)
			return 1
		}
		if s := resp.Header.Get("Mcp-Session-Id"); s != "" {
			sid = []byte(s)
		}
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		switch {
		case resp.StatusCode == http.StatusAccepted:
			io.Copy(io.Discard, resp.Body)
		case mt == "text/event-stream":
			br := bufio.NewReaderSize(resp.Body, 64<<10)
			body.Reset()
			for {
				l, err := br.ReadBytes('\n')
				if d, ok := bytes.CutPrefix(l, []byte("data: ")); ok {
					body.Write(bytes.TrimRight(d, "\r\n"))
				} else if len(bytes.TrimSpace(l)) == 0 && body.Len() > 0 {
					out.Write(body.Bytes())
					out.WriteByte('\n')
					out.Flush()
					body.Reset()
				}
				if err != nil {
					break
				}
			}
		default:
			body.Reset()
			body.ReadFrom(resp.Body)
			out.Write(bytes.TrimRight(body.Bytes(), "\r\n"))
			out.WriteByte('\n')
			out.Flush()
		}
		resp.Body.Close()
	}
}

func relayHTTP(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: mcpbench relay-http URL")
		return 2
	}
	target, err := url.Parse(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	auth := "Bearer " + os.Getenv("MCPBENCH_TOKEN")
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 512, 256
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			u := *target
			pr.Out.URL, pr.Out.Host = &u, ""
			pr.Out.Header.Set("Authorization", auth)
		},
		Transport: t,
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("http://%s\n", ln.Addr())
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		io.Copy(io.Discard, os.Stdin) // stdin closing ends the relay
		srv.Close()
	}()
	srv.Serve(ln)
	return 0
}
