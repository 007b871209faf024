// Package jsonrpc frames and classifies JSON-RPC 2.0 messages for the
// bridges, without decoding their bodies: a bridge relays every message
// byte for byte (MCP basic/transports: stdio messages are newline-delimited
// and "MUST NOT contain embedded newlines"), and only needs to know whether
// a message is a request, a notification, a response or a batch, its id and
// its method.
//
// Parse validates a message from the local client (it must be answered with
// -32700 or -32600 if it is not JSON-RPC); Peek looks at a message from the
// server, which is relayed as is and so is not validated.
package jsonrpc

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSON-RPC 2.0 error codes (JSON-RPC 2.0 §5.1).
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeInternalError  = -32603
)

// Kind is what a message is.
type Kind uint8

const (
	Invalid      Kind = iota
	Request           // has a method and an id: must be answered
	Notification      // has a method and no id
	Response          // has an id and a result or an error
	Batch             // a JSON array of messages (MCP 2025-03-26 allowed them)
)

func (k Kind) String() string {
	switch k {
	case Request:
		return "request"
	case Notification:
		return "notification"
	case Response:
		return "response"
	case Batch:
		return "batch"
	}
	return "invalid"
}

// Message describes one line. ID and Method alias the parsed bytes: they are
// valid as long as the line is.
type Message struct {
	Kind Kind
	// ID is the raw JSON id ("1", "\"abc\"", "null") of a request or a
	// response; nil when absent.
	ID []byte
	// Method is set for requests and notifications.
	Method string
	// Batch holds the elements of a batch.
	Batch []Message
}

// Requests counts the requests in m, that is the responses m is owed.
func (m Message) Requests() int { return m.count(Request) }

// Responses counts the responses in m.
func (m Message) Responses() int { return m.count(Response) }

