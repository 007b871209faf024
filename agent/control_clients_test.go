package agent

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// The control socket's routes for local clients and the bridge's status.

func TestControlClients(t *testing.T) {
	ctx := context.Background()
	created := time.Date(2026, 7, 28, 12, 0, 0, 0, time.UTC)
	want := []LocalClient{{Name: "cursor", Created: created, LastUsed: created.Add(time.Minute)}}
	api := &fakeAPI{clients: want}
	c := serveFake(t, api)

	key, err := c.AddClient(ctx, "cursor")
	if err != nil || key != "mcpa_fake-key" || api.lastCall() != "add-client cursor" {
		t.Errorf("AddClient = %q, %v; agent saw %q", key, err, api.lastCall())
	}
	got, err := c.ListClients(ctx)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ListClients = %+v, %v", got, err)
	}
	if err := c.RemoveClient(ctx, "a b/c"); err != nil || api.lastCall() != "remove-client a b/c" {
		t.Errorf("RemoveClient: %v; agent saw %q", err, api.lastCall())
	}
	if got, err := serveFake(t, &fakeAPI{}).ListClients(ctx); err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty ListClients = %#v, %v; want an empty slice", got, err)
	}
}

func TestControlClientErrors(t *testing.T) {
	ctx := context.Background()
	for _, typed := range []error{&ClientNotFoundError{Client: "x"}, &ClientExistsError{Client: "x"}} {
		c := serveFake(t, &fakeAPI{err: typed})
		_, addErr := c.AddClient(ctx, "x")
		for _, err := range []error{addErr, c.RemoveClient(ctx, "x")} {
			target := reflect.New(reflect.TypeOf(typed))
			if err == nil || err.Error() != typed.Error() || !errors.As(err, target.Interface()) ||
				!reflect.DeepEqual(target.Elem().Interface(), typed) {
				t.Errorf("got %#v, want %#v", err, typed)
			}
		}
	}
}

// bridgeAPI is a fakeAPI that runs a bridge, as *Agent does.
type bridgeAPI struct{ *fakeAPI }

func (bridgeAPI) Bridge() (string, string) { return "http://127.0.0.1:8719", "" }

func TestControlStatusReportsBridge(t *testing.T) {
	st, err := serveFake(t, bridgeAPI{&fakeAPI{}}).Status(context.Background())
	if err != nil || st.Bridge != "http://127.0.0.1:8719" {
		t.Errorf("Status = %+v, %v", st, err)
	}
	st, err = serveFake(t, &fakeAPI{}).Status(context.Background())
	if err != nil || st.Bridge != "" {
		t.Errorf("without a bridge: %+v, %v", st, err)
	}
}
