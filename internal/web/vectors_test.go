package web_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	cmtmath "github.com/cometbft/cometbft/libs/math"
	"github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/light/provider"
	lightdb "github.com/cometbft/cometbft/light/store/db"
	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
	"github.com/cityid/cityid/verify"
)

var update = flag.Bool("update", false, "start a node and write testdata/vectors anew")

// vectorDir holds one JSON file per vector, named after it, as
// transparency-dev's merkle keeps its golden negative vectors.
const vectorDir = "testdata/vectors"

// A vector is one input to the browser's verifier with the verdict Go's
// code (CometBFT's light package and types, cosmos/ics23 through package
// verify) gives it. Kind says which check it feeds:
//   - "proof": an ICS23 proof against a root, as package verify checks it;
//   - "light": a trusted light block and an untrusted one, as
//     light.Verify checks them (adjacent or skipping);
//   - "answer": a trust root, the light blocks from it to header H+1, and an
//     API answer read at H, as client.Verifier checks them.
type vector struct {
	Name  string          `json:"name"`
	About string          `json:"about"`
	Kind  string          `json:"kind"`
	Input json.RawMessage `json:"input"`
	Want  verdict         `json:"want"`
}

// verdict is Go's: ok, or the class of the failure (one of reasons) and
// the error text Go's code gave, for a person reading the vector.
type verdict struct {
	OK      bool   `json:"ok"`
	Reason  string `json:"reason,omitempty"`
	GoError string `json:"go_error,omitempty"`
	// Pivots are the heights a bisect vector's light client fetched,
	// in order, beyond the root and the target.
	Pivots []int64 `json:"pivots,omitempty"`
}

// reasons are the failure classes verify.js reports, each the class of
// one of Go's errors (see classify). Every one has a vector.
var reasons = []string{
	"malformed", "wrong_type", "wrong_kind", "not_iavl", "root_mismatch", "key_mismatch", "value_mismatch",
	"wrong_id", "record_mismatch", "app_hash", "height", "trust_root",
	"chain_id", "header_invalid", "header_hash", "header_time", "commit_invalid", "validators", "next_validators",
	"signature", "not_enough_power", "trust_level", "expired",
}

type proofInput struct {
	Type   string `json:"type"`
	Root   string `json:"root"` // hex
	Key    []byte `json:"key"`
	Value  []byte `json:"value,omitempty"`
	Proof  []byte `json:"proof"`
	Absent bool   `json:"absent,omitempty"`
}

// lightParams are the light client's settings and clock for a check.
type lightParams struct {
	ChainID string `json:"chain_id"`
	// TrustingPeriod and MaxClockDrift in seconds; Now in RFC 3339.
	TrustingPeriod int64  `json:"trusting_period"`
	MaxClockDrift  int64  `json:"max_clock_drift"`
	Now            string `json:"now"`
}

type lightInput struct {
	lightParams
	Trusted   json.RawMessage `json:"trusted"`
	Untrusted json.RawMessage `json:"untrusted"`
}

type answerInput struct {
	lightParams
	// Trust is the root of trust: a height and its header's hash (hex).
	Trust struct {
		Height int64  `json:"height"`
		Hash   string `json:"hash"`
	} `json:"trust"`
	// Blocks start at the trusted height; each is verified from the one
	// before; the last is header H+1 of the answer.
	Blocks []json.RawMessage `json:"blocks"`
	// Answer is the body of GET /v1/ids/{id}?proof=true: a record with
	// its proof, or a 404 problem with a proof of absence.
	Answer json.RawMessage `json:"answer"`
	// ID is the identifier asked about (canonical).
	ID string `json:"id"`
}

// bisectInput is a trust root, the light blocks a node would serve (by
// height), and the height to reach: CometBFT's light client verifies it by
// bisection (verifySkipping), fetching the pivots it needs.
type bisectInput struct {
	lightParams
	Trust struct {
		Height int64  `json:"height"`
		Hash   string `json:"hash"`
	} `json:"trust"`
	Blocks map[string]json.RawMessage `json:"blocks"`
	Target int64                      `json:"target"`
}

