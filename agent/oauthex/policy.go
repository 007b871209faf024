package oauthex

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Policy is the safety policy for URLs the client discovers (from metadata
// or headers) rather than was given by the user. A hostile or compromised
// server could otherwise point the agent at a plaintext endpoint, or at
// services on the user's own network (SSRF).
type Policy struct {
	// AllowHTTP permits plain http to any host; the user must opt in per
	// server. Loopback hosts are always allowed http (RFC 8252 §8.3).
	AllowHTTP bool
	// ServerURL is the resource server the user configured. Discovered URLs
	// may reach loopback, private or link-local addresses only if this
	// server's own host is in the same class.
	ServerURL string
}

// CheckURL refuses a URL that is not absolute http(s) with a host, carries
// userinfo, or is plain http to a non-loopback host without AllowHTTP.
func (p Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("refusing URL %q: not a valid URL", truncate(raw))
	}
	shown := truncate(u.Redacted())
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("refusing URL %s: only http and https are allowed", shown)
	case u.Host == "":
		return fmt.Errorf("refusing URL %s: it has no host", shown)
	case u.User != nil:
		return fmt.Errorf("refusing URL %s: it carries user info", shown)
	case u.Scheme == "http" && !p.AllowHTTP && !IsLoopbackHost(u.Hostname()):
		return fmt.Errorf("refusing URL %s: https is required for a host other than loopback (the server was not added with allow-http)", shown)
	}
	return nil
}

// IsLoopbackHost reports whether host (without port; brackets allowed) is
// "localhost" or a loopback IP (127.0.0.0/8, ::1).
func IsLoopbackHost(host string) bool {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(h, "localhost") || strings.EqualFold(h, "localhost.") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Unmap().IsLoopback()
}

// Client returns an HTTP client for discovered URLs: every request and every
// redirect (at most 10) passes CheckURL, and connections to non-public
// addresses are refused at dial time, after DNS resolution, so a hostname
// that resolves to 10.0.0.5 is caught too. Call it once per server and reuse
// the client: each holds its own connection pool.
//
// HTTP(S)_PROXY is honoured. Through a proxy only literal IP hosts can be
// checked, since the proxy resolves names.
func (p Policy) Client() *http.Client { return p.client(newGuard(p.ServerURL)) }

func (p Policy) client(g *guard) *http.Client {
	base := &http.Transport{
		Proxy:                 g.proxy,
		DialContext:           g.dial,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &policyTransport{policy: p, guard: g, base: base},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			return p.CheckURL(req.URL.String())
		},
	}
}

// AddressRefusedError is a connection refused by the policy.
type AddressRefusedError struct {
	Addr      netip.Addr
	Class     string // "loopback", "private", "link-local", "unspecified", "multicast"
	URL       string // the request that needed the connection, if known
	ServerURL string
}

func (e *AddressRefusedError) Error() string {
	msg := fmt.Sprintf("refusing to connect to %s (%s address)", e.Addr, e.Class)
	if e.URL != "" {
		msg += " for " + e.URL
	}
	if e.ServerURL == "" {
		return msg + ": only public addresses are allowed"
	}
	where := map[string]string{
		"loopback":   "on this machine",
		"private":    "on a private network",
		"link-local": "on a link-local network",
	}[e.Class]
	if where == "" {
		where = "at a " + e.Class + " address"
	}
	return msg + fmt.Sprintf(": the server %s is not %s", e.ServerURL, where)
}

// policyTransport checks each request (the first one too, which
// CheckRedirect never sees) and records its URL for the dialer's messages.
type policyTransport struct {
	policy Policy
	guard  *guard
	base   http.RoundTripper
}

type dialURLKey struct{}

func (t *policyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	shown := truncate(req.URL.Redacted())
	err := t.policy.CheckURL(req.URL.String())
	if a, perr := netip.ParseAddr(req.URL.Hostname()); err == nil && perr == nil {
		// Checked here too because a proxy would hide it from the dialer.
		err = t.guard.check(req.Context(), a, shown)
	}
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	// The dial context keeps the request's values (not its cancellation).
	ctx := context.WithValue(req.Context(), dialURLKey{}, shown)
	return t.base.RoundTrip(req.WithContext(ctx))
}

