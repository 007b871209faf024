package cli

import (
	"errors"
	"flag"
	"reflect"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantPos []string
		wantS   string
		wantB   bool
		wantH   map[string]string
		wantErr string // substring; "help" means flag.ErrHelp
	}{
		{name: "flags after positionals", args: []string{"a", "--s", "x", "b"}, wantPos: []string{"a", "b"}, wantS: "x"},
		{name: "flags before positionals", args: []string{"--s=x", "-b", "a", "b"}, wantPos: []string{"a", "b"}, wantS: "x", wantB: true},
		{name: "single dash", args: []string{"-s", "x", "a"}, wantPos: []string{"a"}, wantS: "x"},
		{name: "bool takes no value", args: []string{"-b", "a"}, wantPos: []string{"a"}, wantB: true},
		{name: "bool with =false", args: []string{"--b=false", "a"}, wantPos: []string{"a"}},
		{name: "value with =", args: []string{"--s=k=v"}, wantS: "k=v"},
		{name: "value that looks like a flag", args: []string{"--s", "--b"}, wantS: "--b"},
		{name: "terminator", args: []string{"a", "--", "--s", "x", "-b"}, wantPos: []string{"a", "--s", "x", "-b"}},
		{name: "lone dash is positional", args: []string{"-"}, wantPos: []string{"-"}},
		{name: "repeated header", args: []string{"--header", "X-A: 1", "a", "--header=x-b: 2"}, wantPos: []string{"a"},
			wantH: map[string]string{"X-A": "1", "X-B": "2"}},
		{name: "missing value", args: []string{"a", "--s"}, wantErr: "flag --s needs a value"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "unknown flag --nope"},
		{name: "bad bool", args: []string{"--b=maybe"}, wantErr: `invalid value "maybe" for --b`},
		{name: "triple dash", args: []string{"---s=x"}, wantErr: "bad flag syntax: ---s"},
		{name: "--help", args: []string{"a", "--help"}, wantErr: "help"},
		{name: "-h", args: []string{"-h"}, wantErr: "help"},
		{name: "duplicate header", args: []string{"--header", "X-A: 1", "--header", "x-a: 2"}, wantErr: "header X-A is given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			s := fs.String("s", "", "")
			b := fs.Bool("b", false, "")
			h := headerFlag{}
			fs.Var(h, "header", "")
			pos, err := parseArgs(fs, tt.args)
			switch {
			case tt.wantErr == "help":
				if !errors.Is(err, flag.ErrHelp) {
					t.Fatalf("err = %v, want flag.ErrHelp", err)
				}
				return
			case tt.wantErr != "":
				var ue *usageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a usage error containing %q", err, tt.wantErr)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pos, tt.wantPos) {
				t.Errorf("positional = %q, want %q", pos, tt.wantPos)
			}
			if *s != tt.wantS || *b != tt.wantB {
				t.Errorf("s, b = %q, %v; want %q, %v", *s, *b, tt.wantS, tt.wantB)
			}
			if tt.wantH == nil {
				tt.wantH = map[string]string{}
			}
			if !reflect.DeepEqual(map[string]string(h), tt.wantH) {
				t.Errorf("headers = %v, want %v", h, tt.wantH)
			}
		})
	}
}

// A rejected --header or --flag=value must not echo the value, which may be
// an API key.
func TestParseArgsNeverEchoesSecrets(t *testing.T) {
	for _, args := range [][]string{
		{"--nope=hunter2"},
		{"--header", "X-Key hunter2"},
		{"--header", "X-Key: hunter2", "--header", "X-Key: hunter2"},
		{"--header", "X-Key: hunter2\r\nX-Evil: 1"},
		{"--header", "Authorization: Bearer hunter2"},
	} {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.Var(headerFlag{}, "header", "")
		_, err := parseArgs(fs, args)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("parseArgs(%q) = %v; want an error without the value", args, err)
		}
	}
}