// trustLevel is CometBFT's default, which client.Verifier uses.
var trustLevel = cmtmath.Fraction{Numerator: 1, Denominator: 3}

// goVerdict checks a vector's input with Go's code.
func goVerdict(v vector) (out verdict) {
	// CometBFT panics on some inputs (a validator key of the wrong size:
	// ed25519.PubKey.Address); that is a refusal too, of no class.
	defer func() {
		if r := recover(); r != nil {
			out = verdict{Reason: "go_panic", GoError: fmt.Sprint(r)}
		}
	}()
	var err error
	switch v.Kind {
	case "proof":
		var in proofInput
		if err = unmarshal(v.Input, &in); err == nil {
			err = checkProof(in)
		}
	case "light":
		var in lightInput
		if err = unmarshal(v.Input, &in); err == nil {
			err = checkLight(in)
		}
	case "answer":
		var in answerInput
		if err = unmarshal(v.Input, &in); err == nil {
			err = checkAnswer(in)
		}
	case "bisect":
		var in bisectInput
		if err = unmarshal(v.Input, &in); err == nil {
			var pivots []int64
			pivots, err = checkBisect(in)
			defer func() { out.Pivots = pivots }()
		}
	default:
		err = fmt.Errorf("unknown kind %q", v.Kind)
	}
	if err == nil {
		return verdict{OK: true}
	}
	msg := err.Error()
	if len(msg) > 400 { // CometBFT's errors may print whole providers
		msg = msg[:400] + "…"
	}
	return verdict{Reason: classify(err), GoError: msg}
}

// unmarshal reads a vector's input; what does not fit is malformed.
func unmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", errMalformed, err)
	}
	return nil
}

func checkProof(in proofInput) error {
	root, err := hex.DecodeString(in.Root)
	if err != nil {
		return fmt.Errorf("%w: root: %v", errMalformed, err)
	}
	p, err := verify.Decode(in.Type, in.Proof)
	if err != nil {
		return err
	}
	if in.Absent {
		return verify.Absence(root, in.Key, p)
	}
	return verify.Existence(root, in.Key, in.Value, p)
}

func (p lightParams) clock() (now time.Time, period, drift time.Duration, err error) {
	now, err = time.Parse(time.RFC3339Nano, p.Now)
	return now, time.Duration(p.TrustingPeriod) * time.Second, time.Duration(p.MaxClockDrift) * time.Second, err
}

// decodeLightBlock is client.DecodeLightBlock: CometBFT's JSON, checked
// well formed for chainID (header hash against the commit, validator set
// hash against the header).
func decodeLightBlock(raw []byte, chainID string) (*types.LightBlock, error) {
	var lb types.LightBlock
	if err := cmtjson.Unmarshal(raw, &lb); err != nil {
		return nil, fmt.Errorf("%w: light block: %v", errMalformed, err)
	}
	if err := lb.ValidateBasic(chainID); err != nil {
		return nil, err
	}
	return &lb, nil
}

func checkLight(in lightInput) error {
	now, period, drift, err := in.clock()
	if err != nil {
		return fmt.Errorf("%w: %v", errMalformed, err)
	}
	trusted, err := decodeLightBlock(in.Trusted, in.ChainID)
	if err != nil {
		return err
	}
	untrusted, err := decodeLightBlock(in.Untrusted, in.ChainID)
	if err != nil {
		return err
	}
	return light.Verify(trusted.SignedHeader, trusted.ValidatorSet, untrusted.SignedHeader, untrusted.ValidatorSet,
		period, now, drift, trustLevel)
}

// errMalformed: an input that does not decode (JSON, hex, a time).
var errMalformed = errors.New("malformed input")

