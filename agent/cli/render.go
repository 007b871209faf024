package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"mcpauth/agent"
	"mcpauth/agent/humanize"
)

// writeTable prints `mcpauth list`, with times relative to now. Servers in
// the error state get their error on a line of its own below the table.
func writeTable(w io.Writer, list []agent.ServerStatus, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tISSUER\tCLIENT\tSCOPES\tEXPIRES\tLAST REFRESH\tLAST USED")
	var errs []string
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			s.Name, orDash(string(s.State)), orDash(shortIssuer(s.Issuer)), orDash(string(s.ClientKind)),
			orDash(strings.Join(s.Scopes, " ")), expires(s.Expiry, now), ago(s.LastRefresh, now),
			lastUsed(s.LastUsed, s.LastUsedBy, now))
		if s.Error != "" {
			errs = append(errs, fmt.Sprintf("%s: %s", s.Name, s.Error))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(errs) > 0 {
		_, err := fmt.Fprintf(w, "\n%s\n", strings.Join(errs, "\n"))
		return err
	}
	return nil
}

// writeJSON prints v indented; an empty list is [], never null.
func writeJSON(w io.Writer, list []agent.ServerStatus) error {
	if list == nil {
		list = []agent.ServerStatus{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(list)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shortIssuer drops https://, which every issuer but a loopback one has.
func shortIssuer(issuer string) string {
	return strings.TrimPrefix(issuer, "https://")
}

// expires says when a token expires: "in 9m", "expired 3m ago", or "-".
func expires(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return humanize.Expiry(t, now)
}

// ago says how long ago t was: "5m ago", "just now", or "-".
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return humanize.Ago(t, now, time.Second)
}

// lastUsed says when and by which local client a server was last used
// through the HTTP bridge: "2m ago by cursor", or "-".
func lastUsed(t time.Time, by string, now time.Time) string {
	if t.IsZero() || by == "" {
		return ago(t, now)
	}
	return ago(t, now) + " by " + by
}
