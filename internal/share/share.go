package share

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/httpsig"
	"github.com/cityid/cityid/internal/accesslog"
	"github.com/cityid/cityid/internal/datastore"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/wire"
)

// Tag is the RFC 9421 tag parameter of CityID's data requests.
const Tag = wire.SignatureTag

// Bounds of a data request's check.
const (
	// MaxSignatureAge is how old a signature's created time may be; a
	// nonce is remembered this long, so a replay within it is refused and
	// one after it is stale.
	MaxSignatureAge = 5 * time.Minute
	// MaxClockSkew is how far ahead of this node's clock a signature's
	// created time may be.
	MaxClockSkew = 30 * time.Second
	// maxNonces bounds the memory of nonces seen (about 100 bytes each,
	// so 100 MB at most), all keys together.
	maxNonces = 1 << 20
	// nonceKeys bounds the keys whose nonces are remembered at once: a
	// flood of keys beyond it within MaxSignatureAge is refused
	// (rate_limited) rather than allowed to push held keys' nonces out.
	// Half the room is kept for their floors.
	nonceKeys = maxNonces / 2 / nonceFloor
	// nonceFloor is how many of its latest nonces every key keeps
	// whatever other keys sign: a client's burst of parallel requests in
	// one second.
	nonceFloor = 16
	// noncesPerKey bounds one key's nonces in MaxSignatureAge: 55 signed
	// requests a second for 5 minutes, far above a node fetching ranges.
	noncesPerKey = 1 << 14
)

// Action is what a request asks of a dataset.
type Action string

// Actions.
const (
	Download Action = "download"
	Upload   Action = "upload"
	ReadLog  Action = "read_log"
)

// Access is an allowed request: who made it and what it relied on.
type Access struct {
	Key     string // the signer's public key (hex); "" for an anonymous read of a public dataset
	Grantee string // the node whose grant let the request in; "" when none was needed
	Grant   uint64 // that grant's version
	Owner   bool   // the signer is an admin of the dataset or of a node above it
	Height  int64  // the committed height the decision was made at
	Value   registry.Value
	Dataset registry.Dataset
	Record  registry.Record
	// Serves is true when this node keeps the datasets of id's city
	// (Options.Cities, or the city registered this node's URL as its
	// endpoint): the node where its admins upload and whose log counts.
	Serves bool
	// Bound is true when this node holds a ref of id to the DATA value's
	// SHA-256: its bytes, uploaded for id (or mirrored by the operator).
	Bound bool
}

// Keeps reports whether this node serves a's bytes: bound to the DATA
// value's hash, and either of a city it serves or public (a mirror).
func (a Access) Keeps() bool { return a.Bound && (a.Serves || a.Dataset.Public) }

// Refusal is a refused request: a stable code of the wire table (its HTTP
// status comes from there), the httpsig reason when a signature failed,
// and words for the person who asked.
type Refusal struct {
	Code   string
	Reason string
	Msg    string
	// Key and Grantee say who asked, when the signature verified, for
	// the access log.
	Key, Grantee string
	Height       int64
	// Dataset is set when the identifier is a dataset.
	Dataset *registry.Dataset
	// Log is true when the refusal goes in the dataset's access log: this
	// node serves its city or holds its bytes. Requests for other cities'
	// datasets are not logged here (their node logs its own).
	Log bool
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Msg }

