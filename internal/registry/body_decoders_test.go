package registry

import (
	"encoding/json"
	"reflect"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
)

// bodyDecoderSeeds are inputs where encoding/json's two engines could
// differ: numbers at and past their type's bounds, signs, exponents,
// nulls, escapes, raw messages with spaces, unknown members, trailing data.
var bodyDecoderSeeds = []string{
	`{"kind":"register_batch","nonce":3,"msg":{"nodes":[{"node":"1561301001.85.1","entries":[["a",[["URL","https://a.example/x"],{"index":2,"type":"TEXT","data":"x","ttl":60}]]]}]}}`,
	`{"kind":"register_batch","nonce":3,"msg":{"nodes":[{"node":"1561301001.85.1","admins":[],"entries":[["a",[],[]]]}]}}`,
	`{"kind":"register_batch","nonce":3,"msg":  {"nodes" : [ {"node":null} ] } }`,
	`{"kind":"register","nonce":1,"valid_until_height":9,"msg":{"id":"1561301001.85.1/a","allocate":true,"values":[{"index":2,"type":"TEXT","data":"\u00e9\n\\\"","ttl":0,"dataset":{"uri":"u","sha256":"s","size":-0,"media_type":"m"}}],"admins":["ab"]}}`,
	`{"kind":"register","nonce":-0,"msg":{}}`,
	`{"kind":"register","nonce":1e2,"msg":{}}`,
	`{"kind":"register","nonce":1.0,"msg":{}}`,
	`{"kind":"register","nonce":18446744073709551615,"msg":{}}`,
	`{"kind":"register","nonce":18446744073709551616,"msg":{}}`,
	`{"kind":"register","nonce":null,"msg":null}`,
	`{"kind":null,"nonce":1,"msg":  { "id" : "x" , "values" : null }  }`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","values":[{"index":4294967296}]}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","values":[{"index":-1}]}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","values":[{"dataset":{"size":-9223372036854775808}}]}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","allocate":"true"}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","admins":[null,"a"]}}`,
	`{"kind":"register","nonce":1,"msg":{"entries":[{"id":"x","values":[],"admins":[]}]}}`,
	`{"kind":"register","nonce":1,"msg":{"entries":[{"id":"x","extra":1}]}}`,
	`{"kind":"register","nonce":1,"msg":{}} {}`,
	`{"kind":"register","nonce":1,"msg":{"id":"\u0000\t"}}`,
	`{"kind":"register","nonce":1,"msg":[1,2]}`,
	`{"kind":"register","nonce":1,"msg":"text"}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","values":{"type":"URL"}}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","values":[{"dataset":{"public":null}},{"dataset":{"public":1}},{"dataset":{"public":"true"}},{"dataset":{"public":true}}]}}`,
	`{"kind":"anchor_log","nonce":1,"msg":{"dataset":"1561301001.85.1/a","entries":18446744073709551615,"head":"ab"}}`,
	`{"kind":"anchor_log","nonce":1,"msg":{"dataset":"1561301001.85.1/a","entries":18446744073709551616,"head":null}}`,
	`{"kind":"anchor_log","nonce":1,"msg":{"dataset":"1561301001.85.1/a","entries":1e3,"head":""}}`,
	`{"kind":"anchor_log","nonce":1,"msg":{"dataset":"1561301001.85.1/a","entries":-1}}`,
	`null`,
	` {"kind":"register"} `,
}

// TestBodyDecoders runs FuzzBodyDecoders' check on its seeds.
func TestBodyDecoders(t *testing.T) {
	for _, s := range bodyDecoderSeeds {
		checkBodyDecoders(t, []byte(s))
	}
}

// FuzzBodyDecoders: on any input that passes the checks decodeBody makes
// first (keys, text), whatever encoding/json/v2's engine reads into a
// body or a register message, v1's strict decoder reads too, to the same
// value; a register_batch message both read as its own decoder does. decodeBodyJSON takes v2's reading only then, and v1's otherwise,
// so the two engines choose no verdict differently.
func FuzzBodyDecoders(f *testing.F) {
	for _, s := range bodyDecoderSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkBodyDecoders)
}

func checkBodyDecoders(t *testing.T, b []byte) {
	if checkObjectKeys(b) != nil || checkBodyText(b) != nil {
		return
	}
	bodyDecodersAgree[Body](t, b)
	bodyDecodersAgree[Register](t, b)
	batchDecodersAgree(t, b)
	var body Body
	if decodeBodyJSON(b, &body) == nil && len(body.Msg) > 0 {
		bodyDecodersAgree[Register](t, body.Msg)
		batchDecodersAgree(t, body.Msg)
	}
}

// batchDecodersAgree: a register_batch is read by its own decoder, which
// both engines call through UnmarshalJSON; they must give its verdict and
// value (its words are its own, not v1's).
func batchDecodersAgree(t *testing.T, b []byte) {
	t.Helper()
	var m RegisterBatch
	err := decodeBodyJSON(b, &m)
	batchEnginesAgree(t, b, m, err)
}

func bodyDecodersAgree[T any](t *testing.T, b []byte) {
	t.Helper()
	var v2, v1 T
	err2 := jsonv2.Unmarshal(b, &v2, bodyV2Options)
	err1 := decodeKeysChecked(b, &v1)
	if err2 != nil {
		// decodeBodyJSON falls back to v1: its verdict and words.
		var got T
		if err := decodeBodyJSON(b, &got); (err == nil) != (err1 == nil) || (err1 != nil && err.Error() != err1.Error()) {
			t.Fatalf("%T from %q: decodeBodyJSON says %v, v1 %v", v1, b, err, err1)
		}
		return
	}
	if err1 != nil {
		t.Fatalf("%T from %q: v2 accepts, v1 refuses: %v", v1, b, err1)
	}
	if !reflect.DeepEqual(v1, v2) {
		j1, _ := json.Marshal(v1)
		j2, _ := json.Marshal(v2)
		t.Fatalf("%T from %q: v1 reads %s, v2 %s", v1, b, j1, j2)
	}
}
