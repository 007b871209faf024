package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// TrayBinary is the program that has what `mcpauth` leaves out: the tray
// app (fyne, cgo, GL and X11) and the demo server (mcp-go's server). They
// are a separate build so that `mcpauth connect`, which a host app spawns
// for every session, and the headless agent don't map GL libraries or run
// their package initializers: about half of connect's memory and a quarter
// of its start-up time (docs/benchmarks.md). `mcpauth` runs it for `tray`,
// for no command on a desktop, and for `demo`.
const TrayBinary = "mcpauth-tray"

// FindBinary returns the path of the program name: beside this executable
// (how bin/, the package and `make build` lay them out), else on PATH.
func FindBinary(name string) (string, error) {
	if self, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		p := filepath.Join(filepath.Dir(self), name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fs.ErrNotExist
	}
	return filepath.Abs(p)
}

// delegate replaces this process with mcpauth-tray running args (the
// command and its arguments, unchanged). what names what this build lacks,
// for the error when mcpauth-tray is missing.
func (r *runner) delegate(what string, args []string) error {
	path := r.env.TrayBinary
	if path == "" {
		p, err := FindBinary(TrayBinary)
		if errors.Is(err, fs.ErrNotExist) {
			self, _ := os.Executable()
			return fmt.Errorf("%s is in %s, a separate program, and it is neither beside %s nor on PATH: "+
				"install it (`make build` builds bin/%[2]s; the package puts it in /usr/local/bin), "+
				"or run `mcpauth agent` for the agent without a tray", what, TrayBinary, self)
		}
		if err != nil {
			return err
		}
		path = p
	}
	run := r.env.Exec
	if run == nil {
		run = syscall.Exec
	}
	argv := append([]string{path}, args...)
	if err := run(path, argv, os.Environ()); err != nil {
		return fmt.Errorf("could not run %s: %w", path, err)
	}
	return nil
}
