// Package fakebrowser is a browser for end-to-end tests: it opens a URL,
// follows redirects (including the one to the client's 127.0.0.1 loopback
// callback) with a cookie jar, and clicks through consent pages.
//
// The contract with consent pages: a <form> carrying
// data-fakebrowser="approve" is submitted (data-fakebrowser="deny" when
// Options.Deny is set). test/fakeas's consent page carries both markers.
// Pages without markers, such as oidc-provider's interaction pages, are
// clicked through only with Options.SubmitFirstForm.
package fakebrowser

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
)

// Options configure Open. The zero value approves marked consent pages.
type Options struct {
	// Client supplies the transport and timeout; nil means
	// http.DefaultTransport. Open uses its own cookie jar and redirect
	// policy and never modifies Client.
	Client *http.Client
	// Deny submits the data-fakebrowser="deny" form instead of "approve".
	Deny bool
	// SubmitFirstForm submits a page's first form when it has no marked
	// form (oidc-provider's login and consent interactions).
	SubmitFirstForm bool
	// Fill gives values for empty text and password inputs of submitted
	// forms; inputs it doesn't name get "fakebrowser".
	Fill url.Values
	// MaxForms bounds the forms submitted; 0 means 5.
	MaxForms int
}

// Result is where the navigation ended.
type Result struct {
	// FinalURL is the last URL loaded. It can hold a code and state in
	// its query: don't log it whole.
	FinalURL string
	Status   int
	// Body is the start of the final page (at most 512 bytes).
	Body           string
	Requests       int
	FormsSubmitted int
}

// OK reports whether the final page answered 2xx.
func (r *Result) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Open loads rawURL and follows redirects and consent forms until a page
// needs nothing more. Only http and https URLs are opened.
func Open(ctx context.Context, rawURL string, opts Options) (*Result, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("fakebrowser only opens http(s) URLs, not %q", rawURL)
	}
	if opts.MaxForms == 0 {
		opts.MaxForms = 5
	}
	base := http.DefaultTransport
	var c http.Client
	if opts.Client != nil {
		c = *opts.Client
		if c.Transport != nil {
			base = c.Transport
		}
	}
	var requests atomic.Int64
	c.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		requests.Add(1)
		return base.RoundTrip(r)
	})
	c.Jar, _ = cookiejar.New(nil)
	c.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
		if len(via) >= 20 {
			return errors.New("stopped after 20 redirects")
		}
		return nil
	}

	res := &Result{}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	for {
		page, err := load(&c, req, res)
		res.Requests = int(requests.Load())
		if err != nil {
			return res, err
		}
		f := pickForm(page, opts)
		if f == nil || res.FormsSubmitted >= opts.MaxForms {
			return res, nil
		}
		if req, err = f.request(ctx, res.FinalURL, opts.Fill); err != nil {
			return res, err
		}
		res.FormsSubmitted++
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// load performs req, records the outcome in res and returns the page's
// HTML when it is a 2xx HTML page.
func load(c *http.Client, req *http.Request, res *Result) (string, error) {
	resp, err := c.Do(req)
	if err != nil {
		// *url.Error's message holds the full URL, query included.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			return "", fmt.Errorf("could not load %s: %w", redact(req.URL), ue.Err)
		}
		return "", fmt.Errorf("could not load %s: %w", redact(req.URL), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("could not read %s: %w", redact(resp.Request.URL), err)
	}
	res.FinalURL, res.Status = resp.Request.URL.String(), resp.StatusCode
	res.Body = string(body[:min(len(body), 512)])
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if !res.OK() || mt != "text/html" {
		return "", nil
	}
	return string(body), nil
}

// redact drops the query and fragment, which carry state, codes and PKCE
// challenges.
func redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// Redact returns rawURL without its query and fragment, for logs.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparseable URL)"
	}
	return redact(u)
}

var (
	formRe  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form\s*>`)
	fieldRe = regexp.MustCompile(`(?is)<(input|button)\b([^>]*)>`)
	attrRe  = regexp.MustCompile(`(?s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>` + "`" + `]+)))?`)
)

// form is the little of an HTML form a consent page needs. Parsing is by
// regular expression: good for the pages we control and oidc-provider's,
// not for arbitrary HTML.
type form struct {
	attrs  map[string]string
	fields []map[string]string // attributes of each input and button, with "tag"
}

func parseAttrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		k := strings.ToLower(a[1])
		if _, dup := m[k]; !dup {
			m[k] = html.UnescapeString(a[2] + a[3] + a[4])
		}
	}
	return m
}

func parseForms(page string) []form {
	var forms []form
	for _, m := range formRe.FindAllStringSubmatch(page, -1) {
		f := form{attrs: parseAttrs(m[1])}
		for _, fm := range fieldRe.FindAllStringSubmatch(m[2], -1) {
			a := parseAttrs(fm[2])
			a["tag"] = strings.ToLower(fm[1])
			f.fields = append(f.fields, a)
		}
		forms = append(forms, f)
	}
	return forms
}

func pickForm(page string, opts Options) *form {
	if page == "" {
		return nil
	}
	forms := parseForms(page)
	want := "approve"
	if opts.Deny {
		want = "deny"
	}
	for i := range forms {
		if forms[i].attrs["data-fakebrowser"] == want {
			return &forms[i]
		}
	}
	if opts.SubmitFirstForm && len(forms) > 0 {
		return &forms[0]
	}
	return nil
}

// request builds the submission of f as clicked on its first submit button.
func (f *form) request(ctx context.Context, pageURL string, fill url.Values) (*http.Request, error) {
	page, err := url.Parse(pageURL)
	if err != nil {
		return nil, err
	}
	action, err := page.Parse(f.attrs["action"])
	if err != nil {
		return nil, fmt.Errorf("bad form action on %s: %w", redact(page), err)
	}
	action.Fragment = ""
	vals := url.Values{}
	clicked := false
	for _, a := range f.fields {
		name, typ := a["name"], strings.ToLower(a["type"])
		if typ == "" {
			typ = map[string]string{"input": "text", "button": "submit"}[a["tag"]]
		}
		_, disabled := a["disabled"]
		_, checked := a["checked"]
		switch {
		case disabled:
		case typ == "submit" || typ == "image":
			if !clicked && name != "" {
				vals.Add(name, a["value"])
			}
			clicked = true
		case typ == "button" || typ == "reset" || typ == "file" || name == "":
		case typ == "checkbox" || typ == "radio":
			if checked {
				vals.Add(name, cmp.Or(a["value"], "on"))
			}
		case typ == "hidden" || a["value"] != "":
			vals.Add(name, a["value"])
		default:
			vals.Add(name, cmp.Or(fill.Get(name), "fakebrowser"))
		}
	}
	if strings.EqualFold(f.attrs["method"], "post") {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(vals.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", page.Scheme+"://"+page.Host)
		return req, nil
	}
	action.RawQuery = vals.Encode()
	return http.NewRequestWithContext(ctx, http.MethodGet, action.String(), nil)
}
