// Package keystoretest looks at the real keychain the way an independent
// client does, for tests that check what mcpauth left in it.
package keystoretest

import (
	"bytes"
	"errors"
	"os/exec"
	"slices"
	"strings"
)

// SecretToolUsers lists, sorted, the accounts ("username" attributes) of
// the keychain items under service, with `secret-tool search --all service
// SERVICE` (libsecret-tools). ok is false when secret-tool is not
// installed. secret-tool prints each item's secret to stdout and its
// attributes to stderr, and prints nothing when nothing matches;
// neither output reaches the error. An item without a username attribute
// is listed as "(an item without a username attribute)".
func SecretToolUsers(service string) (users []string, ok bool, err error) {
	if _, err := exec.LookPath("secret-tool"); err != nil {
		return nil, false, nil
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("secret-tool", "search", "--all", "service", service)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil && stdout.Len()+stderr.Len() > 0 {
		return nil, true, errors.New("secret-tool search failed: " + err.Error()) // not its output: it holds secrets
	}
	for line := range strings.Lines(stderr.String()) {
		if u, ok := strings.CutPrefix(line, "attribute.username = "); ok {
			users = append(users, strings.TrimSpace(u))
		}
	}
	if stdout.Len() > 0 && len(users) == 0 {
		users = append(users, "(an item without a username attribute)")
	}
	slices.Sort(users)
	return users, true, nil
}
