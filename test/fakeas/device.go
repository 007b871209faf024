package fakeas

import (
	"crypto/rand"
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"
)

// DeviceConfig turns on the device authorization grant (RFC 8628).
type DeviceConfig struct {
	// Interval is the polling interval, in seconds, the server names; 0
	// leaves it out (the client then waits 5 s, §3.2).
	Interval int
	// ExpiresIn is the device code's lifetime; 0 means 10 minutes.
	ExpiresIn time.Duration
	// Polls scripts the answers to the token polls, in order:
	// "authorization_pending", "slow_down", "access_denied",
	// "expired_token", or "approve" (the tokens). Once it is used up, a
	// poll answers authorization_pending until the user code is approved
	// at the verification URI: GET /device?user_code=CODE approves, as a
	// browser sent to verification_uri_complete does.
	Polls []string
	// NoCompleteURI leaves verification_uri_complete out.
	NoCompleteURI bool
}

// deviceAuth is one device authorization request.
type deviceAuth struct {
	clientID, userCode string
	scope              []string
	resource           string
	expires            time.Time
	polls              int
	approved, used     bool
}

// Device flow statistics are in Stats: DeviceAuthorizations counts §3.1
// requests, DevicePolls every token request with the device code.

// handleDeviceAuthorization implements RFC 8628 §3.1-§3.2.
func (s *Server) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "could not parse the form")
		return
	}
	c, _, err := s.authenticateClient(r, r.PostForm)
	if err != nil {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", err.Error())
		return
	}
	scope, desc := s.requestedScope(r.PostForm)
	if desc != "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_scope", desc)
		return
	}
	resource := r.PostForm.Get("resource")
	if resource == "" && s.cfg.RequireResource {
		writeOAuthError(w, http.StatusBadRequest, "invalid_target", "resource parameter is required")
		return
	}
	cfg := s.cfg.Device
	ttl := cfg.ExpiresIn
	if ttl == 0 {
		ttl = 10 * time.Minute
	}
	dc := rand.Text()
	uc := strings.ToUpper(rand.Text()[:4] + "-" + rand.Text()[:4])
	s.mu.Lock()
	s.grantStateLocked().devices[dc] = &deviceAuth{
		clientID: c.id, userCode: uc, scope: scope, resource: resource, expires: time.Now().Add(ttl),
	}
	s.stats.DeviceAuthorizations++
	s.mu.Unlock()
	verify := s.issuer + "/device"
	resp := map[string]any{
		"device_code":      dc,
		"user_code":        uc,
		"verification_uri": verify,
		"expires_in":       int(ttl / time.Second),
	}
	if !cfg.NoCompleteURI {
		resp["verification_uri_complete"] = verify + "?user_code=" + uc
	}
	if cfg.Interval > 0 {
		resp["interval"] = cfg.Interval
	}
	s.logf("fakeas: device authorization for %s", c.id)
	writeJSON(w, http.StatusOK, resp)
}

// handleDeviceVerify is the verification URI: with a valid user_code it
// approves (no login: the fake's user is always signed in), else it shows
// a form.
func (s *Server) handleDeviceVerify(w http.ResponseWriter, r *http.Request) {
	code := strings.ToUpper(strings.TrimSpace(r.FormValue("user_code")))
	if code == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>Device sign-in</title><form method="post"><input name="user_code"><button>Continue</button></form>`)
		return
	}
	if !s.ApproveDevice(code) {
		http.Error(w, "unknown or expired code", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><title>Signed in</title><p>Signed in on device %s. You can close this page.", html.EscapeString(code))
}

// ApproveDevice approves the device authorization with userCode, as the
// user does at the verification URI. It reports whether the code was
// pending.
func (s *Server) ApproveDevice(userCode string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.grantStateLocked().devices {
		if d.userCode == userCode && !d.used && time.Now().Before(d.expires) {
			d.approved = true
			return true
		}
	}
	return false
}

// ApproveAllDevices approves every pending device authorization.
func (s *Server) ApproveAllDevices() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.grantStateLocked().devices {
		d.approved = true
	}
}

// pollDevice answers a device access token request (RFC 8628 §3.4-§3.5).
func (s *Server) pollDevice(c *client, form map[string][]string) (map[string]any, string, string) {
	dcode := ""
	if v := form["device_code"]; len(v) > 0 {
		dcode = v[0]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.DevicePolls++
	d := s.grantStateLocked().devices[dcode]
	switch {
	case d == nil || d.clientID != c.id:
		return nil, "invalid_grant", "unknown device code"
	case d.used:
		return nil, "invalid_grant", "device code already used"
	case time.Now().After(d.expires):
		return nil, "expired_token", "the device code expired"
	}
	answer := "authorization_pending"
	if d.polls < len(s.cfg.Device.Polls) {
		answer = s.cfg.Device.Polls[d.polls]
	} else if d.approved {
		answer = "approve"
	}
	d.polls++
	if answer != "approve" {
		return nil, answer, "device flow: " + answer
	}
	d.used = true
	g := &grant{id: rand.Text(), clientID: c.id, subject: s.cfg.Subject, scope: d.scope, resource: d.resource}
	s.grants[g.id] = g
	return s.issueLocked(g, g.scope, g.resource), "", ""
}
