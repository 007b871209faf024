package agent

import (
	"errors"
	"net/http"

	"mcpauth/keystore"
)

// Errors cross the control socket typed, so that errors.As works for a
// client of a remote agent exactly as in-process. On the wire an error is
// {"error": wireError}. HTTP statuses, chosen so that no 401 is ever seen
// (a 401 means "send a token" to anything that speaks HTTP):
//
//	not_found, client_not_found                 404
//	client_exists                               409
//	login_required, step_up_required,
//	registration_gone, client_id_required,
//	login_denied                                409 (the server's state needs the user)
//	keychain_unavailable                        503
//	bad_request (malformed request)             400
//	forbidden (peer is another user)            403
//	internal (any other error)                  500
//
// A client must rely on the code, not the status.
const (
	codeLoginRequired       = "login_required"
	codeStepUpRequired      = "step_up_required"
	codeRegistrationGone    = "registration_gone"
	codeClientIDRequired    = "client_id_required"
	codeLoginDenied         = "login_denied"
	codeKeychainUnavailable = "keychain_unavailable"
	codeNotFound            = "not_found"
	codeClientNotFound      = "client_not_found"
	codeClientExists        = "client_exists"
	codeBadRequest          = "bad_request"
	codeForbidden           = "forbidden"
	codeInternal            = "internal"
)

// wireError is an error on the control socket. Message is the whole
// err.Error() as the agent saw it, wrapping included; the other fields
// rebuild the typed error inside it. Errors never carry secrets (see
// STYLE.md), so nothing here is one.
type wireError struct {
	Code          string   `json:"code"`
	Message       string   `json:"message"`
	Server        string   `json:"server,omitempty"`
	Client        string   `json:"client,omitempty"` // local client name
	Reason        string   `json:"reason,omitempty"` // LoginRequiredError.Reason
	Scopes        []string `json:"scopes,omitempty"`
	Issuer        string   `json:"issuer,omitempty"`
	PreRegistered bool     `json:"pre_registered,omitempty"`
	Op            string   `json:"op,omitempty"` // keystore.UnavailableError.Op
	// Cause is keystore.UnavailableError.Err's message, so the rebuilt
	// error reads exactly as the agent's.
	Cause string `json:"cause,omitempty"`
}

func (e *wireError) status() int {
	switch e.Code {
	case codeNotFound, codeClientNotFound:
		return http.StatusNotFound
	case codeClientExists:
		return http.StatusConflict
	case codeLoginRequired, codeStepUpRequired, codeRegistrationGone, codeClientIDRequired, codeLoginDenied:
		return http.StatusConflict
	case codeKeychainUnavailable:
		return http.StatusServiceUnavailable
	case codeBadRequest:
		return http.StatusBadRequest
	case codeForbidden:
		return http.StatusForbidden
	default:
		return http.StatusInternalServerError
	}
}

// badRequestError is a malformed request to the control socket.
type badRequestError struct{ msg string }

func (e *badRequestError) Error() string { return e.msg }

func encodeError(err error) *wireError {
	we := &wireError{Code: codeInternal, Message: err.Error()}
	var (
		nf  *NotFoundError
		lr  *LoginRequiredError
		su  *StepUpRequiredError
		rg  *RegistrationGoneError
		cid *ClientIDRequiredError
		ku  *keystore.UnavailableError
		br  *badRequestError
		cnf *ClientNotFoundError
		ce  *ClientExistsError
		ld  *LoginDeniedError
	)
	switch {
	case errors.As(err, &nf):
		we.Code, we.Server = codeNotFound, nf.Server
	case errors.As(err, &lr):
		we.Code, we.Server, we.Reason = codeLoginRequired, lr.Server, lr.Reason
	case errors.As(err, &su):
		we.Code, we.Server, we.Scopes = codeStepUpRequired, su.Server, su.Scopes
	case errors.As(err, &rg):
		we.Code, we.Server, we.Issuer, we.PreRegistered = codeRegistrationGone, rg.Server, rg.Issuer, rg.PreRegistered
	case errors.As(err, &cid):
		we.Code, we.Server, we.Issuer = codeClientIDRequired, cid.Server, cid.Issuer
	case errors.As(err, &ku):
		we.Code, we.Op = codeKeychainUnavailable, ku.Op
		if ku.Err != nil {
			we.Cause = ku.Err.Error()
		}
	case errors.As(err, &br):
		we.Code = codeBadRequest
	case errors.As(err, &cnf):
		we.Code, we.Client = codeClientNotFound, cnf.Client
	case errors.As(err, &ce):
		we.Code, we.Client = codeClientExists, ce.Client
	case errors.As(err, &ld):
		we.Code, we.Server = codeLoginDenied, ld.Server
	}
	return we
}

// decodeError rebuilds the agent's error. When the agent's error wrapped
// the typed one in context, the result keeps the agent's whole message and
// unwraps to the typed error.
func decodeError(we *wireError) error {
	var typed error
	switch we.Code {
	case codeNotFound:
		typed = &NotFoundError{Server: we.Server}
	case codeLoginRequired:
		typed = &LoginRequiredError{Server: we.Server, Reason: we.Reason}
	case codeStepUpRequired:
		typed = &StepUpRequiredError{Server: we.Server, Scopes: we.Scopes}
	case codeRegistrationGone:
		typed = &RegistrationGoneError{Server: we.Server, Issuer: we.Issuer, PreRegistered: we.PreRegistered}
	case codeClientIDRequired:
		typed = &ClientIDRequiredError{Server: we.Server, Issuer: we.Issuer}
	case codeClientNotFound:
		typed = &ClientNotFoundError{Client: we.Client}
	case codeClientExists:
		typed = &ClientExistsError{Client: we.Client}
	case codeLoginDenied:
		typed = &LoginDeniedError{Server: we.Server}
	case codeKeychainUnavailable:
		cause := we.Cause
		if cause == "" {
			cause = we.Message
		}
		typed = &KeychainUnavailableError{Op: we.Op, Err: errors.New(cause)}
	default:
		if we.Message == "" {
			return errors.New("the mcpauth agent failed without saying why")
		}
		return errors.New(we.Message)
	}
	if we.Message == "" || we.Message == typed.Error() {
		return typed
	}
	return &remoteError{msg: we.Message, err: typed}
}

// remoteError is a typed error the agent had wrapped with context.
type remoteError struct {
	msg string
	err error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.err }
