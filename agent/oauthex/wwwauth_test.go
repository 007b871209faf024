package oauthex

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseWWWAuthenticate(t *testing.T) {
	p := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name   string
		values []string
		want   []Challenge
	}{
		{"empty", nil, nil},
		{"blank value", []string{"  , ,"}, nil},
		{"bare scheme", []string{"Bearer"}, []Challenge{{Scheme: "Bearer", Params: p()}}},
		{
			"bearer with params",
			[]string{`Bearer realm="example", error="invalid_token", error_description="The access token expired"`},
			[]Challenge{{Scheme: "Bearer", Params: p("realm", "example", "error", "invalid_token", "error_description", "The access token expired")}},
		},
		{
			"resource_metadata and scope",
			[]string{`Bearer resource_metadata="https://rs.example/.well-known/oauth-protected-resource", scope="files:read files:write"`},
			[]Challenge{{Scheme: "Bearer", Params: p("resource_metadata", "https://rs.example/.well-known/oauth-protected-resource", "scope", "files:read files:write")}},
		},
		{
			"several challenges in one value",
			[]string{`Basic realm="simple", Newauth realm="apps", type=1, title="Login to \"apps\"", Bearer`},
			[]Challenge{
				{Scheme: "Basic", Params: p("realm", "simple")},
				{Scheme: "Newauth", Params: p("realm", "apps", "type", "1", "title", `Login to "apps"`)},
				{Scheme: "Bearer", Params: p()},
			},
		},
		{
			"several values",
			[]string{`Basic realm="a"`, `Bearer scope="x"`},
			[]Challenge{{Scheme: "Basic", Params: p("realm", "a")}, {Scheme: "Bearer", Params: p("scope", "x")}},
		},
		{
			"quoted comma and escapes",
			[]string{`Bearer error_description="a, b=c, \"d\" \\ e", realm=x`},
			[]Challenge{{Scheme: "Bearer", Params: p("error_description", `a, b=c, "d" \ e`, "realm", "x")}},
		},
		{
			"case-insensitive names kept as sent, keys lowercased",
			[]string{`BEARER Resource_Metadata="u", SCOPE=a`},
			[]Challenge{{Scheme: "BEARER", Params: p("resource_metadata", "u", "scope", "a")}},
		},
		{
			"token68",
			[]string{"Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg==, Bearer realm=r"},
			[]Challenge{{Scheme: "Negotiate", Params: p(), Token68: "YIIBhwYGKwYBBQUCoIIBezCCAXeg=="}, {Scheme: "Bearer", Params: p("realm", "r")}},
		},
		{
			"token68 without padding then params challenge",
			[]string{"Basic abc/+._~-, Bearer a=b"},
			[]Challenge{{Scheme: "Basic", Params: p(), Token68: "abc/+._~-"}, {Scheme: "Bearer", Params: p("a", "b")}},
		},
		{
			"whitespace around = and empty list elements",
			[]string{"  Bearer   realm = \"r\" ,, scope\t=\ta ,  ,Basic  "},
			[]Challenge{{Scheme: "Bearer", Params: p("realm", "r", "scope", "a")}, {Scheme: "Basic", Params: p()}},
		},
		{
			"empty quoted value",
			[]string{`Bearer realm=""`},
			[]Challenge{{Scheme: "Bearer", Params: p("realm", "")}},
		},
		{
			"obs-text passes through",
			[]string{"Bearer realm=\"caf\xc3\xa9\""},
			[]Challenge{{Scheme: "Bearer", Params: p("realm", "café")}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWWWAuthenticate(tt.values)
			if err != nil {
				t.Fatalf("ParseWWWAuthenticate(%q): %v", tt.values, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseWWWAuthenticate(%q) (-want +got):\n%s", tt.values, diff)
			}
		})
	}
}

