package store_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/chain/upgradetest"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/verify"
)

// The store fixture: a node's state (the store of a home's data/cityid)
// written by the code of application version 3, kept in the repository
// with what it must answer (expected.json), so that every later binary is
// tested against state it did not write: a record written today still
// resolves, with its history and its proof, after every upgrade. It is
// written again only on purpose, by today's code:
//
//	go test ./internal/store -run TestFixtureV3 -update-fixture
//
// A new fixture is added for a new application version (fixture-v4 …);
// the old ones stay.
var updateFixture = flag.Bool("update-fixture", false, "write testdata/fixture-v3 anew with today's code")

// fixtureAppVersion is the application version whose transactions the
// fixture holds: version 3's (plain bodies). Today's code writes them
// alike (TestFixtureV3WrittenAlike), so writing the fixture again keeps it
// a version-3 store; a version whose transactions write otherwise gets a
// fixture of its own beside this one.
const fixtureAppVersion = 3

const (
	fixtureDir   = "testdata/fixture-v3"
	fixtureChain = "cityid-fixture-v3"
)

var fixtureStart = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

// fixtureExpected is expected.json: the state's height and app hash, every
// key and value in key order, and each identifier's record, history and
// versions at every height.
type fixtureExpected struct {
	ChainID    string          `json:"chain_id"`
	AppVersion uint64          `json:"app_version"`
	Height     int64           `json:"height"`
	AppHash    string          `json:"app_hash"`
	Records    []fixtureRecord `json:"records"`
	State      [][2]string     `json:"state"`
}

type fixtureRecord struct {
	ID      string   `json:"id"`
	Status  string   `json:"status"`
	Version uint64   `json:"version"`
	Record  string   `json:"record"`  // the stored bytes, exactly
	History []string `json:"history"` // earlier versions' stored bytes, oldest first
	// At is the record's version at each height from its first: what
	// ?height=H resolves to.
	At []uint64 `json:"at"`
	// Since is the height of its first version.
	Since int64 `json:"since"`
}

func fixtureKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func keyText(k ed25519.PrivateKey) string { return registry.KeyText(k.Public().(ed25519.PublicKey)) }

