package ui

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mcpauth/agent"
)

func TestAddFormRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		f        addForm
		want     agent.AddRequest
		wantErrs map[string]string // field -> substring of its error
	}{
		{"minimal", addForm{Name: " linear ", URL: " https://mcp.linear.app/mcp "},
			agent.AddRequest{Name: "linear", URL: "https://mcp.linear.app/mcp"}, nil},
		{"everything", addForm{
			Name: "corp", URL: "https://mcp.corp.example/mcp", ClientID: "0oa1", ClientSecret: "s3cret",
			MetadataURL: "https://app.example/client.json", Scopes: " mcp  offline_access ",
			Headers: "x-api-key: k1\n\n  X-Team: blue  \n", NoResource: true,
		}, agent.AddRequest{
			Name: "corp", URL: "https://mcp.corp.example/mcp", ClientID: "0oa1", ClientSecret: "s3cret",
			ClientMetadataURL: "https://app.example/client.json", Scopes: []string{"mcp", "offline_access"},
			Headers: map[string]string{"X-Api-Key": "k1", "X-Team": "blue"}, NoResource: true,
		}, nil},
		{"loopback http", addForm{Name: "dev", URL: "http://127.0.0.1:8787/mcp"},
			agent.AddRequest{Name: "dev", URL: "http://127.0.0.1:8787/mcp"}, nil},
		{"allowed http", addForm{Name: "lan", URL: "http://mcp.lan/mcp", AllowHTTP: true},
			agent.AddRequest{Name: "lan", URL: "http://mcp.lan/mcp", AllowHTTP: true}, nil},
		{"empty", addForm{}, agent.AddRequest{}, map[string]string{fieldName: "enter a name", fieldURL: "enter the server's URL"}},
		{"bad name", addForm{Name: "-x", URL: "https://a/b"}, agent.AddRequest{}, map[string]string{fieldName: "letters, digits"}},
		{"long name", addForm{Name: strings.Repeat("a", 65), URL: "https://a/b"}, agent.AddRequest{}, map[string]string{fieldName: "at most 64"}},
		{"plain http", addForm{Name: "a", URL: "http://mcp.example/mcp"}, agent.AddRequest{}, map[string]string{fieldURL: "unencrypted"}},
		{"relative", addForm{Name: "a", URL: "mcp.example/mcp"}, agent.AddRequest{}, map[string]string{fieldURL: "absolute"}},
		{"credentials", addForm{Name: "a", URL: "https://u:p@mcp.example/mcp"}, agent.AddRequest{}, map[string]string{fieldURL: "credentials"}},
		{"fragment", addForm{Name: "a", URL: "https://mcp.example/mcp#x"}, agent.AddRequest{}, map[string]string{fieldURL: "fragment"}},
		{"secret without id", addForm{Name: "a", URL: "https://a/b", ClientSecret: "s"}, agent.AddRequest{}, map[string]string{fieldSecret: "needs a client ID"}},
		{"http metadata", addForm{Name: "a", URL: "https://a/b", MetadataURL: "http://app.example/c.json"}, agent.AddRequest{}, map[string]string{fieldMetadataURL: "https"}},
		{"metadata without path", addForm{Name: "a", URL: "https://a/b", MetadataURL: "https://app.example"}, agent.AddRequest{}, map[string]string{fieldMetadataURL: "path"}},
		{"bad scope", addForm{Name: "a", URL: "https://a/b", Scopes: `ok "bad"`}, agent.AddRequest{}, map[string]string{fieldScopes: `"\"bad\""`}},
		{"header without colon", addForm{Name: "a", URL: "https://a/b", Headers: "X-Key k"}, agent.AddRequest{}, map[string]string{fieldHeaders: "line 1"}},
		{"authorization header", addForm{Name: "a", URL: "https://a/b", Headers: "authorization: Bearer x"}, agent.AddRequest{}, map[string]string{fieldHeaders: "sets Authorization itself"}},
		{"duplicate header", addForm{Name: "a", URL: "https://a/b", Headers: "X-K: 1\nx-k: 2"}, agent.AddRequest{}, map[string]string{fieldHeaders: "twice"}},
		{"empty header", addForm{Name: "a", URL: "https://a/b", Headers: "X-K:"}, agent.AddRequest{}, map[string]string{fieldHeaders: "no value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, errs := tt.f.request()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("request() (-want +got):\n%s", diff)
			}
			gotFields := map[string]string{}
			for f, err := range errs {
				gotFields[f] = err.Error()
			}
			if len(gotFields) != len(tt.wantErrs) {
				t.Errorf("errors = %v, want fields %v", gotFields, tt.wantErrs)
			}
			for f, want := range tt.wantErrs {
				if !strings.Contains(gotFields[f], want) {
					t.Errorf("error for %s = %q, want it to contain %q", f, gotFields[f], want)
				}
			}
		})
	}
}

// Regression guard: header values and the client secret are secrets, and a
// validation error must never repeat them.
func TestAddFormErrorsNeverEchoSecrets(t *testing.T) {
	t.Parallel()
	const secret = "sk-live-0123456789"
	forms := []addForm{
		{Name: "a", URL: "https://a/b", Headers: "X-K: " + secret + "\x01"},
		{Name: "a", URL: "https://a/b", Headers: "X-K: " + secret + "\nx-k: " + secret},
		{Name: "a", URL: "https://a/b", Headers: "Authorization: " + secret},
		{Name: "a", URL: "https://a/b", ClientSecret: secret},
		{Name: "a", URL: "https://user:" + secret + "@a/b"},
	}
	for _, f := range forms {
		_, errs := f.request()
		if len(errs) == 0 {
			t.Errorf("%+v: no error", f.Name)
		}
		if text := formErrorText(errs); strings.Contains(text, secret) {
			t.Errorf("the error shows the secret: %s", text)
		}
	}
}

func TestFormErrorText(t *testing.T) {
	t.Parallel()
	_, errs := addForm{Name: "", URL: "", ClientSecret: "x"}.request()
	want := "Name: enter a name, such as linear\n" +
		"URL: enter the server's URL, such as https://mcp.example.com/mcp\n" +
		"Client secret: a client secret needs a client ID"
	if got := formErrorText(errs); got != want {
		t.Errorf("formErrorText() =\n%s\nwant\n%s", got, want)
	}
}
