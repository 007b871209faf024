package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ShutdownGrace is how long a server stopping with its context gives the
// requests in flight (open SSE streams, a pending login) to finish.
const ShutdownGrace = 5 * time.Second

// ServeUntilDone serves srv on ln until ctx ends, then shuts it down
// gracefully, closing it outright after ShutdownGrace. It is shared by the
// control socket and the HTTP bridge. what names the server in the error,
// e.g. "the control socket".
func ServeUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, what string) error {
	done := make(chan struct{})
	defer close(done)
	stopped := make(chan error, 1)
	go func() {
		select {
		case <-done: // Serve failed on its own
			stopped <- nil
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownGrace)
			defer cancel()
			err := srv.Shutdown(sctx)
			if err != nil {
				srv.Close()
			}
			stopped <- err
		}
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		if err := <-stopped; err != nil {
			return fmt.Errorf("could not shut %s down cleanly: %w", what, err)
		}
		return nil
	}
	ln.Close()
	return err
}
