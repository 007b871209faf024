package agent

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"

	"mcpauth/agent/oauthex"
)

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// reservedAuthorizeParams are set by the flow itself; --authorize-param
// must not override them, or it could switch off PKCE or redirect the code.
var reservedAuthorizeParams = []string{
	"client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method", "scope", "resource",
}

// Add registers a server (API.Add). Secrets go to the keystore before the
// config is written, so a keychain failure leaves nothing half-added.
func (a *Agent) Add(ctx context.Context, req AddRequest) error {
	if !validName.MatchString(req.Name) {
		return fmt.Errorf("invalid server name %q: use letters, digits, '.', '_' and '-', at most 64", req.Name)
	}
	if err := (oauthex.Policy{AllowHTTP: req.AllowHTTP, ServerURL: req.URL}).CheckURL(req.URL); err != nil {
		return fmt.Errorf("could not add %s: %w", req.Name, err)
	}
	if req.ClientMetadataURL != "" {
		if err := (oauthex.Policy{ServerURL: req.ClientMetadataURL}).CheckURL(req.ClientMetadataURL); err != nil {
			return fmt.Errorf("could not add %s: the client metadata URL is unusable: %w", req.Name, err)
		}
	}
	if req.ClientSecret != "" && req.ClientID == "" {
		return fmt.Errorf("could not add %s: a client secret needs a client ID (--client-id)", req.Name)
	}
	for k := range req.AuthorizeParams {
		if slices.Contains(reservedAuthorizeParams, k) {
			return fmt.Errorf("could not add %s: --authorize-param %s is set by mcpauth itself", req.Name, k)
		}
	}
	if err := checkGrantRequest(req); err != nil { // grants.go
		return fmt.Errorf("could not add %s: %w", req.Name, err)
	}
	headerNames := make([]string, 0, len(req.Headers))
	canon := make(map[string]string, len(req.Headers))
	for k, v := range req.Headers {
		ck := http.CanonicalHeaderKey(k)
		if ck == "Authorization" {
			return fmt.Errorf("could not add %s: --header Authorization would replace the OAuth token", req.Name)
		}
		canon[ck] = v
		headerNames = append(headerNames, ck)
	}
	sort.Strings(headerNames)

	if e, err := a.reg.get(req.Name); err == nil && e.Config.URL != req.URL {
		return fmt.Errorf("a server named %s already exists for %s: run `mcpauth remove %s` first", req.Name, e.Config.URL, req.Name)
	}
	// Secrets the server does not have are deleted, in one go: an earlier
	// Add of the name, interrupted before it wrote the config, may have
	// left them. For a new server they almost never exist, and on Secret
	// Service one DeleteMany learns that from one batch of searches, where
	// a Delete per key took about four keychain calls each.
	var stale []string
	if req.ClientSecret != "" {
		if err := a.secrets.store.Set(ctx, clientSecretKey(req.Name), []byte(req.ClientSecret)); err != nil {
			return fmt.Errorf("could not save the client secret of %s to the keychain: %w", req.Name, err)
		}
	} else {
		stale = append(stale, clientSecretKey(req.Name))
	}
	if len(canon) > 0 {
		if err := a.secrets.setJSON(ctx, headersKey(req.Name), canon); err != nil {
			return err
		}
	} else {
		stale = append(stale, headersKey(req.Name))
	}
	grantStale, err := a.storeGrantSecrets(ctx, req)
	if err != nil {
		return err
	}
	if err := a.secrets.delete(ctx, append(stale, grantStale...)...); err != nil {
		return err
	}
	cfg := serverConfig{
		URL:               req.URL,
		ClientID:          req.ClientID,
		HasClientSecret:   req.ClientSecret != "",
		ClientMetadataURL: req.ClientMetadataURL,
		Scopes:            req.Scopes,
		HeaderNames:       headerNames,
		NoResource:        req.NoResource,
		AuthorizeParams:   req.AuthorizeParams,
		AllowHTTP:         req.AllowHTTP,
	}
	setGrantConfig(&cfg, req)
	return a.reg.update(ctx, func(f *registryFile) error {
		if e, ok := f.Servers[req.Name]; ok {
			e.Config = cfg
			return nil
		}
		f.Servers[req.Name] = &serverEntry{Config: cfg}
		return nil
	})
}

// Remove logs out (revoking at the AS) and then forgets the server and all
// of its secrets (API.Remove).
func (a *Agent) Remove(ctx context.Context, name string) error {
	if err := a.Logout(ctx, name); err != nil {
		return fmt.Errorf("could not remove %s: %w", name, err)
	}
	if err := a.secrets.delete(ctx, append(grantSecretKeys(name), clientSecretKey(name), headersKey(name))...); err != nil {
		return err
	}
	return a.reg.update(ctx, func(f *registryFile) error {
		delete(f.Servers, name)
		return nil
	})
}

// List reports every server's state (API.List). It reads the token items
// for their expiry and scopes, and never returns a secret.
func (a *Agent) List(ctx context.Context) ([]ServerStatus, error) {
	names, f, err := a.reg.names()
	if err != nil {
		return nil, err
	}
	out := make([]ServerStatus, 0, len(names))
	for _, name := range names {
		e := f.Servers[name]
		st := ServerStatus{
			Name: name, URL: e.Config.URL, Issuer: e.State.Issuer, ClientKind: e.State.ClientKind,
			Scopes: e.State.Scopes, LastRefresh: e.State.LastRefresh, LastLogin: e.State.LastLogin,
			State: StateNeedsLogin, AutoApprove: e.Config.AutoApprove,
		}
		acc, hasAT, err := a.secrets.access(ctx, name)
		if err != nil {
			return nil, err
		}
		_, hasRT, err := a.secrets.refresh(ctx, name)
		if err != nil {
			return nil, err
		}
		if hasAT {
			st.Expiry, st.Scopes = acc.Expiry, acc.Scopes
		}
		st.LastUsed, st.LastUsedBy = a.audit.serverLastUse(name)
		switch {
		case hasRT || (hasAT && (acc.Expiry.IsZero() || a.now().Before(acc.Expiry) || renewable(e))):
			st.State = StateSignedIn
		case e.State.LastError != "":
			st.State, st.Error = StateError, e.State.LastError
		}
		out = append(out, st)
	}
	return out, nil
}
