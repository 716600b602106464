package share_test

// Attacks a review found, each the story of one: they failed before the
// node bound a dataset's bytes to its identifier (datastore refs), kept
// only its cities' datasets, planned and sent its answers itself, and
// refused signatures made for another node.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cityid/cityid/httpsig"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// TestAttackForeignPublicAlias: city C's admin registers its own identifier
// with a public DATA value naming the SHA-256 of city A's private dataset
// (the hash is public on the ledger). Anyone then reads A's private bytes
// from A's node, anonymously, through C's identifier.
func TestAttackForeignPublicAlias(t *testing.T) {
	w := newWorld(t)
	if got := w.cell("owner's admin", "upload"); got.status != http.StatusCreated {
		t.Fatalf("upload: %s", got)
	}
	if got := w.cell("anonymous", "download"); got.status != http.StatusUnauthorized {
		t.Fatalf("anonymous download of the private dataset: %s", got)
	}
	rec, _, _ := registry.GetRecord(w.ledger.Store().Latest(), flowID)
	ds, _ := registry.DatasetOf(rec)
	sum := sha256.Sum256(w.content)
	if hex.EncodeToString(sum[:]) != ds.SHA256 {
		t.Fatal("hash")
	}
	alias := w.cityC + "/alias"
	w.ledger.Send("dave", registry.KindRegister, registry.Register{ID: alias, Values: []registry.Value{{Type: registry.TypeData,
		Dataset: &registry.Dataset{URI: "http://c.example/x", SHA256: ds.SHA256, Size: ds.Size, MediaType: "text/csv", Public: true}}}})
	resp, err := http.Get(w.url + wire.DataPath + alias)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && bytes.Equal(b, w.content) {
		t.Fatalf("anonymous GET %s on A's node served A's private dataset %s (%d bytes)", alias, flowID, len(b))
	}
}

// TestAttackRangeLogLies: a grantee asks for a range past the end; the
// node logs range_not_satisfiable with 0 bytes, then serves the whole
// dataset (unverified, with 200).
func TestAttackRangeLogLies(t *testing.T) {
	w := newWorld(t)
	if got := w.cell("owner's admin", "upload"); got.status != http.StatusCreated {
		t.Fatalf("upload: %s", got)
	}
	for _, hdr := range [][2]string{{"Range", "bytes=999999-"}, {"Range", "bytes=-0"}, {"If-None-Match", `x"sha256:` + hexSum(w.content) + `"`}, {"If-Match", `"nope"`}} {
		r := w.build(request{method: http.MethodGet, path: wire.DataPath + w.dataset, signer: "carol"})
		r.Header.Set(hdr[0], hdr[1])
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		entries, _ := w.svc.Log().Entries(w.dataset, 0, 1000)
		last := entries[len(entries)-1]
		if int64(len(b)) != last.Bytes || resp.StatusCode != last.Status {
			t.Errorf("%s %q: the log (status %d, %d bytes) is not what was sent (status %d, %d bytes)", hdr[0], hdr[1], last.Status, last.Bytes, resp.StatusCode, len(b))
		}
	}
}

func hexSum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// TestAttackAuthorityNotBound: carol signs a request for node
// a.example; whoever receives it (a byzantine node, a proxy) replays it to
// this node with Host: a.example, and this node serves it: nothing ties
// @authority to the node that verifies.
func TestAttackAuthorityNotBound(t *testing.T) {
	w := newWorld(t)
	if got := w.cell("owner's admin", "upload"); got.status != http.StatusCreated {
		t.Fatalf("upload: %s", got)
	}
	signed, _ := http.NewRequest(http.MethodGet, "http://other-node.example"+wire.DataPath+w.dataset, nil)
	nonce, _ := httpsig.RandomNonce()
	p := httpsig.Params{Label: "sig1", Components: httpsig.DefaultComponents(), KeyID: apitest.PubKey("carol"), Alg: httpsig.Alg,
		Created: w.now, Nonce: nonce, Tag: wire.SignatureTag}
	if err := httpsig.SignParams(signed, apitest.Key("carol"), p); err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest(http.MethodGet, w.url+wire.DataPath+w.dataset, nil)
	r.Host = "other-node.example"
	r.Header = signed.Header.Clone()
	a := w.do(r)
	if a.status == http.StatusOK {
		t.Fatalf("a request signed for other-node.example was served by %s (%d bytes)", w.url, len(a.body))
	}
}

