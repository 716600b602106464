package client

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestDecodeLightBlockHostile decodes a real light block (one of the
// browser verifier's vectors, made by a node) and hostile variants of it:
// a validator key of the wrong size or type, a missing validator. Each is
// refused with an error that says what is wrong, never a panic: a node's
// answer is input to `cityid resolve --verify`.
func TestDecodeLightBlockHostile(t *testing.T) {
	raw, err := os.ReadFile("../internal/web/testdata/vectors/light-adjacent.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Input struct {
			ChainID   string         `json:"chain_id"`
			Untrusted map[string]any `json:"untrusted"`
		} `json:"input"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	encode := func(lb map[string]any) []byte {
		b, err := json.Marshal(lb)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := encode(v.Input.Untrusted)
	if _, err := DecodeLightBlock(good, v.Input.ChainID); err != nil {
		t.Fatalf("the node's light block: %v", err)
	}
	// mutate returns a copy of the light block with f applied to its
	// validator set's first validator, or to the set.
	mutate := func(f func(set map[string]any)) []byte {
		var lb map[string]any
		if err := json.Unmarshal(good, &lb); err != nil {
			t.Fatal(err)
		}
		f(lb["validator_set"].(map[string]any))
		return encode(lb)
	}
	first := func(set map[string]any) map[string]any { return set["validators"].([]any)[0].(map[string]any) }
	for _, c := range []struct {
		name, want string
		tx         func(set map[string]any)
	}{
		{"a 3-byte key", "ed25519 key of 3 bytes", func(set map[string]any) {
			first(set)["pub_key"].(map[string]any)["value"] = base64.StdEncoding.EncodeToString([]byte{1, 2, 3})
		}},
		{"a 3-byte proposer key", "proposer", func(set map[string]any) {
			set["proposer"].(map[string]any)["pub_key"].(map[string]any)["value"] = base64.StdEncoding.EncodeToString([]byte{1, 2, 3})
		}},
		{"a secp256k1 key", "", func(set map[string]any) {
			first(set)["pub_key"].(map[string]any)["type"] = "tendermint/PubKeySecp256k1"
		}},
		{"no key", "", func(set map[string]any) { delete(first(set), "pub_key") }},
		{"a null validator", "", func(set map[string]any) { set["validators"].([]any)[0] = nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeLightBlock(mutate(c.tx), v.Input.ChainID)
			if err == nil {
				t.Fatal("decoded")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}
