package httpbridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"mcpauth/agent"
)

// How the bridge answers when it can't forward a request. The local client
// must never see a 401 or a WWW-Authenticate header, or it would start an
// OAuth flow of its own against the bridge; the agent does the OAuth.
//
//	the remote can't be reached                 502 {"error":{...}}
//	the server is not registered (any more)     404 {"error":{...}}
//	authorization failed for good (the login
//	was denied or timed out, the step-up limit
//	was hit, the keychain is locked, the remote
//	still answers 401 after a new token):
//	  a POST of JSON-RPC requests               200, a JSON-RPC error for each request's id
//	  anything else                             502 {"error":{...}}
//
// A JSON-RPC error is what an MCP client shows its user: the tool call or
// initialize fails with our message, which says what to run, instead of a
// transport error it might retry or hide.

// codeAuthFailed is the JSON-RPC error code of an authorization failure,
// in the implementation-defined server-error range (JSON-RPC 2.0 §5.1),
// clear of the codes the MCP SDKs use (-32000 to -32002, -32042).
const codeAuthFailed = -32050

// errRemoteRefused: the remote still answered 401 after agent.Transport's
// refresh-or-login and one retry.
var errRemoteRefused = errors.New("the server refused the agent's new token too")

// fail is the proxy's ErrorHandler. r's context carries the route.
func (b *Bridge) fail(w http.ResponseWriter, r *http.Request, err error) {
	rt, _ := r.Context().Value(routeKey{}).(*route)
	if rt == nil {
		rt = &route{}
	}
	if r.Context().Err() != nil {
		// The client went away, or the agent is stopping.
		b.log.Debug("bridge: request ended", "client", rt.client, "server", rt.server, "err", err)
		writeError(w, http.StatusBadGateway, "canceled", "the request was canceled")
		return
	}
	var ue *upstreamError
	var nf *agent.NotFoundError
	switch {
	case errors.As(err, &ue):
		b.log.Warn("bridge: could not reach the server", "client", rt.client, "server", rt.server, "err", err)
		writeError(w, http.StatusBadGateway, "bad_gateway", fmt.Sprintf("mcpauth could not reach server %q: %v", rt.server, err))
		return
	case errors.As(err, &nf):
		writeError(w, http.StatusNotFound, "not_found", nf.Error())
		return
	}
	reason := authReason(err)
	msg := "mcpauth: " + err.Error()
	if errors.Is(err, errRemoteRefused) {
		msg = fmt.Sprintf("mcpauth: server %q refused the request (401) even after a new sign-in or refresh; see `mcpauth list`", rt.server)
	}
	b.log.Warn("bridge: authorization failed", "client", rt.client, "server", rt.server, "reason", reason, "err", err)
	if resp := jsonRPCErrors(rt.body, msg, reason, rt.server); resp != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(resp)
		return
	}
	writeError(w, http.StatusBadGateway, reason, msg)
}

// failLookup answers a ServerURL error.
func (b *Bridge) failLookup(w http.ResponseWriter, name string, err error) {
	var nf *agent.NotFoundError
	if errors.As(err, &nf) {
		writeError(w, http.StatusNotFound, "not_found",
			fmt.Sprintf("no server named %q: see `mcpauth list`, or add it with `mcpauth add %s URL`", name, name))
		return
	}
	b.log.Warn("bridge: could not look the server up", "server", name, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "mcpauth could not read its server registry: "+err.Error())
}

// authReason names an authorization failure for programs, like the control
// socket's error codes: agent.ErrorReason, and "remote_refused".
func authReason(err error) string {
	if reason := agent.ErrorReason(err); reason != agent.ReasonAuthorizationFailed || !errors.Is(err, errRemoteRefused) {
		return reason
	}
	return "remote_refused"
}

type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
}

type rpcError struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   rpcErrorBody    `json:"error"`
}

type rpcErrorBody struct {
	Code    int       `json:"code"`
	Message string    `json:"message"`
	Data    rpcDetail `json:"data"`
}

type rpcDetail struct {
	Reason string `json:"reason"`
	Server string `json:"server"`
}

// jsonRPCErrors returns the JSON-RPC response to body (a request or a
// batch) with one error per request, or nil if body holds no request with
// an id (notifications and responses expect no answer).
func jsonRPCErrors(body []byte, msg, reason, server string) []byte {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	var msgs []rpcMessage
	batch := body[0] == '['
	if batch {
		if json.Unmarshal(body, &msgs) != nil {
			return nil
		}
	} else {
		var m rpcMessage
		if json.Unmarshal(body, &m) != nil {
			return nil
		}
		msgs = []rpcMessage{m}
	}
	var out []rpcError
	for _, m := range msgs {
		if m.Method == "" || len(m.ID) == 0 || string(m.ID) == "null" {
			continue
		}
		out = append(out, rpcError{JSONRPC: "2.0", ID: m.ID,
			Error: rpcErrorBody{Code: codeAuthFailed, Message: msg, Data: rpcDetail{Reason: reason, Server: server}}})
	}
	if len(out) == 0 {
		return nil
	}
	var b []byte
	if batch {
		b, _ = json.Marshal(out)
	} else {
		b, _ = json.Marshal(out[0])
	}
	return b
}

// errorBody is the bridge's own error: {"error":{"code":...,"message":...}},
// the shape of the control socket's errors.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError writes the bridge's own errors: plain JSON, never a
// WWW-Authenticate challenge.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(errorBody{errorDetail{code, msg}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