func TestParseWWWAuthenticateErrors(t *testing.T) {
	tests := []struct {
		name, value, wantErr string
	}{
		{"starts with quote", `"Bearer"`, "expected an auth-scheme"},
		{"unterminated quote", `Bearer realm="abc`, "unterminated quoted string"},
		{"escape at end", `Bearer realm="abc\`, "unterminated quoted string"},
		{"control char in quotes", "Bearer realm=\"a\x01b\"", "control character"},
		{"newline in quotes", "Bearer realm=\"a\nb\"", "control character"},
		{"missing value", `Bearer a=b, realm=, scope="x"`, "expected a value"},
		{"garbage after value", `Bearer realm="a" scope="b"`, "expected ','"},
		{"duplicate param", `Bearer scope=a, SCOPE=b`, `parameter "scope" repeated`},
		{"no space after scheme", `Bearer;realm=a`, "expected a space"},
		{"param without equals", `Bearer realm="a", b c d`, "expected '='"},
		{"bad token char", "Bearer @", "expected an auth-param name"},
		{"scheme is separator", "=abc", "expected an auth-scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWWWAuthenticate([]string{"Basic", tt.value})
			if err == nil {
				t.Fatalf("ParseWWWAuthenticate(%q) = %+v, want error", tt.value, got)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "value 2") {
				t.Errorf("error %q does not name value 2 and contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestBearerFromHeader(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   BearerChallenge
		wantOK bool
	}{
		{"none", nil, BearerChallenge{}, false},
		{"only basic", []string{`Basic realm="x"`}, BearerChallenge{}, false},
		{
			"bearer after basic in the same value",
			[]string{`Basic realm="x", bearer resource_metadata="https://rs/prm", scope="a  b", error="insufficient_scope", error_description="need b"`},
			BearerChallenge{ResourceMetadata: "https://rs/prm", Scopes: []string{"a", "b"}, Error: "insufficient_scope", ErrorDescription: "need b"},
			true,
		},
		{
			"malformed value skipped",
			[]string{`Bearer realm="broken`, `Bearer scope="s"`},
			BearerChallenge{Scopes: []string{"s"}},
			true,
		},
		{
			"first bearer wins",
			[]string{`Bearer scope="one"`, `Bearer scope="two"`},
			BearerChallenge{Scopes: []string{"one"}},
			true,
		},
		{
			"description sanitised",
			[]string{"Bearer error_description=\"a\tb\xe2\x80\xaeevil\""},
			BearerChallenge{ErrorDescription: "a bevil"},
			true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("Www-Authenticate", v)
			}
			got, ok := BearerFromHeader(h)
			if ok != tt.wantOK {
				t.Fatalf("BearerFromHeader ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("BearerFromHeader (-want +got):\n%s", diff)
			}
		})
	}
}

// formatChallenges writes challenges back in canonical syntax, for the
// round-trip invariant of the fuzz target.
func formatChallenges(cs []Challenge) string {
	var parts []string
	for _, c := range cs {
		s := c.Scheme
		if c.Token68 != "" {
			s += " " + c.Token68
		}
		var params []string
		for k, v := range c.Params {
			params = append(params, k+`="`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v)+`"`)
		}
		if len(params) > 0 {
			s += " " + strings.Join(params, ", ")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func FuzzParseWWWAuthenticate(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="example", error="invalid_token"`,
		`Bearer resource_metadata="https://rs/.well-known/oauth-protected-resource", scope="a b"`,
		`Basic realm="simple", Newauth realm="apps", type=1, title="Login to \"apps\""`,
		`Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg==, Bearer realm=r`,
		`Bearer realm="a, b", scope=x`,
		`Bearer realm="abc`,
		` , ,Basic  `,
		`Bearer a=b, =c`,
		"Bearer realm=\"\\\xff\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := ParseWWWAuthenticate([]string{s})
		if err != nil {
			return
		}
		for _, c := range cs {
			if c.Scheme == "" || strings.IndexFunc(c.Scheme, func(r rune) bool { return r > 0x7e || !isTchar(byte(r)) }) >= 0 {
				t.Fatalf("scheme %q is not a token", c.Scheme)
			}
			if c.Params == nil {
				t.Fatalf("nil Params for %q", s)
			}
			if c.Token68 != "" && len(c.Params) > 0 {
				t.Fatalf("both token68 and params for %q", s)
			}
			for k, v := range c.Params {
				if k == "" || k != strings.ToLower(k) {
					t.Fatalf("param key %q is not lowercase", k)
				}
				for i := 0; i < len(v); i++ {
					if b := v[i]; b < 0x20 && b != '\t' || b == 0x7f {
						t.Fatalf("param %q value %q holds a control character", k, v)
					}
				}
			}
		}
		// What the parser accepts, written back canonically, parses to the same.
		again, err := ParseWWWAuthenticate([]string{formatChallenges(cs)})
		if err != nil {
			t.Fatalf("reparse of %q: %v", formatChallenges(cs), err)
		}
		if diff := cmp.Diff(cs, again); diff != "" {
			t.Fatalf("round trip of %q (-first +second):\n%s", s, diff)
		}
		BearerFromHeader(http.Header{"Www-Authenticate": {s}})
	})
}