// TestAttackQuarantineByAlias: city C's admin registers a public DATA
// value with A's SHA-256 but another size; one anonymous GET of it makes
// A's node quarantine A's bytes: A's grantees are then told data_not_here.
func TestAttackQuarantineByAlias(t *testing.T) {
	w := newWorld(t)
	if got := w.cell("owner's admin", "upload"); got.status != http.StatusCreated {
		t.Fatalf("upload: %s", got)
	}
	rec, _, _ := registry.GetRecord(w.ledger.Store().Latest(), flowID)
	ds, _ := registry.DatasetOf(rec)
	alias := w.cityC + "/wrongsize"
	w.ledger.Send("dave", registry.KindRegister, registry.Register{ID: alias, Values: []registry.Value{{Type: registry.TypeData,
		Dataset: &registry.Dataset{URI: "http://c.example/x", SHA256: ds.SHA256, Size: ds.Size + 1, MediaType: "text/csv", Public: true}}}})
	resp, err := http.Get(w.url + wire.DataPath + alias)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := w.named(w.do(w.build(request{method: http.MethodGet, path: wire.DataPath + w.dataset, signer: "carol"})), "download")
	if got.status != http.StatusOK {
		t.Fatalf("after one anonymous GET of %s (HTTP %d), the grantee's download of %s is %s", alias, resp.StatusCode, flowID, got)
	}
}

