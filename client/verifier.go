package client

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/light/provider"
	lightdb "github.com/cometbft/cometbft/light/store/db"
	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/verify"
)

// DefaultTrustingPeriod is how long a trusted header stays trusted without
// being refreshed: the light client refuses to build on an older one, since
// the validators who signed it may since have left and be free to lie.
const DefaultTrustingPeriod = 14 * 24 * time.Hour

// TrustOptions give the light client its root of trust: a header height
// and hash obtained from a source the user trusts. Given once, they are
// kept in the verifier's store, and later headers are checked forward from
// them.
type TrustOptions struct {
	Height int64
	Hash   []byte
	Period time.Duration // default DefaultTrustingPeriod
}

// Verifier checks answers against block headers signed by the validators,
// through CometBFT's light client.
type Verifier struct {
	c         *Client
	witnesses []*Client
	lc        *light.Client
	chainID   string
}

// Light client timing for a network that makes a block within about a
// second of a write (and none while idle): how far apart two clocks may
// be, and how long a witness may take to commit a block the primary has. CometBFT's defaults (10 s each) suit
// slower chains; a witness still behind after 2×drift+lag is dropped.
const (
	maxClockDrift = 2 * time.Second
	maxBlockLag   = 3 * time.Second
)

// ErrNoTrust is returned when a verifier has no trusted header yet.
var ErrNoTrust = errors.New("no trusted header: give a trusted height and hash once")

// NewVerifier returns a verifier that fetches headers from c and
// cross-checks them with the witnesses (other nodes; with none, c is its
// own witness, which cannot detect a node that shows a forked chain). db
// keeps the trusted headers between runs (use dbm.NewMemDB() for none).
// With trust.Height 0 the headers already in db are the root of trust.
func NewVerifier(ctx context.Context, c *Client, witnesses []*Client, trust TrustOptions, db dbm.DB) (*Verifier, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	primary := &lightProvider{c: c, chainID: st.ChainID}
	var wits []provider.Provider
	for _, w := range witnesses {
		wits = append(wits, &lightProvider{c: w, chainID: st.ChainID})
	}
	if len(wits) == 0 {
		wits = append(wits, &lightProvider{c: c, chainID: st.ChainID})
	}
	if trust.Period == 0 {
		trust.Period = DefaultTrustingPeriod
	}
	store := lightdb.New(db, st.ChainID)
	var lc *light.Client
	if trust.Height == 0 {
		lc, err = light.NewClientFromTrustedStore(st.ChainID, trust.Period, primary, wits, store, timing()...)
		if err != nil {
			return nil, fmt.Errorf("%w (%v)", ErrNoTrust, err)
		}
		if h, err := lc.LastTrustedHeight(); err != nil || h <= 0 {
			return nil, ErrNoTrust
		}
	} else {
		lc, err = light.NewClient(ctx, st.ChainID,
			light.TrustOptions{Period: trust.Period, Height: trust.Height, Hash: trust.Hash},
			primary, wits, store, timing()...)
		if err != nil {
			return nil, fmt.Errorf("trust height %d hash %X: %w", trust.Height, trust.Hash, err)
		}
	}
	return &Verifier{c: c, witnesses: witnesses, lc: lc, chainID: st.ChainID}, nil
}

func timing() []light.Option {
	return []light.Option{light.MaxClockDrift(maxClockDrift), light.MaxBlockLag(maxBlockLag)}
}

// Verified says what an answer was verified against.
type Verified struct {
	// Height is the state version the answer was read at.
	Height int64 `json:"height"`
	// HeaderHeight is the block whose validator-signed header holds
	// AppHash, the root the proof leads to.
	HeaderHeight int64  `json:"header_height"`
	AppHash      string `json:"app_hash"`
	// HeaderTime is that header's block time: an answer is the state as
	// of then, and a saved one may be old.
	HeaderTime time.Time `json:"header_time"`
	Exists     bool      `json:"exists"`
}