func TestHeaderFlag(t *testing.T) {
	tests := []struct {
		in       string
		wantName string
		wantVal  string
		wantErr  string
	}{
		{in: "X-Api-Key: abc", wantName: "X-Api-Key", wantVal: "abc"},
		{in: "x-api-key:abc", wantName: "X-Api-Key", wantVal: "abc"},
		{in: "X-Tenant:  a b  ", wantName: "X-Tenant", wantVal: "a b"},
		{in: "X-Key: a:b", wantName: "X-Key", wantVal: "a:b"},
		{in: "X-Key abc", wantErr: `want "Name: value"`},
		{in: ": abc", wantErr: "is not a header name"},
		{in: "Bad Name: abc", wantErr: `"Bad Name" is not a header name`},
		{in: "X-Key: ", wantErr: "header X-Key has no value"},
		{in: "X-Key: a\nb", wantErr: "control character"},
		{in: "authorization: Bearer x", wantErr: "mcpauth sets Authorization itself"},
		{in: "Host: evil.example", wantErr: "Host header"},
	}
	for _, tt := range tests {
		h := headerFlag{}
		err := h.Set(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Set(%q) = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(h) != 1 || h[tt.wantName] != tt.wantVal {
			t.Errorf("Set(%q) = %v, %v; want %s=%q", tt.in, err, map[string]string(h), tt.wantName, tt.wantVal)
		}
	}
}

func TestParamFlag(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{in: "prompt=consent"},
		{in: "audience=https://api.example=x"},
		{in: "login_hint="},
		{in: "prompt", wantErr: "want key=value"},
		{in: "=consent", wantErr: "want key=value"},
		{in: "state=x", wantErr: "mcpauth sets state itself"},
		{in: "client_id=x", wantErr: "use --client-id"},
		{in: "scope=x", wantErr: "use --scope"},
		{in: "resource=x", wantErr: "--no-resource"},
		{in: "code_challenge=x", wantErr: "mcpauth sets code_challenge itself"},
	}
	for _, tt := range tests {
		err := paramFlag{}.Set(tt.in)
		if (err != nil) != (tt.wantErr != "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Set(%q) = %v, want %q", tt.in, err, tt.wantErr)
		}
	}
	p := paramFlag{}
	if err := p.Set("prompt=a"); err != nil {
		t.Fatal(err)
	}
	if err := p.Set("prompt=b"); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate: %v", err)
	}
}

func TestValidateName(t *testing.T) {
	for _, name := range []string{"linear", "a", "A.b-c_d", "0day", strings.Repeat("x", 64)} {
		if err := validateName(name); err != nil {
			t.Errorf("validateName(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"", strings.Repeat("x", 65), ".", "..", ".hidden", "-x", "_x", "a b", "a/b", "a:b", "café", "a\x00"} {
		err := validateName(name)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "letters, digits") {
			t.Errorf("validateName(%q) = %v, want a usage error with the rule", name, err)
		}
	}
}

func TestValidateURL(t *testing.T) {
	tests := []struct {
		url       string
		allowHTTP bool
		wantErr   string
	}{
		{url: "https://mcp.linear.app/mcp"},
		{url: "https://mcp.example.com:8443/v1/mcp?tenant=x"},
		{url: "http://127.0.0.1:8787/mcp"},
		{url: "http://localhost/mcp"},
		{url: "http://[::1]:9/mcp"},
		{url: "http://mcp.intranet/mcp", allowHTTP: true},
		{url: "http://mcp.intranet/mcp", wantErr: "--allow-http"},
		{url: "mcp.example.com/mcp", wantErr: "absolute http(s) URL"},
		{url: "/mcp", wantErr: "absolute http(s) URL"},
		{url: "ftp://x.example/", wantErr: "absolute http(s) URL"},
		{url: "https://", wantErr: "absolute http(s) URL"},
		{url: "https://x.example/%zz", wantErr: "absolute http(s) URL"},
		{url: "https://user:hunter2@x.example/mcp", wantErr: "must not hold credentials"},
		{url: "https://x.example/mcp#frag", wantErr: "#fragment"},
	}
	for _, tt := range tests {
		err := validateURL("the server URL", tt.url, tt.allowHTTP)
		if (err != nil) != (tt.wantErr != "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("validateURL(%q, %v) = %v, want %q", tt.url, tt.allowHTTP, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("validateURL(%q) echoes the password: %v", tt.url, err)
		}
	}
}
