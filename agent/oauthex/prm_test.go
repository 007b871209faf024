package oauthex

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPRMURLs(t *testing.T) {
	const wk = "/.well-known/oauth-protected-resource"
	tests := []struct {
		name, server, header string
		want                 []string
	}{
		{"root", "https://rs.example", "", []string{"https://rs.example" + wk}},
		{"root slash", "https://rs.example/", "", []string{"https://rs.example" + wk}},
		{"path", "https://rs.example/mcp", "", []string{"https://rs.example" + wk + "/mcp", "https://rs.example" + wk}},
		{"nested path, trailing slash, query dropped", "https://rs.example:8443/a/b/?x=1#f", "", []string{"https://rs.example:8443" + wk + "/a/b", "https://rs.example:8443" + wk}},
		{"header first", "https://rs.example/mcp", "https://meta.example/prm", []string{"https://meta.example/prm", "https://rs.example" + wk + "/mcp", "https://rs.example" + wk}},
		{"header equal to a well-known is not repeated", "https://rs.example/mcp", "https://rs.example" + wk, []string{"https://rs.example" + wk, "https://rs.example" + wk + "/mcp"}},
		{"escaped path kept", "http://127.0.0.1:9/a%20b", "", []string{"http://127.0.0.1:9" + wk + "/a%20b", "http://127.0.0.1:9" + wk}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PRMURLs(tt.server, tt.header)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("PRMURLs(%q, %q) (-want +got):\n%s", tt.server, tt.header, diff)
			}
		})
	}
	for _, bad := range []string{"", "rs.example/mcp", "ftp://rs.example", "https://user:pw@rs.example", "https:opaque", "%zz"} {
		if _, err := PRMURLs(bad, ""); err == nil {
			t.Errorf("PRMURLs(%q): no error", bad)
		}
	}
}