// checkBisect runs CometBFT's light client (skipping verification, trust
// level 1/3) over a provider that serves the blocks given as client's
// lightProvider serves /v1/light/{h} (decoded and checked well formed
// when asked for), and a witness that serves the same.
func checkBisect(in bisectInput) ([]int64, error) {
	now, period, drift, err := in.clock()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	hash, err := hex.DecodeString(in.Trust.Hash)
	if err != nil {
		return nil, fmt.Errorf("%w: trusted hash: %v", errMalformed, err)
	}
	ctx := context.Background()
	primary := &jsonProvider{chainID: in.ChainID, blocks: in.Blocks}
	witness := &jsonProvider{chainID: in.ChainID, blocks: in.Blocks}
	lc, err := light.NewClient(ctx, in.ChainID, light.TrustOptions{Period: period, Height: in.Trust.Height, Hash: hash},
		primary, []provider.Provider{witness}, lightdb.New(dbm.NewMemDB(), in.ChainID),
		light.SkippingVerification(trustLevel), light.MaxClockDrift(drift), light.Logger(cmtlog.NewNopLogger()))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errTrustRoot, err)
	}
	_, err = lc.VerifyLightBlockAtHeight(ctx, in.Target, now)
	// The root and the target come first; the rest are the pivots.
	var pivots []int64
	for _, h := range primary.asked {
		if h != in.Trust.Height && h != in.Target {
			pivots = append(pivots, h)
		}
	}
	if errors.As(err, new(provider.ErrBadLightBlock)) {
		return pivots, fmt.Errorf("%w: %v", errMalformed, err)
	}
	return pivots, err
}

// jsonProvider serves light blocks from their JSON by height, as
// client's lightProvider serves a node's, and records the heights asked.
type jsonProvider struct {
	chainID string
	blocks  map[string]json.RawMessage
	asked   []int64
}

func (p *jsonProvider) ChainID() string { return p.chainID }

func (p *jsonProvider) LightBlock(_ context.Context, h int64) (*types.LightBlock, error) {
	p.asked = append(p.asked, h)
	raw, ok := p.blocks[fmt.Sprint(h)]
	if !ok {
		return nil, provider.ErrLightBlockNotFound
	}
	lb, err := decodeLightBlock(raw, p.chainID)
	if err != nil {
		return nil, provider.ErrBadLightBlock{Reason: err}
	}
	if lb.Height != h {
		return nil, provider.ErrBadLightBlock{Reason: fmt.Errorf("asked for height %d, got %d", h, lb.Height)}
	}
	return lb, nil
}

func (p *jsonProvider) ReportEvidence(context.Context, types.Evidence) error { return nil }

// errTrustRoot: the first block is not the header the person trusts.
var errTrustRoot = errors.New("the first light block is not the trusted header")

// errWrongID and errRecordMismatch are client.Verifier's refusals of an
// answer about another identifier, or whose record is not the proved one.
var (
	errWrongID        = errors.New("the answer is about another identifier")
	errRecordMismatch = errors.New("the record in the answer differs from the proved value")
	errAppHash        = errors.New("the answer's app hash is not the signed header's")
	errHeight         = errors.New("the proof's header is not the one after its height")
)