// Header returns the header of height h, verified by the light client. A
// header a block or two ahead of the node is waited for, up to ten
// seconds: the app hash of a height is in the next block's header, which
// the node makes right after a block that changed the state (a node
// answers a proof of a quiet chain's latest state at the height whose next
// header exists).
func (v *Verifier) Header(ctx context.Context, h int64) (*types.SignedHeader, error) {
	deadline := time.Now().Add(10 * time.Second)
	// The header of the block after the latest answer is committed by all
	// nodes within moments of each other: wait for them, so the light
	// client does not take a node a few milliseconds behind for one that
	// lags (which costs 2×drift+lag).
	v.waitHeight(ctx, h, deadline)
	for {
		lb, err := v.lc.VerifyLightBlockAtHeight(ctx, h, time.Now())
		if err == nil {
			return lb.SignedHeader, nil
		}
		notYet := errors.Is(err, provider.ErrLightBlockNotFound) || errors.Is(err, provider.ErrHeightTooHigh)
		if !notYet || time.Now().After(deadline) {
			return nil, fmt.Errorf("verify header %d: %w", h, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// ResolveVerified resolves id with a proof and verifies it. For an
// identifier that is not registered, it verifies the proof of absence and
// returns an error whose Code is CodeNotFound with a zero answer.
func (v *Verifier) ResolveVerified(ctx context.Context, id string) (RecordAnswer, Verified, error) {
	parsed, err := code.Parse(id)
	if err != nil {
		return RecordAnswer{}, Verified{}, err
	}
	var ans RecordAnswer
	err = v.c.do(ctx, http.MethodGet, "/v1/ids/"+escapeID(parsed.String())+"?proof=true", nil, &ans)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound && e.Problem.Proof != nil {
		ver, verr := v.verifyProof(ctx, parsed, e.Problem.Proof, nil)
		if verr != nil {
			return RecordAnswer{}, ver, verr
		}
		return RecordAnswer{}, ver, err
	}
	if err != nil {
		return ans, Verified{}, err
	}
	if ans.Proof == nil {
		return ans, Verified{}, errors.New("the node answered without a proof")
	}
	ver, err := v.verifyProof(ctx, parsed, ans.Proof, &ans.Record)
	return ans, ver, err
}

// VerifyAnswer checks an answer obtained elsewhere: the body of
// GET /v1/ids/{id}?proof=true (a record and its proof), or the problem of a
// 404 from the same request (a proof that the identifier is not
// registered), saved by whoever asked, from whichever node. It returns the
// identifier the proof is about and, when the answer shows one, its
// record; a proof of absence verifies with a nil record. With want
// non-empty, an answer about another identifier is refused: a genuine
// answer proves only what it is about, and a caller that asked about one
// identifier must not be handed another's. The answer may be of any past
// height; Verified says which, and when.
func (v *Verifier) VerifyAnswer(ctx context.Context, answer []byte, want string) (string, *Record, Verified, error) {
	var ans struct {
		Record *Record `json:"record"`
		Proof  *Proof  `json:"proof"`
	}
	if err := json.Unmarshal(answer, &ans); err != nil {
		return "", nil, Verified{}, fmt.Errorf("the answer is not JSON of GET /v1/ids/{id}?proof=true: %w", err)
	}
	if ans.Proof == nil {
		return "", nil, Verified{}, errors.New("the answer holds no proof: ask for it with ?proof=true")
	}
	key := string(ans.Proof.Key)
	text, ok := strings.CutPrefix(key, string(registry.RecordPrefix()))
	if !ok {
		return "", nil, Verified{}, fmt.Errorf("the proof is about key %q, not an identifier's record", clipKey(key))
	}
	id, err := code.Parse(text)
	if err != nil || id.String() != text {
		return "", nil, Verified{}, fmt.Errorf("the proof is about key %q, not an identifier's record", clipKey(key))
	}
	if want != "" {
		w, err := code.Parse(want)
		if err != nil {
			return "", nil, Verified{}, err
		}
		if w.String() != id.String() {
			return "", nil, Verified{}, fmt.Errorf("the answer is about %s, not %s", id, w)
		}
	}
	if ans.Record != nil && ans.Record.ID != id.String() {
		return "", nil, Verified{}, fmt.Errorf("the answer shows the record of %s but proves %s", ans.Record.ID, id)
	}
	ver, err := v.verifyProof(ctx, id, ans.Proof, ans.Record)
	return id.String(), ans.Record, ver, err
}

// clipKey keeps an error readable whatever key a forged proof holds.
func clipKey(k string) string {
	if len(k) > 80 {
		return k[:80] + "…"
	}
	return k
}

// verifyProof checks a proof of id's record (rec non-nil) or of its absence.
func (v *Verifier) verifyProof(ctx context.Context, id code.ID, p *Proof, rec *Record) (Verified, error) {
	ver, root, err := v.provenRoot(ctx, p)
	ver.Exists = rec != nil
	if err != nil {
		return ver, err
	}
	key := registry.RecordKey(id.String())
	proof, err := verify.Decode(p.Type, p.Proof)
	if err != nil {
		return ver, err
	}
	if rec == nil {
		if err := verify.Absence(root, key, proof); err != nil {
			return ver, fmt.Errorf("proof that %s is not registered: %w", id, err)
		}
		return ver, nil
	}
	if err := verify.Existence(root, key, p.Value, proof); err != nil {
		return ver, fmt.Errorf("proof of %s: %w", id, err)
	}
	// The record shown must be the one proved, not a re-encoding that
	// differs from it.
	var proved Record
	if err := json.Unmarshal(p.Value, &proved); err != nil {
		return ver, fmt.Errorf("proved value of %s is not a record: %w", id, err)
	}
	a, _ := json.Marshal(proved)
	b, _ := json.Marshal(*rec)
	if string(a) != string(b) {
		return ver, fmt.Errorf("the record in the answer differs from the proved value of %s", id)
	}
	return ver, nil
}

// LatestAnchorVerified reads a dataset's latest anchored access-log head
// (anchor_log) with its proof and verifies it: what a grantee checks an
// owner's log against, from any node. The anchor is nil, and
// Verified.Exists false, when the proof shows the log was never anchored.
// The anchor returned is the proved bytes', whatever else the answer
// shows.
func (v *Verifier) LatestAnchorVerified(ctx context.Context, id string) (*Anchor, Verified, error) {
	parsed, err := code.Parse(id)
	if err != nil {
		return nil, Verified{}, err
	}
	dataset := parsed.String()
	var ans AnchorList
	if err := v.c.do(ctx, http.MethodGet, "/v1/anchors/"+escapeID(dataset)+"?proof=true&limit=1", nil, &ans); err != nil {
		return nil, Verified{}, err
	}
	p := ans.Proof
	if p == nil {
		return nil, Verified{}, errors.New("the node answered without a proof")
	}
	key := registry.AnchorHeadKey(dataset)
	if string(p.Key) != string(key) {
		return nil, Verified{}, fmt.Errorf("the proof is about key %q, not the latest anchor of %s", clipKey(string(p.Key)), dataset)
	}
	ver, root, err := v.provenRoot(ctx, p)
	ver.Exists = p.Value != nil
	if err != nil {
		return nil, ver, err
	}
	proof, err := verify.Decode(p.Type, p.Proof)
	if err != nil {
		return nil, ver, err
	}
	if p.Value == nil {
		if err := verify.Absence(root, key, proof); err != nil {
			return nil, ver, fmt.Errorf("proof that the log of %s was never anchored: %w", dataset, err)
		}
		if ans.Latest != nil {
			return nil, ver, fmt.Errorf("the answer shows an anchor of %s but proves there is none", dataset)
		}
		return nil, ver, nil
	}
	if err := verify.Existence(root, key, p.Value, proof); err != nil {
		return nil, ver, fmt.Errorf("proof of the latest anchor of %s: %w", dataset, err)
	}
	var a Anchor
	if err := json.Unmarshal(p.Value, &a); err != nil {
		return nil, ver, fmt.Errorf("proved value of the latest anchor of %s is not an anchor: %w", dataset, err)
	}
	if a.Dataset != dataset {
		return nil, ver, fmt.Errorf("the proved anchor names %s, not %s", a.Dataset, dataset)
	}
	if ans.Latest == nil || *ans.Latest != a {
		return nil, ver, fmt.Errorf("the latest anchor in the answer differs from the proved value of %s", dataset)
	}
	return &a, ver, nil
}

// provenRoot checks that p's app hash is the one the validators signed
// in the header after p's height, and returns that root.
func (v *Verifier) provenRoot(ctx context.Context, p *Proof) (Verified, []byte, error) {
	ver := Verified{Height: p.Height, HeaderHeight: p.HeaderHeight}
	if p.HeaderHeight != p.Height+1 {
		return ver, nil, fmt.Errorf("proof of height %d names header %d; the app hash of a height is in the next header", p.Height, p.HeaderHeight)
	}
	header, err := v.Header(ctx, p.HeaderHeight)
	if err != nil {
		return ver, nil, err
	}
	ver.AppHash = header.AppHash.String()
	ver.HeaderTime = header.Time
	if claimed, err := hex.DecodeString(p.AppHash); err != nil || !equalBytes(claimed, header.AppHash) {
		return ver, nil, fmt.Errorf("the node claims app hash %s at height %d, but the signed header %d says %s", p.AppHash, p.Height, p.HeaderHeight, header.AppHash)
	}
	return ver, header.AppHash, nil
}

// waitHeight waits, until deadline at most, for the primary and every
// witness to have committed height h.
func (v *Verifier) waitHeight(ctx context.Context, h int64, deadline time.Time) {
	for _, c := range append([]*Client{v.c}, v.witnesses...) {
		for time.Now().Before(deadline) {
			st, err := c.Status(ctx)
			if err != nil || st.Height >= h {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

func equalBytes(a, b []byte) bool { return string(a) == string(b) }

// lightProvider serves the light client from a node's /v1/light/{height}.
type lightProvider struct {
	c       *Client
	chainID string
}

func (p *lightProvider) ChainID() string { return p.chainID }

func (p *lightProvider) String() string { return p.c.base }

func (p *lightProvider) LightBlock(ctx context.Context, height int64) (*types.LightBlock, error) {
	h := "latest"
	if height > 0 {
		h = strconv.FormatInt(height, 10)
	}
	var raw json.RawMessage
	err := p.c.do(ctx, http.MethodGet, "/v1/light/"+h, nil, &raw)
	var e *Error
	switch {
	case errors.As(err, &e) && e.Problem.Code == CodeHeightTooHigh:
		return nil, provider.ErrHeightTooHigh
	case errors.As(err, &e) && e.Status == http.StatusNotFound:
		return nil, provider.ErrLightBlockNotFound
	case err != nil:
		return nil, fmt.Errorf("%w: %v", provider.ErrNoResponse, err)
	}
	lb, err := DecodeLightBlock(raw, p.chainID)
	if err != nil {
		return nil, provider.ErrBadLightBlock{Reason: err}
	}
	if height > 0 && lb.Height != height {
		return nil, provider.ErrBadLightBlock{Reason: fmt.Errorf("asked for height %d, got %d", height, lb.Height)}
	}
	return lb, nil
}

// DecodeLightBlock decodes a light block (a signed header and its
// validator set) as GET /v1/light/{height} sends it, in CometBFT's JSON,
// and checks that it is well formed for chainID. It does not verify it:
// that is the light client's work.
func DecodeLightBlock(raw []byte, chainID string) (out *types.LightBlock, err error) {
	// A node's answer is input. CometBFT's own checks panic on some of
	// it (a validator key of the wrong size reaches ed25519's Address),
	// so the keys are checked first, and a panic left anywhere in
	// CometBFT's decoding becomes an error, never a crash of the caller.
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("malformed light block: %v", p)
		}
	}()
	var lb types.LightBlock
	if err := cmtjson.Unmarshal(raw, &lb); err != nil {
		return nil, err
	}
	if err := checkValidatorKeys(lb.ValidatorSet); err != nil {
		return nil, err
	}
	if err := lb.ValidateBasic(chainID); err != nil {
		return nil, err
	}
	return &lb, nil
}

// checkValidatorKeys refuses a validator set with a missing validator or
// a key that is not a 32-byte Ed25519 key, the only kind a CityID chain's
// validators have.
func checkValidatorKeys(vs *types.ValidatorSet) error {
	if vs == nil {
		return nil // ValidateBasic says it is missing
	}
	check := func(what string, v *types.Validator) error {
		switch {
		case v == nil:
			return fmt.Errorf("light block: %s is missing", what)
		case v.PubKey == nil:
			return fmt.Errorf("light block: %s has no public key", what)
		case v.PubKey.Type() != "ed25519" || len(v.PubKey.Bytes()) != 32:
			return fmt.Errorf("light block: %s has a %s key of %d bytes; a validator's key is ed25519, 32 bytes", what, v.PubKey.Type(), len(v.PubKey.Bytes()))
		}
		return nil
	}
	for i, v := range vs.Validators {
		if err := check(fmt.Sprintf("validator %d", i+1), v); err != nil {
			return err
		}
	}
	if vs.Proposer != nil {
		return check("the proposer", vs.Proposer)
	}
	return nil
}

// ReportEvidence is not offered by the HTTP API: a witness that finds
// conflicting headers makes verification fail, and the evidence goes to
// CometBFT's own RPC (broadcast_evidence) by hand.
func (p *lightProvider) ReportEvidence(context.Context, types.Evidence) error { return nil }
