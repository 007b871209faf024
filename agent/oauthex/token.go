package oauthex

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"
)

// Token endpoint client authentication methods (RFC 7591 §2, RFC 6749 §2.3).
const (
	AuthMethodNone  = "none"
	AuthMethodBasic = "client_secret_basic"
	AuthMethodPost  = "client_secret_post"
)

const (
	maxDescriptionLen = 200
	maxCodeLen        = 64
	redacted          = "[redacted]"
)

// ErrorResponse is an OAuth error answer (RFC 6749 §5.2, RFC 7591 §3.2.2,
// RFC 7009 §2.2.1). Callers react to Code: invalid_grant means log in again,
// invalid_client means register again.
//
// Description and URI are server-controlled text: they are capped and
// stripped of control and formatting characters before they are kept, so
// they can't forge lines in a terminal or reorder text in the UI.
type ErrorResponse struct {
	Code        string // empty when the body was not an OAuth error
	Description string // "HTTP <status>" when the body was not an OAuth error
	URI         string
	StatusCode  int
}

func (e *ErrorResponse) Error() string {
	switch {
	case e.Code == "":
		return "oauth error: " + e.Description
	case e.Description == "":
		return "oauth error " + e.Code
	default:
		return "oauth error " + e.Code + ": " + e.Description
	}
}

// ClientAuth is how the client authenticates at the token and revocation
// endpoints. Method is one of AuthMethodNone, AuthMethodBasic,
// AuthMethodPost, AuthMethodPrivateKeyJWT.
type ClientAuth struct {
	ClientID     string
	ClientSecret string
	Method       string
	// Signer signs the private_key_jwt assertion (RFC 7523 §2.2), for
	// Audience: the AS's issuer identifier, or, when empty, the URL of
	// the endpoint the request goes to.
	Signer   *Signer
	Audience string
}

// String redacts the secret, so a ClientAuth can be printed or logged.
func (a ClientAuth) String() string {
	return fmt.Sprintf("ClientAuth{ClientID: %q, ClientSecret: %s, Method: %q}", a.ClientID, redact(a.ClientSecret), a.Method)
}

// GoString redacts like String, for %#v.
func (a ClientAuth) GoString() string { return a.String() }

// LogValue redacts the secret for log/slog.
func (a ClientAuth) LogValue() slog.Value {
	return slog.GroupValue(slog.String("client_id", a.ClientID), slog.String("client_secret", redact(a.ClientSecret)), slog.String("method", a.Method))
}

// apply puts the client credentials into form (a copy the caller owns) and
// returns the Authorization header value, if any. Only the chosen method
// carries the secret: RFC 6749 §2.3 forbids using more than one. endpoint
// is the URL the form goes to (a private_key_jwt audience of last resort).
func (a ClientAuth) apply(form url.Values, endpoint string) (authorization string, err error) {
	if a.ClientID == "" {
		return "", errors.New("no client ID")
	}
	form.Del("client_secret")
	form.Del("client_assertion")
	form.Del("client_assertion_type")
	switch a.Method {
	case AuthMethodPrivateKeyJWT:
		if a.Signer == nil {
			return "", errors.New("private_key_jwt needs a private key")
		}
		aud := a.Audience
		if aud == "" {
			aud = endpoint
		}
		assertion, err := a.Signer.ClientAssertion(a.ClientID, aud)
		if err != nil {
			return "", err
		}
		form.Set("client_id", a.ClientID)
		form.Set("client_assertion_type", ClientAssertionTypeJWT)
		form.Set("client_assertion", assertion)
	case AuthMethodNone:
		form.Set("client_id", a.ClientID)
	case AuthMethodPost:
		if a.ClientSecret == "" {
			return "", errors.New("client_secret_post needs a client secret")
		}
		form.Set("client_id", a.ClientID)
		form.Set("client_secret", a.ClientSecret)
	case AuthMethodBasic:
		if a.ClientSecret == "" {
			return "", errors.New("client_secret_basic needs a client secret")
		}
		// RFC 6749 §2.3.1: form-urlencode both before base64, as x/oauth2
		// does; a secret with ':' would otherwise be split wrongly.
		cred := url.QueryEscape(a.ClientID) + ":" + url.QueryEscape(a.ClientSecret)
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(cred)), nil
	default:
		return "", fmt.Errorf("unsupported client authentication method %q", a.Method)
	}
	return "", nil
}

// TokenRequest POSTs params to a token endpoint (RFC 6749 §3.2) with the
// client authentication applied and returns the token. params is not
// modified. now computes Expiry from expires_in; nil means time.Now.
//
// The returned token carries the whole response in Extra (scope, id_token,
// ...). A non-2xx answer, or a 200 with an "error" member and no token (as
// GitHub sends), is an *ErrorResponse. No error ever includes the response
// body: it can hold tokens or a client secret.
//
// x/oauth2's Config.Exchange is not used because it can't be given the
// client authentication method and hides the response status and code
// behind RetrieveError, whose Error() prints the raw body.
func TokenRequest(ctx context.Context, c *http.Client, endpoint string, auth ClientAuth, params url.Values, now func() time.Time) (*oauth2.Token, error) {
	tok, err := tokenRequest(ctx, c, endpoint, auth, params, now)
	if err != nil {
		return nil, fmt.Errorf("could not get a token from %s: %w", endpoint, err)
	}
	return tok, nil
}

