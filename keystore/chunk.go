package keystore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// How values are laid out in the keychain.
//
// Windows allows 2560 bytes per item and macOS about 3000 once go-keyring
// has base64-encoded the value again, so no item is longer than itemLimit.
// A value whose encoding fits is one item under its key:
//
//	key      = "mcpauth-value:" + base64(value)
//
// A larger one is split into chunks of the base64 text, stored in one of
// two slots, "a" or "b", and the key holds a manifest naming the slot:
//
//	key      = "mcpauth-chunks:" slot ":" N ":" first 16 hex of sha256(value)
//	key#a1 … key#aN (or key#b1 … key#bN) = the chunks
//
// Set writes the new chunks into the slot the current manifest does not use,
// then the manifest, then removes the other slot's chunks and any surplus.
// So the key always holds a complete old or new value: if Set fails, ctx
// ends or the process dies part way, the manifest still names intact chunks.
// Leftovers of such an interrupted Set are found and removed by the next Set
// or Delete of the key: writes go up from 1 and removals go down to 1, so a
// slot's chunks always form a run key#s1…key#sM that probing finds. In
// particular a slot with any chunk has key#s1, so Delete can tell that a
// key holds nothing from the key, key#a1 and key#b1 alone (removeMany).

const (
	itemLimit      = 2000 // bytes per item, below every platform's limit
	valuePrefix    = "mcpauth-value:"
	manifestPrefix = "mcpauth-chunks:"
	// maxChunks bounds manifests and probing: MaxValueSize encoded, plus slack.
	maxChunks = (MaxValueSize+2)/3*4/itemLimit + 2
)

// manifest describes a chunked value; n == 0 means the key is not chunked.
type manifest struct {
	slot byte // 'a' or 'b'
	n    int
	sum  string // shortSum of the value
}

func (m manifest) String() string {
	return manifestPrefix + string(m.slot) + ":" + strconv.Itoa(m.n) + ":" + m.sum
}

func parseManifest(s string) (manifest, bool) {
	parts := strings.Split(strings.TrimPrefix(s, manifestPrefix), ":")
	if len(parts) != 3 || (parts[0] != "a" && parts[0] != "b") || len(parts[2]) != 16 {
		return manifest{}, false
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 1 || n > maxChunks {
		return manifest{}, false
	}
	if _, err := hex.DecodeString(parts[2]); err != nil {
		return manifest{}, false
	}
	return manifest{slot: parts[0][0], n: n, sum: parts[2]}, true
}

func shortSum(value []byte) string {
	sum := sha256.Sum256(value)
	return hex.EncodeToString(sum[:])[:16]
}

func chunkUser(key string, slot byte, i int) string {
	return key + "#" + string(slot) + strconv.Itoa(i)
}

func other(slot byte) byte {
	if slot == 'a' {
		return 'b'
	}
	return 'a'
}

func corrupt(key, why string) error {
	return fmt.Errorf("%w: %s: %s", ErrCorrupt, key, why)
}

// load implements Get. k.mu is held.
func (k *Keyring) load(ctx context.Context, key string) ([]byte, error) {
	head, err := k.get(ctx, "get", key)
	if err != nil {
		return nil, err
	}
	if enc, ok := strings.CutPrefix(head, valuePrefix); ok {
		value, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, corrupt(key, "the item is not valid base64")
		}
		return value, nil
	}
	if !strings.HasPrefix(head, manifestPrefix) {
		return nil, corrupt(key, "the item was not written by mcpauth")
	}
	m, ok := parseManifest(head)
	if !ok {
		return nil, corrupt(key, "the chunk manifest is malformed")
	}
	var enc strings.Builder
	for i := 1; i <= m.n; i++ {
		c, err := k.get(ctx, "get", chunkUser(key, m.slot, i))
		if err == ErrNotFound {
			return nil, corrupt(key, fmt.Sprintf("chunk %d of %d is missing", i, m.n))
		}
		if err != nil {
			return nil, err
		}
		enc.WriteString(c)
	}
	value, err := base64.StdEncoding.DecodeString(enc.String())
	if err != nil || shortSum(value) != m.sum {
		return nil, corrupt(key, fmt.Sprintf("its %d chunks do not add up to the value that was stored", m.n))
	}
	return value, nil
}

// store implements Set for the base64 text enc of a value with checksum sum.
// k.mu is held.
func (k *Keyring) store(ctx context.Context, key, enc, sum string) error {
	old, err := k.current(ctx, "set", key)
	if err != nil {
		return err
	}
	if len(valuePrefix)+len(enc) <= itemLimit {
		if err := k.set(ctx, "set", key, valuePrefix+enc); err != nil {
			return err
		}
		return k.purge(ctx, "set", key, manifest{}, old)
	}
	m := manifest{slot: 'a', sum: sum}
	if old.n > 0 {
		m.slot = other(old.slot)
	}
	for off := 0; off < len(enc); off += itemLimit {
		m.n++
		if err := k.set(ctx, "set", chunkUser(key, m.slot, m.n), enc[off:min(off+itemLimit, len(enc))]); err != nil {
			return err
		}
	}
	if err := k.set(ctx, "set", key, m.String()); err != nil {
		return err
	}
	return k.purge(ctx, "set", key, m, old)
}

