package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// The Client's side of control_tray.go.

func (c *Client) Approvals(ctx context.Context) ([]Approval, error) {
	var list []Approval
	if err := c.call(ctx, http.MethodGet, "/v1/approvals", nil, &list); err != nil {
		return nil, err
	}
	return list, nil
}

func (c *Client) Approve(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodPost, "/v1/approvals/"+url.PathEscape(id)+"/approve", nil, nil)
}

func (c *Client) Deny(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodPost, "/v1/approvals/"+url.PathEscape(id)+"/deny", nil, nil)
}

func (c *Client) Update(ctx context.Context, name string, u ServerUpdate) error {
	return c.call(ctx, http.MethodPatch, serverPath(name, ""), u, nil)
}

// Subscribe streams the agent's events (GET /v1/events). It returns once
// the agent answered, when the subscription is in place; the channel is
// closed when ctx ends or the agent goes away.
func (c *Client) Subscribe(ctx context.Context) (<-chan Event, error) {
	return c.events(ctx, "/v1/events")
}

// AttachTray is Subscribe for a tray (GET /v1/events?tray=1).
func (c *Client) AttachTray(ctx context.Context) (<-chan Event, error) {
	return c.events(ctx, "/v1/events?tray=1")
}

func (c *Client) events(ctx context.Context, path string) (<-chan Event, error) {
	resp, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	ch := make(chan Event, eventBuffer)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		dec := json.NewDecoder(resp.Body)
		for {
			var ev Event
			if err := dec.Decode(&ev); err != nil {
				return
			}
			select {
			case ch <- ev:
			default: // the reader has events pending; see eventBuffer
			}
		}
	}()
	return ch, nil
}
