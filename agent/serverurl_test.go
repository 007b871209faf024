package agent

import (
	"errors"
	"testing"

	"mcpauth/keystore"
)

// TestRegisteredURL: what Add registered is read back from the home alone,
// as `mcpauth connect NAME` does beside a running agent; an unknown name,
// or a home with no registry yet, is a *NotFoundError.
func TestRegisteredURL(t *testing.T) {
	home := t.TempDir()
	var nf *NotFoundError
	if _, err := RegisteredURL(home, "linear"); !errors.As(err, &nf) {
		t.Fatalf("empty home: err %v, want *NotFoundError", err)
	}
	a, err := New(Options{Home: home, Store: keystore.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Add(t.Context(), AddRequest{Name: "linear", URL: "https://mcp.linear.app/mcp"}); err != nil {
		t.Fatal(err)
	}
	if u, err := RegisteredURL(home, "linear"); err != nil || u != "https://mcp.linear.app/mcp" {
		t.Errorf("RegisteredURL = %q, %v", u, err)
	}
	if _, err := RegisteredURL(home, "sentry"); !errors.As(err, &nf) || nf.Server != "sentry" {
		t.Errorf("unknown server: err %v, want *NotFoundError for sentry", err)
	}
}
