package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Bounds of the key check.
const (
	maxJSONDepth     = 16 // our bodies nest 5 deep at most
	maxKeysPerObject = 64 // our largest message has a dozen fields
	maxJSONKeyLength = 32
)

// checkObjectKeys refuses JSON whose objects repeat a key, or use a key
// that is not lowercase ASCII letters, digits and '_'. encoding/json takes
// the last of repeated keys and matches keys case-insensitively (Unicode
// folding included), so without this check {"nonce":1,"NONCE":2} would be
// read one way by the chain and maybe another by a wallet showing it: a
// signed body has exactly one reading. Every key of the wire format is
// lowercase snake_case, so nothing valid is refused. Input that is not JSON
// at all is left to the decoder to report.
func checkObjectKeys(b []byte) error { return checkJSONKeys(b, false) }

// checkObjectKeysAnySpelling is checkObjectKeys for JSON that anyone may
// have written, where a key may be spelt with JSON's escapes
// ("pub\u005fkey"): each key is checked, and compared with the others,
// as the decoder reads it. Bodies are never read so: their bytes are
// signed, and an escaped key would be a second spelling of one body.
func checkObjectKeysAnySpelling(b []byte) error { return checkJSONKeys(b, true) }

func checkJSONKeys(b []byte, unescape bool) error {
	// The keys are compared where they lie in b, and the open objects
	// and their keys are kept in arrays on the stack: every transaction
	// passes here (a register's body has a dozen keys), and copying each
	// key was a sixth of its decode's allocations.
	type frame struct {
		object    bool
		expectKey bool
		keys      int // where its keys start in keys
	}
	var frames [maxJSONDepth]frame
	var keyArr [maxKeysPerObject][]byte
	stack, keys := frames[:0], keyArr[:0]
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{', '[':
			if len(stack) == maxJSONDepth {
				return fmt.Errorf("JSON nested more than %d deep at byte %d", maxJSONDepth, i+1)
			}
			stack = append(stack, frame{object: b[i] == '{', expectKey: b[i] == '{', keys: len(keys)})
		case '}', ']':
			if n := len(stack); n > 0 {
				keys = keys[:stack[n-1].keys]
				stack = stack[:n-1]
			}
		case ',':
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].expectKey = true
			}
		case '"':
			start := i
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(b) {
				return nil // unterminated string: the decoder says so
			}
			n := len(stack)
			if n == 0 || !stack[n-1].object || !stack[n-1].expectKey {
				continue
			}
			top := &stack[n-1]
			top.expectKey = false
			key := b[start+1 : i]
			if unescape && bytes.IndexByte(key, '\\') >= 0 {
				var k string
				if err := json.Unmarshal(b[start:i+1], &k); err != nil {
					return nil // not a JSON string: the decoder says so
				}
				key = []byte(k)
			}
			if err := checkKeyText(key, start+1); err != nil {
				return err
			}
			for _, k := range keys[top.keys:] {
				if bytes.Equal(k, key) {
					return fmt.Errorf("key %q appears twice in one object (byte %d)", key, start+1)
				}
			}
			if len(keys)-top.keys == maxKeysPerObject {
				return fmt.Errorf("object has more than %d keys (byte %d)", maxKeysPerObject, start+1)
			}
			keys = append(keys, key)
		}
	}
	return nil
}

func checkKeyText(key []byte, at int) error {
	if len(key) == 0 || len(key) > maxJSONKeyLength {
		return fmt.Errorf("key at byte %d is %d bytes; keys are 1 to %d lowercase letters, digits and '_'", at, len(key), maxJSONKeyLength)
	}
	for j := 0; j < len(key); j++ {
		c := key[j]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("key %q at byte %d: keys are lowercase letters, digits and '_' (%q is not)", clip(string(key)), at, c)
		}
	}
	return nil
}
