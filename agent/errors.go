package agent

import (
	"errors"
	"fmt"
	"strings"

	"mcpauth/keystore"
)

// The errors below are the states a UI or a bridge reacts to. Each message
// says what to do. Match them with errors.As; they survive the control
// socket (see control.go), so a client of a remote agent sees the same types.

// LoginRequiredError means no usable token is held and an interactive login
// is needed: there was never one, the refresh token was refused
// (invalid_grant), or the user logged out.
type LoginRequiredError struct {
	Server string
	Reason string // why, for the user; never a secret
}

func (e *LoginRequiredError) Error() string {
	msg := fmt.Sprintf("server %q needs a login", e.Server)
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
	return msg + fmt.Sprintf(": run `mcpauth login %s`", e.Server)
}

// StepUpRequiredError means the server answered 403 insufficient_scope and
// the scopes below must be authorized first (MCP authorization, step 6).
type StepUpRequiredError struct {
	Server string
	Scopes []string
}

func (e *StepUpRequiredError) Error() string {
	return fmt.Sprintf("server %q needs more scopes (%s): run `mcpauth login %s` to grant them",
		e.Server, strings.Join(e.Scopes, " "), e.Server)
}

// RegistrationGoneError means the authorization server no longer knows our
// client (invalid_client). The dynamic registration is dropped and the next
// login registers again; a pre-registered client must be fixed by the user.
type RegistrationGoneError struct {
	Server        string
	Issuer        string
	PreRegistered bool
}

func (e *RegistrationGoneError) Error() string {
	if e.PreRegistered {
		return fmt.Sprintf("the authorization server %s rejected the configured client ID for %q (invalid_client): "+
			"check it and run `mcpauth add %s URL --client-id ID` again", e.Issuer, e.Server, e.Server)
	}
	return fmt.Sprintf("the authorization server %s no longer knows mcpauth's registration for %q (invalid_client): "+
		"run `mcpauth login %s` to register again", e.Issuer, e.Server, e.Server)
}

// ClientIDRequiredError means the authorization server offers neither a
// Client ID Metadata Document nor dynamic registration, so the user must
// supply a client ID registered with it (MCP authorization, step 4).
type ClientIDRequiredError struct {
	Server string
	Issuer string
}

func (e *ClientIDRequiredError) Error() string {
	return fmt.Sprintf("the authorization server %s for %q supports neither dynamic client registration nor "+
		"Client ID Metadata Documents: register a client there with redirect URI http://127.0.0.1/callback, then run "+
		"`mcpauth add %s URL --client-id ID` (and --client-secret-env VAR if it has a secret)", e.Issuer, e.Server, e.Server)
}

// KeychainUnavailableError is the keystore's fail-closed error, re-exported
// so clients of the agent need not import keystore.
type KeychainUnavailableError = keystore.UnavailableError

// NotFoundError means no server of that name is configured.
type NotFoundError struct{ Server string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no server named %q: see `mcpauth list`, or add it with `mcpauth add %s URL`", e.Server, e.Server)
}

// ClientNotFoundError means no local client of that name holds a key for
// the HTTP bridge.
type ClientNotFoundError struct{ Client string }

func (e *ClientNotFoundError) Error() string {
	return fmt.Sprintf("no local client named %q: see `mcpauth client list`", e.Client)
}

// ClientExistsError means a local client of that name already holds a key.
// Keys are shown only once, so a lost key is replaced by removing the
// client and adding it again.
type ClientExistsError struct{ Client string }

func (e *ClientExistsError) Error() string {
	return fmt.Sprintf("a local client named %q already exists: to issue a new key, run `mcpauth client remove %s` "+
		"and then `mcpauth client add %s`", e.Client, e.Client, e.Client)
}

// ErrorReason names an authorization failure for programs, with the control
// socket's error codes: "login_required", "step_up_required",
// "registration_gone", "client_id_required", "keychain_unavailable", or
// ReasonAuthorizationFailed for any other error. The bridges put it in
// their JSON-RPC errors' data.reason.
func ErrorReason(err error) string {
	var (
		lr  *LoginRequiredError
		su  *StepUpRequiredError
		rg  *RegistrationGoneError
		cid *ClientIDRequiredError
		ku  *KeychainUnavailableError
	)
	switch {
	case errors.As(err, &lr):
		return codeLoginRequired
	case errors.As(err, &su):
		return codeStepUpRequired
	case errors.As(err, &rg):
		return codeRegistrationGone
	case errors.As(err, &cid):
		return codeClientIDRequired
	case errors.As(err, &ku):
		return codeKeychainUnavailable
	}
	return ReasonAuthorizationFailed
}

// ReasonAuthorizationFailed is ErrorReason's answer for an error that is
// none of the typed ones above.
const ReasonAuthorizationFailed = "authorization_failed"
