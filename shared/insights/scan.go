package insights

import (
	"bytes"
	"encoding/json"
)

// member is one top-level "key": value of a message, as sub-slices of it.
type member struct {
	key   []byte // unquoted; unescaped when the key had escapes
	value json.RawMessage
}

// object is a JSON object's members in document order. Scanning into it
// instead of a map[string]json.RawMessage saves an allocation per key on
// the hot path.
type object []member

// get returns the value of the last member named name, as encoding/json
// would.
func (o object) get(name string) (json.RawMessage, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if string(o[i].key) == name {
			return o[i].value, true
		}
	}
	return nil, false
}

func (o object) has(name string) bool {
	_, ok := o.get(name)
	return ok
}

// scanObject splits a JSON object into its members. data must be valid
// JSON (json.Valid) holding an object; the scanner relies on that and only
// tracks strings and nesting.
func scanObject(data []byte, into object) object {
	i := skipSpace(data, skipSpace(data, 0)+1)
	for i < len(data) && data[i] != '}' {
		end := skipString(data, i)
		key := data[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var s string
			_ = json.Unmarshal(data[i:end], &s) // valid JSON: cannot fail
			key = []byte(s)
		}
		i = skipSpace(data, end)
		i = skipSpace(data, i+1) // ':'
		vEnd := skipValue(data, i)
		into = append(into, member{key: key, value: data[i:vEnd]})
		i = skipSpace(data, vEnd)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return into
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string starting at data[i].
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// skipValue returns the index just past the value starting at data[i].
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipString(data, i)
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
		return i
	}
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
		i++
	}
	return i
}
