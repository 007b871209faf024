package upstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"mcpauth/agent"
	"mcpauth/localproxy/jsonrpc"
)

// The error codes of the answers a Conn makes up for a request the server
// could not answer. They are in JSON-RPC 2.0's implementation-defined
// server-error range (-32000 to -32099), clear of the codes MCP and its
// SDKs use there (-32000 and -32001 in the TypeScript SDK, -32002, -32020
// to -32022, -32042); CodeAuth is the HTTP bridge's code for the same
// failure. The message says what happened and what to do; the data member
// holds {"server": NAME, "reason": WHY} and, for HTTP failures, "status".
const (
	// CodeAuth: mcpauth could not authorize the request: a login is
	// needed, was denied or timed out, the keychain is locked, or the
	// server refused a fresh token. The reason is login_required,
	// step_up_required, registration_gone, client_id_required,
	// keychain_unavailable, remote_refused or authorization_failed.
	CodeAuth = -32050
	// CodeHTTPStatus: the server answered with an HTTP error status (a
	// 5xx, an unexpected 4xx, a redirect) or with something that isn't
	// JSON-RPC. Reason http_status.
	CodeHTTPStatus = -32051
	// CodeUnreachable: the server could not be reached, or the connection
	// broke before an answer. Reason unreachable.
	CodeUnreachable = -32052
	// CodeSessionExpired: the server answered 404 to a request carrying
	// the session id; the client must initialize a new session. Reason
	// session_expired.
	CodeSessionExpired = -32053
	// CodeStreamLost: the response stream broke before the response and
	// could not be resumed. Reason stream_lost.
	CodeStreamLost = -32054
)

// rpcError is an error answer to make up.
type rpcError struct {
	code   int
	msg    string
	status int    // HTTP status, 0 if none
	reason string // for programs; defaults from code
}

func (e *rpcError) data(server string) []byte {
	reason := e.reason
	if reason == "" {
		reason = map[int]string{CodeAuth: "authorization_failed", CodeHTTPStatus: "http_status", CodeUnreachable: "unreachable",
			CodeSessionExpired: "session_expired", CodeStreamLost: "stream_lost"}[e.code]
	}
	d := `{"server":` + quote(server) + `,"reason":` + quote(reason)
	if e.status != 0 {
		d += `,"status":` + strconv.Itoa(e.status)
	}
	return []byte(d + "}")
}

// fail answers every request in m with e, or logs e when m holds no
// request (the local client doesn't wait for an answer to a notification).
func (c *Conn) fail(m jsonrpc.Message, e *rpcError) {
	data := e.data(c.server)
	switch m.Kind {
	case jsonrpc.Request:
		c.send(jsonrpc.ErrorResponseData(m.ID, e.code, e.msg, data))
	case jsonrpc.Batch:
		var out []byte
		for _, el := range m.Batch {
			if el.Kind != jsonrpc.Request {
				continue
			}
			if out == nil {
				out = append(out, '[')
			} else {
				out = append(out, ',')
			}
			out = append(out, jsonrpc.ErrorResponseData(el.ID, e.code, e.msg, data)...)
		}
		if out != nil {
			c.send(append(out, ']'))
			return
		}
		fallthrough
	default:
		c.log.Warn("could not send a message to the server", "server", c.server, "kind", m.Kind.String(),
			"method", m.Method, "err", e.msg)
	}
}

// errorFor turns a failed round trip into an answer. Errors of the base
// transport (netMarker) mean the server is unreachable; any other error
// comes from the authorization layer, whose messages say what to do.
func (c *Conn) errorFor(err error) *rpcError {
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		err = ue.Err // drop "Post URL:", which may hold a key in the query
	}
	var ne *netError
	if errors.As(err, &ne) {
		return &rpcError{code: CodeUnreachable, msg: fmt.Sprintf("mcpauth: could not reach server %s at %s: %v",
			quote(c.server), c.redacted, ne.err)}
	}
	msg := "mcpauth: " + err.Error()
	if !strings.Contains(msg, "`mcpauth ") {
		// The engine's typed errors say what to run; a failed login
		// (denied, say) doesn't.
		msg += "; to sign in again, run `mcpauth login " + c.server + "`"
	}
	return &rpcError{code: CodeAuth, msg: msg, reason: agent.ErrorReason(err)}
}

// statusError turns an HTTP error status into an answer. A JSON-RPC error
// message in the body, if any, is quoted (briefly). A 401 that reaches
// here was refused after the authorization layer's refresh or login and
// retry.
func (c *Conn) statusError(resp *http.Response) *rpcError {
	if resp.StatusCode == http.StatusUnauthorized {
		return &rpcError{code: CodeAuth, status: resp.StatusCode, reason: "remote_refused",
			msg: fmt.Sprintf("mcpauth: server %s refused the request (HTTP %s) even after a new sign-in or refresh; see `mcpauth list`",
				quote(c.server), statusText(resp))}
	}
	detail := ""
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	var rpc struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &rpc) == nil && rpc.Error.Message != "" {
		detail = ": " + clip(rpc.Error.Message)
	} else if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/plain") && len(body) > 0 {
		detail = ": " + clip(string(body))
	}
	hint := ""
	switch {
	case resp.StatusCode >= 500:
		hint = "; the server is failing, try again later"
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		hint = "; mcpauth does not follow redirects: check the server's URL (mcpauth list)"
	}
	return &rpcError{code: CodeHTTPStatus, status: resp.StatusCode,
		msg: fmt.Sprintf("mcpauth: server %s answered HTTP %s%s%s", quote(c.server), statusText(resp), detail, hint)}
}

func (c *Conn) expiredError(resp *http.Response) *rpcError {
	return &rpcError{code: CodeSessionExpired, status: resp.StatusCode,
		msg: fmt.Sprintf("mcpauth: the MCP session with server %s has ended (HTTP %s): initialize a new session",
			quote(c.server), statusText(resp))}
}

func statusText(resp *http.Response) string {
	if t := http.StatusText(resp.StatusCode); t != "" {
		return strconv.Itoa(resp.StatusCode) + " " + t
	}
	return strconv.Itoa(resp.StatusCode)
}

// clip keeps a server's message short and on one line.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func quote(s string) string { return strconv.Quote(s) }

var errBadURL = errors.New("the server URL must be an absolute http(s) URL")

// redactURL drops the query and userinfo: the URL is the user's, and may
// carry a key.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// netMarker marks the errors of the transport under the authorization
// layer, so that errorFor tells "unreachable" from "not authorized".
type netMarker struct{ rt http.RoundTripper }

func (n netMarker) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := n.rt.RoundTrip(req)
	if err != nil {
		return nil, &netError{err}
	}
	return resp, nil
}

func (n netMarker) CloseIdleConnections() {
	if ci, ok := n.rt.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

type netError struct{ err error }

func (e *netError) Error() string { return e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