// checkAnswer is what client.Verifier does for an answer (NewVerifier's
// root, VerifyLightBlockAtHeight's skipping, verifyProof's checks), on
// blocks given instead of fetched.
func checkAnswer(in answerInput) error {
	now, period, drift, err := in.clock()
	if err != nil {
		return fmt.Errorf("%w: %v", errMalformed, err)
	}
	if len(in.Blocks) == 0 {
		return fmt.Errorf("%w: no light blocks", errMalformed)
	}
	root, err := decodeLightBlock(in.Blocks[0], in.ChainID)
	if err != nil {
		return err
	}
	// light.Client's checks of its trust options: the height and hash
	// given, a header within the trusting period, signed by its own set.
	if root.Height != in.Trust.Height || !strings.EqualFold(root.Hash().String(), in.Trust.Hash) {
		return fmt.Errorf("%w: height %d hash %X, trusted %d %s", errTrustRoot, root.Height, root.Hash(), in.Trust.Height, in.Trust.Hash)
	}
	if light.HeaderExpired(root.SignedHeader, period, now) {
		return light.ErrOldHeaderExpired{At: root.Time.Add(period), Now: now}
	}
	if err := root.ValidatorSet.VerifyCommitLight(in.ChainID, root.Commit.BlockID, root.Height, root.Commit); err != nil {
		return light.ErrInvalidHeader{Reason: err}
	}
	last := root
	for _, raw := range in.Blocks[1:] {
		lb, err := decodeLightBlock(raw, in.ChainID)
		if err != nil {
			return err
		}
		if err := light.Verify(last.SignedHeader, last.ValidatorSet, lb.SignedHeader, lb.ValidatorSet,
			period, now, drift, trustLevel); err != nil {
			return err
		}
		last = lb
	}
	var ans struct {
		Record json.RawMessage `json:"record"`
		Proof  *wire.Proof     `json:"proof"`
	}
	if err := json.Unmarshal(in.Answer, &ans); err != nil {
		return fmt.Errorf("%w: answer: %v", errMalformed, err)
	}
	if ans.Proof == nil {
		return fmt.Errorf("%w: the answer holds no proof", errMalformed)
	}
	p := ans.Proof
	if p.HeaderHeight != p.Height+1 || last.Height != p.HeaderHeight {
		return fmt.Errorf("%w: proof of height %d names header %d; the blocks reach %d", errHeight, p.Height, p.HeaderHeight, last.Height)
	}
	if claimed, err := hex.DecodeString(p.AppHash); err != nil || !bytes.Equal(claimed, last.AppHash) {
		return fmt.Errorf("%w: %s, header %d says %s", errAppHash, p.AppHash, last.Height, last.AppHash)
	}
	id, ok := strings.CutPrefix(string(p.Key), string(registry.RecordPrefix()))
	if !ok || id != in.ID {
		return fmt.Errorf("%w: key %q, asked %s", errWrongID, p.Key, in.ID)
	}
	var rec *registry.Record
	if len(ans.Record) > 0 && string(ans.Record) != "null" {
		rec = new(registry.Record)
		if err := json.Unmarshal(ans.Record, rec); err != nil {
			return fmt.Errorf("%w: record: %v", errMalformed, err)
		}
		if rec.ID != id {
			return fmt.Errorf("%w: shows %s, proves %s", errWrongID, rec.ID, id)
		}
	}
	proof, err := verify.Decode(p.Type, p.Proof)
	if err != nil {
		return err
	}
	if rec == nil {
		return verify.Absence(last.AppHash, p.Key, proof)
	}
	if err := verify.Existence(last.AppHash, p.Key, p.Value, proof); err != nil {
		return err
	}
	var proved registry.Record
	if err := json.Unmarshal(p.Value, &proved); err != nil {
		return fmt.Errorf("%w: proved value: %v", errRecordMismatch, err)
	}
	a, _ := json.Marshal(proved)
	b, _ := json.Marshal(*rec)
	if !bytes.Equal(a, b) {
		return errRecordMismatch
	}
	return nil
}

