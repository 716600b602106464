package workload

import (
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
)

// The community directory: China's 620,573 village and community
// committees (the National Bureau of Statistics' twelve-digit codes, from
// the reference data), each registered as an object under its city's code.
// It is the workload of the register_batch, resolve and serve benchmarks:
// real identifiers, real names, real spread over 342 cities.
//
// The mapping, for identifier i (from 0) of a directory of C communities
// sorted by code:
//
//	community  = communities[i mod C]
//	pass       = i div C: 0 → sector 84 (public administration: the
//	             committee itself, registered by the city's civil affairs
//	             bureau), 1 → sector 36 (water supply: the community's
//	             supply account, registered by the city's water company)
//	city       = 156 + the community code's first four digits + "00" (its
//	             prefecture-level GB/T 2260 code) + check character
//	identifier = <city>.<sector>.1/c<community code>
//	values     = URL https://<city>.cityid.example/<sector>/c<code>, and
//	             TEXT the committee's name (with " 供水" in pass 1)
//
// so 1,000,000 identifiers are every committee under sector 84 and the
// first 379,427 under sector 36; the first 10,000 are Beijing's and
// Tianjin's committees. Unit 1 of each sector is the first and only unit
// the setup registers there, so the registry allocates it number 1.

// Community is one village or community committee.
type Community struct {
	Code string // twelve digits
	Name string
}

// DirCity is a prefecture-level division that has communities.
type DirCity struct {
	Number string // six digits, GB/T 2260
	Name   string // the division's name; the province's for a municipality's 市辖区
	Code   string // the city code, 156 + Number + check
}

// Pass is one round of the directory: every community once more, under
// another sector.
type Pass struct {
	Sector   string
	UnitName string
	Suffix   string // appended to the community's name in its TEXT value
}

// Passes are the sectors identifiers are registered under, in order.
var Passes = []Pass{
	{Sector: "84", UnitName: "民政局 Civil Affairs Bureau"},
	{Sector: "36", UnitName: "供水公司 Water Supply Company", Suffix: " 供水"},
}

// Directory maps identifier numbers to real community identifiers.
type Directory struct {
	communities []Community
	cities      []DirCity
	cityOf      map[string]int // city number → index in cities; only looked up
}

// ReadDirectory reads the reference data: communities, gzip-compressed CSV
// with a header and the code and name first (communities.csv.gz), and
// cities, CSV with gbt2260, name, province_gbt2260, province_name
// (cities.csv).
func ReadDirectory(communities, cities io.Reader) (*Directory, error) {
	zr, err := gzip.NewReader(communities)
	if err != nil {
		return nil, fmt.Errorf("communities: %w", err)
	}
	defer zr.Close()
	rows, err := readCSV(zr, "communities", 2)
	if err != nil {
		return nil, err
	}
	d := &Directory{cityOf: make(map[string]int)}
	d.communities = make([]Community, 0, len(rows))
	for i, r := range rows {
		if len(r[0]) != 12 || strings.Trim(r[0], "0123456789") != "" {
			return nil, fmt.Errorf("communities row %d: code %q is not twelve digits", i+2, r[0])
		}
		d.communities = append(d.communities, Community{Code: r[0], Name: r[1]})
	}
	slices.SortFunc(d.communities, func(a, b Community) int { return strings.Compare(a.Code, b.Code) })
	cityRows, err := readCSV(cities, "cities", 4)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(cityRows))
	for _, r := range cityRows {
		name := r[1]
		if name == "市辖区" {
			name = r[3] // a municipality's districts: the province's name
		}
		names[r[0]] = name
	}
	for _, c := range d.communities {
		num := c.Code[:4] + "00"
		if _, ok := d.cityOf[num]; ok {
			continue
		}
		name, ok := names[num]
		if !ok {
			return nil, fmt.Errorf("community %s: city %s is not in cities.csv", c.Code, num)
		}
		cc, err := code.CityCode(Country, num)
		if err != nil {
			return nil, fmt.Errorf("community %s: %w", c.Code, err)
		}
		d.cityOf[num] = len(d.cities)
		d.cities = append(d.cities, DirCity{Number: num, Name: name, Code: cc})
	}
	return d, nil
}

func readCSV(r io.Reader, what string, fields int) ([][]string, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("%s: no rows", what)
	}
	for i, r := range rows {
		if len(r) < fields {
			return nil, fmt.Errorf("%s row %d: %d fields, want at least %d", what, i+1, len(r), fields)
		}
	}
	return rows[1:], nil
}

