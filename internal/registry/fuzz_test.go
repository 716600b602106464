package registry

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// declaredCodes reads the Code* constants from errors.go's source: the list
// a rejection's code must come from, whatever Codes() says.
func declaredCodes(t testing.TB) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Code") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, _ := strconv.Unquote(lit.Value)
				if codes[v] {
					t.Fatalf("code %q declared twice", v)
				}
				codes[v] = true
			}
		}
	}
	if len(codes) < 20 {
		t.Fatalf("found %d codes in errors.go", len(codes))
	}
	return codes
}

func TestErrorCodes(t *testing.T) {
	declared := declaredCodes(t)
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	for c := range declared {
		if !snake.MatchString(c) {
			t.Errorf("code %q is not snake_case", c)
		}
	}
	t.Run("Codes lists every declared code once", func(t *testing.T) {
		listed := Codes()
		for _, c := range listed {
			if !declared[c] {
				t.Errorf("Codes() lists %q, which errors.go does not declare", c)
			}
		}
		for c := range declared {
			if !slices.Contains(listed, c) {
				t.Errorf("Codes() misses %q", c)
			}
		}
		if len(listed) != len(declared) {
			t.Errorf("Codes() has %d entries for %d codes", len(listed), len(declared))
		}
	})
	t.Run("published codes keep their text", func(t *testing.T) {
		// Clients and the ABCI code table depend on these strings.
		for name, want := range map[string]string{
			CodeMalformed: "malformed", CodeTooLarge: "too_large", CodeBadSignature: "bad_signature",
			CodeBadPubKey: "bad_pub_key", CodeNonceReplayed: "nonce_replayed", CodeNonceGap: "nonce_gap",
			CodeUnknownKind: "unknown_kind", CodeInvalid: "invalid", CodeInvalidID: "invalid_id",
			CodeUnauthorized: "unauthorized", CodeNotFound: "not_found", CodeExists: "exists",
			CodeDuplicateCity: "duplicate_city", CodeDuplicateLocode: "duplicate_locode",
			CodeAlreadyDecided: "already_decided", CodeAlreadyVoted: "already_voted",
			CodeVersionMismatch: "version_mismatch", CodeInactive: "inactive", CodeAlreadyActive: "already_active",
			CodeAlreadyInactive: "already_inactive", CodeBadValue: "bad_value", CodeExhausted: "exhausted",
			CodeInternal: "internal",
		} {
			if name != want {
				t.Errorf("code %q, want %q", name, want)
			}
		}
	})
	t.Run("Error and AsError", func(t *testing.T) {
		e := &Error{Code: CodeExists, Msg: "x is already registered"}
		if e.Error() != "exists: x is already registered" {
			t.Errorf("Error() = %q", e.Error())
		}
		if AsError(nil) != nil || AsError(e) != e {
			t.Error("AsError does not pass nil and *Error through")
		}
		if got := AsError(errDisk); got.Code != CodeInternal || !strings.Contains(got.Msg, errDisk.Error()) {
			t.Errorf("AsError(other) = %v, want internal", got)
		}
	})
}

// checkRejection requires a rejection to be a *Error with a declared code
// other than internal (no input may cause internal) and a message a person
// can read.
func checkRejection(t *testing.T, codes map[string]bool, err *Error) {
	t.Helper()
	if !codes[err.Code] {
		t.Fatalf("code %q is not declared in errors.go (%s)", err.Code, err.Msg)
	}
	if err.Code == CodeInternal {
		t.Fatalf("input caused an internal error: %s", err.Msg)
	}
	if err.Msg == "" || !utf8.ValidString(err.Msg) {
		t.Fatalf("%s: message %q is empty or not UTF-8", err.Code, err.Msg)
	}
}

// checkPrepared checks a transaction Prepare accepted.
func checkPrepared(t *testing.T, tx []byte, p *Tx) {
	t.Helper()
	if p == nil {
		t.Fatal("Prepare returned neither a transaction nor an error")
	}
	if p.Hash != TxHash(tx) || p.Nonce == 0 || !slices.Contains(Kinds(), p.Kind) || p.Message() == nil {
		t.Fatalf("prepared %+v", p)
	}
	if _, err := ParsePubKey(p.Signer); err != nil {
		t.Fatalf("signer %q: %v", p.Signer, err)
	}
	env, derr := DecodeEnvelope(tx)
	if derr != nil || env.Verify(testChainID) != nil {
		t.Fatalf("accepted bytes do not decode and verify: %v", derr)
	}
}