// removeMany implements Delete and DeleteMany. k.mu is held.
//
// With a finder backend it first asks, in one step, which of each key's
// head, first chunk of slot a and first chunk of slot b exist. A slot holds
// chunks only if it holds #1 (see the top of this file), which is what the
// probing in purge relies on too, so a key none of the three exist for
// holds nothing and costs nothing more. A key with only its head (a single
// item) loses just that; anything else takes the full path of remove.
func (k *Keyring) removeMany(ctx context.Context, keys []string) error {
	if _, ok := k.b.(finder); !ok {
		for _, key := range keys {
			if err := k.remove(ctx, key); err != nil {
				return err
			}
		}
		return nil
	}
	users := make([]string, 0, 3*len(keys))
	for _, key := range keys {
		users = append(users, key, chunkUser(key, 'a', 1), chunkUser(key, 'b', 1))
	}
	found, err := call(ctx, k, "delete", func(b backend) ([]bool, error) {
		return b.(finder).exists(k.service, users)
	})
	if err != nil {
		return err
	}
	if len(found) != len(users) {
		return &UnavailableError{Op: "delete", Err: fmt.Errorf("the keychain answered %d of %d searches", len(found), len(users))}
	}
	for i, key := range keys {
		head, a1, b1 := found[3*i], found[3*i+1], found[3*i+2]
		switch {
		case !head && !a1 && !b1:
		case !a1 && !b1:
			err = k.del(ctx, "delete", key)
		default:
			err = k.remove(ctx, key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// remove deletes key: the key first, so that from then on Get says
// ErrNotFound, then every chunk. A key that is missing is not deleted
// again, but its chunks are still looked for: an interrupted Delete leaves
// chunks without a key. k.mu is held.
func (k *Keyring) remove(ctx context.Context, key string) error {
	head, err := k.get(ctx, "delete", key)
	if err != nil && err != ErrNotFound {
		return err
	}
	old, _ := parseManifest(head) // zero unless head is a manifest
	if err == nil {
		if err := k.del(ctx, "delete", key); err != nil {
			return err
		}
	}
	return k.purge(ctx, "delete", key, manifest{}, old)
}

// current returns the manifest stored under key, or a zero manifest if the
// key is missing, holds a single item, or holds something unreadable that
// the caller is about to replace.
func (k *Keyring) current(ctx context.Context, op, key string) (manifest, error) {
	head, err := k.get(ctx, op, key)
	if err == ErrNotFound {
		return manifest{}, nil
	}
	if err != nil {
		return manifest{}, err
	}
	m, _ := parseManifest(head)
	return m, nil
}

// purge removes every chunk of key except those of keep: chunk keep.n+1 and
// up in keep's slot, everything in the other slot. old, the manifest before
// this operation, says how far its slot goes; beyond that, and in a slot no
// manifest names, the run of chunks is found by probing.
func (k *Keyring) purge(ctx context.Context, op, key string, keep, old manifest) error {
	for _, slot := range []byte{'a', 'b'} {
		from := 1
		if keep.n > 0 && slot == keep.slot {
			from = keep.n + 1
		}
		top := from - 1
		if old.n > 0 && slot == old.slot {
			top = max(top, old.n)
		}
		for ; top < maxChunks; top++ {
			ok, err := k.exists(ctx, op, chunkUser(key, slot, top+1))
			if err != nil {
				return err
			}
			if !ok {
				break
			}
		}
		for i := top; i >= from; i-- {
			if err := k.del(ctx, op, chunkUser(key, slot, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (k *Keyring) get(ctx context.Context, op, user string) (string, error) {
	return call(ctx, k, op, func(b backend) (string, error) { return b.Get(k.service, user) })
}

func (k *Keyring) exists(ctx context.Context, op, user string) (bool, error) {
	_, err := k.get(ctx, op, user)
	if err == ErrNotFound {
		return false, nil
	}
	return err == nil, err
}

func (k *Keyring) set(ctx context.Context, op, user, value string) error {
	_, err := call(ctx, k, op, func(b backend) (struct{}, error) {
		return struct{}{}, redact(b.Set(k.service, user, value), value)
	})
	return err
}

// del removes one item; a missing item is not an error.
func (k *Keyring) del(ctx context.Context, op, user string) error {
	_, err := call(ctx, k, op, func(b backend) (struct{}, error) { return struct{}{}, b.Delete(k.service, user) })
	if err == ErrNotFound {
		return nil
	}
	return err
}
