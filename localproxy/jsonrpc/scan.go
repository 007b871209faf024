package jsonrpc

import "bytes"

// A small scanner over JSON text that finds the members of an object and
// the elements of an array without decoding or copying anything: values
// are returned as sub-slices of the input. It trusts the input's syntax
// (Parse checks it with json.Valid first) but never reads out of bounds or
// loops on malformed input, which Peek may get from a server; there it
// stops early and the caller sees fewer members.

// members calls fn with each member's name (the bytes between its quotes,
// still escaped) until fn returns false. obj must start with '{'. fn gets
// the member's raw value from val.get, which scans it: a member fn doesn't
// ask for is skipped, and fn can stop before the value is scanned at all.
// One value serves every member, so that a message costs one allocation,
// not one per member.
func members(obj []byte, fn func(key []byte, val *value) bool) {
	val := &value{obj: obj}
	i := skipWS(obj, 1)
	for i < len(obj) && obj[i] == '"' {
		kend := skipString(obj, i)
		if kend < 0 {
			return
		}
		key := obj[i+1 : kend-1]
		i = skipWS(obj, kend)
		if i >= len(obj) || obj[i] != ':' {
			return
		}
		val.start, val.end = skipWS(obj, i+1), -2
		if !fn(key, val) {
			return
		}
		if val.get() == nil {
			return
		}
		i = skipWS(obj, val.end)
		if i >= len(obj) || obj[i] != ',' {
			return
		}
		i = skipWS(obj, i+1)
	}
}

// value is a member's value for members' fn, scanned when asked for.
type value struct {
	obj        []byte
	start, end int // end: -2 until scanned, -1 if obj ends first
}

// get returns the raw value, or nil if obj ends before it does.
func (v *value) get() []byte {
	if v.end == -2 {
		v.end = skipValue(v.obj, v.start)
	}
	if v.end < 0 {
		return nil
	}
	return v.obj[v.start:v.end]
}

// elements calls fn with each raw element of arr, which must start with '['.
func elements(arr []byte, fn func(val []byte)) {
	i := skipWS(arr, 1)
	for i < len(arr) && arr[i] != ']' {
		end := skipValue(arr, i)
		if end < 0 {
			return
		}
		fn(arr[i:end])
		i = skipWS(arr, end)
		if i >= len(arr) || arr[i] != ',' {
			return
		}
		i = skipWS(arr, i+1)
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the index just after the value that starts at b[i], or
// -1 if b ends first.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end := skipString(b, i)
				if end < 0 {
					return -1
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	// A number or a literal: up to the next delimiter.
	start := i
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n', ':':
			if i == start {
				return -1
			}
			return i
		}
		i++
	}
	if i == start {
		return -1
	}
	return i
}

// skipString returns the index just after the string that starts with the
// quote at b[i], or -1 if it is unterminated. It jumps from quote to quote
// with bytes.IndexByte, so long strings (a tool's large text result) cost
// little.
func skipString(b []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		// The quote is escaped if an odd number of backslashes precede it.
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
}