// seedTxs are valid transactions of every kind and near misses, signed by
// the world's city admin at its next nonce.
func seedTxs(t testing.TB, w *world) [][]byte {
	a := w.cityAdmin
	out := [][]byte{
		a.tx(t, KindApplyCity, M{"country": "156", "city_number": "110100", "name": "北京市", "locode": "CNBJS", "admins": []string{a.pub}}),
		a.tx(t, KindApplyCity, M{"country": "250", "city_number": "allocate", "name": "Paris"}),
		a.tx(t, KindApproveApplication, M{"application": 1, "hash": w.h.appHash(t, 1)}),
		a.tx(t, KindRejectApplication, M{"application": 1, "hash": w.h.appHash(t, 1), "reason": "no"}),
		a.tx(t, KindRegisterSector, M{"id": "1561301001.86", "name": "卫生"}),
		a.tx(t, KindRegisterUnit, M{"parent": w.sector, "name": "Bureau", "admins": []string{w.unitAdmin.pub}}),
		a.tx(t, KindRegister, M{"id": w.unit + "/x", "values": []M{
			{"type": "URL", "data": "https://x.example/"}, {"type": "GEO", "data": "1.5,2"},
			{"type": "DATA", "dataset": goodDataset()}, {"type": "ALIAS", "data": w.object}, {"type": "ns:t", "data": "v", "ttl": 60},
		}}),
		a.tx(t, KindRegister, M{"id": w.unit, "allocate": true, "values": []M{{"index": 3, "type": "EMAIL", "data": "a@b.example"}}}),
		a.tx(t, KindUpdate, M{"id": w.object, "version": 1, "values": []M{{"type": "TEXT", "data": "t"}}}),
		a.tx(t, KindDeactivate, M{"id": w.object, "reason": "r"}),
		a.tx(t, KindReactivate, M{"id": w.object, "version": 1}),
		a.tx(t, KindRegisterBatch, batchMsg([]M{
			{"id": w.unit + "/m-1", "values": []M{{"type": "TEXT", "data": "meter"}}},
			{"id": w.unit + "/M-2", "values": []M{}, "admins": []string{w.unitAdmin.pub}},
		})),
		a.tx(t, KindTransfer, M{"id": w.object, "admins": []string{w.unitAdmin.pub, w.stranger.pub}, "version": 1}),
		a.tx(t, KindGrantAccess, M{"dataset": w.object, "grantee": w.sector, "scope": "read:summary", "expires": "2030-01-01T00:00:00+08:00"}),
		a.tx(t, KindRevokeAccess, M{"dataset": w.object, "grantee": w.sector}),
		a.tx(t, KindSetAuthority, M{"members": []string{w.h.members[1].pub, w.h.members[0].pub}, "threshold": 1}),
		a.tx(t, KindSetValidator, M{"pub_key": validatorKey(5), "power": 10}),
		a.tx(t, KindTransfer, M{}),
		a.tx(t, "teleport", M{}),
		a.txNonce(t, 0, KindRegisterSector, M{"id": "1561301001.86"}),
	}
	golden, _ := minimalApplyCity(t)
	return append(out, golden)
}

