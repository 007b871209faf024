package agent

import (
	"encoding/json"
	"errors"
	"net/http"
)

// The control socket's routes for the tray (TrayAPI), beside those in
// control.go:
//
//	GET    /v1/approvals                 []Approval
//	POST   /v1/approvals/{id}/approve                               -> 204
//	POST   /v1/approvals/{id}/deny                                  -> 204
//	PATCH  /v1/servers/{name}            ServerUpdate               -> 204
//	GET    /v1/events[?tray=1]                                      -> NDJSON stream of Event
//
// The events stream answers 200 once the subscription is in place, then
// writes one Event per line as changes happen, until either side hangs up.
// With tray=1 it is AttachTray: logins wait for approval while it lasts.
//
// Every request may name its requester in the header Mcpauth-Requested-By
// (WithRequester), shown by an approval its login causes.

// requesterHeader carries RequesterFrom(ctx) across the socket.
const requesterHeader = "Mcpauth-Requested-By"

var errNoTray = errors.New("this mcpauth agent has no approval queue or event feed")

func (h *controlHandler) trayRoutes(mux *http.ServeMux) {
	tray := func(w http.ResponseWriter, r *http.Request) (TrayAPI, bool) {
		t, ok := h.api.(TrayAPI)
		if !ok {
			h.fail(w, r, errNoTray)
		}
		return t, ok
	}
	mux.HandleFunc("GET /v1/approvals", func(w http.ResponseWriter, r *http.Request) {
		if t, ok := tray(w, r); ok {
			list, err := t.Approvals(r.Context())
			if list == nil {
				list = []Approval{}
			}
			h.reply(w, r, list, err)
		}
	})
	mux.HandleFunc("POST /v1/approvals/{id}/approve", func(w http.ResponseWriter, r *http.Request) {
		if t, ok := tray(w, r); ok {
			h.reply(w, r, nil, t.Approve(r.Context(), r.PathValue("id")))
		}
	})
	mux.HandleFunc("POST /v1/approvals/{id}/deny", func(w http.ResponseWriter, r *http.Request) {
		if t, ok := tray(w, r); ok {
			h.reply(w, r, nil, t.Deny(r.Context(), r.PathValue("id")))
		}
	})
	mux.HandleFunc("PATCH /v1/servers/{name}", func(w http.ResponseWriter, r *http.Request) {
		t, ok := tray(w, r)
		if !ok {
			return
		}
		var u ServerUpdate
		if err := readBody(r, &u, false); err != nil {
			h.fail(w, r, err)
			return
		}
		h.reply(w, r, nil, t.Update(r.Context(), r.PathValue("name"), u))
	})
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		t, ok := tray(w, r)
		if !ok {
			return
		}
		subscribe := t.Subscribe
		if r.URL.Query().Get("tray") == "1" {
			subscribe = t.AttachTray
		}
		events, err := subscribe(r.Context())
		if err != nil {
			h.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		rc.Flush()
		enc := json.NewEncoder(w)
		for ev := range events {
			if enc.Encode(ev) != nil || rc.Flush() != nil {
				return
			}
		}
	})
}

// withRequester puts the request's Mcpauth-Requested-By into its context.
func withRequester(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if by := r.Header.Get(requesterHeader); by != "" {
			r = r.WithContext(WithRequester(r.Context(), by))
		}
		next.ServeHTTP(w, r)
	})
}
