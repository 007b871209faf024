package oauthex

import (
	"fmt"
	"net/http"
	"strings"
)

// Challenge is one challenge of a WWW-Authenticate header (RFC 9110 §11.6.1):
//
//	challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
type Challenge struct {
	// Scheme is the auth-scheme as sent. Schemes are case-insensitive:
	// compare with strings.EqualFold.
	Scheme string
	// Params holds the auth-params. Keys are lowercased (parameter names are
	// case-insensitive, RFC 9110 §11.2); values are unquoted and unescaped.
	// It is never nil.
	Params map[string]string
	// Token68 is set instead of Params for a challenge of the token68 form,
	// such as "Negotiate <blob>".
	Token68 string
}

// ParseWWWAuthenticate parses WWW-Authenticate field values. Each value may
// hold several comma-separated challenges, and commas also separate the
// auth-params of one challenge (RFC 9110 §11.6.1), so the parser reads the
// full grammar instead of splitting on commas.
//
// Malformed input is an error naming the value and offset, never a panic.
// Repeated parameter names in one challenge are an error, since RFC 9110
// §11.2 forbids them and picking one would let an attacker choose which
// resource_metadata wins.
func ParseWWWAuthenticate(values []string) ([]Challenge, error) {
	var out []Challenge
	for i, v := range values {
		cs, err := parseChallenges(v)
		if err != nil {
			return nil, fmt.Errorf("could not parse WWW-Authenticate value %d: %w", i+1, err)
		}
		out = append(out, cs...)
	}
	return out, nil
}

// BearerChallenge is what a Bearer challenge tells an OAuth client: where the
// protected resource metadata is (RFC 9728 §5.1), which scopes are needed and
// why the request failed (RFC 6750 §3).
type BearerChallenge struct {
	ResourceMetadata string
	Scopes           []string // the scope parameter split on spaces
	Error            string   // e.g. invalid_token, insufficient_scope
	// ErrorDescription is server-controlled text for humans; it is capped and
	// stripped of control characters like ErrorResponse.Description.
	ErrorDescription string
}

// BearerFromHeader returns the first Bearer challenge across all
// WWW-Authenticate values of h, and false if there is none. Values are parsed
// one by one and a malformed one is skipped, so junk added by a proxy does not
// hide the resource server's own challenge.
func BearerFromHeader(h http.Header) (BearerChallenge, bool) {
	for _, v := range h.Values("WWW-Authenticate") {
		cs, err := parseChallenges(v)
		if err != nil {
			continue
		}
		for _, c := range cs {
			if strings.EqualFold(c.Scheme, "Bearer") {
				return BearerChallenge{
					ResourceMetadata: c.Params["resource_metadata"],
					Scopes:           splitScopes(c.Params["scope"]),
					Error:            c.Params["error"],
					ErrorDescription: sanitizeText(c.Params["error_description"], maxDescriptionLen),
				}, true
			}
		}
	}
	return BearerChallenge{}, false
}

// challengeScanner walks one field value.
type challengeScanner struct {
	s string
	i int
}

