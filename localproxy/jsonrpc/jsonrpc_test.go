package jsonrpc

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		kind     Kind
		id       string
		method   string
		requests int
		code     int    // error code, 0 for none
		errID    string // id of the error answer
		errHas   string
	}{
		{name: "request", in: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}`, kind: Request, id: "1", method: "tools/call", requests: 1},
		{name: "string id", in: `{"jsonrpc":"2.0","id":"a\"b","method":"ping"}`, kind: Request, id: `"a\"b"`, method: "ping", requests: 1},
		{name: "null id", in: `{"method":"ping","id":null,"jsonrpc":"2.0"}`, kind: Request, id: "null", method: "ping", requests: 1},
		{name: "notification", in: `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`, kind: Notification, method: "notifications/cancelled"},
		{name: "response", in: `{"jsonrpc":"2.0","id":7,"result":{"action":"accept"}}`, kind: Response, id: "7"},
		{name: "error response", in: `{"jsonrpc":"2.0","id":7,"error":{"code":1,"message":"no"}}`, kind: Response, id: "7"},
		{name: "escaped key", in: `{"jsonrpc":"2.0","\u0069d":3,"method":"x"}`, kind: Request, id: "3", method: "x", requests: 1},
		{name: "escaped method", in: `{"jsonrpc":"2.0","id":3,"method":"a\/b"}`, kind: Request, id: "3", method: "a/b", requests: 1},
		{name: "whitespace", in: " \t{ \"jsonrpc\" : \"2.0\" , \"method\" : \"m\" } ", kind: Notification, method: "m"},
		{name: "batch", in: `[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"},{"jsonrpc":"2.0","id":2,"method":"c"}]`, kind: Batch, requests: 2},

		{name: "not JSON", in: `{"jsonrpc":"2.0",`, code: CodeParseError, errID: "null", errHas: "Parse error"},
		{name: "garbage", in: `hello`, code: CodeParseError, errID: "null", errHas: "invalid character"},
		{name: "number", in: `42`, code: CodeInvalidRequest, errID: "null"},
		{name: "no version", in: `{"id":5,"method":"x"}`, code: CodeInvalidRequest, errID: "5", errHas: `"jsonrpc" must be "2.0"`},
		{name: "wrong version", in: `{"jsonrpc":"1.0","id":"k","method":"x"}`, code: CodeInvalidRequest, errID: `"k"`},
		{name: "method not a string", in: `{"jsonrpc":"2.0","id":5,"method":5}`, code: CodeInvalidRequest, errID: "5"},
		{name: "object id", in: `{"jsonrpc":"2.0","id":{},"method":"x"}`, code: CodeInvalidRequest, errID: "null"},
		{name: "nothing", in: `{"jsonrpc":"2.0","id":5}`, code: CodeInvalidRequest, errID: "5"},
		{name: "response without id", in: `{"jsonrpc":"2.0","result":{}}`, code: CodeInvalidRequest, errID: "null"},
		{name: "result and error", in: `{"jsonrpc":"2.0","id":1,"result":{},"error":{}}`, code: CodeInvalidRequest, errID: "1"},
		{name: "empty batch", in: `[]`, code: CodeInvalidRequest, errID: "null"},
		{name: "bad batch element", in: `[{"jsonrpc":"2.0","method":"a"},3]`, code: CodeInvalidRequest, errID: "null", errHas: "batch element 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.in))
			if tt.code != 0 {
				if err == nil {
					t.Fatalf("Parse(%s) = %v, want error %d", tt.in, m.Kind, tt.code)
				}
				if err.Code != tt.code {
					t.Errorf("code = %d, want %d (%s)", err.Code, tt.code, err.Message)
				}
				if !strings.Contains(err.Message, tt.errHas) {
					t.Errorf("message %q lacks %q", err.Message, tt.errHas)
				}
				var resp struct {
					JSONRPC string          `json:"jsonrpc"`
					ID      json.RawMessage `json:"id"`
					Error   struct {
						Code    int    `json:"code"`
						Message string `json:"message"`
					} `json:"error"`
				}
				if e := json.Unmarshal(err.Response(), &resp); e != nil {
					t.Fatalf("error response %s: %v", err.Response(), e)
				}
				if string(resp.ID) != tt.errID || resp.Error.Code != tt.code || resp.JSONRPC != "2.0" {
					t.Errorf("error response %s: want id %s code %d", err.Response(), tt.errID, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%s): %v", tt.in, err)
			}
			if m.Kind != tt.kind || string(m.ID) != tt.id || m.Method != tt.method || m.Requests() != tt.requests {
				t.Errorf("Parse(%s) = {%v id=%s method=%q requests=%d}, want {%v id=%s method=%q requests=%d}",
					tt.in, m.Kind, m.ID, m.Method, m.Requests(), tt.kind, tt.id, tt.method, tt.requests)
			}
		})
	}
}