// Len is how many identifiers the directory holds: every community once
// per pass.
func (d *Directory) Len() int { return len(d.communities) * len(Passes) }

// Communities is how many communities the directory holds.
func (d *Directory) Communities() int { return len(d.communities) }

func (d *Directory) at(i int) (Community, DirCity, Pass) {
	c := d.communities[i%len(d.communities)]
	return c, d.cities[d.cityOf[c.Code[:4]+"00"]], Passes[i/len(d.communities)]
}

// ID is identifier i in canonical text, e.g. 1561101001.84.1/c110101001001.
func (d *Directory) ID(i int) string {
	c, city, p := d.at(i)
	return city.Code + "." + p.Sector + ".1/c" + c.Code
}

// Parsed is identifier i as a code.ID.
func (d *Directory) Parsed(i int) code.ID {
	c, city, p := d.at(i)
	return code.ID{Country: Country, CityNumber: city.Number, Sector: p.Sector, Unit: "1", Local: "c" + c.Code}
}

// Entry is identifier i as an entry of a register_batch.
func (d *Directory) Entry(i int) registry.BatchEntry {
	c, city, p := d.at(i)
	return registry.BatchEntry{
		ID: city.Code + "." + p.Sector + ".1/c" + c.Code,
		Values: []registry.Value{
			{Type: registry.TypeURL, Data: "https://" + city.Code + ".cityid.example/" + p.Sector + "/c" + c.Code},
			{Type: registry.TypeText, Data: c.Name + p.Suffix},
		},
	}
}

// node is a (city, pass) pair the first n identifiers register under.
type node struct {
	city DirCity
	pass Pass
}

// nodes lists the cities and the (city, pass) pairs of identifiers 0 to
// n-1, each once, in the order they first appear.
func (d *Directory) nodes(n int) (cities []DirCity, units []node) {
	seenCity := make(map[string]bool)
	seenUnit := make(map[string]bool)
	for i := 0; i < n; {
		c, city, p := d.at(i)
		if !seenCity[city.Number] {
			seenCity[city.Number] = true
			cities = append(cities, city)
		}
		if k := city.Number + p.Sector; !seenUnit[k] {
			seenUnit[k] = true
			units = append(units, node{city, p})
		}
		// Skip the rest of this city's communities in this pass.
		j := i + 1
		for j < n && j/len(d.communities) == i/len(d.communities) && d.communities[j%len(d.communities)].Code[:4] == c.Code[:4] {
			j++
		}
		i = j
	}
	return cities, units
}

// BatchFixture is the cast of the register_batch workload: the registry
// authority, one key per city that applies for it, and one applicant key that administers every city and registers its
// sectors and units, and loaders, admins of every unit, who sign the
// batches.
type BatchFixture struct {
	*Fixture
	Dir *Directory
	// BatchIDs is the identifiers per register_batch, at most
	// registry.MaxBatch.
	BatchIDs int
	// Plain sends the batches' bodies as they are; by default they
	// travel deflated (registry.SignDeflate at registry.DeflateLevel), as
	// the client sends them: 0.10 of the bytes of a batch of community
	// identifiers.
	Plain bool
}

// NewBatchFixture returns the workload of dir for chainID, with the
// authority's key (nil: a derived one), loaders keys and batches of
// batchIDs identifiers.
func NewBatchFixture(chainID string, authority ed25519.PrivateKey, loaders int, dir *Directory, batchIDs int) (*BatchFixture, error) {
	if batchIDs < 1 || batchIDs > registry.MaxBatch {
		return nil, fmt.Errorf("workload: batches of %d identifiers, want 1 to %d", batchIDs, registry.MaxBatch)
	}
	f, err := New(chainID, authority, loaders)
	if err != nil {
		return nil, err
	}
	return &BatchFixture{Fixture: f, Dir: dir, BatchIDs: batchIDs}, nil
}

