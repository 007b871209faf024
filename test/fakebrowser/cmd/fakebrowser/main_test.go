package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as the command, so TestAsBROWSER runs
// a real process the way mcpauth runs $BROWSER, without a go build.
func TestMain(m *testing.M) {
	if os.Getenv("FAKEBROWSER_BE_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

func site(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<form method="post" action="/consent" data-fakebrowser="approve"><input type="hidden" name="decision" value="approve"><button>Approve</button></form>
<form method="post" action="/consent" data-fakebrowser="deny"><input type="hidden" name="decision" value="deny"><button>Deny</button></form>`)
	})
	mux.HandleFunc("POST /consent", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("decision") != "approve" {
			http.Redirect(w, r, "/callback?error=access_denied&state=secretstate", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/callback?code=secretcode&state=secretstate", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("error") {
			http.Error(w, "denied", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, "ok")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestRun(t *testing.T) {
	srv := site(t)
	log := filepath.Join(t.TempDir(), "opens.log")
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStderr string
	}{
		{"approve", []string{srv.URL + "/authorize?state=secretstate"}, map[string]string{"FAKEBROWSER_LOG": log}, 0, "-> 200 " + srv.URL + "/callback ("},
		{"deny", []string{srv.URL + "/authorize?state=secretstate"}, map[string]string{"FAKEBROWSER_LOG": log, "FAKEBROWSER_DENY": "1"}, 1, "-> 403 "},
		{"no args", nil, nil, 2, "usage"},
		{"not http", []string{"file:///etc/passwd"}, nil, 2, "only http(s)"},
		{"unreachable", []string{"http://127.0.0.1:1/x?state=secretstate"}, nil, 2, "could not load"},
		{"bad timeout", []string{srv.URL}, map[string]string{"FAKEBROWSER_TIMEOUT": "soon"}, 2, "FAKEBROWSER_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(tt.args, func(k string) string { return tt.env[k] }, &stderr)
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("exit %d, stderr %q; want %d containing %q", code, stderr.String(), tt.wantCode, tt.wantStderr)
			}
			if strings.Contains(stderr.String(), "secret") {
				t.Errorf("stderr leaks a query: %q", stderr.String())
			}
			if strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("stderr is not one line: %q", stderr.String())
			}
		})
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	if want := host + "/authorize\n" + host + "/authorize\n"; string(b) != want {
		t.Errorf("FAKEBROWSER_LOG = %q, want %q", b, want)
	}
}

func TestAsBROWSER(t *testing.T) {
	srv := site(t)
	log := filepath.Join(t.TempDir(), "opens.log")
	cmd := exec.Command(os.Args[0], srv.URL+"/authorize?state=secretstate")
	cmd.Env = append(os.Environ(), "FAKEBROWSER_BE_MAIN=1", "FAKEBROWSER_LOG="+log)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("fakebrowser: %v, stderr %q", err, stderr.String())
	}
	t.Log(strings.TrimSpace(stderr.String()))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("fakebrowser took %v", d)
	}
	if b, _ := os.ReadFile(log); strings.Count(string(b), "\n") != 1 {
		t.Errorf("log = %q, want one open", b)
	}
}