// count counts the messages of kind k in m: m itself, or a batch's elements.
func (m Message) count(k Kind) int {
	if m.Kind != Batch {
		if m.Kind == k {
			return 1
		}
		return 0
	}
	n := 0
	for _, e := range m.Batch {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// Error is why a line is not a JSON-RPC message, with the id to answer it
// with (JSON-RPC 2.0 §5: null when it could not be determined).
type Error struct {
	Code    int
	Message string
	ID      []byte
}

func (e *Error) Error() string { return e.Message }

// Response renders e as a JSON-RPC error response.
func (e *Error) Response() []byte { return ErrorResponse(e.ID, e.Code, e.Message) }

// Parse validates line as a JSON-RPC 2.0 message or batch and classifies
// it. A line that is not JSON gets CodeParseError; JSON that is not a
// JSON-RPC message gets CodeInvalidRequest, with the message's id when it
// has a usable one. A batch with an invalid element is refused whole, since
// relaying part of it would mean re-encoding it.
func Parse(line []byte) (Message, *Error) {
	if !valid(line) {
		return Message{}, &Error{Code: CodeParseError, Message: "Parse error: " + syntaxError(line)}
	}
	i := skipWS(line, 0)
	switch line[i] {
	case '{':
		return parseObject(line[i:])
	case '[':
		var batch []Message
		var bad *Error
		elements(line[i:], func(v []byte) {
			if bad != nil {
				return
			}
			m, err := parseObjectValue(v)
			if err != nil {
				bad = &Error{Code: CodeInvalidRequest, Message: "Invalid Request: batch element " +
					strconv.Itoa(len(batch)+1) + ": " + strings.TrimPrefix(err.Message, "Invalid Request: ")}
				return
			}
			batch = append(batch, m)
		})
		if bad != nil {
			return Message{}, bad
		}
		if len(batch) == 0 {
			return Message{}, &Error{Code: CodeInvalidRequest, Message: "Invalid Request: empty batch"}
		}
		return Message{Kind: Batch, Batch: batch}, nil
	}
	return Message{}, &Error{Code: CodeInvalidRequest, Message: "Invalid Request: not a JSON object"}
}

func parseObjectValue(v []byte) (Message, *Error) {
	if len(v) == 0 || v[0] != '{' {
		return Message{}, &Error{Code: CodeInvalidRequest, Message: "Invalid Request: not a JSON object"}
	}
	return parseObject(v)
}

// parseObject classifies a valid JSON object (JSON-RPC 2.0 §4, §5).
func parseObject(obj []byte) (Message, *Error) {
	var (
		m                              Message
		version, method                []byte
		hasID, hasMethod, hasRes, hasE bool
	)
	members(obj, func(key []byte, val *value) bool {
		switch string(unescape(key)) {
		case "jsonrpc":
			version = val.get()
		case "id":
			m.ID, hasID = val.get(), true
		case "method":
			method, hasMethod = val.get(), true
		case "result":
			hasRes = true
		case "error":
			hasE = true
		}
		return true
	})
	invalid := func(why string) (Message, *Error) {
		e := &Error{Code: CodeInvalidRequest, Message: "Invalid Request: " + why}
		if hasID && validID(m.ID) {
			e.ID = m.ID
		}
		return Message{}, e
	}
	if string(version) != `"2.0"` {
		return invalid(`"jsonrpc" must be "2.0"`)
	}
	if hasID && !validID(m.ID) {
		return invalid(`"id" must be a string, a number or null`)
	}
	switch {
	case hasMethod:
		s, ok := jsonString(method)
		if !ok {
			return invalid(`"method" must be a string`)
		}
		m.Method = s
		if hasID {
			m.Kind = Request
		} else {
			m.Kind = Notification
		}
	case hasRes && hasE:
		return invalid(`a response has "result" or "error", not both`)
	case hasRes || hasE:
		if !hasID {
			return invalid(`a response needs an "id"`)
		}
		m.Kind = Response
	default:
		return invalid(`no "method", "result" or "error"`)
	}
	return m, nil
}

// Peek classifies a message from the server without validating it. It
// stops at the first member that settles the kind, so a large result costs
// nothing when "result" comes before it, as every SDK writes it. Malformed
// input gives Invalid.
func Peek(msg []byte) Message {
	i := skipWS(msg, 0)
	if i >= len(msg) {
		return Message{}
	}
	switch msg[i] {
	case '{':
		return peekObject(msg[i:])
	case '[':
		var m Message
		m.Kind = Batch
		elements(msg[i:], func(v []byte) {
			if len(v) > 0 && v[0] == '{' {
				m.Batch = append(m.Batch, peekObject(v))
			}
		})
		return m
	}
	return Message{}
}

func peekObject(obj []byte) Message {
	var m Message
	var hasID bool
	members(obj, func(key []byte, val *value) bool {
		switch string(unescape(key)) {
		case "id":
			m.ID, hasID = val.get(), true
		case "method":
			if m.Kind == Invalid {
				m.Method, _ = jsonString(val.get())
				m.Kind = Notification // a Request if it has an id: see below
			}
		case "result", "error":
			if m.Kind == Invalid {
				m.Kind = Response
				return false // the rest doesn't matter
			}
		}
		return !(m.Kind == Notification && hasID)
	})
	if m.Kind == Notification && hasID {
		m.Kind = Request
	}
	return m
}

// Field returns the raw value of the top-level member key of obj, or nil.
// The initialize result's protocolVersion is read this way (MCP
// basic/transports, "Protocol Version Header").
func Field(obj []byte, key string) []byte {
	var out []byte
	i := skipWS(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil
	}
	members(obj[i:], func(k []byte, val *value) bool {
		if string(unescape(k)) == key {
			out = val.get()
			return false
		}
		return true
	})
	return out
}

// String decodes a JSON string value; ok is false for anything else.
func String(v []byte) (s string, ok bool) { return jsonString(v) }

// ErrorResponse renders a JSON-RPC error response for id (raw JSON; nil
// means null).
func ErrorResponse(id []byte, code int, message string) []byte {
	return ErrorResponseData(id, code, message, nil)
}

// ErrorResponseData is ErrorResponse with the error's data member (raw
// JSON; nil leaves it out).
func ErrorResponseData(id []byte, code int, message string, data []byte) []byte {
	if len(id) == 0 {
		id = []byte("null")
	}
	msg, _ := json.Marshal(message) // a string always marshals
	b := make([]byte, 0, 64+len(id)+len(msg)+len(data))
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, id...)
	b = append(b, `,"error":{"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = append(b, msg...)
	if len(data) > 0 {
		b = append(b, `,"data":`...)
		b = append(b, data...)
	}
	return append(b, "}}"...)
}

// OneLine replaces every CR and LF in msg with a space, in place, and
// returns it. In JSON text they can only be insignificant whitespace (a
// string holds them escaped), so the message means the same and fits one
// line of the stdio transport.
func OneLine(msg []byte) []byte {
	for _, c := range []byte{'\n', '\r'} {
		for i := bytes.IndexByte(msg, c); i >= 0; {
			msg[i] = ' '
			j := bytes.IndexByte(msg[i+1:], c)
			if j < 0 {
				break
			}
			i += 1 + j
		}
	}
	return msg
}

func validID(id []byte) bool {
	if len(id) == 0 {
		return false
	}
	switch c := id[0]; {
	case c == '"', c == '-', c >= '0' && c <= '9':
		return true
	}
	return string(id) == "null"
}

func jsonString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	if bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v) {
		return string(v[1 : len(v)-1]), true
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// unescape returns a member name (the bytes between its quotes) without
// JSON escapes. Names without escapes, the only ones that occur in practice,
// are returned as they are, so that `switch string(unescape(key))` costs no
// allocation.
func unescape(key []byte) []byte {
	if bytes.IndexByte(key, '\\') < 0 {
		return key
	}
	s, _ := jsonString(append(append([]byte{'"'}, key...), '"'))
	return []byte(s)
}

// syntaxError says where line stops being JSON, in encoding/json's words.
func syntaxError(line []byte) string {
	err := json.Unmarshal(line, new(json.RawMessage))
	if err == nil {
		return "invalid JSON"
	}
	if se, ok := err.(*json.SyntaxError); ok {
		return se.Error() + " at offset " + strconv.FormatInt(se.Offset, 10)
	}
	return err.Error()
}