func tokenRequest(ctx context.Context, c *http.Client, endpoint string, auth ClientAuth, params url.Values, now func() time.Time) (*oauth2.Token, error) {
	if now == nil {
		now = time.Now
	}
	resp, err := postForm(ctx, c, endpoint, auth, params)
	if err != nil {
		return nil, err
	}
	if resp.status < 200 || resp.status > 299 {
		return nil, resp.errorResponse()
	}
	var (
		raw    any
		fields func(string) (any, bool)
	)
	if resp.isForm() {
		vals, err := url.ParseQuery(string(resp.body))
		if err != nil {
			return nil, errors.New("the response is not valid form data")
		}
		raw = vals
		fields = func(k string) (any, bool) { return vals.Get(k), vals.Has(k) }
	} else {
		var m map[string]any
		if err := json.Unmarshal(resp.body, &m); err != nil || m == nil {
			return nil, errors.New("the response is not a JSON object")
		}
		raw = m
		fields = func(k string) (any, bool) { v, ok := m[k]; return v, ok }
	}
	str := func(k string) string {
		v, _ := fields(k)
		s, _ := v.(string)
		return s
	}
	access := str("access_token")
	if access == "" {
		if code := str("error"); code != "" {
			return nil, newErrorResponse(resp.status, code, str("error_description"), str("error_uri"))
		}
		return nil, errors.New("the response has no access_token")
	}
	tok := &oauth2.Token{
		AccessToken:  access,
		TokenType:    str("token_type"),
		RefreshToken: str("refresh_token"),
	}
	if v, ok := fields("expires_in"); ok {
		if secs, ok := expiresIn(v); ok && secs > 0 {
			tok.ExpiresIn = secs
			tok.Expiry = now().Add(time.Duration(secs) * time.Second)
		}
	}
	return tok.WithExtra(raw), nil
}

// expiresIn accepts a JSON number or a numeric string: some servers send
// "3600". Values are capped so the Duration can't overflow.
func expiresIn(v any) (int64, bool) {
	const maxSecs = math.MaxInt64 / int64(time.Second)
	var f float64
	switch v := v.(type) {
	case float64:
		f = v
	case string:
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(n) {
			return 0, false
		}
		f = n
	default:
		return 0, false
	}
	if f >= float64(maxSecs) {
		return maxSecs, true
	}
	return int64(f), true
}

// formResponse is a token-style endpoint's answer, body included; it stays
// inside this package so the body can't leak into an error.
type formResponse struct {
	status      int
	contentType string
	body        []byte
}

// postForm POSTs params plus the client authentication to endpoint.
func postForm(ctx context.Context, c *http.Client, endpoint string, auth ClientAuth, params url.Values) (*formResponse, error) {
	form := url.Values{}
	for k, v := range params {
		form[k] = append([]string(nil), v...)
	}
	authorization, err := auth.apply(form, endpoint)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := httpClient(c).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := readBody(resp.Body)
	if err != nil {
		return nil, err
	}
	return &formResponse{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: body}, nil
}

// errorResponse parses an OAuth error body (JSON, or form data for servers
// like GitHub's). Anything else becomes "HTTP <status>".
func (r *formResponse) errorResponse() *ErrorResponse {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		URI         string `json:"error_uri"`
	}
	if r.isForm() {
		if vals, err := url.ParseQuery(string(r.body)); err == nil {
			e.Error, e.Description, e.URI = vals.Get("error"), vals.Get("error_description"), vals.Get("error_uri")
		}
	} else if json.Unmarshal(r.body, &e) != nil {
		e.Error = ""
	}
	if e.Error == "" {
		return &ErrorResponse{Description: fmt.Sprintf("HTTP %d", r.status), StatusCode: r.status}
	}
	return newErrorResponse(r.status, e.Error, e.Description, e.URI)
}

func newErrorResponse(status int, code, description, uri string) *ErrorResponse {
	return &ErrorResponse{
		Code:        sanitizeText(code, maxCodeLen),
		Description: sanitizeText(description, maxDescriptionLen),
		URI:         sanitizeText(uri, maxDescriptionLen),
		StatusCode:  status,
	}
}

// isForm reports a form-encoded body, as GitHub sends unless asked for JSON.
// text/plain counts too (x/oauth2 does the same) unless the body is a JSON
// object, which some servers mislabel.
func (r *formResponse) isForm() bool {
	mt, _, _ := mime.ParseMediaType(r.contentType)
	return mt == "application/x-www-form-urlencoded" || mt == "text/plain" && !isJSONObject(r.body)
}

// sanitizeText makes server-controlled text safe to show: valid UTF-8, no
// control or formatting characters (which could fake terminal lines or flip
// text direction), at most max runes.
func sanitizeText(s string, max int) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			if r == '\n' || r == '\r' || r == '\t' {
				r = ' '
			} else {
				continue
			}
		}
		if n == max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

func redact(secret string) string {
	if secret == "" {
		return `""`
	}
	return redacted
}
