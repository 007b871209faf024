// Package humanize renders times relative to now the way people read them
// at a glance ("in 9m", "2m ago"), for the CLI and the tray alike. It
// imports nothing beyond the standard library.
package humanize

import (
	"fmt"
	"time"
)

// Expiry says when a token that expires at t does: "in 9m" or
// "expired 3m ago". t must not be zero; callers render that their own way.
func Expiry(t, now time.Time) string {
	if t.After(now) {
		return "in " + Approx(t.Sub(now))
	}
	return "expired " + Approx(now.Sub(t)) + " ago"
}

// Ago says how long ago t was: "5m ago", or "just now" if that is less than
// justNow (which also covers a t in the future, from clock skew). t must
// not be zero; callers render that their own way.
func Ago(t, now time.Time, justNow time.Duration) string {
	if now.Sub(t) < justNow {
		return "just now"
	}
	return Approx(now.Sub(t)) + " ago"
}

// Approx renders a duration the way people read it at a glance, truncated
// to its largest unit or two: 45s, 9m, 2h, 2h5m, 14h, 3d. Negative
// durations count as zero.
func Approx(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 || h >= 10 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	default:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
}
