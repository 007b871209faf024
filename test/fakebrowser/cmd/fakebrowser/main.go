// Command fakebrowser is a $BROWSER for end-to-end tests:
//
//	BROWSER=/path/to/fakebrowser mcpauth login NAME
//
// It opens the URL given as its last argument with test/fakebrowser,
// approving consent pages, and exits when the navigation ends: 0 if the
// final page answered 2xx, 1 if it answered anything else, 2 if it could
// not navigate. It writes one summary line, without any query string, to
// stderr.
//
// Unlike xdg-open it does not detach: it returns when the navigation ends,
// in milliseconds, after the loopback callback has answered. So the
// callback handler must answer without waiting for $BROWSER to exit.
//
// Environment:
//
//	FAKEBROWSER_LOG=/path    append the opened URL's host+path (no query: it
//	                         holds state) as one line, so tests count opens
//	FAKEBROWSER_DENY=1       click Deny instead of Approve
//	FAKEBROWSER_FORM=first   submit a page's first form when none is marked
//	                         (oidc-provider's interaction pages)
//	FAKEBROWSER_FILL=q       values for empty inputs, as a query string
//	                         ("login=alice&password=x")
//	FAKEBROWSER_TIMEOUT=10s  bound on the whole navigation
package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"mcpauth/test/fakebrowser"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

func run(args []string, getenv func(string) string, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: fakebrowser URL")
		return 2
	}
	raw := args[len(args)-1]
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintln(stderr, "fakebrowser: only http(s) URLs are opened")
		return 2
	}
	if path := getenv("FAKEBROWSER_LOG"); path != "" {
		if err := appendLine(path, u.Host+u.Path); err != nil {
			fmt.Fprintf(stderr, "fakebrowser: could not write FAKEBROWSER_LOG: %v\n", err)
			return 2
		}
	}
	opts := fakebrowser.Options{
		Deny:            getenv("FAKEBROWSER_DENY") == "1",
		SubmitFirstForm: getenv("FAKEBROWSER_FORM") == "first",
	}
	if fill := getenv("FAKEBROWSER_FILL"); fill != "" {
		if opts.Fill, err = url.ParseQuery(fill); err != nil {
			fmt.Fprintf(stderr, "fakebrowser: bad FAKEBROWSER_FILL: %v\n", err)
			return 2
		}
	}
	timeout := 10 * time.Second
	if v := getenv("FAKEBROWSER_TIMEOUT"); v != "" {
		if timeout, err = time.ParseDuration(v); err != nil {
			fmt.Fprintf(stderr, "fakebrowser: bad FAKEBROWSER_TIMEOUT: %v\n", err)
			return 2
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	start := time.Now()
	res, err := fakebrowser.Open(ctx, raw, opts)
	if err != nil {
		fmt.Fprintf(stderr, "fakebrowser: opened %s: %v\n", fakebrowser.Redact(raw), err)
		return 2
	}
	fmt.Fprintf(stderr, "fakebrowser: opened %s -> %d %s (%d requests, %d form submissions, %s)\n",
		fakebrowser.Redact(raw), res.Status, fakebrowser.Redact(res.FinalURL),
		res.Requests, res.FormsSubmitted, time.Since(start).Round(time.Millisecond))
	if !res.OK() {
		return 1
	}
	return 0
}

// appendLine appends one line with a single write, so concurrent browsers
// don't interleave.
func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(strings.TrimSpace(line) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
