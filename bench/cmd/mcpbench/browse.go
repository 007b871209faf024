package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

// browse is `mcpbench browse URL`, the $BROWSER of the benchmark's homes
// and of mcp-remote: it opens the authorization URL (test/fakeas approves
// without a consent page and redirects), follows redirects on the
// authorization server's origin, then follows the one that leaves it: the
// client's loopback callback. It appends "start callback" (Unix
// nanoseconds) to $MCPBENCH_BROWSER_LOG: start is when this process began
// running Go code, callback when it was about to send the callback
// request. "Cold login excluding the browser" subtracts
// callback-start, the time a real browser and its user would take; the
// exec of this process and the callback's own handling stay counted
// against the client that logs in.
func browse(args []string) int {
	start := time.Now()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: mcpbench browse URL")
		return 2
	}
	u, err := url.Parse(args[len(args)-1])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		fmt.Fprintln(os.Stderr, "mcpbench browse: only http(s) URLs are opened")
		return 2
	}
	hc := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	cur := u
	for range 10 {
		resp, err := hc.Get(cur.String())
		if err != nil {
			fmt.Fprintf(os.Stderr, "mcpbench browse: %v\n", err)
			return 1
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		loc, err := resp.Location()
		if resp.StatusCode/100 != 3 || err != nil {
			fmt.Fprintf(os.Stderr, "mcpbench browse: %s answered %d without a redirect (a consent page?)\n", cur.Host, resp.StatusCode)
			return 1
		}
		if loc.Host == u.Host {
			cur = loc
			continue
		}
		// Logged before the callback is sent: the client may be done
		// (and the benchmark reading the log) before it answers.
		callback := time.Now()
		if path := os.Getenv("MCPBENCH_BROWSER_LOG"); path != "" {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
			if err == nil {
				fmt.Fprintf(f, "%d %d\n", start.UnixNano(), callback.UnixNano())
				f.Close()
			}
		}
		resp, err = hc.Get(loc.String())
		if err != nil {
			fmt.Fprintf(os.Stderr, "mcpbench browse: the callback: %v\n", err)
			return 1
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			fmt.Fprintf(os.Stderr, "mcpbench browse: the callback answered %d\n", resp.StatusCode)
			return 1
		}
		return 0
	}
	fmt.Fprintln(os.Stderr, "mcpbench browse: too many redirects")
	return 1
}
