package httpbridge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"mcpauth/agent"
	"mcpauth/keystore"
)

// The bridge's cost per request against a local server answering 1 KB,
// with a real agent (cached token, key check, audit) as the backend:
// compare BenchmarkDirect and BenchmarkBridge, serial and with 64
// concurrent clients (-cpu or b.SetParallelism).
//
//	go test -run '^$' -bench . ./localproxy/httpbridge

var result1KB = `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + strings.Repeat("x", 950) + `"}]}}`

func benchServer(b *testing.B) string {
	up := newUpstream(b, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, result1KB)
	})
	return up.URL + "/mcp"
}

func benchClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 128
	return &http.Client{Transport: t, Timeout: 10 * time.Second}
}

func benchPost(b *testing.B, c *http.Client, url, auth string) {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", auth)
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

func newBenchBridge(b *testing.B, upstream string) (url, key string) {
	// The token is put where a login would (agent/secrets.go's item
	// layout), so Token runs its real path: one keychain read, then the
	// cache.
	ctx := context.Background()
	store := keystore.NewMemory()
	tok := fmt.Sprintf(`{"access_token":"bench-token","expiry":%q}`, time.Now().Add(time.Hour).Format(time.RFC3339))
	if err := store.Set(ctx, "server/bench/access", []byte(tok)); err != nil {
		b.Fatal(err)
	}
	a, err := agent.New(agent.Options{Home: b.TempDir(), Store: store, TokenCacheTTL: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Add(ctx, agent.AddRequest{Name: "bench", URL: upstream}); err != nil {
		b.Fatal(err)
	}
	if key, err = a.AddClient(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	ln, err := Listen(0)
	if err != nil {
		b.Fatal(err)
	}
	br, err := New(a, ln.Addr().String(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	go br.Serve(sctx, ln)
	b.Cleanup(cancel)
	return br.URL() + "/servers/bench/mcp", key
}

func BenchmarkDirect(b *testing.B) {
	url, c := benchServer(b), benchClient()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchPost(b, c, url, "Bearer bench-token")
		}
	})
}

func BenchmarkBridge(b *testing.B) {
	url, key := newBenchBridge(b, benchServer(b))
	c := benchClient()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchPost(b, c, url, "Bearer "+key)
		}
	})
}
