package node

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/types"
)

// Before its first block a node has no block time: GET /v1/status leaves
// block_time out (CometBFT reports the Unix epoch, which the API showed
// as 1970-01-01). A second validator of the same power in the genesis,
// which never runs, holds the node at height 0, as a network waiting for
// its validators is.
func TestStatusBeforeFirstBlock(t *testing.T) {
	r, _, _ := startNode(t, func(c *Config) {
		gen, err := types.GenesisDocFromFile(c.Comet.GenesisFile())
		if err != nil {
			t.Fatal(err)
		}
		other := cmted25519.GenPrivKey().PubKey()
		gen.Validators = append(gen.Validators, types.GenesisValidator{Address: other.Address(), PubKey: other, Power: gen.Validators[0].Power, Name: "absent"})
		if err := gen.SaveAs(c.Comet.GenesisFile()); err != nil {
			t.Fatal(err)
		}
	})
	resp, err := http.Get("http://" + r.HTTPAddr + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/status: %d %s (%v)", resp.StatusCode, raw, err)
	}
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	if st["height"] != float64(0) {
		t.Fatalf("status before the genesis time: %s, want height 0", raw)
	}
	for _, field := range []string{"block_time", "params", "authority"} {
		if v, ok := st[field]; ok {
			t.Errorf("status at height 0 has %s %v: there is no block, nor committed state, yet", field, v)
		}
	}
	ns, err := r.Chain.Status(context.Background())
	if err != nil || !ns.BlockTime.IsZero() {
		t.Errorf("the node's status at height 0: block time %s (%v), want none", ns.BlockTime, err)
	}
	if strings.Contains(string(raw), "1970") {
		t.Errorf("status at height 0 names 1970: %s", raw)
	}
	// The node is one of the genesis's validators: before the first block
	// that is what is true of it, though CometBFT, waiting for its peer,
	// knows no validators at height 0.
	if st["validator"] != true || st["voting_power"] != float64(10) || !ns.Validator || ns.VotingPower != 10 {
		t.Errorf("status at height 0 of a genesis validator: %s, node %+v; want validator true, voting_power 10", raw, ns)
	}
}

// A node that is not in its genesis's validator set says so before the
// first block: validator false, no voting power. Its genesis names two
// validators that never run, so it stays at height 0.
func TestStatusBeforeFirstBlockNotValidator(t *testing.T) {
	r, _, _ := startNode(t, func(c *Config) {
		gen, err := types.GenesisDocFromFile(c.Comet.GenesisFile())
		if err != nil {
			t.Fatal(err)
		}
		power := gen.Validators[0].Power
		gen.Validators = nil
		for _, name := range []string{"absent-1", "absent-2"} {
			other := cmted25519.GenPrivKey().PubKey()
			gen.Validators = append(gen.Validators, types.GenesisValidator{Address: other.Address(), PubKey: other, Power: power, Name: name})
		}
		if err := gen.SaveAs(c.Comet.GenesisFile()); err != nil {
			t.Fatal(err)
		}
	})
	ns, err := r.Chain.Status(context.Background())
	if err != nil || ns.Height != 0 || ns.Validator || ns.VotingPower != 0 {
		t.Errorf("status at height 0 of a node outside the genesis's validators: %+v (%v); want height 0, validator false, no power", ns, err)
	}
}