// writeFixture writes the fixture's state into dir with today's code, a
// node's application over a store on disk, block by block, and returns
// the app hash of each height.
func writeFixture(t *testing.T, dir string) [][]byte {
	t.Helper()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	auth, city, unit, other := fixtureKey(1), fixtureKey(2), fixtureKey(3), fixtureKey(4)
	app := chain.NewApp(fixtureChain, st, nil)
	gen, err := json.Marshal(registry.Genesis{
		Authority: registry.Authority{Members: []string{keyText(auth)}, Threshold: 1},
		Params:    registry.Params{OIDArc: "2.25.1", IAC: "MA"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := app.InitChain(ctx, &abci.InitChainRequest{ChainId: fixtureChain, InitialHeight: 1, AppStateBytes: gen, Time: fixtureStart}); err != nil {
		t.Fatal(err)
	}
	nonces := map[string]uint64{} // looked up only
	tx := func(k ed25519.PrivateKey, kind string, msg any) []byte {
		nonces[keyText(k)]++
		body, err := registry.NewBody(kind, nonces[keyText(k)], msg)
		if err != nil {
			t.Fatal(err)
		}
		b, err := registry.Sign(fixtureChain, body, k).Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sjz := registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市", NameEn: "Shijiazhuang", Locode: "CNSJW",
		Contact: "registry@sjz.example", Endpoint: "https://sjz.example/cityid"}
	tangshan := registry.ApplyCity{Country: "156", CityNumber: "130200", Name: "唐山市", NameEn: "Tangshan"}
	hash := func(k ed25519.PrivateKey, m registry.ApplyCity) string {
		h, err := registry.ApplicationHash(keyText(k), m)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	url := func(s string) registry.Value { return registry.Value{Type: registry.TypeURL, Data: s} }
	text := func(s string) registry.Value { return registry.Value{Type: registry.TypeText, Data: s} }
	dataset := registry.Value{Type: registry.TypeData, Dataset: &registry.Dataset{URI: "https://sjz.example/data/enrolment-2026.csv",
		SHA256: strings.Repeat("ab", 32), Size: 2048, MediaType: "text/csv"}}
	const school, closed, data = "1561301001.85.1/school-0042", "1561301001.85.1/school-0043", "1561301001.85.1/enrolment-2026"
	blocks := [][][]byte{
		{tx(city, registry.KindApplyCity, sjz), tx(other, registry.KindApplyCity, tangshan)},
		{tx(auth, registry.KindApproveApplication, registry.Decision{Application: 1, Hash: hash(city, sjz)}),
			tx(auth, registry.KindApproveApplication, registry.Decision{Application: 2, Hash: hash(other, tangshan)})},
		{tx(city, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.85", Values: []registry.Value{url("https://edu.sjz.example/")}}),
			tx(city, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.36", Name: "供水"})},
		{tx(city, registry.KindRegisterUnit, registry.RegisterUnit{Parent: "1561301001.85", Name: "Education Bureau", Admins: []string{keyText(unit)}})},
		{tx(unit, registry.KindRegister, registry.Register{ID: school, Values: []registry.Value{url("https://example.org/school-0042"), text("No. 42 Primary School"),
			{Type: registry.TypeGeo, Data: "38.0428,114.5149"}}}),
			tx(unit, registry.KindRegister, registry.Register{ID: closed, Values: []registry.Value{{Type: registry.TypeEmail, Data: "office@school-0043.example"}}}),
			tx(unit, registry.KindRegister, registry.Register{ID: data, Values: []registry.Value{dataset}}),
			tx(unit, registry.KindRegister, registry.Register{ID: "1561301001.85.1", Allocate: true, Values: []registry.Value{text("allocated")}})},
		{tx(unit, registry.KindUpdate, registry.Update{ID: school, Version: 1, Values: []registry.Value{url("https://example.org/schools/42"), text("No. 42 Primary School")}}),
			tx(unit, registry.KindDeactivate, registry.SetStatus{ID: closed, Reason: "merged into school-0042"})},
		{tx(unit, registry.KindUpdate, registry.Update{ID: school, Version: 2, Values: []registry.Value{url("https://example.org/schools/42"), text("第四十二小学")}}),
			tx(unit, registry.KindGrantAccess, registry.GrantAccess{Dataset: data, Grantee: "1561301001.36", Scope: "read",
				Expires: fixtureStart.Add(90 * 24 * time.Hour)})},
		{tx(unit, registry.KindRegisterBatch, registry.RegisterBatch{Entries: []registry.BatchEntry{
			{ID: "1561301001.85.1/meter-1", Values: []registry.Value{text("meter 1")}},
			{ID: "1561301001.85.1/meter-2", Values: []registry.Value{text("meter 2")}}}})},
	}
	hashes := [][]byte{nil}
	for i, txs := range blocks {
		h := int64(i + 1)
		resp, err := app.FinalizeBlock(ctx, &abci.FinalizeBlockRequest{Height: h, Time: fixtureStart.Add(time.Duration(h) * time.Minute), Txs: txs})
		if err != nil {
			t.Fatal(err)
		}
		for j, r := range resp.TxResults {
			if r.Code != chain.CodeOK {
				t.Fatalf("block %d tx %d refused: %s %s", h, j, r.Info, r.Log)
			}
		}
		if _, err := app.Commit(ctx, &abci.CommitRequest{}); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, bytes.Clone(resp.AppHash))
	}
	return hashes
}

// expectFixture reads what the store in dir holds into a fixtureExpected.
func expectFixture(t *testing.T, st *store.Store) fixtureExpected {
	t.Helper()
	view := st.Latest()
	e := fixtureExpected{ChainID: fixtureChain, AppVersion: fixtureAppVersion, Height: view.Version(), AppHash: strings.ToUpper(hex.EncodeToString(view.Hash()))}
	var ids []string
	if err := view.Iterate(nil, nil, func(k, v []byte) bool {
		e.State = append(e.State, [2]string{string(k), string(v)})
		if bytes.HasPrefix(k, registry.RecordPrefix()) {
			ids = append(ids, string(k[len(registry.RecordPrefix()):]))
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		rec, _, err := registry.GetRecord(view, id)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := view.Get(registry.RecordKey(id))
		r := fixtureRecord{ID: id, Status: rec.Status, Version: rec.Version, Record: string(raw), History: []string{}}
		if err := view.Iterate(registry.HistoryPrefix(id), nil, func(_, v []byte) bool {
			r.History = append(r.History, string(v))
			return true
		}); err != nil {
			t.Fatal(err)
		}
		for h := int64(1); h <= view.Version(); h++ {
			old, err := st.At(h)
			if err != nil {
				t.Fatal(err)
			}
			at, ok, err := registry.GetRecord(old, id)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				continue
			}
			if r.Since == 0 {
				r.Since = h
			}
			r.At = append(r.At, at.Version)
		}
		e.Records = append(e.Records, r)
	}
	return e
}

// TestFixtureV3 opens the committed fixture with this binary's store and
// registry and checks every key, record, version, proof and history
// against expected.json.
func TestFixtureV3(t *testing.T) {
	if *updateFixture {
		if err := os.RemoveAll(fixtureDir); err != nil {
			t.Fatal(err)
		}
		writeFixture(t, filepath.Join(fixtureDir, "state"))
		// goleveldb's own log says when it opened the files: not state.
		_ = os.Remove(filepath.Join(fixtureDir, "state", "state.db", "LOG"))
		st, err := store.Open(copyFixture(t), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.MarshalIndent(expectFixture(t, st), "", "  ")
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(fixtureDir, "expected.json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "expected.json"))
	if err != nil {
		t.Fatalf("%v (go test ./internal/store -run TestFixtureV3 -update-fixture writes it)", err)
	}
	var want fixtureExpected
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if len(want.Records) < 8 || len(want.State) < 30 {
		t.Fatalf("expected.json holds %d records and %d keys: not the fixture", len(want.Records), len(want.State))
	}
	// Opened in a copy: opening writes (goleveldb's journal and log).
	st, err := store.Open(copyFixture(t), store.Options{})
	if err != nil {
		t.Fatalf("open the fixture: %v", err)
	}
	defer st.Close()
	view := st.Latest()
	if view == nil || view.Version() != want.Height || strings.ToUpper(hex.EncodeToString(view.Hash())) != want.AppHash {
		t.Fatalf("the fixture opens at version %d, app hash %X; want %d, %s", st.Version(), st.Hash(), want.Height, want.AppHash)
	}
	root := view.Hash()

	// Every key and value, in order.
	got := expectFixture(t, st)
	if len(got.State) != len(want.State) {
		t.Errorf("the state holds %d keys, expected.json %d", len(got.State), len(want.State))
	}
	for i := range min(len(got.State), len(want.State)) {
		if got.State[i] != want.State[i] {
			t.Errorf("key %d: %q = %q, want %q = %q", i, got.State[i][0], got.State[i][1], want.State[i][0], want.State[i][1])
		}
	}

	// Every record: it decodes, resolves with its history and versions at
	// every height, and its proof verifies against the app hash.
	if len(got.Records) != len(want.Records) {
		t.Fatalf("%d records, want %d", len(got.Records), len(want.Records))
	}
	kinds := map[string]bool{} // looked up only
	for i, w := range want.Records {
		g := got.Records[i]
		t.Run(w.ID, func(t *testing.T) {
			if g.ID != w.ID || g.Status != w.Status || g.Version != w.Version || g.Record != w.Record {
				t.Errorf("record %s v%d %s:\n%s\nwant %s v%d %s:\n%s", g.ID, g.Version, g.Status, g.Record, w.ID, w.Version, w.Status, w.Record)
			}
			if uint64(len(w.History))+1 != w.Version {
				t.Errorf("expected.json has %d earlier versions of a record at version %d", len(w.History), w.Version)
			}
			if len(g.History) != len(w.History) {
				t.Fatalf("%d earlier versions, want %d", len(g.History), len(w.History))
			}
			for v, h := range w.History {
				var rec registry.Record
				if err := registry.DecodeState([]byte(g.History[v]), &rec); err != nil || rec.Version != uint64(v+1) || g.History[v] != h {
					t.Errorf("version %d: %s (%v), want %s", v+1, g.History[v], err, h)
				}
			}
			if fmt.Sprint(g.At) != fmt.Sprint(w.At) || g.Since != w.Since {
				t.Errorf("versions by height from %d: %v, want from %d: %v", g.Since, g.At, w.Since, w.At)
			}
			key := registry.RecordKey(w.ID)
			value, proof, err := view.Proof(key)
			if err != nil {
				t.Fatal(err)
			}
			if err := verify.Existence(root, key, value, proof); err != nil {
				t.Errorf("proof: %v", err)
			}
			// The same proof does not prove another value.
			if err := verify.Existence(root, key, append(bytes.Clone(value), ' '), proof); err == nil {
				t.Error("the proof verifies a changed value")
			}
			if rec, ok, err := registry.GetRecord(view, w.ID); err != nil || !ok || rec.ID != w.ID {
				t.Errorf("resolve: %+v (found %v, err %v)", rec, ok, err)
			}
		})
		switch {
		case !strings.Contains(w.ID, "."):
			kinds["city"] = true
		case strings.Contains(w.ID, "/"):
			kinds["object"] = true
		case strings.Count(w.ID, ".") == 1:
			kinds["sector"] = true
		default:
			kinds["unit"] = true
		}
		var rec registry.Record
		if err := registry.DecodeState([]byte(w.Record), &rec); err != nil {
			t.Errorf("expected.json: record %s: %v", w.ID, err)
		}
		for _, v := range rec.Values {
			kinds["dataset"] = kinds["dataset"] || v.Type == registry.TypeData
		}
		if w.Status == registry.StatusDeactivated {
			kinds["deactivated"] = true
		}
		if w.Version > 2 {
			kinds["history"] = true
		}
	}
	for _, k := range []string{"city", "sector", "unit", "object", "dataset", "deactivated", "history"} {
		if !kinds[k] {
			t.Errorf("the fixture has no %s record: it no longer covers what it must", k)
		}
	}
	hasGrant := false
	for _, kv := range want.State {
		hasGrant = hasGrant || strings.HasPrefix(kv[0], "grant/")
	}
	if !hasGrant {
		t.Error("the fixture has no grant")
	}
	// An identifier never registered has a proof of its absence.
	key := registry.RecordKey("1561301001.85.1/never-registered")
	if _, proof, err := view.Proof(key); err != nil || verify.Absence(root, key, proof) != nil {
		t.Errorf("absence proof: %v", err)
	}
}

// TestFixtureV3WrittenAlike writes the fixture's blocks again with today's
// code: each height must end on the app hash the committed fixture has,
// or today's code writes what the transactions of version 3 wrote
// differently, which only an upgrade (docs/upgrade.md) may do.
func TestFixtureV3WrittenAlike(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want fixtureExpected
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	hashes := writeFixture(t, t.TempDir())
	if int64(len(hashes)-1) != want.Height || strings.ToUpper(hex.EncodeToString(hashes[want.Height])) != want.AppHash {
		t.Fatalf("today's code writes the fixture's %d blocks to app hash %X; the fixture has %d blocks, app hash %s",
			len(hashes)-1, hashes[len(hashes)-1], want.Height, want.AppHash)
	}
}

// copyFixture copies the fixture's state into a temporary folder.
func copyFixture(t *testing.T) string {
	t.Helper()
	src := filepath.Join(fixtureDir, "state")
	dst := filepath.Join(t.TempDir(), "state")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatalf("copy the fixture: %v", err)
	}
	return dst
}

// TestFixtureV3AfterUpgrade runs an upgrade on a copy of the fixture (the
// upgrade tests' handler, package upgradetest, scheduled by the fixture's
// authority) and checks that every record written by version 3 still
// resolves, byte for byte, with its history and a proof against the new
// app hash: what every real upgrade must keep.
func TestFixtureV3AfterUpgrade(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want fixtureExpected
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(copyFixture(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app := chain.NewApp(fixtureChain, st, nil, chain.AppOptions{Upgrades: []chain.Upgrade{upgradetest.Upgrade()}})
	ctx := context.Background()
	auth := fixtureKey(1)
	// The fixture's genesis sets no upgrade_lead_blocks: the plan is the
	// default lead ahead of the block that writes it, and empty blocks
	// take the chain there.
	at := want.Height + 1 + registry.DefaultUpgradeLeadBlocks
	body, err := registry.NewBody(registry.KindSetUpgrade, 3, registry.SetUpgrade{Name: upgradetest.Name, Height: at})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := registry.Sign(fixtureChain, body, auth).Encode()
	if err != nil {
		t.Fatal(err)
	}
	var last *abci.FinalizeBlockResponse
	for h := want.Height + 1; h <= at; h++ {
		var txs [][]byte
		if h == want.Height+1 {
			txs = [][]byte{plan}
		}
		resp, err := app.FinalizeBlock(ctx, &abci.FinalizeBlockRequest{Height: h, Time: fixtureStart.Add(time.Duration(h) * time.Minute), Txs: txs})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.TxResults {
			if r.Code != chain.CodeOK {
				t.Fatalf("block %d: %s %s", h, r.Info, r.Log)
			}
		}
		if _, err := app.Commit(ctx, &abci.CommitRequest{}); err != nil {
			t.Fatal(err)
		}
		last = resp
	}
	if p := last.ConsensusParamUpdates; p == nil || p.Version.App != upgradetest.AppVersion {
		t.Fatalf("the upgrade block updates the parameters by %v, want version.app %d", p, upgradetest.AppVersion)
	}
	view := st.Latest()
	if v, ok, err := registry.StateAppVersion(view); err != nil || !ok || v != upgradetest.AppVersion {
		t.Fatalf("app version after the upgrade %d (%v, %v)", v, ok, err)
	}
	if v, _ := view.Get(upgradetest.Key("1561301001")); string(v) != "石家庄市" {
		t.Errorf("the migration's layout holds %q", v)
	}
	root := view.Hash()
	for _, w := range want.Records {
		key := registry.RecordKey(w.ID)
		value, proof, err := view.Proof(key)
		if err != nil {
			t.Fatal(err)
		}
		if string(value) != w.Record {
			t.Errorf("%s after the upgrade:\n%s\nwant\n%s", w.ID, value, w.Record)
		}
		if err := verify.Existence(root, key, value, proof); err != nil {
			t.Errorf("%s: proof after the upgrade: %v", w.ID, err)
		}
		var history []string
		if err := view.Iterate(registry.HistoryPrefix(w.ID), nil, func(_, v []byte) bool {
			history = append(history, string(v))
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(history) != fmt.Sprint(w.History) {
			t.Errorf("%s: history after the upgrade differs: %d versions, want %d", w.ID, len(history), len(w.History))
		}
	}
}
