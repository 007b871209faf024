package agent

import (
	"net"
	"net/url"
	"testing"
	"time"

	"mcpauth/test/fakeas"
)

// TestRegressionReRegistrationBreaksOtherServersOfIssuer pins a bug: two
// servers share one issuer's dynamic registration. When the second had to
// register again (its preferred loopback port was taken), the new
// registration replaced the first in the issuer's keystore slot. The first
// server's next refresh then found "another" client and treated it as
// invalid_client: it deleted the issuer's registration, which the second
// server was using, so the second server lost its tokens on its next
// refresh too, although the AS knew both clients all along.
func TestRegressionReRegistrationBreaksOtherServersOfIssuer(t *testing.T) {
	e := newTestEnv(t, fakeas.Config{})
	if err := e.Add(t.Context(), AddRequest{Name: "second", URL: e.AS.URL()}); err != nil {
		t.Fatal(err)
	}
	e.login(t)
	ci, _, err := e.secrets.registration(t.Context(), e.AS.Issuer())
	if err != nil || ci == nil {
		t.Fatalf("registration: %v", err)
	}
	u, _ := url.Parse(ci.RedirectURIs[0])
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		t.Skipf("could not occupy %s: %v", u.Host, err)
	}
	if err := e.Login(t.Context(), "second", LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if e.AS.Stats().Registrations != 2 {
		t.Fatalf("Registrations = %d, want 2", e.AS.Stats().Registrations)
	}

	e.Clock.Advance(time.Hour)
	_, errFirst := e.Token(t.Context(), testServer)
	if _, err := e.Token(t.Context(), "second"); err != nil {
		t.Errorf("the second server, whose registration the AS still knows, lost its login: %v", err)
	}
	if !e.hasRegistration(t) {
		t.Error("the registration in use by the second server was deleted")
	}
	// The first server's client is public (mcpauth registers with
	// token_endpoint_auth_method none): its ID is all a refresh needs.
	if errFirst != nil {
		t.Errorf("first server, whose registration the AS still knows: %v", errFirst)
	}
	e.login(t)
	e.token(t, testServer)
	e.token(t, "second")
	if got := e.AS.Stats().Registrations; got != 2 {
		t.Errorf("Registrations = %d, want 2 (the re-login reuses the newer registration)", got)
	}
	for _, name := range []string{testServer, "second"} {
		if err := e.Logout(t.Context(), name); err != nil {
			t.Errorf("Logout(%s): %v", name, err)
		}
	}
	if e.hasRegistration(t) {
		t.Error("a registration is left after both servers logged out")
	}
}
