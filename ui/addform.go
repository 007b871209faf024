package ui

import (
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"

	"mcpauth/agent"
)

// addForm is the Add server dialog's fields as typed. request validates
// them the way `mcpauth add` validates its flags, so that the user hears
// about a mistake before the agent is asked. Errors never echo a secret
// (the client secret, header values).
type addForm struct {
	Name, URL              string
	ClientID, ClientSecret string
	MetadataURL            string
	Scopes                 string // space-separated
	Headers                string // one "Name: value" per line
	NoResource, AllowHTTP  bool
}

// The form's field labels, the keys of request's errors.
const (
	fieldName        = "Name"
	fieldURL         = "URL"
	fieldClientID    = "Client ID"
	fieldSecret      = "Client secret"
	fieldMetadataURL = "Metadata URL"
	fieldScopes      = "Scopes"
	fieldHeaders     = "Headers"
)

// request returns the AddRequest for f, or the first problem per field.
func (f addForm) request() (agent.AddRequest, map[string]error) {
	errs := map[string]error{}
	req := agent.AddRequest{
		Name:              strings.TrimSpace(f.Name),
		URL:               strings.TrimSpace(f.URL),
		ClientID:          strings.TrimSpace(f.ClientID),
		ClientSecret:      f.ClientSecret,
		ClientMetadataURL: strings.TrimSpace(f.MetadataURL),
		Scopes:            strings.Fields(f.Scopes),
		NoResource:        f.NoResource,
		AllowHTTP:         f.AllowHTTP,
	}
	if err := validateServerName(req.Name); err != nil {
		errs[fieldName] = err
	}
	if err := validateServerURL(req.URL, f.AllowHTTP); err != nil {
		errs[fieldURL] = err
	}
	if req.ClientSecret != "" && req.ClientID == "" {
		errs[fieldSecret] = errors.New("a client secret needs a client ID")
	}
	if req.ClientMetadataURL != "" {
		if u, err := url.Parse(req.ClientMetadataURL); err != nil || u.Scheme != "https" || u.Host == "" || u.Path == "" || u.Path == "/" {
			errs[fieldMetadataURL] = errors.New("a client metadata document URL is an https URL with a path")
		}
	}
	for _, s := range req.Scopes {
		if !validScope(s) {
			errs[fieldScopes] = fmt.Errorf("%q is not a valid scope", s)
			break
		}
	}
	h, err := parseHeaders(f.Headers)
	if err != nil {
		errs[fieldHeaders] = err
	}
	if len(h) > 0 {
		req.Headers = h
	}
	if len(req.Scopes) == 0 {
		req.Scopes = nil
	}
	if len(errs) > 0 {
		return agent.AddRequest{}, errs
	}
	return req, nil
}

var serverNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// validateServerName applies the agent's rule for names (they appear in
// keychain keys, file names and URL paths). Local client names follow it
// too.
func validateServerName(name string) error {
	if name == "" {
		return errors.New("enter a name, such as linear")
	}
	if !serverNameRE.MatchString(name) {
		return errors.New("use letters, digits, '-', '_' and '.', starting with a letter or digit, at most 64 characters")
	}
	return nil
}

// validateServerURL checks an MCP server URL: absolute http(s), without
// credentials or fragment, https unless the host is loopback or allowHTTP
// (DESIGN.md, safety). It never echoes the URL, which may hold a key.
func validateServerURL(raw string, allowHTTP bool) error {
	if raw == "" {
		return errors.New("enter the server's URL, such as https://mcp.example.com/mcp")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("enter an absolute http(s) URL, such as https://mcp.example.com/mcp")
	}
	if u.User != nil {
		return errors.New("the URL must not hold credentials; send an API key as a header instead")
	}
	if u.Fragment != "" {
		return errors.New("the URL must not have a #fragment")
	}
	if u.Scheme == "http" && !allowHTTP && !isLoopbackHost(u.Hostname()) {
		return errors.New("plain http would send tokens unencrypted: use https, or tick Allow http")
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validScope is RFC 6749 §3.3's scope-token: printable ASCII but space,
// '"' and '\'.
func validScope(s string) bool {
	for _, r := range s {
		if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
			return false
		}
	}
	return s != ""
}

// parseHeaders reads "Name: value" lines (blank lines are skipped). Values
// are secrets: errors name the header, never its value.
func parseHeaders(text string) (map[string]string, error) {
	h := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || !validToken(name) {
			return nil, fmt.Errorf(`line %d: write each header as "Name: value"`, i+1)
		}
		name = textproto.CanonicalMIMEHeaderKey(name)
		switch {
		case value == "":
			return nil, fmt.Errorf("header %s has no value", name)
		case strings.ContainsFunc(value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }):
			return nil, fmt.Errorf("the value of header %s holds a control character", name)
		case name == "Authorization":
			return nil, errors.New("mcpauth sets Authorization itself; add other headers, such as X-Api-Key")
		case name == "Host":
			return nil, errors.New("the Host header comes from the server URL")
		}
		if _, dup := h[name]; dup {
			return nil, fmt.Errorf("header %s is given twice", name)
		}
		h[name] = value
	}
	return h, nil
}

// validToken is RFC 9110's token, the form of a header name.
func validToken(s string) bool {
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

var errEmptyClientID = errors.New("enter the client ID")

// formFields is the order the Add form shows its fields in.
var formFields = []string{fieldName, fieldURL, fieldClientID, fieldSecret, fieldMetadataURL, fieldScopes, fieldHeaders}

// formErrorText lists errs, one field per line, in the form's order.
func formErrorText(errs map[string]error) string {
	var lines []string
	for _, f := range formFields {
		if err := errs[f]; err != nil {
			lines = append(lines, f+": "+err.Error())
		}
	}
	return strings.Join(lines, "\n")
}