func TestDecodeProtectedResourceMetadata(t *testing.T) {
	tests := []struct {
		name, resource, want string
		ok                   bool
	}{
		{"equal", "https://rs.example/mcp", "https://rs.example/mcp", true},
		{"trailing slash on resource", "https://rs.example/mcp/", "https://rs.example/mcp", true},
		{"trailing slash on server", "https://rs.example/mcp", "https://rs.example/mcp/", true},
		{"case and default port", "HTTPS://RS.Example:443/mcp", "https://rs.example/mcp", true},
		{"fragment ignored", "https://rs.example/mcp#x", "https://rs.example/mcp", true},
		{"root covers path", "https://rs.example/", "https://rs.example/mcp", true},
		{"root without slash covers path", "https://rs.example", "https://rs.example/a/b", true},
		{"parent segment covers child", "https://rs.example/api", "https://rs.example/api/mcp", true},
		{"query equal", "https://rs.example/mcp?t=1", "https://rs.example/mcp?t=1", true},
		{"partial segment", "https://rs.example/m", "https://rs.example/mcp", false},
		{"child does not cover parent", "https://rs.example/mcp/x", "https://rs.example/mcp", false},
		{"other host", "https://evil.example/mcp", "https://rs.example/mcp", false},
		{"other port", "https://rs.example:8443/mcp", "https://rs.example/mcp", false},
		{"other scheme", "http://rs.example/mcp", "https://rs.example/mcp", false},
		{"query differs", "https://rs.example/mcp?t=2", "https://rs.example/mcp?t=1", false},
		{"sibling", "https://rs.example/other", "https://rs.example/mcp", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := `{"resource":"` + tt.resource + `","authorization_servers":["https://as.example"],"scopes_supported":["a","b"]}`
			m, err := DecodeProtectedResourceMetadata([]byte(data), tt.want)
			if !tt.ok {
				var mm *ResourceMismatchError
				if !errors.As(err, &mm) {
					t.Fatalf("err = %v, want *ResourceMismatchError", err)
				}
				if !strings.Contains(err.Error(), tt.resource) {
					t.Errorf("error %q does not name the resource", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := &ProtectedResourceMetadata{Resource: tt.resource, AuthorizationServers: []string{"https://as.example"}, ScopesSupported: []string{"a", "b"}}
			if diff := cmp.Diff(want, m); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeProtectedResourceMetadataInvalid(t *testing.T) {
	tests := []struct{ name, data, wantErr string }{
		{"not JSON", `<html>`, "invalid JSON"},
		{"array", `[]`, "invalid JSON"},
		{"null", `null`, `"resource" is missing`},
		{"no resource", `{"authorization_servers":["https://as"]}`, `"resource" is missing`},
		{"resource wrong type", `{"resource":1}`, "invalid JSON"},
		{"resource not a URL", `{"resource":"mcp"}`, `resource "mcp"`},
		{"javascript AS", `{"resource":"https://rs/mcp","authorization_servers":["javascript:alert(1)"]}`, `authorization server "javascript:alert(1)"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeProtectedResourceMetadata([]byte(tt.data), "https://rs/mcp")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFetchProtectedResourceMetadata(t *testing.T) {
	const wk = "/.well-known/oauth-protected-resource"
	good := doc{body: `{"resource":"{{URL}}/mcp","authorization_servers":["{{URL}}/as"]}`}
	tests := []struct {
		name      string
		routes    map[string]doc
		header    string // path on the server
		wantFrom  string // path, "" for an error
		wantPaths []string
		wantErr   []string
		notFound  bool
	}{
		{
			name:      "header URL first",
			routes:    map[string]doc{"/meta": good, wk + "/mcp": good},
			header:    "/meta",
			wantFrom:  "/meta",
			wantPaths: []string{"/meta"},
		},
		{
			name:      "header URL 404 falls back to path form",
			routes:    map[string]doc{wk + "/mcp": good},
			header:    "/meta",
			wantFrom:  wk + "/mcp",
			wantPaths: []string{"/meta", wk + "/mcp"},
		},
		{
			name:      "root after path",
			routes:    map[string]doc{wk: {body: `{"resource":"{{URL}}/"}`}},
			wantFrom:  wk,
			wantPaths: []string{wk + "/mcp", wk},
		},
		{
			name:      "invalid JSON and 500 move on",
			routes:    map[string]doc{"/meta": {body: `{nope`}, wk + "/mcp": {status: 500}, wk: good},
			header:    "/meta",
			wantFrom:  wk,
			wantPaths: []string{"/meta", wk + "/mcp", wk},
		},
		{
			name:      "mismatch is a hard error",
			routes:    map[string]doc{wk + "/mcp": {body: `{"resource":"https://evil.example/mcp"}`}, wk: good},
			wantPaths: []string{wk + "/mcp"},
			wantErr:   []string{"refusing protected resource metadata at", wk + "/mcp", `"https://evil.example/mcp"`},
		},
		{
			name:      "nothing found",
			routes:    map[string]doc{},
			wantPaths: []string{wk + "/mcp", wk},
			wantErr:   []string{"could not find protected resource metadata", wk + "/mcp: HTTP 404", wk + ": HTTP 404"},
			notFound:  true,
		},
		{
			name:      "nothing valid",
			routes:    map[string]doc{wk + "/mcp": {status: 503}, wk: {body: `{}`}},
			wantPaths: []string{wk + "/mcp", wk},
			wantErr:   []string{wk + "/mcp: HTTP 503", `"resource" is missing`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newDocServer(t, tt.routes)
			header := ""
			if tt.header != "" {
				header = srv.URL + tt.header
			}
			m, from, err := FetchProtectedResourceMetadata(t.Context(), srv.Client(), srv.URL+"/mcp", header)
			if diff := cmp.Diff(tt.wantPaths, srv.requested()); diff != "" {
				t.Errorf("paths requested (-want +got):\n%s", diff)
			}
			if tt.wantFrom == "" {
				if err == nil {
					t.Fatalf("got %+v from %s, want error", m, from)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				if got := errors.Is(err, ErrNoMetadata); got != tt.notFound {
					t.Errorf("errors.Is(err, ErrNoMetadata) = %v, want %v", got, tt.notFound)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if from != srv.URL+tt.wantFrom {
				t.Errorf("from = %s, want %s", from, srv.URL+tt.wantFrom)
			}
			if !strings.HasPrefix(m.Resource, srv.URL) {
				t.Errorf("resource = %q", m.Resource)
			}
		})
	}
}

func TestFetchProtectedResourceMetadataCanceled(t *testing.T) {
	srv := newDocServer(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, err := FetchProtectedResourceMetadata(ctx, srv.Client(), srv.URL+"/mcp", "")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := len(srv.requested()); n != 0 {
		t.Errorf("%d requests after cancel", n)
	}
}

func FuzzDecodeProtectedResourceMetadata(f *testing.F) {
	for _, s := range []struct{ data, want string }{
		{`{"resource":"https://rs.example/mcp","authorization_servers":["https://as.example"]}`, "https://rs.example/mcp"},
		{`{"resource":"https://rs.example/"}`, "https://rs.example/mcp"},
		{`{"resource":"https://RS.example:443/mcp/#f"}`, "https://rs.example/mcp"},
		{`{"resource":"https://rs.example/m"}`, "https://rs.example/mcp"},
		{`{"resource":"https://rs.example/mcp?a=b"}`, "https://rs.example/mcp?a=b"},
		{`{"resource":"https://rs.example/mcp","authorization_servers":["javascript:x"]}`, "https://rs.example/mcp"},
		{`{"resource":null}`, "http://[::1]:80/"},
		{`[`, ""},
	} {
		f.Add([]byte(s.data), s.want)
	}
	f.Fuzz(func(t *testing.T, data []byte, want string) {
		m, err := DecodeProtectedResourceMetadata(data, want)
		if err != nil {
			if m != nil {
				t.Fatal("document returned with an error")
			}
			return
		}
		if m.Resource == "" {
			t.Fatal("accepted a document without resource")
		}
		// An accepted resource is on the wanted origin.
		r, err1 := parseHTTPURL(m.Resource)
		w, err2 := parseHTTPURL(want)
		if err1 != nil || err2 != nil || !sameOrigin(r, w) {
			t.Fatalf("accepted resource %q for %q", m.Resource, want)
		}
		for _, as := range m.AuthorizationServers {
			if _, err := parseHTTPURL(as); err != nil {
				t.Fatalf("accepted authorization server %q", as)
			}
		}
		// Accepting is stable: the resource covers itself.
		if _, err := DecodeProtectedResourceMetadata(data, m.Resource); err != nil {
			t.Fatalf("resource %q does not cover itself: %v", m.Resource, err)
		}
	})
}
