package agent

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"

	"github.com/pkg/browser"
)

// Browser opens a URL for the user. Implementations must be safe for
// concurrent use.
type Browser interface {
	Open(ctx context.Context, rawURL string) error
}

// SystemBrowser honours $BROWSER first (a command that takes the URL as its
// argument, as xdg-open and git do), then github.com/pkg/browser, which does
// not read $BROWSER itself. Only http(s) URLs are opened, and never through a
// shell: the command and the URL are separate argv entries.
func SystemBrowser() Browser { return systemBrowser{} }

type systemBrowser struct{}

func (systemBrowser) Open(ctx context.Context, rawURL string) error {
	if err := checkOpenable(rawURL); err != nil {
		return err
	}
	if env := os.Getenv("BROWSER"); env != "" {
		// $BROWSER may list alternatives separated by ':' (the
		// convention xdg-utils and sensible-browser follow); the
		// first that runs wins. Arguments are split on spaces, never
		// handed to a shell.
		var lastErr error
		for _, cand := range strings.Split(env, ":") {
			args := strings.Fields(cand)
			if len(args) == 0 {
				continue
			}
			cmd := exec.CommandContext(ctx, args[0], append(args[1:], rawURL)...)
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if lastErr = cmd.Run(); lastErr == nil {
				return nil
			}
		}
		return fmt.Errorf("could not open the browser with $BROWSER: %v; open the URL yourself", lastErr)
	}
	browser.Stdout, browser.Stderr = os.Stderr, os.Stderr
	if err := browser.OpenURL(rawURL); err != nil {
		return fmt.Errorf("could not open a browser (%v): set $BROWSER, or open the URL yourself", err)
	}
	return nil
}

func checkOpenable(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("refusing to open %q in a browser: only http(s) URLs are opened", rawURL)
	}
	return nil
}
