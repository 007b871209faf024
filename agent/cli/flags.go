package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"strings"
)

// usageError is a mistake in the command line (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// sensitive marks a flag.Value whose values must not be echoed in errors.
type sensitive interface{ sensitive() }

// parseArgs parses args with fs's flags and returns the positional
// arguments. Unlike fs.Parse, it does not stop at the first positional
// argument, so flags may come before or after them (`mcpauth add NAME URL
// --scope x` and `mcpauth add --scope x NAME URL`). It accepts -flag and
// --flag, `--flag=value` and `--flag value`, bool flags without a value,
// and `--`, after which everything is positional. -h and --help, unless
// fs defines them, return flag.ErrHelp.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return append(pos, args[i+1:]...), nil
		}
		if len(arg) < 2 || arg[0] != '-' {
			pos = append(pos, arg)
			continue
		}
		name := strings.TrimPrefix(arg[1:], "-")
		value, hasValue := "", false
		if k := strings.IndexByte(name, '='); k >= 0 {
			name, value, hasValue = name[:k], name[k+1:], true
		}
		if name == "" || name[0] == '-' {
			return nil, usagef("bad flag syntax: %s", strings.SplitN(arg, "=", 2)[0])
		}
		f := fs.Lookup(name)
		if f == nil {
			if name == "h" || name == "help" {
				return nil, flag.ErrHelp
			}
			return nil, usagef("unknown flag --%s", name)
		}
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			if !hasValue {
				value = "true"
			}
		} else if !hasValue {
			if i+1 == len(args) {
				return nil, usagef("flag --%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if err := fs.Set(name, value); err != nil {
			if _, ok := f.Value.(sensitive); ok {
				return nil, usagef("invalid --%s: %v", name, err)
			}
			return nil, usagef("invalid value %q for --%s: %v", value, name, err)
		}
	}
	return pos, nil
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// printFlags is flag.PrintDefaults with GNU-style --names.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if arg != "" {
			line += " " + arg
		}
		if f.DefValue != "" && f.DefValue != "false" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, strings.ReplaceAll(usage, "\n", "\n      "))
	})
}

// scopesFlag collects space-separated scopes; it may be repeated.
type scopesFlag []string

func (s *scopesFlag) String() string { return strings.Join(*s, " ") }
func (s *scopesFlag) Set(v string) error {
	*s = append(*s, strings.Fields(v)...)
	return nil
}

// headerFlag collects repeated --header "Name: value". Values are secrets
// (API keys): they are never echoed, not even in errors.
type headerFlag map[string]string

func (h headerFlag) String() string { return "" }
func (h headerFlag) sensitive()     {}
func (h headerFlag) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	if !ok {
		return errors.New(`want "Name: value"`)
	}
	value = strings.TrimSpace(value)
	if !isToken(name) {
		return fmt.Errorf(`want "Name: value", and %q is not a header name`, name)
	}
	name = textproto.CanonicalMIMEHeaderKey(name)
	switch {
	case value == "":
		return fmt.Errorf("header %s has no value", name)
	case strings.ContainsFunc(value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }):
		return fmt.Errorf("the value of header %s holds a control character", name)
	case name == "Authorization":
		return errors.New("mcpauth sets Authorization itself; use --header for other headers, such as X-API-Key")
	case name == "Host":
		return errors.New("the Host header comes from the server URL")
	}
	if _, dup := h[name]; dup {
		return fmt.Errorf("header %s is given twice", name)
	}
	h[name] = value
	return nil
}

// isToken reports whether s is an RFC 9110 token, the form of a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

// reservedParams are the authorization request's own parameters, which
// --authorize-param must not override (MCP authorization, step 5).
var reservedParams = map[string]string{
	"response_type":         "",
	"client_id":             " (use --client-id)",
	"redirect_uri":          "",
	"state":                 "",
	"code_challenge":        "",
	"code_challenge_method": "",
	"resource":              " (use --no-resource to omit it)",
	"scope":                 " (use --scope)",
}

// paramFlag collects repeated --authorize-param key=value.
type paramFlag map[string]string

func (p paramFlag) String() string { return "" }
func (p paramFlag) Set(v string) error {
	key, value, ok := strings.Cut(v, "=")
	if !ok || key == "" {
		return errors.New("want key=value")
	}
	if hint, ok := reservedParams[key]; ok {
		return fmt.Errorf("mcpauth sets %s itself%s", key, hint)
	}
	if _, dup := p[key]; dup {
		return fmt.Errorf("%s is given twice", key)
	}
	p[key] = value
	return nil
}

// maxNameLen bounds server names; they appear in keychain keys, file names
// and URL paths.
const maxNameLen = 64

// validateName checks a server name: ASCII letters, digits, '-', '_' and
// '.', at most 64, starting with a letter or digit (so never "." or "..",
// and never a flag).
func validateName(name string) error {
	const rule = "use letters, digits, '-', '_' and '.', starting with a letter or digit, at most 64 characters"
	if name == "" {
		return usagef("the server name is empty: %s", rule)
	}
	if len(name) > maxNameLen {
		return usagef("the server name is %d characters long: %s", len(name), rule)
	}
	for i, r := range name {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("-_.", r)) {
			return usagef("invalid server name %q: %s", name, rule)
		}
	}
	return nil
}

// validateURL checks a URL that mcpauth will call: absolute http(s), no
// credentials, no fragment, and https unless the host is loopback or
// allowHTTP (DESIGN.md, safety). what names it in errors. Errors never
// echo the URL, which may carry a key in its query.
func validateURL(what, raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return usagef("%s must be an absolute http(s) URL, such as https://mcp.example.com/mcp", what)
	}
	if u.User != nil {
		return usagef("%s must not hold credentials; send an API key with --header instead", what)
	}
	if u.Fragment != "" {
		return usagef("%s must not have a #fragment", what)
	}
	if u.Scheme == "http" && !allowHTTP && !isLoopback(u.Hostname()) {
		return usagef("%s uses plain http to %s, which would send tokens unencrypted: use https, or pass --allow-http if you must", what, u.Hostname())
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
