package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readAudit(t *testing.T, home string) []AuditRecord {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(home, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []AuditRecord
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var r AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

func TestAuditThrottleAndLastUse(t *testing.T) {
	ctx := context.Background()
	clock := newManualClock()
	a := newLocalAgent(t, "", clock)
	for _, n := range []string{"linear", "sentry"} {
		if err := a.Add(ctx, AddRequest{Name: n, URL: "https://" + n + ".example/mcp"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.AddClient(ctx, "cursor"); err != nil {
		t.Fatal(err)
	}
	t0 := clock.Now()

	// A busy client: a hundred requests in 59 s make one line.
	for range 100 {
		a.NoteUse("cursor", "linear")
		clock.Add(590 * time.Millisecond)
	}
	if recs := readAudit(t, a.home); len(recs) != 1 || recs[0].Client != "cursor" || recs[0].Server != "linear" || !recs[0].Time.Equal(t0) {
		t.Fatalf("after 100 uses in 59s: %+v, want one line at %v", recs, t0)
	}
	// Another pair is not throttled by the first.
	a.NoteUse("vscode", "linear")
	// A minute after the first line, the next use writes again.
	clock.Add(time.Second)
	a.NoteUse("cursor", "linear")
	recs := readAudit(t, a.home)
	if len(recs) != 3 || recs[1].Client != "vscode" || recs[2].Client != "cursor" || !recs[2].Time.Equal(clock.Now()) {
		t.Fatalf("audit: %+v", recs)
	}
	if fi, err := os.Stat(filepath.Join(a.home, "audit.jsonl")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("audit.jsonl: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}

	// List shows the exact last use, not the throttled line's time.
	clock.Add(2 * time.Second)
	a.NoteUse("vscode", "linear")
	list, err := a.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]ServerStatus{}
	for _, s := range list {
		byName[s.Name] = s
	}
	if s := byName["linear"]; !s.LastUsed.Equal(clock.Now()) || s.LastUsedBy != "vscode" {
		t.Errorf("linear: last used %v by %q, want %v by vscode", s.LastUsed, s.LastUsedBy, clock.Now())
	}
	if s := byName["sentry"]; !s.LastUsed.IsZero() || s.LastUsedBy != "" {
		t.Errorf("sentry was never used, but List says %v by %q", s.LastUsed, s.LastUsedBy)
	}
	clients, err := a.ListClients(ctx)
	if err != nil || len(clients) != 1 || !clients[0].LastUsed.Equal(clock.Now().Add(-2*time.Second)) {
		t.Errorf("ListClients = %+v, %v; want cursor last used 2s ago", clients, err)
	}
}

// TestAuditLastUseAfterRestart: a new agent (or an in-process `mcpauth
// list`) learns the last uses from the file's tail.
func TestAuditLastUseAfterRestart(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	clock := newManualClock()
	first := newLocalAgent(t, home, clock)
	if err := first.Add(ctx, AddRequest{Name: "linear", URL: "https://linear.example/mcp"}); err != nil {
		t.Fatal(err)
	}
	first.NoteUse("cursor", "linear")
	clock.Add(5 * time.Minute)
	first.NoteUse("claude", "linear")
	want := clock.Now()
	clock.Add(10 * time.Minute)

	second := newLocalAgent(t, home, clock)
	list, err := second.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || !list[0].LastUsed.Equal(want) || list[0].LastUsedBy != "claude" {
		t.Errorf("after a restart: %+v, want last used %v by claude", list, want)
	}
}

func TestReadAuditTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	t0 := time.Date(2026, 7, 28, 12, 0, 0, 0, time.UTC)
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, `{"time":%q,"client":"c%d","server":"s"}`+"\n", t0.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), i)
	}
	b.WriteString("garbage line\n{\"time\":\"2026-07-28T13:00:00Z\",\"client\":\"\",\"server\":\"s\"}\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	all, err := readAuditTail(path, 1<<20)
	if err != nil || len(all) != 100 || all[99].Client != "c99" {
		t.Fatalf("whole file: %d records, %v", len(all), err)
	}
	// A tail that starts mid-line skips that line.
	tail, err := readAuditTail(path, 200)
	if err != nil || len(tail) == 0 || len(tail) >= 100 || tail[len(tail)-1].Client != "c99" {
		t.Fatalf("tail: %+v, %v", tail, err)
	}
	if tail[0].Client == "" || !strings.HasPrefix(tail[0].Client, "c") {
		t.Errorf("tail starts with a cut line: %+v", tail[0])
	}
}

// At its size limit audit.jsonl becomes audit.jsonl.1 and a new file
// starts; a new agent still learns the last uses from both.
func TestAuditRotation(t *testing.T) {
	home := t.TempDir()
	clock := newManualClock()
	l := newAuditLog(home, clock.Now, slog.New(slog.DiscardHandler))
	l.maxSize = 300 // a few lines
	for i := range 20 {
		clock.Add(2 * time.Minute)
		l.note(fmt.Sprintf("c%d", i%3), "linear")
	}
	clock.Add(2 * time.Minute)
	l.note("cursor", "wiki")
	cur, err := os.Stat(filepath.Join(home, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.Stat(filepath.Join(home, "audit.jsonl.1"))
	if err != nil {
		t.Fatalf("no rotated file: %v", err)
	}
	if cur.Size() >= 300 || old.Size() < 300 || old.Size() > 300+100 {
		t.Errorf("sizes: audit.jsonl %d, audit.jsonl.1 %d; want under and just over the 300-byte limit", cur.Size(), old.Size())
	}
	if old.Mode().Perm() != 0o600 {
		t.Errorf("audit.jsonl.1 mode %v", old.Mode().Perm())
	}
	// A new reader: the newest use of each server, wherever its line is.
	fresh := newAuditLog(home, clock.Now, slog.New(slog.DiscardHandler))
	if at, by := fresh.serverLastUse("wiki"); by != "cursor" || !at.Equal(clock.Now()) {
		t.Errorf("wiki: %v by %q", at, by)
	}
	if _, by := fresh.serverLastUse("linear"); by != "c1" { // the 20th use: i=19
		t.Errorf("linear last used by %q, want c1", by)
	}
}
