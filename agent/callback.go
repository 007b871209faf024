package agent

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// callbackPath is the only path the loopback redirect listener serves.
const callbackPath = "/callback"

// callbackResult is what the authorization server sent back to the redirect
// URI (RFC 6749 §4.1.2, RFC 9207 §2).
type callbackResult struct {
	Code   string
	Iss    string
	HasIss bool
	Err    error
}

// callbackServer is the loopback redirect listener (RFC 8252 §7.3),
// following int128/oauth2cli: bound to 127.0.0.1 on an ephemeral port (or
// the port a dynamic registration named), serving only callbackPath, and
// delivering the first callback whose state matches. It lives for one flow.
type callbackServer struct {
	ln    net.Listener
	srv   *http.Server
	state string
	once  sync.Once
	done  chan callbackResult
}

// listenCallback binds 127.0.0.1:port, falling back to an ephemeral port
// when port is 0 or taken.
func listenCallback(port int, state string) (*callbackServer, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil && port != 0 {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, fmt.Errorf("could not listen for the login callback on 127.0.0.1: %w", err)
	}
	cs := &callbackServer{ln: ln, state: state, done: make(chan callbackResult, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc(callbackPath, cs.handle)
	cs.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go cs.srv.Serve(ln)
	return cs, nil
}

func (cs *callbackServer) redirectURI() string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", cs.port(), callbackPath)
}

func (cs *callbackServer) port() int { return cs.ln.Addr().(*net.TCPAddr).Port }

func (cs *callbackServer) handle(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	// A callback with the wrong state is someone else's (or an attack):
	// answer it, but keep waiting for ours.
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(cs.state)) != 1 {
		http.Error(w, "This sign-in link is not the one mcpauth is waiting for (state mismatch). Start the login again.", http.StatusBadRequest)
		return
	}
	res := callbackResult{Code: q.Get("code"), Iss: q.Get("iss"), HasIss: q.Has("iss")}
	switch {
	case q.Get("error") != "":
		res.Err = &authorizationDeniedError{Code: q.Get("error"), Description: sanitize(q.Get("error_description"))}
	case res.Code == "":
		res.Err = errors.New("the authorization server redirected back without a code")
	}
	delivered := false
	cs.once.Do(func() { cs.done <- res; delivered = true })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case !delivered:
		fmt.Fprint(w, page("Already handled", "This sign-in was already completed. You can close this tab."))
	case res.Err != nil:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, page("Sign-in failed", res.Err.Error()))
	default:
		fmt.Fprint(w, page("Signed in", "mcpauth received the authorization. You can close this tab."))
	}
}

// wait returns the first matching callback, or an error when ctx ends.
func (cs *callbackServer) wait(ctx context.Context) (callbackResult, error) {
	select {
	case res := <-cs.done:
		return res, res.Err
	case <-ctx.Done():
		return callbackResult{}, ctx.Err()
	}
}

func (cs *callbackServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	cs.srv.Shutdown(ctx)
}

func page(title, msg string) string {
	return `<!doctype html><meta charset="utf-8"><title>mcpauth: ` + html.EscapeString(title) +
		`</title><body style="font-family:sans-serif;max-width:32em;margin:4em auto"><h1>` +
		html.EscapeString(title) + `</h1><p>` + html.EscapeString(msg) + `</p></body>`
}

// authorizationDeniedError is an error redirect from the authorization
// endpoint (RFC 6749 §4.1.2.1), such as access_denied.
type authorizationDeniedError struct{ Code, Description string }

func (e *authorizationDeniedError) Error() string {
	msg := "the authorization server refused the sign-in: " + e.Code
	if e.Description != "" {
		msg += " (" + e.Description + ")"
	}
	return msg
}

// sanitize caps text that a remote server controls before it goes into an
// error message: printable characters only, at most 200 of them.
func sanitize(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if len(out) == 200 {
			out = append(out, '…')
			break
		}
		if r >= 0x20 && r != 0x7f {
			out = append(out, r)
		}
	}
	return string(out)
}
