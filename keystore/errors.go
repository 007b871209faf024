package keystore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zalando/go-keyring"
)

// UnavailableError reports that no usable OS keychain answered. mcpauth
// fails closed on it: secrets are never written anywhere else.
type UnavailableError struct {
	Op   string // "get", "set" or "delete"
	Err  error  // the underlying error; never contains a secret
	Hint string // what this particular failure usually means, if known; may be empty
}

func (e *UnavailableError) Error() string {
	msg := fmt.Sprintf("the OS keychain is unavailable (%s: %v).", e.Op, e.Err)
	if e.Hint != "" {
		msg += " " + e.Hint
	}
	return msg + " " + Fix
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Fix tells the user how to get a working keychain on this platform. It is
// set per platform in fix_*.go.
var Fix = fixText

// noAnswerError is the Err of an UnavailableError for a keychain call that
// did not return in time. Secret Service activation over D-Bus can hang (gh
// times out after 3 s for the same reason), and a locked collection can wait
// for an unlock prompt that nobody sees.
type noAnswerError struct{ after string }

func (e *noAnswerError) Error() string {
	return "the keychain did not answer within " + e.after
}

// Hints for the failures seen on Linux desktops and headless machines. They
// are matched on message text because go-keyring returns godbus errors and
// plain strings, not typed errors; only hintNoAnswer applies on macOS and
// Windows.
const (
	hintLocked = "Its default collection is locked and no unlock prompt could open: this happens when D-Bus " +
		"starts gnome-keyring on demand outside a desktop session. Start and unlock gnome-keyring yourself " +
		"before mcpauth runs (`gnome-keyring-daemon --unlock --components=secrets`, password on stdin)."
	hintNoService = "Nothing on this D-Bus session bus provides org.freedesktop.secrets."
	hintNoBus     = "There is no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is unset or points to a socket " +
		"that does not exist."
	hintNoAnswer = "It may still be starting, or be waiting for an unlock prompt that cannot open."
)

// hintFor names the likely cause of a keychain error, or returns "".
func hintFor(err error) string {
	var na *noAnswerError
	if errors.As(err, &na) {
		return hintNoAnswer
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "failed to unlock correct collection"):
		return hintLocked
	case strings.Contains(msg, "org.freedesktop.secrets was not provided"),
		strings.Contains(msg, "org.freedesktop.DBus.Error.ServiceUnknown"):
		return hintNoService
	case strings.Contains(msg, "couldn't determine address of session bus"),
		strings.Contains(msg, "dial unix"),
		strings.Contains(msg, "dbus-launch"):
		return hintNoBus
	}
	return ""
}

// mapError turns a go-keyring error into keystore's vocabulary: ErrNotFound,
// a plain error for a value the platform refused as too big (a bug here,
// since items are sized to fit every platform), and *UnavailableError for
// everything else, because any other failure means the keychain could not be
// used and mcpauth must fail closed.
func mapError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("keystore %s: the keychain refused an item as too big: %w", op, err)
	}
	return &UnavailableError{Op: op, Err: err, Hint: hintFor(err)}
}

// redact removes secret from err's message. The backends are not known to
// echo what they were given, but an error is printed and logged, and a
// secret must never reach either, so Set does not rely on that.
func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "[redacted]"))
}
