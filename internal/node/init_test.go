package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/keyring"
	"github.com/cityid/cityid/internal/registry"
)

// localChainID and testnetChainID are what a new network's chain ID looks
// like when no --chain-id names it.
var (
	localChainID   = regexp.MustCompile(`^cityid-local-[a-z2-7]{6}$`)
	testnetChainID = regexp.MustCompile(`^cityid-testnet-[a-z2-7]{6}$`)
)

// Every new network has a chain ID of its own; --chain-id still sets one
// exactly.
func TestNewChainIDs(t *testing.T) {
	seen := map[string]bool{}
	for i := range 3 {
		home := filepath.Join(t.TempDir(), "h")
		res, err := Init(home, InitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		gen, err := types.GenesisDocFromFile(filepath.Join(home, "config", "genesis.json"))
		if err != nil {
			t.Fatal(err)
		}
		if !localChainID.MatchString(res.ChainID) || gen.ChainID != res.ChainID {
			t.Fatalf("init %d: chain %q, genesis %q; want %s, the same in both", i, res.ChainID, gen.ChainID, localChainID)
		}
		if seen[res.ChainID] {
			t.Fatalf("init %d: chain ID %s again", i, res.ChainID)
		}
		seen[res.ChainID] = true
	}
	home := filepath.Join(t.TempDir(), "h")
	if res, err := Init(home, InitOptions{ChainID: "city-a"}); err != nil || res.ChainID != "city-a" {
		t.Fatalf("init --chain-id city-a: %+v, %v", res, err)
	}
	if gen, err := types.GenesisDocFromFile(filepath.Join(home, "config", "genesis.json")); err != nil || gen.ChainID != "city-a" {
		t.Fatalf("genesis of --chain-id city-a: %v", err)
	}
}

// A home where the user only added keys (and light client trust) before
// the first start is initialised around them; they are kept. An operator
// key the user added is the operator and the registry authority.
func TestInitKeepsTheKeys(t *testing.T) {
	for _, withOperator := range []bool{false, true} {
		t.Run(fmt.Sprintf("operator added %v", withOperator), func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "h")
			// The user chose a passphrase for the keys they added.
			ko := KeyringOptions{PassphraseFile: filepath.Join(t.TempDir(), "pass"), WorkFactor: 10}
			if err := os.WriteFile(ko.PassphraseFile, []byte("chosen by the user\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			kr, err := OpenKeyring(home, ko)
			if err != nil {
				t.Fatal(err)
			}
			alice, err := kr.Add("alice")
			if err != nil {
				t.Fatal(err)
			}
			var op keyring.Key
			if withOperator {
				if op, err = kr.Add(OperatorKey); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.MkdirAll(filepath.Join(home, "light"), 0o700); err != nil {
				t.Fatal(err)
			}
			// Their passphrase is needed, and no other is made: without it
			// (no flag, no terminal) init says the three ways to give it.
			if _, err := Init(home, InitOptions{}); !errors.Is(err, keyring.ErrNoPassphrase) {
				t.Fatalf("init of a home of encrypted keys with no passphrase: %v", err)
			}
			if _, err := os.Stat(filepath.Join(home, "config")); err == nil {
				t.Fatal("a refused init left config/ behind")
			}
			res, err := Init(home, InitOptions{Keyring: ko})
			if err != nil {
				t.Fatalf("init of a home holding keys: %v", err)
			}
			if res.PassphraseFile != "" {
				t.Fatalf("init made a passphrase file %s beside a passphrase given", res.PassphraseFile)
			}
			kr, err = OpenKeyring(home, ko)
			if err != nil {
				t.Fatal(err)
			}
			if k, err := kr.Load("alice"); err != nil || k.Public() != alice.Public() {
				t.Fatalf("alice after init: %v, %v", k, err)
			}
			stored, err := kr.Load(OperatorKey)
			if err != nil {
				t.Fatal(err)
			}
			if res.OperatorKept != withOperator || res.Operator != stored.Public() ||
				withOperator && stored.Public() != op.Public() {
				t.Fatalf("init result %+v; operator in the keyring %s, the one added %s", res, stored.Public(), op.Public())
			}
			gen, err := types.GenesisDocFromFile(filepath.Join(home, "config", "genesis.json"))
			if err != nil {
				t.Fatal(err)
			}
			var app registry.Genesis
			if err := json.Unmarshal(gen.AppState, &app); err != nil {
				t.Fatal(err)
			}
			if len(app.Authority.Members) != 1 || app.Authority.Members[0] != stored.Public() {
				t.Fatalf("authority %+v, want the operator key %s", app.Authority, stored.Public())
			}
		})
	}
	// Anything else still makes a folder not a home.
	for _, name := range []string{"notes.txt", "data"} {
		home := t.TempDir()
		// A key file of an older cityid, in clear.
		if err := os.MkdirAll(filepath.Join(home, "keys"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(home, "keys", "alice.json"), []byte(`{"name":"alice","seed":"`+strings.Repeat("00", 32)+`"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(home, name), 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := Init(home, InitOptions{}); err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), name) {
			t.Fatalf("init beside %s: %v", name, err)
		}
	}
}