// SetupStages returns the transactions that issue the cities of the first
// n identifiers and register their sectors and units, in stages: every
// transaction of a stage may go in one block, but a stage reads what the
// previous ones committed (CheckTx dry-runs an account's first waiting
// transaction against committed state). The stages are: apply_city for
// each city; approve_application for each; register_sector and
// register_unit for each (city, sector).
func (f *BatchFixture) SetupStages(n int) ([][][]byte, error) {
	if n < 1 || n > f.Dir.Len() {
		return nil, fmt.Errorf("workload: %d identifiers, the directory holds 1 to %d", n, f.Dir.Len())
	}
	cities, units := f.Dir.nodes(n)
	var apply, approve, nodes [][]byte
	applicant, authority := uint64(0), uint64(0)
	add := func(to *[][]byte, key ed25519.PrivateKey, nonce *uint64, kind string, msg any) error {
		*nonce++
		tx, err := sign(f.ChainID, key, *nonce, kind, msg)
		if err != nil {
			return err
		}
		*to = append(*to, tx)
		return nil
	}
	for i, c := range cities {
		// One open application per key: each city applies with a key
		// of its own, naming the applicant's key as its admin.
		cityKey := derivedKey(f.Applicant, fmt.Sprintf("city applicant %d", i))
		msg := registry.ApplyCity{
			Country: Country, CityNumber: c.Number, Name: c.Name,
			Admins: []string{pub(f.Applicant)}, Contact: "registry@" + c.Code + ".cityid.example",
			Endpoint: "https://" + c.Code + ".cityid.example",
		}
		var first uint64
		if err := add(&apply, cityKey, &first, registry.KindApplyCity, msg); err != nil {
			return nil, err
		}
		hash, herr := registry.ApplicationHash(pub(cityKey), msg)
		if herr != nil {
			return nil, fmt.Errorf("city %s: %w", c.Code, herr)
		}
		// Applications are numbered from 1 in the order they are made.
		if err := add(&approve, f.Authority, &authority, registry.KindApproveApplication, registry.Decision{Application: uint64(i + 1), Hash: hash}); err != nil {
			return nil, err
		}
	}
	for _, u := range units {
		if err := add(&nodes, f.Applicant, &applicant, registry.KindRegisterSector, registry.RegisterSector{ID: u.city.Code + "." + u.pass.Sector}); err != nil {
			return nil, err
		}
		if err := add(&nodes, f.Applicant, &applicant, registry.KindRegisterUnit, registry.RegisterUnit{
			Parent: u.city.Code + "." + u.pass.Sector, Name: u.pass.UnitName, Admins: f.loaderKeys(),
		}); err != nil {
			return nil, err
		}
	}
	return [][][]byte{apply, approve, nodes}, nil
}

// Batches is how many register_batch transactions the first n
// identifiers take.
func (f *BatchFixture) Batches(n int) int { return (n + f.BatchIDs - 1) / f.BatchIDs }

// BatchTx signs batch b of the first n identifiers: identifiers
// b*BatchIDs up to n, signed by loader b mod len(Loaders) with that
// loader's nonce b/len(Loaders)+1, so batches 0, 1, 2, … applied in order
// use every loader's nonces consecutively from 1.
func (f *BatchFixture) BatchTx(b, n int) ([]byte, int, error) {
	from, to := b*f.BatchIDs, min((b+1)*f.BatchIDs, n)
	if from >= to {
		return nil, 0, fmt.Errorf("workload: batch %d of %d identifiers is empty", b, n)
	}
	msg := registry.RegisterBatch{Entries: make([]registry.BatchEntry, 0, to-from)}
	for i := from; i < to; i++ {
		msg.Entries = append(msg.Entries, f.Dir.Entry(i))
	}
	k := len(f.Loaders)
	key, nonce := f.Loaders[b%k], uint64(b/k)+1
	if f.Plain {
		tx, err := sign(f.ChainID, key, nonce, registry.KindRegisterBatch, msg)
		return tx, to - from, err
	}
	body, err := registry.NewBody(registry.KindRegisterBatch, nonce, msg)
	if err != nil {
		return nil, 0, err
	}
	env, err := registry.SignDeflate(f.ChainID, body, registry.DeflateLevel, key)
	if err != nil {
		return nil, 0, err
	}
	tx, err := env.Encode()
	return tx, to - from, err
}

// derivedKey is a key derived from parent's seed and a label: reproducible,
// and distinct per label.
func derivedKey(parent ed25519.PrivateKey, label string) ed25519.PrivateKey {
	seed := sha256.Sum256(append(append([]byte(nil), parent.Seed()...), label...))
	return ed25519.NewKeyFromSeed(seed[:])
}
