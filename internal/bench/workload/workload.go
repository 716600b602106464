// Package workload is the benchmarks' workload: deterministic keys, the
// transactions that set up one city, sector and unit, and signed register
// transactions under that unit. It signs with the registry's own API
// (registry.NewBody, registry.Sign), so what is measured is exactly what a
// client sends.
//
// It is shared by the registry's go test benchmarks and by `cityid bench`,
// so both measure the same transactions. It imports no CometBFT.
package workload

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
)

// The city, sector and unit every benchmark registers under: Shijiazhuang,
// education, the first unit (say, the city's education bureau).
const (
	Country    = "156"
	CityNumber = "130100"
	City       = "1561301001"
	Sector     = City + ".85"
	Unit       = Sector + ".1"
)

// textBytes is the length of each register transaction's TEXT value. It is
// chosen so that a whole signed register transaction is about 500 bytes,
// the size the end-to-end comparison gives kvstore's transactions too.
const textBytes = 26

// Key returns the Ed25519 key named name, derived from the name alone so
// that every run signs the same bytes.
func Key(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("cityid-bench/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// Fixture is the cast of a benchmark: the registry authority, the applicant
// that sets the city up, and the loaders that sign the register
// transactions.
type Fixture struct {
	ChainID   string
	Authority ed25519.PrivateKey
	Applicant ed25519.PrivateKey
	// Loaders sign the register transactions, in turn. They are admins of
	// the unit, so authorizing a registration reads one parent record; with
	// CityAdmins they are admins of the city instead, and every
	// authorization walks unit, sector and city.
	Loaders    []ed25519.PrivateKey
	CityAdmins bool
}

// New returns a fixture for chainID whose authority is authority (nil: a
// derived key) with loaders loader keys (at least 1, at most 15).
func New(chainID string, authority ed25519.PrivateKey, loaders int) (*Fixture, error) {
	if loaders < 1 || loaders > registry.MaxAdmins-1 {
		return nil, fmt.Errorf("workload: %d loaders, want 1 to %d", loaders, registry.MaxAdmins-1)
	}
	if authority == nil {
		authority = Key("authority")
	}
	f := &Fixture{ChainID: chainID, Authority: authority, Applicant: Key("applicant")}
	for i := range loaders {
		f.Loaders = append(f.Loaders, Key(fmt.Sprintf("loader-%d", i)))
	}
	return f, nil
}

func pub(k ed25519.PrivateKey) string { return registry.KeyText(k.Public().(ed25519.PublicKey)) }

// Genesis is the registry's genesis state: the authority alone, 1 of 1.
func (f *Fixture) Genesis() ([]byte, error) {
	opts := code.DefaultFormOptions()
	return json.Marshal(registry.Genesis{
		Authority: registry.Authority{Members: []string{pub(f.Authority)}, Threshold: 1},
		Params:    registry.Params{OIDArc: opts.OIDArc, IAC: opts.IAC},
	})
}

func (f *Fixture) loaderKeys() []string {
	out := make([]string, len(f.Loaders))
	for i, k := range f.Loaders {
		out[i] = pub(k)
	}
	return out
}

// SetupTxs returns the transactions that issue the city and register its
// sector and unit, in the order they must be applied, each in a block of
// its own (a later one reads what an earlier one wrote):
// apply_city, approve_application, register_sector, register_unit.
func (f *Fixture) SetupTxs() ([][]byte, error) {
	cityAdmins := []string{pub(f.Applicant)}
	var unitAdmins []string
	if f.CityAdmins {
		cityAdmins = append(cityAdmins, f.loaderKeys()...)
	} else {
		unitAdmins = f.loaderKeys()
	}
	apply := registry.ApplyCity{
		Country: Country, CityNumber: CityNumber, Name: "石家庄市", NameEn: "Shijiazhuang",
		Admins: cityAdmins, Contact: "registry@sjz.example.org", Endpoint: "https://sjz.example.org",
	}
	cityHash, herr := registry.ApplicationHash(pub(f.Applicant), apply)
	if herr != nil {
		return nil, fmt.Errorf("application hash: %w", herr)
	}
	steps := []struct {
		key   ed25519.PrivateKey
		nonce uint64
		kind  string
		msg   any
	}{
		{f.Applicant, 1, registry.KindApplyCity, apply},
		{f.Authority, 1, registry.KindApproveApplication, registry.Decision{Application: 1, Hash: cityHash}},
		{f.Applicant, 2, registry.KindRegisterSector, registry.RegisterSector{ID: Sector}},
		{f.Applicant, 3, registry.KindRegisterUnit, registry.RegisterUnit{
			Parent: Sector, Name: "Education Bureau", Admins: unitAdmins,
		}},
	}
	out := make([][]byte, len(steps))
	for i, s := range steps {
		tx, err := sign(f.ChainID, s.key, s.nonce, s.kind, s.msg)
		if err != nil {
			return nil, err
		}
		out[i] = tx
	}
	return out, nil
}

func sign(chainID string, key ed25519.PrivateKey, nonce uint64, kind string, msg any) ([]byte, error) {
	body, err := registry.NewBody(kind, nonce, msg)
	if err != nil {
		return nil, err
	}
	return registry.Sign(chainID, body, key).Encode()
}

// LocalID is the local id of the i-th registered object (i from 0).
func LocalID(i int) string { return fmt.Sprintf("obj-%08d", i) }

// Register returns the register message of the i-th object: a URL and a
// TEXT value.
func Register(i int) registry.Register {
	text := fmt.Sprintf("School %08d, Zhongshan Rd", i)
	for len(text) < textBytes {
		text += "."
	}
	return registry.Register{
		ID: Unit + "/" + LocalID(i),
		Values: []registry.Value{
			{Type: registry.TypeURL, Data: fmt.Sprintf("https://sjz.example.org/s/%08d", i)},
			{Type: registry.TypeText, Data: text[:textBytes]},
		},
	}
}

// RegisterTxs signs the register transactions of objects from, from+1, …,
// from+n-1. Object i is signed by loader i mod len(Loaders) with that
// loader's nonce i/len(Loaders)+1, so objects 0, 1, 2, … applied in order
// use every loader's nonces consecutively from 1. Signing runs on every
// core.
func (f *Fixture) RegisterTxs(from, n int) ([][]byte, error) {
	out := make([][]byte, n)
	errs := make([]error, n)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := w; j < n; j += workers {
				i := from + j
				k := len(f.Loaders)
				out[j], errs[j] = sign(f.ChainID, f.Loaders[i%k], uint64(i/k)+1, registry.KindRegister, Register(i))
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
