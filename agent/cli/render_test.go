package cli

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"mcpauth/agent"
)

var now = time.Date(2026, 7, 28, 12, 0, 0, 0, time.UTC)

func TestWriteTable(t *testing.T) {
	list := []agent.ServerStatus{
		{Name: "linear", URL: "https://mcp.linear.app/mcp", State: agent.StateSignedIn, Issuer: "https://linear.app",
			ClientKind: agent.ClientDynamic, Scopes: []string{"read", "write"},
			Expiry: now.Add(9*time.Minute + 59*time.Second), LastRefresh: now.Add(-5 * time.Minute),
			LastUsed: now.Add(-2 * time.Minute), LastUsedBy: "cursor"},
		{Name: "corp", URL: "https://mcp.corp.example/mcp", State: agent.StateNeedsLogin,
			Issuer: "https://login.corp.example/oauth2/default", ClientKind: agent.ClientPreRegistered,
			Expiry: now.Add(-3 * time.Hour)},
		{Name: "new", URL: "https://new.example/mcp", State: agent.StateError, Error: "no authorization server found"},
	}
	var buf bytes.Buffer
	if err := writeTable(&buf, list, now); err != nil {
		t.Fatal(err)
	}
	want := `NAME    STATE        ISSUER                             CLIENT          SCOPES      EXPIRES         LAST REFRESH  LAST USED
linear  signed in    linear.app                         dynamic         read write  in 9m           5m ago        2m ago by cursor
corp    needs login  login.corp.example/oauth2/default  pre-registered  -           expired 3h ago  -             -
new     error        -                                  -               -           -               -             -

new: no authorization server found
`
	if got := buf.String(); got != want {
		t.Errorf("table (-want +got):\n-%s\n+%s", want, got)
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "[]\n" {
		t.Errorf("empty list: %q, want []", buf.String())
	}
	list := []agent.ServerStatus{{Name: "a", URL: "https://a.example/mcp", State: agent.StateSignedIn, Expiry: now}}
	buf.Reset()
	if err := writeJSON(&buf, list); err != nil {
		t.Fatal(err)
	}
	var got []agent.ServerStatus
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil || !reflect.DeepEqual(got, list) {
		t.Errorf("round trip: %v %+v", err, got)
	}
}

func TestRelativeTimes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fn   func(t, now time.Time) string
		at   time.Time
		want string
	}{
		{expires, time.Time{}, "-"},
		{expires, now.Add(45 * time.Second), "in 45s"},
		{expires, now.Add(9*time.Minute + 59*time.Second), "in 9m"},
		{expires, now.Add(time.Hour), "in 1h"},
		{expires, now.Add(2*time.Hour + 5*time.Minute), "in 2h5m"},
		{expires, now.Add(11*time.Hour + 5*time.Minute), "in 11h"},
		{expires, now.Add(72 * time.Hour), "in 3d"},
		{expires, now.Add(-90 * time.Second), "expired 1m ago"},
		{expires, now, "expired 0s ago"},
		{ago, time.Time{}, "-"},
		{ago, now.Add(-time.Millisecond), "just now"},
		{ago, now.Add(-5 * time.Minute), "5m ago"},
		{ago, now.Add(-30 * time.Hour), "30h ago"},
		{ago, now.Add(-50 * time.Hour), "2d ago"},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.at, now); got != tt.want {
			t.Errorf("at now%+v: got %q, want %q", tt.at.Sub(now), got, tt.want)
		}
	}
}