// guard decides which address classes a connection may reach.
type guard struct {
	serverURL string
	lookup    func(ctx context.Context, host string) ([]netip.Addr, error)
	envProxy  func(*http.Request) (*url.URL, error)
	dialer    *net.Dialer // checks addresses
	plain     *net.Dialer // for the configured proxy only

	mu      sync.Mutex
	known   bool            // classes is valid
	classes map[string]bool // of the server's own addresses
	proxies map[string]bool // host:port of proxies in use
}

func newGuard(serverURL string) *guard {
	g := &guard{
		serverURL: serverURL,
		lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		},
		envProxy: http.ProxyFromEnvironment,
		plain:    &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second},
		proxies:  map[string]bool{},
	}
	g.dialer = &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, ControlContext: g.control}
	return g
}

// proxy wraps the environment's proxy choice and remembers the proxy, whose
// own address is the user's choice and must not be refused.
func (g *guard) proxy(req *http.Request) (*url.URL, error) {
	u, err := g.envProxy(req)
	if u != nil {
		port := u.Port()
		if port == "" {
			port = map[string]string{"https": "443", "socks5": "1080", "socks5h": "1080"}[u.Scheme]
			if port == "" {
				port = "80"
			}
		}
		g.mu.Lock()
		g.proxies[net.JoinHostPort(u.Hostname(), port)] = true
		g.mu.Unlock()
	}
	return u, err
}

func (g *guard) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	g.mu.Lock()
	isProxy := g.proxies[addr]
	g.mu.Unlock()
	if isProxy {
		return g.plain.DialContext(ctx, network, addr)
	}
	return g.dialer.DialContext(ctx, network, addr)
}

// control runs after DNS resolution, just before connecting, so it sees the
// address actually used (no DNS rebinding window).
func (g *guard) control(ctx context.Context, network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refusing to connect to %q: not an IP address", address)
	}
	shown, _ := ctx.Value(dialURLKey{}).(string)
	return g.check(ctx, ap.Addr(), shown)
}

// check allows public addresses, and others only in a class the server's own
// host resolves to.
func (g *guard) check(ctx context.Context, a netip.Addr, forURL string) error {
	class := addrClass(a)
	if class == "" {
		return nil
	}
	allowed, err := g.serverClasses(ctx)
	if err != nil {
		return fmt.Errorf("refusing to connect to %s (%s address) for %s: %w", a, class, forURL, err)
	}
	if allowed[class] {
		return nil
	}
	return &AddressRefusedError{Addr: a.WithZone(""), Class: class, URL: forURL, ServerURL: g.serverURL}
}

// serverClasses resolves the server's host once, lazily; a failed lookup is
// not cached, so the next connection tries again.
func (g *guard) serverClasses(ctx context.Context) (map[string]bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.known {
		return g.classes, nil
	}
	classes := map[string]bool{}
	host := ""
	if u, err := url.Parse(g.serverURL); err == nil {
		host = u.Hostname()
	}
	switch a, err := netip.ParseAddr(host); {
	case host == "":
	case IsLoopbackHost(host):
		classes["loopback"] = true
	case err == nil:
		classes[addrClass(a)] = true
	default:
		addrs, err := g.lookup(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("could not resolve the server host %s: %w", host, err)
		}
		for _, a := range addrs {
			classes[addrClass(a)] = true
		}
	}
	g.known, g.classes = true, classes
	return classes, nil
}

var (
	cgnat  = netip.MustParsePrefix("100.64.0.0/10") // RFC 6598; Tailscale lives here
	nat64  = netip.MustParsePrefix("64:ff9b::/96")  // RFC 6052
	siteV6 = netip.MustParsePrefix("fec0::/10")     // deprecated site-local
	thisV4 = netip.MustParsePrefix("0.0.0.0/8")     // "this network"; 0.0.0.0 reaches the local host
	bcast  = netip.MustParseAddr("255.255.255.255")
)

// addrClass names the non-public class of a, or "" for a public address.
// Documentation and benchmarking ranges count as public on purpose: VPN
// clients in "fake IP" mode hand out 198.18.0.0/15 for every host.
func addrClass(a netip.Addr) string {
	a = a.Unmap()
	if nat64.Contains(a) {
		b := a.As16()
		return addrClass(netip.AddrFrom4([4]byte(b[12:])))
	}
	switch {
	case a.IsUnspecified() || thisV4.Contains(a):
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate() || cgnat.Contains(a) || siteV6.Contains(a):
		return "private"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsMulticast() || a == bcast:
		return "multicast"
	}
	return ""
}

// truncate keeps a URL in an error readable.
func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