func parseChallenges(s string) ([]Challenge, error) {
	p := &challengeScanner{s: s}
	var out []Challenge
	for {
		// Empty list elements are allowed (RFC 9110 §5.6.1).
		p.skipSeparators()
		if p.eof() {
			return out, nil
		}
		c, err := p.challenge()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

func (p *challengeScanner) challenge() (Challenge, error) {
	scheme := p.token()
	if scheme == "" {
		return Challenge{}, p.errorf("expected an auth-scheme")
	}
	c := Challenge{Scheme: scheme, Params: map[string]string{}}
	if p.eof() || p.peek() == ',' {
		return c, nil
	}
	if !isOWS(p.peek()) {
		return Challenge{}, p.errorf("expected a space after auth-scheme %q", scheme)
	}
	p.skipOWS()
	if p.eof() || p.peek() == ',' {
		return c, nil
	}
	if t, ok := p.token68(); ok {
		c.Token68 = t
		return c, nil
	}
	for {
		name := p.token()
		if name == "" {
			return Challenge{}, p.errorf("expected an auth-param name")
		}
		p.skipOWS()
		if p.eof() || p.peek() != '=' {
			return Challenge{}, p.errorf("expected '=' after %q", name)
		}
		p.i++
		p.skipOWS()
		var value string
		if !p.eof() && p.peek() == '"' {
			v, err := p.quoted()
			if err != nil {
				return Challenge{}, err
			}
			value = v
		} else if value = p.token(); value == "" {
			return Challenge{}, p.errorf("expected a value for %q", name)
		}
		key := strings.ToLower(name)
		if _, dup := c.Params[key]; dup {
			return Challenge{}, p.errorf("parameter %q repeated", key)
		}
		c.Params[key] = value

		p.skipOWS()
		if p.eof() {
			return c, nil
		}
		if p.peek() != ',' {
			return Challenge{}, p.errorf("expected ',' after the value of %q", key)
		}
		p.skipSeparators()
		// After a comma comes either another auth-param of this challenge
		// or the next challenge; only an auth-param has "name =".
		if p.eof() || !p.atAuthParam() {
			return c, nil
		}
	}
}

// token68 consumes a token68 (RFC 9110 §11.2) if the rest of the challenge is
// exactly one. "abc=" followed by the end or a comma is a token68, because an
// auth-param needs a value after its '='.
func (p *challengeScanner) token68() (string, bool) {
	j := p.i
	for j < len(p.s) && isToken68Char(p.s[j]) {
		j++
	}
	if j == p.i {
		return "", false
	}
	for j < len(p.s) && p.s[j] == '=' {
		j++
	}
	end := j
	for j < len(p.s) && isOWS(p.s[j]) {
		j++
	}
	if j < len(p.s) && p.s[j] != ',' {
		return "", false
	}
	t := p.s[p.i:end]
	p.i = j
	return t, true
}

// atAuthParam looks ahead for `token BWS "="` without consuming anything.
func (p *challengeScanner) atAuthParam() bool {
	j := p.i
	for j < len(p.s) && isTchar(p.s[j]) {
		j++
	}
	if j == p.i {
		return false
	}
	for j < len(p.s) && isOWS(p.s[j]) {
		j++
	}
	return j < len(p.s) && p.s[j] == '='
}

// quoted consumes a quoted-string (RFC 9110 §5.6.4) and returns it unescaped.
// Control characters other than HTAB are refused, so no value carries them.
func (p *challengeScanner) quoted() (string, error) {
	start := p.i
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		ch := p.s[p.i]
		switch {
		case ch == '"':
			p.i++
			return b.String(), nil
		case ch == '\\':
			if p.i+1 >= len(p.s) {
				return "", p.errorf("unterminated quoted string starting at offset %d", start)
			}
			if n := p.s[p.i+1]; isQuotedPairChar(n) {
				b.WriteByte(n)
				p.i += 2
				continue
			}
			p.i++
			return "", p.errorf("invalid escaped character")
		case isQdtext(ch):
			b.WriteByte(ch)
			p.i++
		default:
			return "", p.errorf("control character in quoted string")
		}
	}
	return "", p.errorf("unterminated quoted string starting at offset %d", start)
}

func (p *challengeScanner) token() string {
	start := p.i
	for p.i < len(p.s) && isTchar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *challengeScanner) skipOWS() {
	for p.i < len(p.s) && isOWS(p.s[p.i]) {
		p.i++
	}
}

func (p *challengeScanner) skipSeparators() {
	for p.i < len(p.s) && (isOWS(p.s[p.i]) || p.s[p.i] == ',') {
		p.i++
	}
}

func (p *challengeScanner) eof() bool  { return p.i >= len(p.s) }
func (p *challengeScanner) peek() byte { return p.s[p.i] }

func (p *challengeScanner) errorf(format string, args ...any) error {
	where := "at the end"
	if !p.eof() {
		where = fmt.Sprintf("at %q (offset %d)", p.s[p.i], p.i)
	}
	return fmt.Errorf(format+" "+where, args...)
}

func isOWS(b byte) bool { return b == ' ' || b == '\t' }

func isAlnum(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

// isTchar reports whether b may appear in a token (RFC 9110 §5.6.2).
func isTchar(b byte) bool {
	return isAlnum(b) || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// isToken68Char excludes the trailing '=' padding (RFC 9110 §11.2).
func isToken68Char(b byte) bool {
	return isAlnum(b) || strings.IndexByte("-._~+/", b) >= 0
}

// isQdtext: HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text.
func isQdtext(b byte) bool {
	return b == '\t' || b == ' ' || b == 0x21 || 0x23 <= b && b <= 0x5B || 0x5D <= b && b <= 0x7E || b >= 0x80
}

// isQuotedPairChar: HTAB / SP / VCHAR / obs-text.
func isQuotedPairChar(b byte) bool {
	return b == '\t' || 0x20 <= b && b <= 0x7E || b >= 0x80
}

// splitScopes splits a scope parameter (RFC 6749 §3.3); nil when empty.
func splitScopes(s string) []string {
	if f := strings.Fields(s); len(f) > 0 {
		return f
	}
	return nil
}
