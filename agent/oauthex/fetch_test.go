package oauthex

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// doc is a canned answer of a test server. "{{URL}}" in body becomes the
// server's own URL.
type doc struct {
	status int
	body   string
}

// docServer serves routes by path (404 otherwise), asserts that every
// request is a GET asking for JSON, and records the paths requested.
type docServer struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
}

func newDocServer(t *testing.T, routes map[string]doc) *docServer {
	t.Helper()
	s := &docServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.Path)
		s.mu.Unlock()
		if r.Method != http.MethodGet || r.Header.Get("Accept") != "application/json" {
			t.Errorf("%s %s with Accept %q, want GET with application/json", r.Method, r.URL, r.Header.Get("Accept"))
		}
		d, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if d.status == 0 {
			d.status = http.StatusOK
		}
		w.WriteHeader(d.status)
		w.Write([]byte(strings.ReplaceAll(d.body, "{{URL}}", s.URL)))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *docServer) requested() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

func TestReadBodyLimit(t *testing.T) {
	if _, err := readBody(strings.NewReader(strings.Repeat("x", maxBodySize))); err != nil {
		t.Errorf("readBody of exactly 1 MiB: %v", err)
	}
	if _, err := readBody(strings.NewReader(strings.Repeat("x", maxBodySize+1))); err == nil {
		t.Error("readBody of 1 MiB + 1: no error")
	}
}

func TestGetJSONTooLarge(t *testing.T) {
	srv := newDocServer(t, map[string]doc{"/big": {body: `{"a":"` + strings.Repeat("x", maxBodySize) + `"}`}})
	_, err := getJSON(t.Context(), srv.Client(), srv.URL+"/big")
	if err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("getJSON of a 1 MiB+ body: err = %v, want a size error", err)
	}
}

func TestAttemptsErrorNoMetadata(t *testing.T) {
	notFound := attemptsError{{URL: "a", Err: &StatusError{404}}, {URL: "b", Err: &StatusError{401}}}
	if !errors.Is(notFound, ErrNoMetadata) {
		t.Error("all 4xx: errors.Is(ErrNoMetadata) = false")
	}
	mixed := append(notFound, &attemptError{URL: "c", Err: &StatusError{500}})
	if errors.Is(mixed, ErrNoMetadata) {
		t.Error("with a 500: errors.Is(ErrNoMetadata) = true")
	}
	if errors.Is(attemptsError(nil), ErrNoMetadata) {
		t.Error("no attempts: errors.Is(ErrNoMetadata) = true")
	}
	if got, want := notFound.Error(), "a: HTTP 404; b: HTTP 401"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestGetJSONRefusesEventStream: a server that answers every path with an
// endless SSE stream (the conformance suite's sse-retry server) must not
// hold discovery until the caller gives up.
func TestGetJSONRefusesEventStream(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	done := make(chan error, 1)
	go func() {
		_, err := getJSON(context.Background(), srv.Client(), srv.URL+"/.well-known/oauth-protected-resource")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "text/event-stream") {
			t.Errorf("err = %v, want a refusal naming text/event-stream", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("getJSON still reading an endless event stream after 5s")
	}
}
