package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"

	"github.com/cityid/cityid/internal/store"
)

// tarEntry is one entry of an archive, read whole: the fixtures are small.
type tarEntry struct {
	name string
	data []byte
}

func loadEntries(t *testing.T, path string) []tarEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(b))
	var out []tarEntry
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{hdr.Name, data})
	}
}

func writeEntries(t *testing.T, es []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		if _, err := putEntry(tw, e.name, e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func find(t *testing.T, es []tarEntry, name string) int {
	t.Helper()
	for i, e := range es {
		if e.name == name {
			return i
		}
	}
	t.Fatalf("no entry %s", name)
	return -1
}

func clone(es []tarEntry) []tarEntry {
	out := make([]tarEntry, len(es))
	for i, e := range es {
		out[i] = tarEntry{e.name, bytes.Clone(e.data)}
	}
	return out
}

func memStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.OpenMemory(store.Options{ValueCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestReadGenuine: the archive a real node wrote reads whole, its state's
// root is the signed app hash, and the store holds that state.
func TestReadGenuine(t *testing.T) {
	b, err := os.ReadFile("testdata/archive.tar")
	if err != nil {
		t.Fatal(err)
	}
	st := memStore(t)
	a, err := Read(bytes.NewReader(b), st)
	if err != nil {
		t.Fatal(err)
	}
	m := a.Manifest
	if m.Height != 3 || m.HeaderHeight != 4 || m.Blocks == nil || *m.Blocks != (BlockRange{1, 3}) || len(m.Files) != 7 {
		t.Fatalf("manifest %+v", m)
	}
	if st.Version() != 3 || fmt.Sprintf("%X", st.Hash()) != m.AppHash || fmt.Sprintf("%X", a.Signed.AppHash) != m.AppHash {
		t.Fatalf("store at %d with root %X; manifest says %s", st.Version(), st.Hash(), m.AppHash)
	}
	// Without a store, all but the root is checked, the same way.
	if _, err := Read(bytes.NewReader(b), nil); err != nil {
		t.Fatal(err)
	}
	gen, err := ReadGenesis(bytes.NewReader(b))
	if err != nil || !bytes.Equal(gen, a.Genesis) {
		t.Fatalf("ReadGenesis: %v", err)
	}
}

// TestReadRefuses: every damaged or mismatched archive is refused, for
// the reason that belongs to it, with and without a store.
func TestReadRefuses(t *testing.T) {
	genuine := loadEntries(t, "testdata/archive.tar")
	other := loadEntries(t, "testdata/archive-h2.tar") // the same chain, backed up at height 2
	// The splices below need the two states to differ, or they would
	// prove nothing.
	if bytes.Equal(genuine[find(t, genuine, "state/00000")].data, other[find(t, other, "state/00000")].data) {
		t.Fatal("the fixtures' states are the same")
	}
	flip := func(name string, at func(n int) int) func([]tarEntry) []tarEntry {
		return func(es []tarEntry) []tarEntry {
			i := find(t, es, name)
			es[i].data[at(len(es[i].data))] ^= 0x01
			return es
		}
	}
	middle := func(n int) int { return n / 2 }
	// editSigned decodes light/signed.pb, lets edit change it, encodes it.
	editSigned := func(edit func(*cmtproto.LightBlock)) func([]tarEntry) []tarEntry {
		return func(es []tarEntry) []tarEntry {
			i := find(t, es, NameSigned)
			var pb cmtproto.LightBlock
			if err := pb.Unmarshal(es[i].data); err != nil {
				t.Fatal(err)
			}
			edit(&pb)
			bz, err := pb.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			es[i].data = bz
			return es
		}
	}
	// withManifest rewrites the manifest's JSON text.
	withManifest := func(old, new string) func([]tarEntry) []tarEntry {
		return func(es []tarEntry) []tarEntry {
			i := find(t, es, NameManifest)
			s := string(es[i].data)
			if !strings.Contains(s, old) {
				t.Fatalf("the manifest has no %q", old)
			}
			es[i].data = []byte(strings.Replace(s, old, new, 1))
			return es
		}
	}
	cases := []struct {
		name   string
		tamper func([]tarEntry) []tarEntry
		raw    func([]byte) []byte // on the archive's bytes, after tamper
		part   string              // the part refused; "" any
		reason string              // in the message
		// bare is the part refused without a store, where the state is
		// hashed but not decoded; "" is part.
		bare string
	}{
		{name: "flipped byte in the state", tamper: flip("state/00000", middle), part: "state", bare: NameManifest},
		// A byte of a block may lie outside what its hash covers (a
		// commit signature's timestamp): then only the manifest's hash
		// of the part finds it.
		{name: "flipped byte in the blocks", tamper: flip("blocks/00000", middle), part: NameManifest},
		{name: "flipped byte in a block's header", part: "blocks", tamper: func(es []tarEntry) []tarEntry {
			i := find(t, es, "blocks/00000")
			j := bytes.Index(es[i].data, []byte("cityid-local-"))
			es[i].data[j] ^= 0x01
			return es
		}},
		{name: "flipped byte in the signed header", tamper: flip(NameSigned, middle), part: NameSigned},
		{name: "flipped byte in the last header", tamper: flip(NameLast, middle), part: NameLast},
		{name: "a signature changed", part: NameSigned, reason: "signature", tamper: editSigned(func(pb *cmtproto.LightBlock) {
			pb.SignedHeader.Commit.Signatures[0].Signature[3] ^= 0x40
		})},
		{name: "the app hash changed", part: NameSigned, tamper: editSigned(func(pb *cmtproto.LightBlock) {
			pb.SignedHeader.Header.AppHash[0] ^= 0x01
		})},
		{name: "wrong header: another height's, genuine and signed", part: NameSigned, reason: "does not follow", tamper: func(es []tarEntry) []tarEntry {
			es[find(t, es, NameSigned)].data = other[find(t, other, NameSigned)].data
			return es
		}},
		{name: "wrong headers: both of another height, with this state", part: "state", bare: "blocks", tamper: func(es []tarEntry) []tarEntry {
			es[find(t, es, NameLast)].data = other[find(t, other, NameLast)].data
			es[find(t, es, NameSigned)].data = other[find(t, other, NameSigned)].data
			return es
		}},
		{name: "genesis of another chain", part: NameLast, reason: "chain", tamper: func(es []tarEntry) []tarEntry {
			i := find(t, es, NameGenesis)
			es[i].data = bytes.Replace(es[i].data, []byte(`"chain_id": "cityid-local-`), []byte(`"chain_id": "cityid-other-`), 1)
			return es
		}},
		{name: "genesis not JSON", tamper: flip(NameGenesis, func(int) int { return 0 }), part: NameGenesis},
		{name: "a file's hash in the manifest", part: NameManifest, reason: "entry 0", tamper: func(es []tarEntry) []tarEntry {
			return withManifest(fmt.Sprintf("%x", sha(es[0].data)), strings.Repeat("0", 64))(es)
		}},
		{name: "the manifest's height", tamper: withManifest(`"height": 3`, `"height": 2`), part: NameManifest, reason: "height"},
		{name: "the manifest's header time", tamper: withManifest(`"header_time": "2026-12-05T07:12:12.996692349Z"`, `"header_time": "2027-12-05T07:12:12.996692349Z"`), part: NameManifest, reason: "header_time"},
		{name: "an unknown field in the manifest", tamper: withManifest(`"version": 1`, `"version": 1, "extra": true`), part: NameManifest, reason: "unknown field"},
		{name: "a newer format version", tamper: withManifest(`"version": 1`, `"version": 2`), part: NameManifest, reason: "version 2"},
		{name: "no manifest", part: "archive", reason: "cut short", tamper: func(es []tarEntry) []tarEntry { return es[:len(es)-1] }},
		{name: "an entry after the manifest", part: "archive", reason: "after", tamper: func(es []tarEntry) []tarEntry {
			return append(es, tarEntry{"extra", []byte("x")})
		}},
		{name: "an entry between the parts", part: "notes.txt", tamper: func(es []tarEntry) []tarEntry {
			i := find(t, es, "blocks/00000")
			return append(es[:i:i], append([]tarEntry{{"notes.txt", []byte("x")}}, es[i:]...)...)
		}},
		{name: "entries out of order", part: NameGenesis, tamper: func(es []tarEntry) []tarEntry {
			es[0], es[1] = es[1], es[0]
			return es
		}},
		{name: "cut short in the state", part: "", reason: "cut short", raw: func(b []byte) []byte {
			i := bytes.Index(b, []byte("state/00000"))
			return b[:i+512+100]
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			es := clone(genuine)
			if c.tamper != nil {
				es = c.tamper(es)
			}
			b := writeEntries(t, es)
			if c.raw != nil {
				b = c.raw(b)
			}
			for _, withStore := range []bool{true, false} {
				var st *store.Store
				if withStore {
					st = memStore(t)
				}
				_, err := Read(bytes.NewReader(b), st)
				var ce *CorruptError
				if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) {
					t.Fatalf("store %v: read %v; want a refusal", withStore, err)
				}
				wantPart := c.part
				if !withStore && c.bare != "" {
					wantPart = c.bare
				}
				if wantPart != "" && ce.Part != wantPart {
					t.Errorf("store %v: refused %s (%v), want %s", withStore, ce.Part, err, wantPart)
				}
				if c.reason != "" && wantPart == c.part && !strings.Contains(err.Error(), c.reason) {
					t.Errorf("store %v: %v; want %q in it", withStore, err, c.reason)
				}
			}
		})
	}
}

func sha(b []byte) []byte {
	var out [32]byte
	h := sha256.New()
	h.Write(b)
	copy(out[:], h.Sum(nil))
	return out[:]
}

// TestParts: a stream longer than a part is cut into parts of PartBytes
// and read back whole, each part hashed.
func TestParts(t *testing.T) {
	stream := make([]byte, 2*PartBytes+12345)
	for i := range stream {
		stream[i] = byte(i*7 + i/4093)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	pw := newPartWriter(context.Background(), tw, StatePrefix)
	// Odd-sized writes, as the exporter's buffered writer makes.
	for rest := stream; len(rest) > 0; {
		n := min(len(rest), 70_001)
		if _, err := pw.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := putEntry(tw, NameManifest, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	if len(pw.files) != 3 || pw.files[0].Size != PartBytes || pw.files[2].Size != 12345 || pw.total != int64(len(stream)) {
		t.Fatalf("parts %+v, total %d", pw.files, pw.total)
	}
	tr := tar.NewReader(&buf)
	first, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	pr, err := newPartReader(tr, StatePrefix, first)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(pr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, stream) || pr.after == nil || pr.after.Name != NameManifest {
		t.Fatalf("read back %d bytes (want %d), then %v", len(got), len(stream), pr.after)
	}
	for i := range pw.files {
		if pr.files[i] != pw.files[i] {
			t.Errorf("part %d read as %+v, written as %+v", i, pr.files[i], pw.files[i])
		}
	}
}

// TestReadEveryFlip: a byte flipped anywhere in a real archive (every
// fifth byte, with masks in turn) is refused as corrupt or, where it
// lands in what nothing reads (tar padding), taken as the genuine state;
// never a panic, whichever decoder it reaches. FuzzRead goes further.
func TestReadEveryFlip(t *testing.T) {
	b, err := os.ReadFile("testdata/archive.tar")
	if err != nil {
		t.Fatal(err)
	}
	masks := []byte{0x01, 0x5a, 0x80, 0xff}
	refused := 0
	for i := 0; i < len(b); i += 5 {
		c := bytes.Clone(b)
		c[i] ^= masks[(i/5)%len(masks)]
		st := memStore(t)
		a, err := Read(bytes.NewReader(c), st)
		switch {
		case errors.Is(err, ErrCorrupt):
			refused++
		case err != nil:
			t.Fatalf("byte %d: an error that is not a refusal: %v", i, err)
		case a.Manifest.AppHash != fmt.Sprintf("%X", st.Hash()):
			t.Fatalf("byte %d: taken with a root other than the signed one", i)
		}
	}
	if refused < len(b)/5/2 {
		t.Errorf("only %d of %d flips refused", refused, len(b)/5)
	}
}

// ReadGenesis reads the genesis entry as Read does, with one reader:
// an archive whose genesis entry is out of place, too large, cut short
// or missing is refused by both with the same error.
func TestReadGenesisRefusesAsRead(t *testing.T) {
	genuine := loadEntries(t, "testdata/archive.tar")
	whole := writeEntries(t, genuine)
	cases := map[string][]byte{
		"entries out of order": func() []byte {
			es := clone(genuine)
			es[0], es[1] = es[1], es[0]
			return writeEntries(t, es)
		}(),
		"genesis too large": func() []byte {
			es := clone(genuine)
			es[find(t, es, NameGenesis)].data = bytes.Repeat([]byte(" "), maxSmallEntry+1)
			return writeEntries(t, es)
		}(),
		"cut short in the genesis": whole[:512+10],
		"empty":                    nil,
	}
	for name, b := range cases {
		_, rerr := Read(bytes.NewReader(b), nil)
		_, gerr := ReadGenesis(bytes.NewReader(b))
		if rerr == nil || gerr == nil || rerr.Error() != gerr.Error() {
			t.Errorf("%s: Read refuses with %v, ReadGenesis with %v; want one refusal", name, rerr, gerr)
		}
	}
}
