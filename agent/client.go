package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// ErrNoAgent is returned by Dial when no agent answers for the home. The
// caller then runs the agent in-process (see cli.connect).
var ErrNoAgent = errors.New("no mcpauth agent is running")

// dialProbe bounds Dial's status request: a live agent answers at once, and
// every command pays this when none runs.
const dialProbe = 300 * time.Millisecond

// Client is the API of a running agent, over its control socket
// (control.go). Errors come back as the same Go types as in-process.
// It is safe for concurrent use.
type Client struct {
	socket string
	hc     *http.Client
	// requester is RequesterFrom(Dial's ctx): the default for requests
	// whose own context names nobody (a bridge's long-lived connections
	// don't derive from the command's context).
	requester string
}

var (
	_ API     = (*Client)(nil)
	_ TrayAPI = (*Client)(nil)
)

// Dial returns a client for the agent serving home, if one answers
// GET /v1/status within 300 ms; otherwise an error that matches ErrNoAgent
// (errors.Is) and says why. A requester in ctx (WithRequester) names the
// client's requests that name nobody themselves.
func Dial(ctx context.Context, home string) (*Client, error) {
	c := NewClient(ControlSocketPath(home))
	c.requester = RequesterFrom(ctx)
	pctx, cancel := context.WithTimeout(ctx, dialProbe)
	defer cancel()
	if _, err := c.Status(pctx); err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w for %s (%v)", ErrNoAgent, home, err)
	}
	return c, nil
}

// NewClient returns a client for the control socket at socket, without
// checking that an agent listens there. Most callers want Dial.
func NewClient(socket string) *Client {
	c := &Client{socket: socket}
	c.hc = &http.Client{Transport: &http.Transport{
		DialContext:         c.dial,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}}
	return c
}

// dial connects to the socket and refuses it unless the agent runs as our
// own uid: the request may carry a client secret or header values.
func (c *Client) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.socket)
	if err != nil {
		return nil, err
	}
	uid, err := peerUID(conn)
	switch {
	case errors.Is(err, errPeerUnsupported):
	case err != nil:
		conn.Close()
		return nil, fmt.Errorf("could not identify the process behind %s: %w", c.socket, err)
	case uid != os.Getuid():
		conn.Close()
		return nil, fmt.Errorf("refusing the control socket %s: it is served by uid %d, not by us (uid %d)", c.socket, uid, os.Getuid())
	}
	return conn, nil
}

// Close releases idle connections.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// Status reports the agent's pid, version, home and HTTP bridge.
func (c *Client) Status(ctx context.Context) (*AgentStatus, error) {
	var st AgentStatus
	if err := c.call(ctx, http.MethodGet, "/v1/status", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func (c *Client) Add(ctx context.Context, req AddRequest) error {
	return c.call(ctx, http.MethodPost, "/v1/servers", req, nil)
}

func (c *Client) Remove(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodDelete, serverPath(name, ""), nil, nil)
}

func (c *Client) List(ctx context.Context) ([]ServerStatus, error) {
	var list []ServerStatus
	if err := c.call(ctx, http.MethodGet, "/v1/servers", nil, &list); err != nil {
		return nil, err
	}
	return list, nil
}

func (c *Client) Logout(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodPost, serverPath(name, "logout"), nil, nil)
}

func (c *Client) Token(ctx context.Context, name string) (*AccessToken, error) {
	var tok AccessToken
	if err := c.call(ctx, http.MethodPost, serverPath(name, "token"), nil, &tok); err != nil {
		return nil, err
	}
	return &tok, nil
}

// Retry reports a refused token to the agent (see API.Retry). With
// c.Interactive it may run a whole login in the agent before it answers.
// Headers asks the agent for name's configured extra headers.
func (c *Client) Headers(ctx context.Context, name string) (map[string]string, error) {
	h := map[string]string{}
	if err := c.call(ctx, http.MethodPost, serverPath(name, "headers"), nil, &h); err != nil {
		return nil, err
	}
	return h, nil
}

func (c *Client) Retry(ctx context.Context, name string, ch Challenge) (*AccessToken, error) {
	var tok AccessToken
	if err := c.call(ctx, http.MethodPost, serverPath(name, "retry"), ch, &tok); err != nil {
		return nil, err
	}
	return &tok, nil
}

// Login runs the login in the agent, which opens the browser unless
// opts.NoBrowser. opts.OnURL is called on this goroutine when the agent
// reports the URL. Cancelling ctx closes the connection, which cancels the
// login in the agent.
func (c *Client) Login(ctx context.Context, name string, opts LoginOptions) error {
	resp, err := c.do(ctx, http.MethodPost, serverPath(name, "login"), opts)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var line loginLine
		if err := dec.Decode(&line); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("the mcpauth agent ended the login without a result: %w", err)
		}
		switch {
		case line.Error != nil:
			return decodeError(line.Error)
		case line.OK:
			return nil
		case line.URL != "" && opts.OnURL != nil:
			opts.OnURL(line.URL)
		case line.Device != nil && opts.OnDeviceCode != nil:
			opts.OnDeviceCode(*line.Device)
		case line.Pending && opts.OnPending != nil:
			opts.OnPending()
		}
	}
}

// AddClient asks the agent for a new local client's key (API.AddClient).
func (c *Client) AddClient(ctx context.Context, name string) (string, error) {
	var out addClientResponse
	if err := c.call(ctx, http.MethodPost, "/v1/clients", addClientRequest{Name: name}, &out); err != nil {
		return "", err
	}
	if out.Key == "" {
		return "", errors.New("the mcpauth agent issued no key")
	}
	return out.Key, nil
}

func (c *Client) ListClients(ctx context.Context) ([]LocalClient, error) {
	var list []LocalClient
	if err := c.call(ctx, http.MethodGet, "/v1/clients", nil, &list); err != nil {
		return nil, err
	}
	return list, nil
}

func (c *Client) RemoveClient(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodDelete, "/v1/clients/"+url.PathEscape(name), nil, nil)
}

func serverPath(name, action string) string {
	p := "/v1/servers/" + url.PathEscape(name)
	if action != "" {
		p += "/" + action
	}
	return p
}

// call sends in (if not nil) as JSON and decodes a 200 answer into out.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.do(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("could not read the mcpauth agent's answer to %s %s: %w", method, path, err)
	}
	return nil
}

// do sends the request and turns an error answer into the agent's error.
// The caller closes the body of the response it gets.
func (c *Client) do(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	// The host is a placeholder: the transport always dials c.socket.
	req, err := http.NewRequestWithContext(ctx, method, "http://mcpauth-agent"+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	by := RequesterFrom(ctx)
	if by == "" {
		by = c.requester
	}
	if by != "" {
		req.Header.Set(requesterHeader, by)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // drop the placeholder URL from the message
		}
		return nil, fmt.Errorf("could not reach the mcpauth agent at %s: %w", c.socket, err)
	}
	if resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	var e struct {
		Error *wireError `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&e); err != nil || e.Error == nil {
		return nil, fmt.Errorf("the mcpauth agent answered %s to %s %s", resp.Status, method, path)
	}
	return nil, decodeError(e.Error)
}