func TestPeek(t *testing.T) {
	tests := []struct {
		in        string
		kind      Kind
		responses int
	}{
		{`{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`, Response, 1},
		{`{"result":"x","jsonrpc":"2.0","id":1}`, Response, 1},
		{`{"jsonrpc":"2.0","id":1,"method":"elicitation/create","params":{}}`, Request, 0},
		{`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}`, Notification, 0},
		{`{"method":"x","jsonrpc":"2.0","id":"s"}`, Request, 0},
		{`[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"error":{}}]`, Batch, 2},
		{`{"jsonrpc":"2.0","id":1,"resu`, Invalid, 0},
		{``, Invalid, 0},
		{`"str"`, Invalid, 0},
	}
	for _, tt := range tests {
		m := Peek([]byte(tt.in))
		if m.Kind != tt.kind || m.Responses() != tt.responses {
			t.Errorf("Peek(%s) = %v with %d responses, want %v with %d", tt.in, m.Kind, m.Responses(), tt.kind, tt.responses)
		}
	}
}

// TestPeekStopsEarly: a response's kind is known at "result", so the
// scanner must not need the rest (here: an unterminated 1 MB string).
func TestPeekStopsEarly(t *testing.T) {
	msg := []byte(`{"jsonrpc":"2.0","id":1,"result":"` + strings.Repeat("x", 1<<20))
	if m := Peek(msg); m.Kind != Response {
		t.Errorf("Peek = %v, want response", m.Kind)
	}
}

func TestField(t *testing.T) {
	res := []byte(` {"capabilities":{"tools":{"x":"protocolVersion"}},"protocolVersion":"2025-06-18","serverInfo":{}}`)
	v, ok := String(Field(res, "protocolVersion"))
	if !ok || v != "2025-06-18" {
		t.Errorf("Field = %q, %v", v, ok)
	}
	if Field(res, "missing") != nil || Field([]byte(`[1]`), "x") != nil {
		t.Error("Field found what isn't there")
	}
}

func TestOneLine(t *testing.T) {
	in := []byte("{\r\n  \"a\": \"x\\ny\",\n  \"b\": 1\r}\n")
	got := OneLine(in)
	if bytes.ContainsAny(got, "\r\n") {
		t.Fatalf("OneLine left a line break: %q", got)
	}
	var v map[string]any
	if err := json.Unmarshal(got, &v); err != nil || v["a"] != "x\ny" {
		t.Errorf("OneLine changed the meaning: %q (%v)", got, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"a"}`, `[{"jsonrpc":"2.0","method":"b"}]`,
		`{"jsonrpc":"2.0","id":"x","result":{"k":"\"}"}}`, `{"a":[{"b":"]"}]}`, `[`, `{"\u0069d":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			if !json.Valid(err.Response()) {
				t.Fatalf("invalid error response %q", err.Response())
			}
			return
		}
		// A valid message's kind agrees with encoding/json.
		if m.Kind == Request || m.Kind == Notification {
			var v struct {
				Method *string `json:"method"`
			}
			if json.Unmarshal(b, &v) == nil && (v.Method == nil || *v.Method != m.Method) {
				t.Fatalf("Parse(%q).Method = %q, encoding/json says %v", b, m.Method, v.Method)
			}
		}
		if len(m.ID) > 0 && !json.Valid(m.ID) {
			t.Fatalf("Parse(%q).ID = %q, not JSON", b, m.ID)
		}
		Peek(b)
	})
}

// FuzzPeek: Peek sees whatever a server sends; it must never panic or hang.
func FuzzPeek(f *testing.F) {
	for _, s := range []string{`{"id":1,"result":{}}`, `[{"method":"x"}]`, `{"a":"\\"}`, `{"a":{"b":[1,2,"]"]}}`, `{"`, `[[[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		Peek(b)
		Field(b, "protocolVersion")
		OneLine(bytes.Clone(b))
	})
}

func TestValid(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, ` {"a":[1,-2.5e+3,true,false,null,"x\u00e9\n"]} `, `"s"`, `0`, `-0.0E-0`,
		`{"a":}`, `{"a" 1}`, `[1,]`, `{,}`, `01`, `1.`, `.5`, `-`, `1e`, `"\x"`, `"\u12g4"`, "\"a\tb\"", `tru`, `[1] 2`, ``, ` `,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	} {
		if got, want := valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("valid(%.40q) = %v, json.Valid says %v", s, got, want)
		}
	}
}

// FuzzValid checks valid against encoding/json.
func FuzzValid(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,true,null,"\u00e9"]}`, `[{"b":{}},[]]`, `-0.1E+2`, `"\"\\\/"`, `[1,]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := valid(b), json.Valid(b); got != want {
			t.Fatalf("valid(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

func BenchmarkParse1KB(b *testing.B) {
	msg := []byte(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"` + strings.Repeat("x", 1024) + `"}}}`)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}
