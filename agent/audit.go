package agent

// The audit record: which local client used which server through the HTTP
// bridge, and when. It is home/audit.jsonl, one JSON object per line,
// append-only and 0600. The bridge reports every request (NoteUse), but a
// line is written at most once per minute per (client, server), so a busy
// client costs one small write a minute rather than one per request. The
// exact last use is kept in memory for `mcpauth list`. At auditMaxSize the
// file becomes audit.jsonl.1 (replacing the one before) and a new one
// starts, so the record keeps between one and two files' worth of history.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// auditInterval is the least time between two audit lines for one client
// and server.
const auditInterval = time.Minute

// auditTail is how much of the end of audit.jsonl a new agent reads to
// learn the last uses: about ten thousand lines.
const auditTail = 1 << 20

// auditMaxSize is the size at which audit.jsonl is rotated: about 40,000
// lines, weeks of a busy day's use.
const auditMaxSize = 4 << 20

// AuditRecord is one line of audit.jsonl.
type AuditRecord struct {
	Time   time.Time `json:"time"`
	Client string    `json:"client"`
	Server string    `json:"server"`
}

type auditUse struct {
	at time.Time
	by string
}

type auditPair struct{ client, server string }

// auditLog is the agent's view of audit.jsonl. Only the process running
// the bridge writes it; any process reads its tail once, on first use.
type auditLog struct {
	path    string
	maxSize int64 // auditMaxSize; tests make it small
	now     func() time.Time
	log     *slog.Logger

	loadOnce sync.Once
	mu       sync.Mutex // guards the maps and serialises writes
	written  map[auditPair]time.Time
	servers  map[string]auditUse
	clients  map[string]time.Time
}

func newAuditLog(home string, now func() time.Time, log *slog.Logger) *auditLog {
	return &auditLog{
		path:    filepath.Join(home, "audit.jsonl"),
		maxSize: auditMaxSize,
		now:     now,
		log:     log,
		written: map[auditPair]time.Time{},
		servers: map[string]auditUse{},
		clients: map[string]time.Time{},
	}
}

// NoteUse records that a local client used a server through the bridge.
// The bridge calls it for every request it forwards; it touches the disk at
// most once per auditInterval per (client, server).
func (a *Agent) NoteUse(client, server string) {
	a.audit.note(client, server)
}

func (l *auditLog) note(client, server string) {
	l.loadOnce.Do(l.load)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if u := l.servers[server]; now.After(u.at) {
		l.servers[server] = auditUse{at: now, by: client}
	}
	if now.After(l.clients[client]) {
		l.clients[client] = now
	}
	p := auditPair{client, server}
	if last, ok := l.written[p]; ok && now.Sub(last) < auditInterval {
		return
	}
	l.written[p] = now
	if err := l.append(AuditRecord{Time: now.UTC(), Client: client, Server: server}); err != nil {
		l.log.Warn("could not write the audit record", "err", err)
	}
}

// append writes one line with a single write(2) to a file opened with
// O_APPEND, so concurrent writers never interleave within a line, and
// rotates the file once it reaches l.maxSize.
func (l *auditLog) append(r AuditRecord) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	fi, err := f.Stat()
	if err := errors.Join(err, f.Close()); err != nil {
		return err
	}
	if fi.Size() >= l.maxSize {
		return os.Rename(l.path, l.path+".1")
	}
	return nil
}

// serverLastUse returns when a server was last used and by which client.
func (l *auditLog) serverLastUse(server string) (time.Time, string) {
	l.loadOnce.Do(l.load)
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.servers[server]
	return u.at, u.by
}

func (l *auditLog) clientLastUse(client string) time.Time {
	l.loadOnce.Do(l.load)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.clients[client]
}

// load reads the last auditTail bytes of the record into the maps: of the
// file, and of the rotated one before it when the file is shorter. A
// missing file is an empty record; a damaged line is skipped.
func (l *auditLog) load() {
	var recs []AuditRecord
	for _, p := range []string{l.path + ".1", l.path} {
		r, err := readAuditTail(p, auditTail)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			l.log.Warn("could not read the audit record", "file", p, "err", err)
		}
		recs = append(recs, r...)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range recs {
		p := auditPair{r.Client, r.Server}
		if r.Time.After(l.written[p]) {
			l.written[p] = r.Time
		}
		if r.Time.After(l.servers[r.Server].at) {
			l.servers[r.Server] = auditUse{at: r.Time, by: r.Client}
		}
		if r.Time.After(l.clients[r.Client]) {
			l.clients[r.Client] = r.Time
		}
	}
}

// readAuditTail parses the complete lines among the last n bytes of path.
func readAuditTail(path string, n int64) ([]AuditRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	start := max(fi.Size()-n, 0)
	data, err := io.ReadAll(io.NewSectionReader(f, start, fi.Size()-start))
	if err != nil {
		return nil, err
	}
	if start > 0 {
		// The first line is probably cut; skip it.
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		} else {
			data = nil
		}
	}
	var recs []AuditRecord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), len(data)+1)
	for sc.Scan() {
		var r AuditRecord
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Client != "" && r.Server != "" && !r.Time.IsZero() {
			recs = append(recs, r)
		}
	}
	return recs, sc.Err()
}
