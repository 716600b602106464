package client_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"testing"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/registry"
)

// TestBuildTxDeflatesBatches: a register_batch travels deflated, signed
// over its compressed bytes, and inflates to the body the same message
// makes plain; every other kind travels plain, its bytes as before.
func TestBuildTxDeflatesBatches(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	const chainID = "cityid-client-test"
	var batch client.RegisterBatch
	for i := range 200 {
		batch.Entries = append(batch.Entries, client.BatchEntry{ID: "1561301001.85.1/meter-" + string(rune('a'+i%26)) + string(rune('a'+i/26)),
			Values: []client.Value{{Type: client.TypeText, Data: "water meter"}}})
	}
	tx, err := client.BuildTxUntil(chainID, key, 3, 99, client.KindRegisterBatch, batch)
	if err != nil {
		t.Fatal(err)
	}
	var env registry.Envelope
	if err := json.Unmarshal(tx, &env); err != nil {
		t.Fatal(err)
	}
	if env.BodyEncoding != registry.EncodingDeflate {
		t.Fatalf("register_batch sent with body_encoding %q", env.BodyEncoding)
	}
	plain, err := registry.NewBodyUntil(client.KindRegisterBatch, 3, 99, batch)
	if err != nil {
		t.Fatal(err)
	}
	if body, perr := env.PlainBody(); perr != nil || !bytes.Equal(body, plain) {
		t.Fatalf("the deflated body inflates to %q (%v), want %q", body, perr, plain)
	}
	if len(env.Body) >= len(plain)/4 {
		t.Errorf("%d bytes compressed from %d", len(env.Body), len(plain))
	}
	p, perr := registry.New(chainID).Prepare(tx)
	if perr != nil || p.Kind != client.KindRegisterBatch || p.Nonce != 3 || p.ValidUntil != 99 {
		t.Fatalf("Prepare: %+v %v", p, perr)
	}

	reg := client.Register{ID: "1561301001.85.1/school-0042", Values: []client.Value{{Type: client.TypeText, Data: "school"}}}
	tx, err = client.BuildTx(chainID, key, 4, client.KindRegister, reg)
	if err != nil {
		t.Fatal(err)
	}
	body, err := registry.NewBody(client.KindRegister, 4, reg)
	if err != nil {
		t.Fatal(err)
	}
	want, err := registry.Sign(chainID, body, key).Encode()
	if err != nil || !bytes.Equal(tx, want) {
		t.Fatalf("a register is sent as %s, want the plain %s", tx, want)
	}
}