// classify names the class of one of Go's errors: by type where the code
// gives one, else by the words of CometBFT's fmt.Errorf messages (which
// name no type); an error of no known class is "unknown", which the
// tests refuse.
func classify(err error) string {
	var (
		root     *verify.RootMismatchError
		key      *verify.KeyMismatchError
		value    *verify.ValueMismatchError
		expired  light.ErrOldHeaderExpired
		cantTrus light.ErrNewValSetCantBeTrusted
		power    types.ErrNotEnoughVotingPowerSigned
	)
	switch {
	case errors.As(err, &root):
		return "root_mismatch"
	case errors.As(err, &key):
		return "key_mismatch"
	case errors.As(err, &value):
		return "value_mismatch"
	case errors.Is(err, verify.ErrMalformed), errors.Is(err, errMalformed):
		return "malformed"
	case errors.Is(err, verify.ErrWrongType):
		return "wrong_type"
	case errors.Is(err, verify.ErrWrongKind):
		return "wrong_kind"
	case errors.Is(err, verify.ErrInvalid):
		return "not_iavl"
	case errors.Is(err, errWrongID):
		return "wrong_id"
	case errors.Is(err, errRecordMismatch):
		return "record_mismatch"
	case errors.Is(err, errAppHash):
		return "app_hash"
	case errors.Is(err, errHeight):
		return "height"
	case errors.Is(err, errTrustRoot):
		return "trust_root"
	case errors.As(err, &expired):
		return "expired"
	case errors.As(err, &cantTrus):
		return "trust_level"
	case errors.As(err, &power):
		return "not_enough_power"
	}
	msg := err.Error()
	for _, m := range []struct{ words, class string }{
		{"missing signed header", "malformed"},
		{"missing validator set", "malformed"},
		{"missing header", "malformed"},
		{"missing commit", "malformed"},
		{"header belongs to another chain", "chain_id"},
		{"header and commit height mismatch", "height"},
		{"to be greater than one of old header", "height"},
		{"commit signs block", "header_hash"},
		{"invalid signed header: invalid header", "header_invalid"},
		{"invalid signed header: invalid commit", "commit_invalid"},
		{"invalid validator set", "validators"},
		{"expected validator hash of header to match validator set hash", "validators"},
		{"expected new header validators", "validators"},
		{"expected old header next validators", "next_validators"},
		{"expected new header time", "header_time"},
		{"has a time from the future", "header_time"},
		{"wrong signature", "signature"},
		// light.ErrInvalidHeader does not unwrap to ErrNotEnoughVotingPowerSigned.
		{"insufficient voting power", "not_enough_power"},
		{"invalid commit -- wrong block ID", "commit_invalid"},
		{"invalid commit -- wrong set size", "commit_invalid"},
		{"invalid commit -- wrong height", "commit_invalid"},
		{"double vote", "commit_invalid"},
		// light.Client: a skip it cannot bridge and whose pivot the node
		// does not serve returns ErrNewValSetCantBeTrusted, which
		// verifySkippingAgainstPrimary does not unwrap and takes for
		// success, and its divergence check then refuses the empty trace.
		{"nil or single block primary trace", "trust_level"},
	} {
		if strings.Contains(strings.ToLower(msg), strings.ToLower(m.words)) {
			return m.class
		}
	}
	return "unknown"
}

// readVectors reads every committed vector.
func readVectors(t *testing.T) []vector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(vectorDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no vectors in %s: run go test ./internal/web -run TestVectors -update", vectorDir)
	}
	var vs []vector
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v vector
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if v.Name+".json" != filepath.Base(f) {
			t.Fatalf("%s holds vector %q", f, v.Name)
		}
		vs = append(vs, v)
	}
	return vs
}

// TestVectors checks that Go's code still gives every committed vector
// its recorded verdict, and that the vectors cover every failure class
// and both verdicts of each kind. With -update it first starts a node and
// writes them anew.
func TestVectors(t *testing.T) {
	if *update {
		writeVectors(t, makeVectors(t))
	}
	vs := readVectors(t)
	seen := map[string]bool{}
	for _, v := range vs {
		got := goVerdict(v)
		if got.OK != v.Want.OK || got.Reason != v.Want.Reason || !slices.Equal(got.Pivots, v.Want.Pivots) {
			t.Errorf("%s: Go says ok=%v %s (%s) pivots %v, the vector says ok=%v %s pivots %v", v.Name, got.OK, got.Reason, got.GoError, got.Pivots, v.Want.OK, v.Want.Reason, v.Want.Pivots)
		}
		if got.Reason == "unknown" {
			t.Errorf("%s: Go's error %q has no class", v.Name, got.GoError)
		}
		if v.Want.OK {
			seen[v.Kind+":ok"] = true
		} else {
			seen[v.Kind+":fail"] = true
			seen[v.Want.Reason] = true
		}
	}
	for _, r := range append(slices.Clone(reasons), "proof:ok", "proof:fail", "light:ok", "light:fail", "answer:ok", "answer:fail", "bisect:ok", "bisect:fail") {
		if !seen[r] {
			t.Errorf("no vector for %s", r)
		}
	}
}

func writeVectors(t *testing.T, vs []vector) {
	t.Helper()
	// Every verdict first: a vector of no class leaves the old ones be.
	names := map[string]bool{}
	for i, v := range vs {
		if names[v.Name] {
			t.Fatalf("two vectors named %s", v.Name)
		}
		names[v.Name] = true
		vs[i].Want = goVerdict(v)
		if r := vs[i].Want.Reason; r == "unknown" || r == "go_panic" {
			t.Fatalf("%s: Go's error %q has no class", v.Name, vs[i].Want.GoError)
		}
	}
	if err := os.RemoveAll(vectorDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(vectorDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(vectorDir, v.Name+".json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