// TestAttackBindByHash: an admin of another dataset of a city the node
// keeps names A's SHA-256 and size in a public DATA value of its own and
// sends an upload with no bytes: the node, holding those bytes, must not
// bind them to it (the hash is public on the ledger), so an anonymous GET
// of it serves nothing of A's; once the admin sends the very bytes, it is
// bound, as any upload.
func TestAttackBindByHash(t *testing.T) {
	w := newWorld(t)
	if got := w.cell("owner's admin", "upload"); got.status != http.StatusCreated {
		t.Fatalf("upload: %s", got)
	}
	rec, _, _ := registry.GetRecord(w.ledger.Store().Latest(), flowID)
	ds, _ := registry.DatasetOf(rec)
	unit := w.ledger.Send("alice", registry.KindRegisterUnit, registry.RegisterUnit{Parent: "1561301001.85", Name: "Another bureau", Admins: []string{apitest.PubKey("erin")}})
	alias := unit.ID + "/copy"
	w.ledger.Send("erin", registry.KindRegister, registry.Register{ID: alias, Values: []registry.Value{{Type: registry.TypeData,
		Dataset: &registry.Dataset{URI: w.url + wire.DataPath + alias, SHA256: ds.SHA256, Size: ds.Size, MediaType: "text/csv", Public: true}}}})
	put := w.do(w.build(request{method: http.MethodPut, path: wire.DataPath + alias, body: []byte{}, signer: "erin"}))
	if put.status == http.StatusOK || put.status == http.StatusCreated {
		t.Fatalf("an upload of no bytes for %s, naming %s's SHA-256: %s", alias, flowID, put)
	}
	get := func() (int, []byte) {
		t.Helper()
		resp, err := http.Get(w.url + wire.DataPath + alias)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if status, b := get(); status == http.StatusOK || bytes.Equal(b, w.content) {
		t.Fatalf("anonymous GET %s after an upload of no bytes: HTTP %d, %d bytes of A's private dataset", alias, status, len(b))
	}
	// The admin who has the bytes sends them: bound, as any upload.
	put = w.do(w.build(request{method: http.MethodPut, path: wire.DataPath + alias, body: w.content, signer: "erin"}))
	if put.status != http.StatusCreated {
		t.Fatalf("the bytes themselves for %s: %s, want 201", alias, put)
	}
	if status, b := get(); status != http.StatusOK || !bytes.Equal(b, w.content) {
		t.Fatalf("anonymous GET %s after its upload: HTTP %d, %d bytes", alias, status, len(b))
	}
	// A's own dataset is served as before.
	if got := w.named(w.do(w.build(request{method: http.MethodGet, path: wire.DataPath + w.dataset, signer: "carol"})), "download"); got.status != http.StatusOK {
		t.Fatalf("the grantee's download of %s after the alias's upload: %s", flowID, got)
	}
}

// TestUploadIsTheRecordsDataset: a record with two DATA values is one
// dataset, its first: an upload for the second index, which would put its
// bytes in place of the first's under the record's one ref, is refused,
// and the first's bytes stay served.
func TestUploadIsTheRecordsDataset(t *testing.T) {
	w := newWorld(t)
	other := bytes.Repeat([]byte("y"), 100)
	id := "1561301001.85.1/two"
	w.ledger.Send("alice", registry.KindRegister, registry.Register{ID: id, Values: []registry.Value{
		{Type: registry.TypeData, Dataset: &registry.Dataset{URI: w.url + wire.DataPath + id, SHA256: hexSum(w.content), Size: int64(len(w.content)), MediaType: "text/csv", Public: true}},
		{Type: registry.TypeData, Dataset: &registry.Dataset{URI: w.url + wire.DataPath + id + "?index=2", SHA256: hexSum(other), Size: int64(len(other)), MediaType: "text/csv", Public: true}},
	}})
	if put := w.do(w.build(request{method: http.MethodPut, path: wire.DataPath + id, body: w.content, signer: "alice"})); put.status != http.StatusCreated {
		t.Fatalf("the upload of the record's dataset: %s", put)
	}
	put := w.do(w.build(request{method: http.MethodPut, path: wire.DataPath + id + "?index=2", body: other, signer: "alice"}))
	if put.status != http.StatusBadRequest || !strings.Contains(string(put.body), "not its dataset") {
		t.Fatalf("an upload for the second DATA value: %s, want 400 saying it is not the record's dataset", put)
	}
	resp, err := http.Get(w.url + wire.DataPath + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || !bytes.Equal(b, w.content) {
		t.Fatalf("the record's dataset after the refused upload: HTTP %d, %d bytes", resp.StatusCode, len(b))
	}
}

// TestAttackForeignUpload: city C's admin uploads its own dataset's bytes
// to city A's node, which keeps them: any city can store on any node, with
// a size it declares itself on the ledger (no bound), and incomplete part
// files are never collected.
func TestAttackForeignUpload(t *testing.T) {
	w := newWorld(t)
	content := bytes.Repeat([]byte("x"), 1000)
	alias := w.cityC + "/mine"
	w.ledger.Send("dave", registry.KindRegister, registry.Register{ID: alias, Values: []registry.Value{{Type: registry.TypeData,
		Dataset: &registry.Dataset{URI: "http://c.example/x", SHA256: hexSum(content), Size: 1 << 50, MediaType: "text/csv"}}}})
	r := w.build(request{method: http.MethodPut, path: wire.DataPath + alias, body: content, signer: "dave"})
	r.Header.Set("Content-Range", "bytes 0-999/1125899906842624")
	a := w.do(r)
	if a.status == http.StatusPermanentRedirect {
		t.Fatalf("A's node took 1000 bytes of a 1 PiB upload for %s, a dataset of another city: %s", alias, a.body)
	}
}

// TestHeadSaysTheSize: a HEAD of a dataset says the size a GET would carry
// and carries nothing; its log entry counts no bytes.
func TestHeadSaysTheSize(t *testing.T) {
	w := newWorld(t)
	if got := w.cell("owner's admin", "upload"); got.status != http.StatusCreated {
		t.Fatalf("upload: %s", got)
	}
	r := w.build(request{method: http.MethodHead, path: wire.DataPath + w.dataset, signer: "carol"})
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(w.content)) || resp.Header.Get("ETag") == "" {
		t.Errorf("HEAD: %d, Content-Length %d, ETag %q; want 200, %d and the ETag", resp.StatusCode, resp.ContentLength, resp.Header.Get("ETag"), len(w.content))
	}
	entries, _ := w.svc.Log().Entries(w.dataset, 0, 1000)
	if last := entries[len(entries)-1]; last.Method != http.MethodHead || last.Bytes != 0 {
		t.Errorf("the HEAD's entry: %+v", last)
	}
}
