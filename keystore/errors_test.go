package keystore

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		notFound    bool
		unavailable bool
		hint        string
	}{
		{name: "not found", err: keyring.ErrNotFound, notFound: true},
		{name: "too big", err: keyring.ErrSetDataTooBig},
		{name: "locked collection", err: errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"),
			unavailable: true, hint: hintLocked},
		{name: "no secret service", err: errors.New("The name org.freedesktop.secrets was not provided by any .service files"),
			unavailable: true, hint: hintNoService},
		{name: "no bus address", err: errors.New("dbus: couldn't determine address of session bus"),
			unavailable: true, hint: hintNoBus},
		{name: "dead bus socket", err: errors.New("dial unix /run/user/1000/bus: connect: no such file or directory"),
			unavailable: true, hint: hintNoBus},
		{name: "macOS security failure", err: errors.New("exit status 36"), unavailable: true},
		{name: "unsupported platform", err: keyring.ErrUnsupportedPlatform, unavailable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.setFail(func(string, string) error { return tt.err })
			k := Open(t.TempDir(), withBackend(f))
			_, err := k.Get(context.Background(), "key")
			if got := err == ErrNotFound; got != tt.notFound {
				t.Errorf("Get error %v: ErrNotFound = %v, want %v", err, got, tt.notFound)
			}
			var ue *UnavailableError
			if got := errors.As(err, &ue); got != tt.unavailable {
				t.Fatalf("Get error %v: *UnavailableError = %v, want %v", err, got, tt.unavailable)
			}
			if !tt.unavailable {
				return
			}
			if ue.Op != "get" || ue.Hint != tt.hint {
				t.Errorf("UnavailableError{Op: %q, Hint: %q}, want {get, %q}", ue.Op, ue.Hint, tt.hint)
			}
			if msg := err.Error(); !strings.Contains(msg, Fix) || !strings.Contains(msg, tt.hint) {
				t.Errorf("message %q lacks the hint or the fix", msg)
			}
		})
	}
}

// A backend whose errors echo the value must not leak it through Set.
func TestSetErrorNeverShowsSecret(t *testing.T) {
	f := newFake()
	k := Open(t.TempDir(), withBackend(f))
	f.setFail(func(op, user string) error {
		if op != "set" {
			return nil
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		return errors.New("cannot store " + f.items["last"])
	})
	secret := []byte("refresh-token-that-must-not-leak")
	f.put("last", valuePrefix+base64.StdEncoding.EncodeToString(secret))
	err := k.Set(context.Background(), "key", secret)
	if err == nil {
		t.Fatal("Set succeeded")
	}
	enc := base64.StdEncoding.EncodeToString(secret)
	if msg := err.Error(); strings.Contains(msg, enc) || strings.Contains(msg, string(secret)) {
		t.Errorf("error shows the secret: %s", msg)
	}
}

func TestHungKeychainTimesOut(t *testing.T) {
	f := newFake()
	block := make(chan struct{})
	f.setBlock(block)
	const timeout = 50 * time.Millisecond
	k := Open(t.TempDir(), withBackend(f), WithTimeout(timeout))
	ctx := context.Background()
	for _, op := range []string{"get", "get again while the first call hangs"} {
		start := time.Now()
		_, err := k.Get(ctx, "key")
		elapsed := time.Since(start)
		var ue *UnavailableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "did not answer within 50ms") {
			t.Fatalf("%s: %v, want *UnavailableError saying the keychain did not answer", op, err)
		}
		if elapsed > timeout+time.Second {
			t.Errorf("%s took %v with a timeout of %v", op, elapsed, timeout)
		}
	}
	if n := f.callCount(); n != 1 {
		t.Errorf("%d calls reached the hung keychain, want 1 (the rest wait for it)", n)
	}
	close(block)
	f.setBlock(nil)
	k.gate <- struct{}{} // wait for the abandoned call to return
	<-k.gate
	if _, err := k.Get(ctx, "key"); err != ErrNotFound {
		t.Errorf("Get once the keychain answers: %v, want ErrNotFound", err)
	}
}

func TestCancelIsNotUnavailable(t *testing.T) {
	f := newFake()
	block := make(chan struct{})
	defer close(block)
	f.setBlock(block)
	k := Open(t.TempDir(), withBackend(f))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	err := k.Set(ctx, "key", []byte("v"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Set = %v, want context.Canceled", err)
	}
	var ue *UnavailableError
	if errors.As(err, &ue) {
		t.Errorf("a cancelled call reported the keychain unavailable: %v", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("Set returned %v after cancel", elapsed)
	}
}

func TestBackendPanicIsUnavailable(t *testing.T) {
	f := newFake()
	f.setFail(func(string, string) error { panic("interface conversion: interface {} is nil, not bool") })
	k := Open(t.TempDir(), withBackend(f))
	var ue *UnavailableError
	if _, err := k.Get(context.Background(), "key"); !errors.As(err, &ue) {
		t.Fatalf("Get = %v, want *UnavailableError", err)
	}
}