// minimalApplyCity is a first transaction with only the required fields.
func minimalApplyCity(t testing.TB) ([]byte, []byte) {
	body, err := NewBody(KindApplyCity, 1, ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市"})
	if err != nil {
		t.Fatal(err)
	}
	return signBody(t, testChainID, body, testKey("city-admin")), body
}

// FuzzPrepare feeds arbitrary bytes to Prepare, the check CheckTx runs on
// everything a peer sends, and to DecodeEnvelope, its first step: neither
// may panic, every rejection must be a *Error with a code declared in
// errors.go, and an envelope is accepted only in its canonical encoding.
func FuzzPrepare(f *testing.F) {
	codes := declaredCodes(f)
	w := newWorld(f)
	for _, tx := range seedTxs(f, w) {
		f.Add(tx)
		// The same body deflated (application version 4).
		e, _ := DecodeEnvelope(tx)
		f.Add(deflatedTx(f, e.Body, w.cityAdmin.key))
	}
	for _, s := range []string{"", "null", "{}", "[]", `{"body":"","pub_key":"","signature":""}`, `{"body":"e30=","pub_key":"` +
		w.cityAdmin.pub + `","signature":"` + strings.Repeat("A", 86) + `=="}`, "\x00\xff", `{"body":"e30="}{}`} {
		f.Add([]byte(s))
	}
	m := New(testChainID)
	f.Fuzz(func(t *testing.T, tx []byte) {
		checkEnvelope(t, codes, tx)
		p, err := m.Prepare(tx)
		if err != nil {
			if p != nil {
				t.Fatalf("Prepare returned a transaction and the error %v", err)
			}
			checkRejection(t, codes, err)
			return
		}
		checkPrepared(t, tx, p)
	})
}

// checkEnvelope holds DecodeEnvelope, the first thing Prepare runs, to
// its contract: a refusal is declared and Prepare refuses the same way;
// what it accepts is the one canonical encoding of an envelope of a
// bounded body, a key and a signature of the right sizes, and Inspect
// reads the same envelope.
func checkEnvelope(t *testing.T, codes map[string]bool, tx []byte) {
	t.Helper()
	env, err := DecodeEnvelope(tx)
	if err != nil {
		checkRejection(t, codes, err)
		if _, perr := New(testChainID).Prepare(tx); perr == nil || *perr != *err {
			t.Fatalf("DecodeEnvelope says %v, Prepare %v", err, perr)
		}
		if _, ierr := Inspect(tx); ierr == nil || *ierr != *err {
			t.Fatalf("DecodeEnvelope says %v, Inspect %v", err, ierr)
		}
		return
	}
	if enc, eerr := env.Encode(); eerr != nil || !bytes.Equal(enc, tx) {
		t.Fatalf("accepted an envelope that is not its canonical encoding %q: %q", enc, tx)
	}
	if len(env.Body) == 0 || len(env.Body) > MaxBatchBodyBytes || len(env.Signature) != ed25519.SignatureSize {
		t.Fatalf("accepted a body of %d bytes and a signature of %d", len(env.Body), len(env.Signature))
	}
	if _, perr := ParsePubKey(env.PubKey); perr != nil {
		t.Fatalf("accepted the key %q: %v", env.PubKey, perr)
	}
	if in, ierr := Inspect(tx); ierr == nil && in.Signer != env.PubKey {
		t.Fatalf("Inspect reads signer %q, DecodeEnvelope %q", in.Signer, env.PubKey)
	}
}

// FuzzSignedBody signs arbitrary body bytes with the world's city admin key,
// so that the fuzzer gets past the signature into body and message
// validation, then runs what Prepare accepts against the world's committed
// state (DryRun, as CheckTx does). Nothing may panic, every rejection must
// be declared and not internal, and a dry run must not change the prepared
// message: running it twice gives the same answer.
func FuzzSignedBody(f *testing.F) {
	codes := declaredCodes(f)
	w := newWorld(f)
	for _, tx := range seedTxs(f, w) {
		var e Envelope
		e, _ = DecodeEnvelope(tx)
		f.Add(e.Body)
	}
	f.Add([]byte(`{"kind":"register","nonce":4,"msg":{"id":"1561301001.85.1/a","values":[{"type":"GEO","data":"-90.000000000000,-180"}]}}`))
	f.Add([]byte(`{"kind":"update","nonce":4,"msg":{"id":"1561301001.85.1/SCHOOL-0042","version":1,"values":[{"index":65535,"type":"a.b:c","data":"\t"}]}}`))
	m := w.h.m
	view := w.h.kv.st.Latest()
	blk := w.h.next()
	key := w.cityAdmin.key
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) == 0 {
			return // an envelope needs a body; FuzzPrepare covers it
		}
		tx, err := Sign(testChainID, body, key).Encode()
		if err != nil {
			t.Fatal(err)
		}
		p, perr := m.Prepare(tx)
		if perr != nil {
			checkRejection(t, codes, perr)
			return
		}
		checkPrepared(t, tx, p)
		first := m.DryRun(view, blk, p)
		second := m.DryRun(view, blk, p)
		if (first == nil) != (second == nil) || first != nil && *first != *second {
			t.Fatalf("two dry runs of one transaction disagree: %v / %v", first, second)
		}
		if first != nil {
			checkRejection(t, codes, first)
		}
	})
}

// FuzzStateDecoders: whatever record encoding/json writes into state,
// DecodeState (encoding/json/v2's engine) reads back to the same record.
func FuzzStateDecoders(f *testing.F) {
	for _, name := range []string{"record_object.json", "record_city.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"1561301001.85.1/x","kind":"object","status":"active","version":3,"values":[{"index":1,"type":"TEXT","data":"\u003c\u0026\u2028\ud83d\ude00 \\ \"","ttl":1}],"admins":[],"created":{"height":1,"time":"2026-01-02T03:04:05.000000006Z","tx":""},"updated":{"height":1,"time":"0001-01-01T00:00:00Z","tx":""}}`))
	f.Add([]byte(`{"dataset":"1561301001.85.1/data","grantee":"1561401001","scope":"read","expires":"2027-03-04T05:06:07.000000008+08:00","granted":{"height":3,"time":"2026-01-01T00:00:00Z","tx":"AB"}}`))
	f.Add([]byte(`{"id":7,"country":"156","names":{"local":"石家庄市","en":"Shijiazhuang"},"votes":[{"member":"ab","approve":true,"height":4}],"status":"pending"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Every type the registry keeps in state, each from the same bytes:
		// only what the registry could have written, encoding/json's own
		// output for that type, is compared.
		fuzzStateType[Record](t, b)
		fuzzStateType[Grant](t, b)
		fuzzStateType[Application](t, b)
		fuzzStateType[Authority](t, b)
		fuzzStateType[[]Validator](t, b)
		fuzzStateType[Proposal](t, b)
		fuzzStateType[Params](t, b)
		fuzzStateType[locodeClaim](t, b)
	})
}

func fuzzStateType[T any](t *testing.T, b []byte) {
	var v T
	if json.Unmarshal(b, &v) != nil {
		return
	}
	stored, err := json.Marshal(v)
	if err != nil {
		return
	}
	checkStateDecoders[T](t, stored)
}