func refuse(code, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Options configure a Service.
type Options struct {
	// Store keeps datasets' bytes; Log their access logs.
	Store *datastore.Store
	Log   *accesslog.Log
	// Latest is the last committed state (nil before the first block).
	Latest func() *store.View
	// BlockTime is the header time of the block at height h.
	BlockTime func(ctx context.Context, h int64) (time.Time, error)
	// Scheme is the scheme clients use to reach this node, when a proxy
	// in front terminates TLS ("https"); "" takes it from the request.
	Scheme string
	// Now is this node's clock (time.Now when nil): for signatures'
	// created times and grants' expiry by the calendar, never for state.
	Now func() time.Time
	// Cities are the cities whose datasets this node keeps and takes
	// uploads for, besides those that registered PublicURL as their
	// endpoint; "*" is every city (a local, single-node network).
	Cities []string
	// PublicURL is this node's URL as cities register it (their endpoint).
	PublicURL string
	// Authorities are the host[:port] names this node answers at: a
	// request signed for another (@authority) is refused, so a signature
	// made for one node cannot be replayed at another. Empty: any.
	Authorities []string
	// MaxBytes bounds a dataset's size (DefaultMaxBytes when 0);
	// ReserveBytes is the free space an upload must leave
	// (DefaultReserveBytes when 0).
	MaxBytes, ReserveBytes int64
	// GrantScan bounds the grants of one dataset read to find the
	// signer's (DefaultGrantScan when 0): with more grants than this, a
	// request finds only grantees among the first, in key order, unless
	// it names its grantee (GranteeHeader), which reads that grant alone.
	GrantScan int
	// Nonces bounds the memory of signatures' nonces (zero: the
	// defaults, maxNonces and the bounds beside it).
	Nonces httpsig.NonceLimits
}

// Defaults of Options.
const (
	DefaultMaxBytes     = 64 << 30
	DefaultReserveBytes = 1 << 30
	DefaultGrantScan    = 10000
)

// Service decides and records data requests for one node.
type Service struct {
	opts     Options
	verifier *httpsig.Verifier
	// lastBlock caches the latest block's time: every grant check at a
	// height asks for it.
	lastBlock atomic.Pointer[blockTime]
	// reads are the latest height's ledger reads, decoded once for
	// every request decided at it (reads.go).
	reads atomic.Pointer[reads]
	memo  *memo
}

// Close makes every line of the access logs durable (a refusal's line
// waits up to accesslog.DeferredSyncEvery for its fsync otherwise) and
// closes their files. Call it once nothing serves requests any more.
func (s *Service) Close() error {
	if s.opts.Log == nil {
		return nil
	}
	return s.opts.Log.Close()
}

type blockTime struct {
	height int64
	time   time.Time
}

// blockTimeAt is the header time of block h, cached for the latest h.
func (s *Service) blockTimeAt(ctx context.Context, h int64) (time.Time, error) {
	if b := s.lastBlock.Load(); b != nil && b.height == h {
		return b.time, nil
	}
	t, err := s.opts.BlockTime(ctx, h)
	if err != nil {
		return t, err
	}
	s.lastBlock.Store(&blockTime{h, t})
	return t, nil
}

// New returns the data service of a node that started at started: a
// signature created before it is refused as stale, as the nonces seen
// before a restart are forgotten.
func New(opts Options, started time.Time) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.ReserveBytes == 0 {
		opts.ReserveBytes = DefaultReserveBytes
	}
	if opts.GrantScan <= 0 {
		opts.GrantScan = DefaultGrantScan
	}
	if opts.Nonces == (httpsig.NonceLimits{}) {
		opts.Nonces = httpsig.NonceLimits{Total: maxNonces, Keys: nonceKeys, PerKey: noncesPerKey, Floor: nonceFloor}
	}
	for i, a := range opts.Authorities {
		opts.Authorities[i] = strings.ToLower(a)
	}
	s := &Service{opts: opts, memo: newMemo()}
	s.verifier = &httpsig.Verifier{
		// Nonces are recorded (UseNonce) only for requests that were
		// let in, so that keys with no right cannot fill the cache; and
		// per key, the keys that sign the most giving room first, so
		// that keys with a right flooding the node cannot push out an
		// honest key's recent nonces.
		Nonces:    httpsig.NewNonceCacheWith(opts.Nonces),
		Key:       s.keyOf,
		Required:  httpsig.DefaultComponents(),
		Tag:       Tag,
		MaxAge:    MaxSignatureAge,
		MaxSkew:   MaxClockSkew,
		NotBefore: started.Add(-time.Second),
		Scheme:    opts.Scheme,
		Now:       opts.Now,
	}
	return s
}

// Now is the node's clock as the service reads it: an access log entry's
// time, against which its signature's created time is judged.
func (s *Service) Now() time.Time { return s.opts.Now() }

