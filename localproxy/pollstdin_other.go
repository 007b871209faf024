//go:build !unix

package localproxy

import "io"

// PollableStdin returns in unchanged: only Unix has the poller-backed
// pipes that pollstdin_unix.go uses.
func PollableStdin(in io.Reader) (io.Reader, func()) { return in, func() {} }
