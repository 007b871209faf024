package grants

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// userAgent is the user's browser on another device for oidc-provider's
// device flow pages (RFC 8628 §3.3): it keeps cookies (the pages' CSRF
// token lives in the session), submits forms, and follows redirects,
// through the login and consent interactions that test/oidc auto-approves.
type userAgent struct{ c *http.Client }

func newUserAgent() *userAgent {
	jar, _ := cookiejar.New(nil)
	return &userAgent{c: &http.Client{Jar: jar, Timeout: 15 * time.Second}}
}

// enterCode opens verificationURI, types userCode into its form, and then
// confirms (approve) or aborts the sign-in on the confirmation page. It
// returns the last page's text.
func (u *userAgent) enterCode(ctx context.Context, verificationURI, userCode string, approve bool) (string, error) {
	page, base, err := u.do(ctx, http.MethodGet, verificationURI, nil)
	if err != nil {
		return "", err
	}
	action, fields, err := firstForm(page, base)
	if err != nil {
		return "", fmt.Errorf("the code entry page: %w", err)
	}
	fields.Set("user_code", userCode)
	if page, base, err = u.do(ctx, http.MethodPost, action, fields); err != nil {
		return "", err
	}
	if action, fields, err = firstForm(page, base); err != nil {
		return "", fmt.Errorf("the confirmation page: %w", err)
	}
	if fields.Get("confirm") == "" {
		return "", fmt.Errorf("the confirmation page has no confirm field (%s)", title(page))
	}
	if !approve {
		fields.Del("confirm")
		fields.Set("abort", "yes")
	}
	page, _, err = u.do(ctx, http.MethodPost, action, fields)
	return page, err
}

func (u *userAgent) do(ctx context.Context, method, target string, form url.Values) (string, *url.URL, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return "", nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := u.c.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return string(b), resp.Request.URL, fmt.Errorf("%s %s: HTTP %d (%s)", method, resp.Request.URL.Path, resp.StatusCode, title(string(b)))
	}
	return string(b), resp.Request.URL, nil
}

var (
	formRE  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRE  = regexp.MustCompile(`(?is)\b(name|value|action)\s*=\s*"([^"]*)"`)
	titleRE = regexp.MustCompile(`(?is)<title>(.*?)</title>`)
)

// firstForm returns the action (resolved against base) and the named
// inputs of the page's first form.
func firstForm(page string, base *url.URL) (string, url.Values, error) {
	m := formRE.FindStringSubmatch(page)
	if m == nil {
		return "", nil, fmt.Errorf("no form on the page (%s)", title(page))
	}
	action := base.String()
	if a := attrs(m[1])["action"]; a != "" {
		ref, err := url.Parse(a)
		if err != nil {
			return "", nil, err
		}
		action = base.ResolveReference(ref).String()
	}
	fields := url.Values{}
	for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
		a := attrs(in[1])
		if name := a["name"]; name != "" {
			fields.Set(name, a["value"])
		}
	}
	return action, fields, nil
}

func attrs(tag string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(tag, -1) {
		out[strings.ToLower(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

func title(page string) string {
	if m := titleRE.FindStringSubmatch(page); m != nil {
		return strings.TrimSpace(m[1])
	}
	return "no title"
}
