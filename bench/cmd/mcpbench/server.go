package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"mcpauth/test/fakeas"
)

// The server runs in a process of its own (`mcpbench serve`), as a remote
// server would: the client's and the server's work don't share a Go
// runtime, and the direct connection crosses a process boundary like the
// bridges do. A second listener, the admin one, gives the benchmark the
// server's counters and its "expire every token" switch.

// serve is `mcpbench serve`: test/fakeas until interrupted or stdin
// closes. It prints the MCP endpoint's URL, then the admin URL.
func serve(args []string) int {
	fs := flag.NewFlagSet("mcpbench serve", flag.ContinueOnError)
	port := fs.Int("port", 0, "the `port` on 127.0.0.1 (0: any)")
	ttl := fs.Duration("ttl", 0, "access token lifetime (0: one hour)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	s, err := fakeas.Start(fakeas.Config{Port: *port, AccessTokenTTL: *ttl})
	if err != nil {
		fmt.Fprintf(os.Stderr, "mcpbench serve: %v\n", err)
		return 1
	}
	defer s.Close()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "mcpbench serve: %v\n", err)
		return 1
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(s.Stats())
	})
	mux.HandleFunc("POST /expire", func(w http.ResponseWriter, _ *http.Request) {
		s.ExpireAccessTokens()
	})
	admin := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go admin.Serve(ln)
	defer admin.Close()
	fmt.Printf("%s\nhttp://%s\n", s.URL(), ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	<-ctx.Done()
	return 0
}

// serverProc is a running `mcpbench serve`.
type serverProc struct {
	url, admin string
	proc       *stdioSession
}

func (b *bench) startServer(ctx context.Context, ttl time.Duration) (*serverProc, error) {
	cmd := exec.Command(b.self, "serve", "-ttl", ttl.String())
	cmd.Env = childEnv()
	s, err := startStdio(ctx, cmd)
	if err != nil {
		return nil, err
	}
	p := &serverProc{proc: s}
	for _, dst := range []*string{&p.url, &p.admin} {
		line, err := s.readLine()
		if err != nil {
			s.close()
			return nil, fmt.Errorf("mcpbench serve: %w; %s", err, s.stderr.String())
		}
		*dst = strings.TrimSpace(string(line))
	}
	return p, nil
}

func (p *serverProc) URL() string { return p.url }

func (p *serverProc) Stats() (fakeas.Stats, error) {
	var st fakeas.Stats
	resp, err := http.Get(p.admin + "/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func (p *serverProc) ExpireAccessTokens() error {
	resp, err := http.Post(p.admin+"/expire", "", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func (p *serverProc) Close() { p.proc.close() }
