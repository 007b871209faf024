package oauthex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		name    string
		policy  Policy
		url     string
		wantErr string // "" for allowed
	}{
		{"https", Policy{}, "https://as.example/token", ""},
		{"http loopback IPv4", Policy{}, "http://127.0.0.1:8080/cb", ""},
		{"http loopback 127/8", Policy{}, "http://127.1.2.3/", ""},
		{"http loopback IPv6", Policy{}, "http://[::1]:9/x", ""},
		{"http localhost", Policy{}, "http://LocalHost:3000/", ""},
		{"http remote", Policy{}, "http://as.example/token", "https is required"},
		{"http localhost suffix is not loopback", Policy{}, "http://localhost.evil.example/", "https is required"},
		{"AllowHTTP", Policy{AllowHTTP: true}, "http://as.example/token", ""},
		{"relative", Policy{AllowHTTP: true}, "/token", "only http and https"},
		{"javascript", Policy{}, "javascript:alert(1)", "only http and https"},
		{"file", Policy{}, "file:///etc/passwd", "only http and https"},
		{"no host", Policy{}, "https:///path", "no host"},
		{"opaque", Policy{}, "https:as.example", "no host"},
		{"userinfo", Policy{}, "https://user:pw@as.example/", "user info"},
		{"unparsable", Policy{}, "https://as.example/%zz", "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.CheckURL(tt.url)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckURL(%q) = %v", tt.url, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckURL(%q) = %v, want an error containing %q", tt.url, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "pw@") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "localhost.": true, "127.0.0.1": true, "127.255.0.9": true,
		"::1": true, "[::1]": true, "::ffff:127.0.0.1": true,
		"": false, "localhost.example": false, "128.0.0.1": false, "10.0.0.1": false, "::": false, "0.0.0.0": false,
		"example.com": false, "127.0.0.1:80": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestAddrClass(t *testing.T) {
	for addr, want := range map[string]string{
		"8.8.8.8": "", "2001:4860:4860::8888": "", "198.18.0.1": "", "100.63.255.255": "", "100.128.0.0": "",
		"127.0.0.1": "loopback", "::1": "loopback", "::ffff:127.0.0.1": "loopback",
		"10.0.0.5": "private", "172.16.0.1": "private", "172.31.255.255": "private", "192.168.1.1": "private",
		"100.64.0.1": "private", "100.127.255.254": "private", "fd00::1": "private", "fc00::1": "private", "fec0::1": "private",
		"::ffff:10.0.0.5": "private", "64:ff9b::10.0.0.5": "private", "64:ff9b::8.8.8.8": "",
		"169.254.169.254": "link-local", "fe80::1": "link-local", "fe80::1%eth0": "link-local",
		"0.0.0.0": "unspecified", "::": "unspecified", "0.1.2.3": "unspecified",
		"224.0.0.1": "multicast", "ff02::1": "multicast", "255.255.255.255": "multicast",
	} {
		if got := addrClass(netip.MustParseAddr(addr)); got != want {
			t.Errorf("addrClass(%s) = %q, want %q", addr, got, want)
		}
	}
}

// testGuard resolves hostnames through a fixed table and counts lookups.
func testGuard(serverURL string, dns map[string][]string) (*guard, *atomic.Int32) {
	g := newGuard(serverURL)
	var lookups atomic.Int32
	g.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
		lookups.Add(1)
		addrs, ok := dns[host]
		if !ok {
			return nil, fmt.Errorf("no such host %s", host)
		}
		var out []netip.Addr
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		return out, nil
	}
	g.envProxy = func(*http.Request) (*url.URL, error) { return nil, nil }
	return g, &lookups
}

func TestGuardControl(t *testing.T) {
	dns := map[string][]string{
		"public.example":  {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
		"intranet.corp":   {"10.1.2.3"},
		"tailnet.ts.net":  {"100.101.102.103"},
		"dualstack.local": {"192.168.1.10", "fe80::10"},
	}
	tests := []struct {
		server  string
		allowed []string
		refused []string
	}{
		{"https://public.example/mcp", []string{"8.8.8.8:443", "[2001:db8::1]:443"},
			[]string{"10.0.0.5:443", "127.0.0.1:443", "[::1]:443", "169.254.169.254:80", "[fe80::1%eth0]:443", "0.0.0.0:443", "100.64.0.1:443", "[fd00::1]:443"}},
		{"https://intranet.corp/mcp", []string{"10.0.0.5:443", "192.168.1.1:443", "100.64.0.1:443", "8.8.8.8:443"},
			[]string{"127.0.0.1:443", "169.254.169.254:80"}},
		{"https://tailnet.ts.net/mcp", []string{"100.100.100.100:443", "10.0.0.5:443"}, []string{"127.0.0.1:443"}},
		{"http://localhost:8080/mcp", []string{"127.0.0.1:80", "[::1]:80", "8.8.8.8:443"}, []string{"10.0.0.5:443", "169.254.169.254:80"}},
		{"http://127.0.0.1:8080/mcp", []string{"127.0.0.1:80"}, []string{"192.168.1.1:80"}},
		{"http://[fe80::1%25eth0]:8080/mcp", []string{"[fe80::2%eth0]:80", "169.254.1.1:80"}, []string{"127.0.0.1:80", "10.0.0.1:80"}},
		{"https://dualstack.local/", []string{"192.168.1.1:443", "169.254.1.1:443"}, []string{"127.0.0.1:443"}},
		{"", []string{"8.8.8.8:443"}, []string{"10.0.0.5:443", "127.0.0.1:443"}},
	}
	for _, tt := range tests {
		t.Run(tt.server, func(t *testing.T) {
			g, lookups := testGuard(tt.server, dns)
			ctx := context.WithValue(t.Context(), dialURLKey{}, "https://as.example/token")
			for _, addr := range tt.allowed {
				if err := g.control(ctx, "tcp", addr, nil); err != nil {
					t.Errorf("control(%s) = %v, want allowed", addr, err)
				}
			}
			for _, addr := range tt.refused {
				err := g.control(ctx, "tcp", addr, nil)
				var re *AddressRefusedError
				if !errors.As(err, &re) {
					t.Errorf("control(%s) = %v, want *AddressRefusedError", addr, err)
					continue
				}
				if ip := strings.Trim(addr[:strings.LastIndex(addr, ":")], "[]"); !strings.Contains(err.Error(), strings.Split(ip, "%")[0]) ||
					!strings.Contains(err.Error(), "for https://as.example/token") {
					t.Errorf("error %q does not name the address and URL", err)
				}
			}
			if n := lookups.Load(); n > 1 {
				t.Errorf("server host resolved %d times, want at most once", n)
			}
		})
	}
}

func TestGuardErrorMessage(t *testing.T) {
	g, _ := testGuard("https://public.example/mcp", map[string][]string{"public.example": {"93.184.216.34"}})
	ctx := context.WithValue(t.Context(), dialURLKey{}, "https://as.example/token")
	err := g.control(ctx, "tcp", "10.0.0.5:443", nil)
	want := "refusing to connect to 10.0.0.5 (private address) for https://as.example/token: the server https://public.example/mcp is not on a private network"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestGuardLookupFailureNotCached(t *testing.T) {
	dns := map[string][]string{}
	g, lookups := testGuard("https://flaky.example/mcp", dns)
	if err := g.control(t.Context(), "tcp", "10.0.0.5:443", nil); err == nil || !strings.Contains(err.Error(), "could not resolve the server host flaky.example") {
		t.Fatalf("err = %v, want a resolution error", err)
	}
	if err := g.control(t.Context(), "tcp", "8.8.8.8:443", nil); err != nil {
		t.Fatalf("public address refused while DNS is down: %v", err)
	}
	dns["flaky.example"] = []string{"10.9.9.9"}
	if err := g.control(t.Context(), "tcp", "10.0.0.5:443", nil); err != nil {
		t.Fatalf("after DNS recovered: %v", err)
	}
	if n := lookups.Load(); n != 2 {
		t.Errorf("lookups = %d, want 2", n)
	}
}

func newTestClient(p Policy, dns map[string][]string) *http.Client {
	g, _ := testGuard(p.ServerURL, dns)
	return p.client(g)
}

func TestPolicyClient(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/to-http":
			http.Redirect(w, r, "http://public.example/x", http.StatusFound)
		case "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/to-ok":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	dns := map[string][]string{"public.example": {"93.184.216.34"}}

	local := newTestClient(Policy{ServerURL: srv.URL + "/mcp"}, dns)
	public := newTestClient(Policy{ServerURL: "https://public.example/mcp"}, dns)
	tests := []struct {
		name    string
		client  *http.Client
		url     string
		wantErr string
	}{
		{"loopback server may use loopback", local, srv.URL + "/ok", ""},
		{"redirect re-validated and followed", local, srv.URL + "/to-ok", ""},
		{"redirect to http refused", local, srv.URL + "/to-http", "https is required"},
		{"redirect to file refused", local, srv.URL + "/to-file", "only http and https"},
		{"redirect loop stopped", local, srv.URL + "/loop", "stopped after 10 redirects"},
		{"public server may not reach loopback IP", public, srv.URL + "/ok", "refusing to connect to 127.0.0.1 (loopback address)"},
		{"public server may not reach loopback name (dial check)", public, "http://localhost:" + port + "/ok", "(loopback address) for http://localhost:" + port + "/ok"},
		{"https required before any connection", public, "http://public.example/x", "https is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			resp, err := tt.client.Get(tt.url)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatalf("GET %s succeeded, want an error containing %q", tt.url, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("GET %s: %v, want an error containing %q", tt.url, err, tt.wantErr)
			}
			if strings.HasPrefix(tt.name, "public server") && hits.Load() != before {
				t.Error("the refused server was reached")
			}
		})
	}
	if local.Timeout != 30*time.Second {
		t.Errorf("Timeout = %v, want 30s", local.Timeout)
	}
}

func TestPolicyClientProxy(t *testing.T) {
	// The test server plays a forward proxy on loopback. The proxy itself is
	// the user's choice and reachable; the target is still checked.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "via proxy to "+r.URL.String())
	}))
	defer proxy.Close()
	p := Policy{AllowHTTP: true, ServerURL: "https://public.example/mcp"}
	g, _ := testGuard(p.ServerURL, map[string][]string{"public.example": {"93.184.216.34"}})
	proxyURL, _ := url.Parse(proxy.URL)
	g.envProxy = func(*http.Request) (*url.URL, error) { return proxyURL, nil }
	c := p.client(g)

	resp, err := c.Get("http://93.184.216.34/doc")
	if err != nil {
		t.Fatalf("GET through proxy: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "via proxy to http://93.184.216.34/doc") {
		t.Errorf("body = %q", body)
	}
	if _, err := c.Get("http://10.0.0.5/doc"); err == nil || !strings.Contains(err.Error(), "refusing to connect to 10.0.0.5 (private address)") {
		t.Errorf("private literal through proxy: err = %v", err)
	}
}

func TestPolicyClientNewDefaults(t *testing.T) {
	c := Policy{ServerURL: "https://93.184.216.34/mcp"}.Client() // a literal: no DNS
	if c.Timeout != 30*time.Second || c.CheckRedirect == nil {
		t.Errorf("Client() = %+v", c)
	}
	// Loopback literal refused before any DNS or connection.
	if _, err := c.Get("http://127.0.0.1:1/"); err == nil || !strings.Contains(err.Error(), "loopback address") {
		t.Errorf("err = %v", err)
	}
}
