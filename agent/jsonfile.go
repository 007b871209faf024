package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// updateJSONFile is the read-modify-write of the home's JSON files
// (servers.json, clients.json): under the home's config lock it loads the
// file (load), applies fn and writes the result back with writeFileAtomic.
// what names the file in errors.
func updateJSONFile[T any](ctx context.Context, home, path, what string, load func() (*T, error), fn func(*T) error) error {
	l, err := lockFile(ctx, filepath.Join(home, "locks", "config.lock"))
	if err != nil {
		return err
	}
	defer l.Unlock()
	f, err := load()
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		return err
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, what, append(data, '\n'))
}

// writeFileAtomic replaces path with data (0600) by a temporary file, a
// sync and a rename, so a crash never leaves a torn file and readers see
// the old or the new version, each with its own inode. what names the file
// in errors ("could not write WHAT: ...").
func writeFileAtomic(path, what string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("could not write %s: %w", what, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("could not write %s: %w", what, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