// TargetURI is a request's target URI as the signature check derives it
// (@target-uri): the access log keeps it beside the request's signature.
func (s *Service) TargetURI(r *http.Request) string {
	scheme := s.opts.Scheme
	if scheme == "" {
		scheme = "http"
		if r.TLS != nil {
			scheme = "https"
		}
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// Authorities are the names requests may be signed for at this node.
func (s *Service) Authorities() []string { return slices.Clone(s.opts.Authorities) }

// Store and Log are the service's bytes and access logs.
func (s *Service) Store() *datastore.Store { return s.opts.Store }
func (s *Service) Log() *accesslog.Log     { return s.opts.Log }

// keyOf parses a keyid, keeping the keys parsed (memo): checking that a
// key is a point of the curve costs several µs, and every request of a
// key would repeat it.
func (s *Service) keyOf(keyID string) (ed25519.PublicKey, error) {
	s.memo.mu.Lock()
	k, ok := s.memo.keys[keyID]
	s.memo.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := registry.ParsePubKey(keyID)
	if err != nil {
		return nil, err
	}
	s.memo.mu.Lock()
	s.memo.room(len(keyID) + len(k) + entryBytes)
	s.memo.keys[keyID] = k
	s.memo.mu.Unlock()
	return k, nil
}

// Decide says whether request r may do action to identifier id, from the
// latest committed state. index picks the DATA value (0: the first). An
// error is the node's own failure, never the request's.
func (s *Service) Decide(ctx context.Context, r *http.Request, id code.ID, action Action, index uint32) (Access, *Refusal, error) {
	view := s.opts.Latest()
	if view == nil {
		return Access{}, refuse(wire.CodeUnavailable, "the node has no committed state yet"), nil
	}
	a := Access{Height: view.Version()}
	c := s.readsAt(view)
	rec, ok, err := c.record(view, id.String())
	if err != nil {
		return a, nil, fmt.Errorf("read %s: %w", id, err)
	}
	if !ok {
		return a, withHeight(refuse(wire.CodeNotFound, "%s is not registered", id), a.Height), nil
	}
	a.Record = rec
	val, found := dataValue(rec, index)
	if !found {
		if index != 0 {
			return a, withHeight(refuse(wire.CodeNotADataset, "%s has no DATA value at index %d", id, index), a.Height), nil
		}
		return a, withHeight(refuse(wire.CodeNotADataset, "%s has no DATA value: it is not a dataset", id), a.Height), nil
	}
	if action == Upload {
		// The node keeps one copy of bytes per identifier (its ref), the
		// record's dataset: its first DATA value (registry.DatasetOf),
		// as grants are given per record. An upload for another index
		// would put its bytes in place of that one's.
		if first, _ := dataValue(rec, 0); val.Index != first.Index {
			return a, withHeight(refuse(wire.CodeBadRequest, "%s's DATA value at index %d is not its dataset: the node keeps the bytes of its first DATA value (index %d) only", id, val.Index, first.Index), a.Height), nil
		}
	}
	a.Value, a.Dataset = val, *val.Dataset
	ds := a.Dataset
	if a.Serves, err = s.serves(view, id); err != nil {
		return a, nil, err
	}
	bound, held, err := s.opts.Store.Bound(id.String())
	if err != nil {
		return a, nil, err
	}
	a.Bound = held && bound == ds.SHA256
	fail := func(f *Refusal) (Access, *Refusal, error) {
		f.Height, f.Dataset, f.Key = a.Height, &ds, a.Key
		f.Log = a.Serves || held
		if f.Grantee == "" {
			f.Grantee = a.Grantee
		}
		return a, f, nil
	}

	signed := r.Header.Get("Signature-Input") != "" || r.Header.Get("Signature") != ""
	if !signed {
		if action == Download && ds.Public {
			if why := inactiveLineage(c, view, id); why != "" {
				return fail(refuse(wire.CodeGrantInactive, "%s", why))
			}
			return a, nil, nil
		}
		return fail(refuse(wire.CodeSignatureRequired, "%s of %s needs a request signed with HTTP Message Signatures (RFC 9421, Ed25519) by a key with the right to it", action, id))
	}
	if n := fieldBytes(r.Header, "Signature") + fieldBytes(r.Header, "Signature-Input"); n > MaxSignatureFields {
		f := refuse(registry.CodeBadSignature, "the Signature and Signature-Input fields are %d bytes, more than the %d a data request may carry", n, MaxSignatureFields)
		f.Reason = httpsig.ErrMalformed
		return fail(f)
	}
	// Check, not Verify: the nonce is spent only once the request is let
	// in (allowed).
	params, err := s.verifier.Check(r, "")
	if err != nil {
		return fail(signatureRefusal(err))
	}
	if host := strings.ToLower(r.Host); len(s.opts.Authorities) > 0 && !slices.Contains(s.opts.Authorities, host) {
		f := refuse(registry.CodeBadSignature, "the request was signed for %q, which is not this node (%s): a signature is for one node", host, strings.Join(s.opts.Authorities, ", "))
		f.Reason = ReasonOtherNode
		return fail(f)
	}
	a.Key = params.KeyID
	allowed := func() (Access, *Refusal, error) {
		if err := s.verifier.UseNonce(params); err != nil {
			// A replay names no grantee: a request captured once must
			// not make the node anchor the dataset's log at every turn
			// (a grantee's own refused request still does).
			a.Grantee = ""
			return fail(signatureRefusal(err))
		}
		return a, nil, nil
	}

	owner, err := adminOfLineage(c, view, id, a.Key)
	if err != nil {
		return a, nil, err
	}
	a.Owner = owner
	switch action {
	case Upload, ReadLog:
		if !owner {
			return fail(refuse(registry.CodeUnauthorized, "key %s is not an admin of %s or of any node above it: only the dataset's admins may %s", clip(a.Key), id, action))
		}
		if action == Upload {
			if why := inactiveLineage(c, view, id); why != "" {
				return fail(refuse(wire.CodeGrantInactive, "%s: no bytes are taken for it", why))
			}
		}
		return allowed()
	}
	if ds.Public || owner {
		if why := inactiveLineage(c, view, id); why != "" {
			return fail(refuse(wire.CodeGrantInactive, "%s", why))
		}
		if !owner {
			// A public read needs no key, so a key with no right to the
			// dataset confers nothing: the request is let in as an
			// anonymous one, its key and nonce not kept. Kept, they
			// would let anyone with self-made keys fill the nonce
			// memory's room for keys and lock out the keys that need a
			// signature (admins, grantees), and the log would name a key
			// that proved nothing.
			a.Key = ""
			return a, nil, nil
		}
		return allowed()
	}
	a, f, err := s.byGrant(ctx, c, view, a, id, r.Header.Get(GranteeHeader), fail)
	if f != nil || err != nil {
		return a, f, err
	}
	return allowed()
}

// signatureRefusal is the refusal of a signature httpsig did not take:
// bad_signature with its reason, or rate_limited when the node cannot
// remember one more key's nonces now (a flood of keys), which a client may
// try again.
func signatureRefusal(err error) *Refusal {
	var se *httpsig.Error
	if !errors.As(err, &se) {
		return refuse(registry.CodeBadSignature, "%v", err)
	}
	code := registry.CodeBadSignature
	if se.Code == httpsig.ErrBusy {
		code = wire.CodeRateLimited
	}
	f := refuse(code, "%s", se.Msg)
	f.Reason = se.Code
	return f
}

// MaxSignatureFields bounds the Signature and Signature-Input fields of a
// data request together. A CityID request's are about 300 bytes; the
// access log keeps them whole for every request let in, so that anyone
// can check its signature (client.CheckEntrySignature), and a request
// whose fields the log would not keep is not let in.
const MaxSignatureFields = 8 << 10

func fieldBytes(h http.Header, name string) int {
	n := 0
	for _, v := range h.Values(name) {
		n += len(v) + 2
	}
	return n
}

// ReasonOtherNode is the reason of a signature made for another node
// (its @authority is not this node's).
const ReasonOtherNode = "signature_other_node"

// serves reports whether this node keeps the datasets of id's city.
func (s *Service) serves(view *store.View, id code.ID) (bool, error) {
	city := id.CityCode()
	if slices.Contains(s.opts.Cities, "*") || slices.Contains(s.opts.Cities, city) {
		return true, nil
	}
	if s.opts.PublicURL == "" {
		return false, nil
	}
	rec, ok, err := registry.GetRecord(view, city)
	if err != nil {
		return false, fmt.Errorf("read city %s: %w", city, err)
	}
	return ok && rec.City != nil && strings.TrimRight(rec.City.Endpoint, "/") == strings.TrimRight(s.opts.PublicURL, "/"), nil
}

// CanTake refuses an upload of ds that this node will not hold: too large
// for [data] max_bytes, or more than the free space leaves after the
// reserve. received is what the node holds of it already.
func (s *Service) CanTake(ds registry.Dataset, received int64) *Refusal {
	if ds.Size > s.opts.MaxBytes {
		return refuse(registry.CodeTooLarge, "the dataset is %d bytes, more than the %d this node keeps ([data] max_bytes)", ds.Size, s.opts.MaxBytes)
	}
	if free, ok := s.opts.Store.FreeBytes(); ok && free-(ds.Size-received) < s.opts.ReserveBytes {
		return refuse(wire.CodeUnavailable, "the node has %d bytes free, not enough for the %d bytes left of the dataset and its reserve of %d", free, ds.Size-received, s.opts.ReserveBytes)
	}
	return nil
}

// GranteeHeader names, in a request, the grantee node whose grant it
// relies on, when its key administers more than one (optional).
const GranteeHeader = "CityID-Grantee"

// byGrant finds a live grant for the dataset to a node the signer
// administers.
func (s *Service) byGrant(ctx context.Context, c *reads, view *store.View, a Access, id code.ID, hint string,
	fail func(*Refusal) (Access, *Refusal, error)) (Access, *Refusal, error) {
	blockTime, err := s.blockTimeAt(ctx, a.Height)
	if err != nil {
		return a, nil, fmt.Errorf("read the time of block %d: %w", a.Height, err)
	}
	now := s.opts.Now()
	var grants []grantRead
	if hint != "" {
		grants, err = c.namedGrant(view, id.String(), hint, a.Key)
	} else {
		grants, err = c.signersGrants(view, id.String(), a.Key)
	}
	if err != nil {
		return a, nil, fmt.Errorf("read the grants of %s: %w", id, err)
	}
	var dead *Refusal
	for _, gr := range grants {
		g := gr.g
		live, why, err := c.liveAt(view, gr, blockTime)
		if err != nil {
			return a, nil, fmt.Errorf("read the grants of %s: %w", id, err)
		}
		code := wire.CodeGrantInactive
		switch {
		case g.Revoked != nil:
			code = wire.CodeGrantRevoked
		case !blockTime.Before(g.Expires):
			code = wire.CodeGrantExpired
		case live && !now.Before(g.Expires):
			live, code = false, wire.CodeGrantExpired
			why = fmt.Sprintf("the grant expired at %s by this node's clock (the latest block, at %s, is older)",
				g.Expires.Format(time.RFC3339), blockTime.UTC().Format(time.RFC3339))
		}
		if live {
			a.Grantee, a.Grant = g.Grantee, g.Version
			break
		}
		if dead == nil {
			dead = refuse(code, "%s: %s", g.Grantee, why)
			dead.Grantee = g.Grantee
		}
	}
	if a.Grantee != "" {
		return a, nil, nil
	}
	if dead != nil {
		a.Grantee = dead.Grantee
		return fail(dead)
	}
	if hint != "" {
		return fail(refuse(wire.CodeNoGrant, "%s holds no grant for %s that key %s may use (it is not one of %s's admins, or there is no grant)", hint, id, clip(a.Key), hint))
	}
	return fail(refuse(wire.CodeNoGrant, "key %s is not an admin of %s's owner nor of any node holding a grant for it", clip(a.Key), id))
}

func withHeight(f *Refusal, h int64) *Refusal { f.Height = h; return f }

// dataValue is the record's DATA value at index, or its first (index 0).
func dataValue(rec registry.Record, index uint32) (registry.Value, bool) {
	for _, v := range rec.Values {
		if v.Type == registry.TypeData && v.Dataset != nil && (index == 0 || v.Index == index) {
			return v, true
		}
	}
	return registry.Value{}, false
}

// adminOfLineage reports whether key is an admin of id or of a node above.
func adminOfLineage(c *reads, view *store.View, id code.ID, key string) (bool, error) {
	for cur := id; ; {
		rec, ok, err := c.record(view, cur.String())
		if err != nil {
			return false, fmt.Errorf("read %s: %w", cur, err)
		}
		if ok && slices.Contains(rec.Admins, key) {
			return true, nil
		}
		up, more := cur.Parent()
		if !more {
			return false, nil
		}
		cur = up
	}
}

// inactiveLineage says which of id and the nodes above it is deactivated
// ("" when none is).
func inactiveLineage(c *reads, view *store.View, id code.ID) string {
	for cur := id; ; {
		rec, ok, err := c.record(view, cur.String())
		switch {
		case err != nil:
			return fmt.Sprintf("%s could not be read: %v", cur, err)
		case !ok:
			return fmt.Sprintf("%s, above %s, is not registered", cur, id)
		case rec.Status != registry.StatusActive && cur == id:
			return fmt.Sprintf("the dataset %s is deactivated", id)
		case rec.Status != registry.StatusActive:
			return fmt.Sprintf("the dataset %s is under %s, which is deactivated", id, cur)
		}
		up, more := cur.Parent()
		if !more {
			return ""
		}
		cur = up
	}
}

func clip(key string) string {
	if len(key) > 16 {
		return key[:16] + "…"
	}
	return key
}
