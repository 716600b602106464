package registry

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// splitmix64: a tiny PRNG written out here, so the transaction script (and
// the app hash pinned in testdata) cannot change with the standard library.
type splitmix struct{ s uint64 }

func (r *splitmix) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *splitmix) intn(n int) int { return int(r.next() % uint64(n)) }

// script writes a deterministic, mixed workload: city applications, votes,
// sectors, units, objects, batches, updates, transfers, status changes,
// grants and revocations, governance proposals, and transactions that must
// be rejected (duplicates, wrong versions, strangers, bad values, bad
// signatures, malformed bytes, replays, repeated votes). It reads the state
// of the chain it writes for, as a client would, so that most transactions
// are valid; each signer sends at most one transaction per block, so one
// rejection does not turn the signer's later transactions into nonce gaps.
type script struct {
	h       *harness
	r       *splitmix
	cities  [][]*signer // the admins of each city; the first applies
	apps    []M
	strange *signer
	sent    [][]byte
	used    map[string]bool // signers that already sent in the block being written
	blocks  int             // blocks written so far
	pool    []*signer       // every key that is or may become an authority member
	props   []proposal      // the governance changes the members vote on (see scheduled)
	grants  []scriptGrant   // grants sent, to revoke
	turn    int             // the data kind whose turn it is (see newKind)
	appFrom []int           // the first block in which each city applies
}

// proposal is one governance change of the script.
type proposal struct {
	kind string
	msg  M
}

type scriptGrant struct {
	city             int // index of the owning city, whose admins revoke
	dataset, grantee string
}

func newScript(h *harness) *script {
	s := &script{h: h, r: &splitmix{s: 2025}, strange: h.signer("stranger")}
	s.pool = append(append(s.pool, h.members...), h.signer("authority-4"), h.signer("authority-5"))
	var grown []string
	for _, m := range s.pool[:4] {
		grown = append(grown, m.pub)
	}
	s.props = []proposal{
		// Mid-script the authority grows to four members and its threshold
		// to three: approvals after it count under the new rule. Later
		// votes on the same change (vote) open a new proposal.
		{KindSetAuthority, M{"members": grown, "threshold": 3}},
		{KindSetValidator, M{"pub_key": validatorKey(5), "power": 5}},  // add
		{KindSetValidator, M{"pub_key": validatorKey(1), "power": 20}}, // change
		{KindSetValidator, M{"pub_key": validatorKey(2), "power": 0}},  // remove
		{KindSetValidator, M{"pub_key": validatorKey(9), "power": 0}},  // never a validator: not_found
	}
	apps := []M{
		{"country": "156", "city_number": "130100", "name": "石家庄市", "locode": "CNSJW"},
		{"country": "156", "city_number": "110100", "name": "北京市", "locode": "CNBJS"},
		{"country": "156", "city_number": "310100", "name": "上海市"},
		{"country": "250", "city_number": "allocate", "name": "Paris", "locode": "FRPAR"},
		{"country": "156", "city_number": "440100", "name": "广州市", "locode": "CNCAN"},
		{"country": "156", "city_number": "440300", "name": "深圳市", "locode": "CNSZX"},
		{"country": "156", "city_number": "130100", "name": "石家庄", "locode": "CNSJW"}, // a duplicate
		// Late applicants, decided under the authority of the second half.
		{"country": "156", "city_number": "320100", "name": "南京市", "locode": "CNNKG"},
		{"country": "156", "city_number": "330100", "name": "杭州市", "locode": "CNHGH"},
	}
	s.appFrom = []int{0, 0, 0, 0, 0, 0, 0, lateBlock, lateBlock}
	for i, app := range apps {
		var admins []*signer
		var keys []string
		for j := 0; j < 3; j++ {
			a := h.signer(fmt.Sprintf("script-city-%d-%d", i, j))
			admins = append(admins, a)
			keys = append(keys, a.pub)
		}
		app["admins"] = keys
		s.cities = append(s.cities, admins)
		s.apps = append(s.apps, app)
	}
	return s
}

func (s *script) tx(t testing.TB, who *signer, kind string, msg any) []byte {
	s.used[who.pub] = true
	tx := who.tx(t, kind, msg)
	s.sent = append(s.sent, tx)
	return tx
}

// free picks a signer of cands that has not sent in this block, or nil.
func (s *script) free(cands []*signer) *signer {
	start := s.r.intn(len(cands))
	for i := range cands {
		if c := cands[(start+i)%len(cands)]; !s.used[c.pub] {
			return c
		}
	}
	return nil
}

func (s *script) exists(id string) bool {
	_, ok, _ := GetRecord(s.h.kv, id)
	return ok
}

// existing returns the ids of f(i) for i in [0, n) that are registered.
func (s *script) existing(n int, f func(i int) string) []string {
	var ids []string
	for i := 0; i < n; i++ {
		if id := f(i); s.exists(id) {
			ids = append(ids, id)
		}
	}
	return ids
}

func (s *script) pick(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ids[s.r.intn(len(ids))]
}

// cityOf returns the city code issued to the i-th city, or "".
func (s *script) cityOf(t testing.TB, i int) string {
	seq, _ := getSeq(s.h.kv, []byte(keyAppSeq))
	for id := uint64(1); id <= seq; id++ {
		a := s.h.application(t, id)
		if a.Applicant == s.cities[i][0].pub && a.Status == AppApproved {
			return a.CityCode
		}
	}
	return ""
}

// The blocks (counted from 0) of the script's fixed events: the authority
// change, proposed in authorityBlock-1 and applied in authorityBlock, and
// the first block in which the late cities apply.
const authorityBlock, lateBlock = scriptBlocks / 4, scriptBlocks / 2

// scheduled returns the transactions the script sends at fixed blocks,
// ahead of its random ones: the governance changes, voted on by the
// genesis authority (2 of 3) and, from authorityBlock on, by the new one
// (3 of 4), with a repeated vote, votes of non-members and removals of keys
// that are not validators among them; and the late cities' applications.
// A member votes on one change per block at most, so the members still
// have turns for the applications.
func (s *script) scheduled(t testing.TB) [][]byte {
	auth, add, change, remove, removeNone := s.props[0], s.props[1], s.props[2], s.props[3], s.props[4]
	m, m4, m5 := s.h.members, s.pool[3], s.pool[4]
	vote := func(who *signer, p proposal) []byte { return s.tx(t, who, p.kind, p.msg) }
	switch s.blocks {
	case 1:
		return [][]byte{
			vote(m[0], add), // pending
			// A transfer of what is not registered: not_found.
			s.tx(t, s.strange, KindTransfer, M{"id": "1561301001.85.1/none", "admins": []string{s.strange.pub}}),
		}
	case 2:
		return [][]byte{
			vote(m[1], add), // applied: a validator update
			// A hand-picked Chinese number outside GB/T 2260: invalid.
			s.tx(t, s.strange, KindApplyCity, M{"country": "156", "city_number": "999999", "name": "Nowhere"}),
		}
	case 3:
		return [][]byte{vote(m[2], change), vote(s.strange, remove)} // pending, unauthorized
	case authorityBlock - 1:
		return [][]byte{vote(m[0], auth), vote(m4, change)} // pending, unauthorized (not yet a member)
	case authorityBlock:
		members := append([]string(nil), auth.msg["members"].([]string)...)
		for i, j := 0, len(members)-1; i < j; i, j = i+1, j-1 {
			members[i], members[j] = members[j], members[i] // the same proposal, whatever the order
		}
		return [][]byte{
			vote(m[0], auth), // already_voted
			vote(m4, auth),   // not yet a member: unauthorized
			s.tx(t, m[1], auth.kind, M{"members": members, "threshold": 3}), // applied
		}
	case authorityBlock + 1:
		return [][]byte{vote(m[0], change)} // 2 approvals, now under 3 of 4: pending
	case authorityBlock + 2:
		return [][]byte{vote(m4, change), vote(m5, change)} // applied, unauthorized
	case authorityBlock + 3:
		return [][]byte{vote(m[1], remove), vote(m4, removeNone)} // pending, not_found
	case authorityBlock + 4:
		return [][]byte{vote(m[2], remove)} // pending
	case lateBlock:
		return [][]byte{
			vote(m4, remove), // applied: validator-2 removed
			s.tx(t, s.cities[7][0], KindApplyCity, s.apps[7]), s.tx(t, s.cities[8][0], KindApplyCity, s.apps[8]),
		}
	case lateBlock + 1:
		return [][]byte{vote(m[0], remove)} // a new proposal to remove what is no validator: not_found
	case lateBlock + 2, lateBlock + 3:
		// The authority suspends the first city, then restores it
		// with new admin keys: set_city, three approvals of 3 of 4.
		ci, city := 0, ""
		for ; ci < len(s.cities) && city == ""; ci++ {
			city = s.cityOf(t, ci)
		}
		if city == "" {
			return nil
		}
		msg := M{"city": city, "status": StatusDeactivated, "reason": "suspended"}
		if s.blocks == lateBlock+3 {
			msg = M{"city": city, "status": StatusActive, "admins": []string{s.cities[ci-1][0].pub, s.cities[ci-1][1].pub}}
		}
		var txs [][]byte
		for _, member := range s.members(t)[:3] {
			txs = append(txs, s.tx(t, member, KindSetCity, msg))
		}
		return txs
	}
	return nil
}

// members returns the keys of the pool that are members of the authority
// now.
func (s *script) members(t testing.TB) []*signer {
	auth, err := GetAuthority(s.h.kv)
	if err != nil {
		t.Fatal(err)
	}
	var out []*signer
	for _, m := range s.pool {
		if contains(auth.Members, m.pub) {
			out = append(out, m)
		}
	}
	return out
}

func (s *script) block(t testing.TB, size int) [][]byte {
	s.used = map[string]bool{}
	txs := s.scheduled(t)
	for len(txs) < size {
		if tx := s.one(t); tx != nil {
			txs = append(txs, tx)
		}
	}
	s.blocks++
	return txs
}

// tree returns the registered sectors, units and objects of a city among
// those the script writes.
func (s *script) tree(city string) (sectors, units, objects []string) {
	sectorCodes := []string{"85", "86", "36", "37"}
	sectors = s.existing(len(sectorCodes), func(i int) string { return city + "." + sectorCodes[i] })
	for _, sec := range sectors {
		units = append(units, s.existing(4, func(i int) string { return fmt.Sprintf("%s.%d", sec, i+1) })...)
	}
	for _, u := range units {
		objects = append(objects, s.existing(6, func(i int) string { return fmt.Sprintf("%s/obj-%d", u, i) })...)
	}
	return sectors, units, objects
}

// newKind writes one transaction of the kinds added with governance and
// data sharing: register_batch, transfer, grant_access, revoke_access, and
// set_authority (set_validator and the first set_authority are scheduled).
// The data kinds take turns, with reactivation (which needs a deactivated
// record, rare in a short script), so each is written whenever the state
// allows it: a turn that cannot be written (no unit yet, no grant to
// revoke) passes to the next kind.
func (s *script) newKind(t testing.TB, ci int, city string) []byte {
	if s.r.intn(16) == 0 {
		return s.vote(t)
	}
	if city == "" {
		return nil
	}
	for i := 0; i < 6; i++ {
		if tx := s.dataKind(t, ci, city, (s.turn+i)%6); tx != nil {
			s.turn += i + 1
			return tx
		}
	}
	return nil
}

// dataKind writes a transaction of the k-th data kind: 0 register_batch, 1
// transfer, 2 grant_access, 3 revoke_access, 4 reactivate, 5 anchor_log;
// nil if the state does not allow one now.
func (s *script) dataKind(t testing.TB, ci int, city string, k int) []byte {
	r := s.r
	w := s.free(s.cities[ci])
	if w == nil {
		return nil
	}
	_, units, objects := s.tree(city)
	switch k {
	case 0: // a batch: a repeated or existing id or a bad value refuses all of it
		if len(units) == 0 {
			return nil
		}
		var entries []M
		for i := 1 + r.intn(3); i > 0; i-- {
			id := fmt.Sprintf("%s/obj-%d", s.pick(units), 2+r.intn(6))
			if r.intn(3) == 0 {
				id = fmt.Sprintf("%s/batch-%d-%d", s.pick(units), s.blocks, r.intn(1000)) // new
			}
			entries = append(entries, M{"id": id, "values": s.values()})
		}
		return s.tx(t, w, KindRegisterBatch, batchMsg(entries))
	case 1: // new admins for an object or unit, among the city's admins
		targets := objects
		if len(targets) == 0 || r.intn(4) == 0 {
			targets = units
		}
		if len(targets) == 0 {
			return nil
		}
		target := s.pick(targets)
		msg := M{"id": target, "admins": []string{s.cities[ci][r.intn(3)].pub}}
		if r.intn(2) == 0 {
			msg["version"] = s.h.record(t, target).Version + uint64(r.intn(3)/2) // stale a third of the time
		}
		if r.intn(8) == 0 && !s.used[s.strange.pub] {
			return s.tx(t, s.strange, KindTransfer, msg) // unauthorized
		}
		return s.tx(t, w, KindTransfer, msg)
	case 2: // a grant of one of the city's datasets to a node of this city or another
		var datasets, plain []string
		for _, o := range objects {
			if hasData(s.h.record(t, o)) {
				datasets = append(datasets, o)
			} else {
				plain = append(plain, o)
			}
		}
		var grantees []string
		for j := range s.cities {
			if c := s.cityOf(t, j); c != "" {
				sectors, _, _ := s.tree(c)
				grantees = append(append(grantees, c), sectors...)
			}
		}
		if len(datasets) == 0 && len(plain) > 0 { // make one a dataset first
			obj := s.pick(plain)
			return s.tx(t, w, KindUpdate, M{"id": obj, "version": s.h.record(t, obj).Version, "values": []M{{"type": "DATA", "dataset": goodDataset()}}})
		}
		if len(grantees) == 0 || len(datasets) == 0 {
			return nil
		}
		ds, grantee := s.pick(datasets), s.pick(grantees)
		if r.intn(8) == 0 && len(plain) > 0 {
			ds = s.pick(plain) // no DATA value: invalid
		}
		expires := s.h.next().Time.Add(time.Duration(1+r.intn(120)) * time.Minute)
		switch r.intn(8) {
		case 0:
			expires = s.h.next().Time // not after the block time: invalid
		case 1:
			expires = s.h.next().Time.AddDate(20, 0, 0) // longer than a grant may run: invalid
		}
		msg := M{"dataset": ds, "grantee": grantee, "expires": expires.Format(time.RFC3339)}
		if r.intn(3) == 0 {
			msg["scope"] = "read:summary"
		}
		s.grants = append(s.grants, scriptGrant{city: ci, dataset: ds, grantee: grantee})
		return s.tx(t, w, KindGrantAccess, msg)
	case 4: // a reactivation of a deactivated unit or object
		var inactive []string
		for _, id := range append(append([]string(nil), units...), objects...) {
			if s.h.record(t, id).Status == StatusDeactivated {
				inactive = append(inactive, id)
			}
		}
		if len(inactive) == 0 {
			return nil
		}
		return s.tx(t, w, KindReactivate, M{"id": s.pick(inactive), "reason": "back"})
	case 5: // an access log's head anchored: growing, stale (version_mismatch) or by a stranger
		if len(objects) == 0 {
			return nil
		}
		ds := s.pick(objects)
		latest, _, err := LatestAnchor(s.h.kv, ds)
		if err != nil {
			t.Fatal(err)
		}
		entries := latest.Entries + 1 + uint64(r.intn(50))
		if latest.Entries > 0 && r.intn(6) == 0 {
			entries = latest.Entries
		}
		msg := M{"dataset": ds, "entries": entries, "head": fmt.Sprintf("%064x", entries*7919)}
		if r.intn(8) == 0 && !s.used[s.strange.pub] {
			return s.tx(t, s.strange, KindAnchorLog, msg)
		}
		return s.tx(t, w, KindAnchorLog, msg)
	default: // a revocation: of a live grant, again, or of a grant never made
		var live []scriptGrant
		for _, g := range s.grants {
			if gr, ok, _ := GetGrant(s.h.kv, g.dataset, g.grantee); ok && gr.Revoked == nil {
				live = append(live, g)
			}
		}
		if len(live) == 0 || r.intn(6) == 0 {
			live = s.grants // perhaps revoked already, perhaps never granted
		}
		if len(live) == 0 {
			return nil
		}
		g := live[r.intn(len(live))]
		a := s.free(s.cities[g.city])
		if a == nil {
			return nil
		}
		grantee := g.grantee
		if r.intn(6) == 0 {
			grantee = s.cityOf(t, g.city) + ".99" // never granted: not_found
		}
		return s.tx(t, a, KindRevokeAccess, M{"dataset": g.dataset, "grantee": grantee})
	}
}

// vote approves the authority change again, after it applied: a new
// proposal, mostly by a current member of the authority, sometimes by
// anyone (unauthorized), and by members who approved it already.
func (s *script) vote(t testing.TB) []byte {
	r := s.r
	if s.blocks <= authorityBlock {
		return nil
	}
	p := s.props[0]
	voters := s.members(t)
	if r.intn(5) == 0 {
		voters = append(s.pool, s.strange) // perhaps not a member: unauthorized
	}
	v := s.free(voters)
	if v == nil {
		return nil
	}
	return s.tx(t, v, p.kind, p.msg)
}

func hasData(rec Record) bool {
	for _, v := range rec.Values {
		if v.Type == TypeData {
			return true
		}
	}
	return false
}

func (s *script) values() []M {
	r := s.r
	palette := []M{
		{"type": "URL", "data": "https://example.org/" + fmt.Sprint(r.intn(100))},
		{"type": "TEXT", "data": "水务 " + fmt.Sprint(r.intn(1000))},
		{"type": "GEO", "data": fmt.Sprintf("%d.%d,%d.5", r.intn(90), r.intn(1000), r.intn(180))},
		{"type": "EMAIL", "data": "ops@example.org"},
		{"type": "DATA", "dataset": goodDataset()},
		{"type": "ALIAS", "data": "1561301001.85"},
	}
	var vs []M
	for i := r.intn(3); i > 0; i-- {
		vs = append(vs, palette[r.intn(len(palette))])
	}
	if r.intn(25) == 0 {
		vs = append(vs, M{"type": "GEO", "data": "90.5,0"}) // rejected
	}
	return vs
}

func (s *script) one(t testing.TB) []byte {
	r := s.r
	ci := r.intn(len(s.cities))
	city := s.cityOf(t, ci)
	if r.intn(3) == 0 {
		return s.newKind(t, ci, city)
	}
	k := r.intn(100)
	switch {
	case k < 5: // apply, or apply again: a duplicate unless the last was rejected
		if a := s.cities[ci][0]; !s.used[a.pub] && s.blocks >= s.appFrom[ci] && (city == "" || r.intn(4) == 0) {
			return s.tx(t, a, KindApplyCity, s.apps[ci])
		}
		return nil
	case k < 17: // vote, mostly on pending applications
		seq, _ := getSeq(s.h.kv, []byte(keyAppSeq))
		var pending []string
		for id := uint64(1); id <= seq; id++ {
			if s.h.application(t, id).Status == AppPending || r.intn(8) == 0 {
				pending = append(pending, fmt.Sprint(id))
			}
		}
		m := s.free(s.members(t))
		if len(pending) == 0 || m == nil {
			return nil
		}
		var app uint64
		fmt.Sscan(s.pick(pending), &app)
		kind := KindApproveApplication
		switch r.intn(10) {
		case 0:
			kind = KindRejectApplication
		case 1, 2, 3: // a withdrawal: of a vote given, or of none (not_found)
			kind = KindWithdrawVote
		}
		if kind == KindWithdrawVote { // mostly by a member who voted
			a := s.h.application(t, app)
			for _, v := range append(append([]Vote(nil), a.Approvals...), a.Rejections...) {
				for _, p := range s.pool {
					if p.pub == v.Member && !s.used[p.pub] && r.intn(4) != 0 {
						m = p
					}
				}
			}
		}
		hash := s.h.appHash(t, app)
		if r.intn(20) == 0 {
			hash = strings.Repeat("ab", 32) // signed for another application: hash_mismatch
		}
		return s.tx(t, m, kind, M{"application": app, "hash": hash})
	case k < 92 && k >= 60 && r.intn(12) == 0: // a stranger writes: unauthorized
		if city == "" || s.used[s.strange.pub] {
			return nil
		}
		return s.tx(t, s.strange, KindRegisterSector, M{"id": city + ".84"})
	case k < 92:
		if city == "" {
			return nil
		}
		w := s.free(s.cities[ci])
		if w == nil {
			return nil
		}
		sectorCodes := []string{"85", "86", "36", "37"}
		sectors, units, objects := s.tree(city)
		switch {
		case k < 25 || len(sectors) == 0:
			return s.tx(t, w, KindRegisterSector, M{"id": city + "." + sectorCodes[r.intn(len(sectorCodes))]})
		case k < 35 || len(units) == 0:
			return s.tx(t, w, KindRegisterUnit, M{"parent": s.pick(sectors), "name": "unit " + fmt.Sprint(r.intn(50))})
		case k < 52 || len(objects) == 0:
			return s.tx(t, w, KindRegister, M{"id": fmt.Sprintf("%s/obj-%d", s.pick(units), r.intn(6)), "values": s.values()})
		case k < 58:
			return s.tx(t, w, KindRegister, M{"id": s.pick(units), "allocate": true, "values": s.values()})
		case k < 72:
			obj := s.pick(objects)
			version := s.h.record(t, obj).Version
			if r.intn(3) == 0 { // a stale or confused writer: version_mismatch
				if version > 1 && r.intn(2) == 0 {
					version--
				} else {
					version++
				}
			}
			return s.tx(t, w, KindUpdate, M{"id": obj, "version": version, "values": s.values()})
		default:
			target := s.pick(objects)
			if r.intn(4) == 0 {
				target = s.pick(units)
			}
			kind := KindDeactivate
			if s.h.record(t, target).Status == StatusDeactivated {
				kind = KindReactivate
			}
			if r.intn(10) == 0 { // already active / already inactive
				kind = map[bool]string{true: KindDeactivate, false: KindReactivate}[kind == KindReactivate]
			}
			return s.tx(t, w, kind, M{"id": target, "reason": "script " + fmt.Sprint(r.intn(9))})
		}
	case k < 95: // a forged signature
		if city == "" {
			return nil
		}
		tx := s.cities[ci][0].tx(t, KindRegisterSector, M{"id": city + ".38"})
		return tamper(t, tx, func(e *Envelope) { e.Signature[r.intn(64)] ^= 1 << r.intn(8) })
	case k < 97 && r.intn(2) == 0: // not a transaction
		return []byte(fmt.Sprintf(`{"body":"%d"`, r.intn(10)))
	default: // a replay
		if len(s.sent) == 0 {
			return nil
		}
		return s.sent[r.intn(len(s.sent))]
	}
}

const scriptBlocks, scriptBlockSize = 32, 10 // 320 transactions

func resultsEqual(a, b []Result) (int, bool) {
	if len(a) != len(b) {
		return -1, false
	}
	for i := range a {
		if (a[i].Err == nil) != (b[i].Err == nil) || !bytes.Equal(a[i].Data, b[i].Data) {
			return i, false
		}
		if a[i].Err != nil && *a[i].Err != *b[i].Err {
			return i, false
		}
	}
	return 0, true
}

// TestDeterminism applies the same 200 transactions to fresh chains by
// the three ways a block reaches the state machine: ApplyBlock preparing
// each transaction itself; ApplyBlock given what an earlier Prepare made
// of them (CheckTx's cache); and BlockApply fed from Decode and Checked
// (the chain's path, whose workers are tested in internal/chain). It
// requires the same results and the same IAVL root after every block. The
// final root is pinned in testdata: a change to it is a change of
// consensus.
func TestDeterminism(t *testing.T) {
	a := newHarness(t, 3, 2)
	b := newHarness(t, 3, 2)
	c := newHarness(t, 3, 2)
	b.applyWith = func(kv KV, blk Block, txs [][]byte) ([]Result, error) {
		return b.m.ApplyBlock(kv, blk, txs, func(tx []byte) *Tx {
			p, _ := b.m.Prepare(tx)
			return p
		})
	}
	c.applyWith = func(kv KV, blk Block, txs [][]byte) ([]Result, error) {
		return applyDecoded(c.m, kv, blk, txs)
	}
	if !bytes.Equal(a.kv.Digest(), b.kv.Digest()) {
		t.Fatal("genesis app hashes differ")
	}
	s := newScript(a)
	accepted := map[string]int{}
	codes := map[string]int{}
	rejectedKinds := map[string]int{} // rejections of transactions that passed Prepare, by kind
	thresholds := map[int]int{}       // the thresholds applied approvals were counted under
	validatorUpdates := 0
	for blk := 0; blk < scriptBlocks; blk++ {
		txs := s.block(t, scriptBlockSize)
		ra := a.applyBlock(t, txs...)
		rb := b.applyBlock(t, txs...)
		rc := c.applyBlock(t, txs...)
		if i, ok := resultsEqual(ra, rb); !ok {
			t.Fatalf("block %d tx %d: results differ between ApplyBlock and ApplyBlock after Prepare: %+v vs %+v", blk+1, i, ra[i], rb[i])
		}
		if i, ok := resultsEqual(ra, rc); !ok {
			t.Fatalf("block %d tx %d: results differ between ApplyBlock and BlockApply after Decode: %+v vs %+v", blk+1, i, ra[i], rc[i])
		}
		ha, hb, hc := a.kv.Digest(), b.kv.Digest(), c.kv.Digest()
		if !bytes.Equal(ha, hb) || !bytes.Equal(ha, hc) {
			t.Fatalf("block %d: app hashes differ: %X, %X, %X", blk+1, ha, hb, hc)
		}
		for i, r := range ra {
			if r.Err != nil {
				codes[r.Err.Code]++
				if p, err := a.m.Prepare(txs[i]); err == nil {
					rejectedKinds[p.Kind]++
				}
				continue
			}
			p, err := a.m.Prepare(txs[i])
			if err != nil {
				t.Fatalf("accepted transaction fails Prepare: %v", err)
			}
			accepted[p.Kind]++
			if p.Kind == KindApproveApplication {
				var o Outcome
				if err := json.Unmarshal(r.Data, &o); err != nil {
					t.Fatal(err)
				}
				thresholds[o.Threshold]++
			}
			validatorUpdates += len(r.Validators)
		}
	}
	// The app hash the golden file pins is the script's: taken before the
	// kinds added since (set_upgrade) apply, so that they leave what
	// earlier kinds write unchanged.
	golden := a.kv.Digest()
	// The authority schedules an upgrade, then cancels it, three approvals
	// of 3 of 4 each, on the three harnesses alike.
	later := map[string]int{}
	for _, msg := range []M{{"name": "v4-script", "height": 1_000_000}, {"name": "v4-script", "height": 0}} {
		var txs [][]byte
		for _, member := range s.members(t)[:3] {
			txs = append(txs, s.tx(t, member, KindSetUpgrade, msg))
		}
		ra, rb, rc := a.applyBlock(t, txs...), b.applyBlock(t, txs...), c.applyBlock(t, txs...)
		if i, ok := resultsEqual(ra, rb); !ok {
			t.Fatalf("set_upgrade tx %d: results differ: %+v vs %+v", i, ra[i], rb[i])
		}
		if i, ok := resultsEqual(ra, rc); !ok {
			t.Fatalf("set_upgrade tx %d: results differ: %+v vs %+v", i, ra[i], rc[i])
		}
		if ha, hb, hc := a.kv.Digest(), b.kv.Digest(), c.kv.Digest(); !bytes.Equal(ha, hb) || !bytes.Equal(ha, hc) {
			t.Fatalf("set_upgrade: app hashes differ: %X, %X, %X", ha, hb, hc)
		}
		for _, r := range ra {
			if r.Err == nil {
				later[KindSetUpgrade]++
			}
		}
	}
	total := 0
	for _, k := range Kinds() {
		if accepted[k] == 0 && later[k] == 0 {
			t.Errorf("the script never applied a %s: the test does not cover it", k)
		}
		total += accepted[k]
	}
	rejected := scriptBlocks*scriptBlockSize - total
	t.Logf("accepted %d %v; rejected %d %v", total, accepted, rejected, codes)
	if total < 60 || rejected < 30 {
		t.Errorf("accepted %d, rejected %d: the script should mix both", total, rejected)
	}
	for _, code := range []string{CodeBadSignature, CodeMalformed, CodeNonceReplayed, CodeUnauthorized, CodeExists, CodeVersionMismatch, CodeBadValue,
		CodeInvalid, CodeNotFound, CodeAlreadyVoted} {
		if codes[code] == 0 {
			t.Errorf("the script produced no %s rejection", code)
		}
	}
	t.Logf("rejected after Prepare, by kind: %v", rejectedKinds)
	for _, k := range []string{KindRegisterBatch, KindTransfer, KindGrantAccess, KindRevokeAccess, KindSetAuthority, KindSetValidator} {
		if rejectedKinds[k] == 0 {
			t.Errorf("the script had no %s rejected: the test does not cover its refusals", k)
		}
	}
	// The authority changed mid-script from 2 of 3 to 3 of 4: approvals were
	// counted under both.
	if thresholds[2] == 0 || thresholds[3] == 0 {
		t.Errorf("approvals counted under thresholds %v, want both 2 (genesis) and 3 (after set_authority)", thresholds)
	}
	if validatorUpdates == 0 {
		t.Error("no applied set_validator reported a validator update")
	}
	// The scheduled set_validator changes: validator-5 added with power 5,
	// validator-1 set to 20, validator-2 removed; the set kept in key order.
	want := []Validator{{validatorKey(1), 20}, {validatorKey(3), 10}, {validatorKey(4), 10}, {validatorKey(5), 5}}
	sort.Slice(want, func(i, j int) bool { return want[i].PubKey < want[j].PubKey })
	if vals, err := Validators(a.kv); err != nil || fmt.Sprint(vals) != fmt.Sprint(want) {
		t.Errorf("validators at the end %v (%v), want %v", vals, err, want)
	}
	goldenFile(t, "determinism_apphash.txt", []byte(strings.ToUpper(hex.EncodeToString(golden))+"\n"))
}

// TestApplyBlockMatchesApply requires that ApplyBlock (parallel signature
// checks) give, transaction by transaction, the results and app hash of
// Prepare followed by Apply, one transaction at a time.
func TestApplyBlockMatchesApply(t *testing.T) {
	a := newHarness(t, 3, 2)
	b := newHarness(t, 3, 2)
	s := newScript(a)
	for blk := 0; blk < scriptBlocks; blk++ {
		txs := s.block(t, scriptBlockSize)
		ra := a.applyBlock(t, txs...)

		b.height++
		block := Block{Height: b.height, Time: blockTime(b.height)}
		var rb []Result
		for _, tx := range txs {
			p, perr := b.m.Prepare(tx)
			if perr != nil {
				rb = append(rb, Result{Err: perr})
				continue
			}
			r, err := b.m.Apply(b.kv, block, p)
			if err != nil {
				t.Fatal(err)
			}
			rb = append(rb, r)
		}
		b.commit(t)
		if i, ok := resultsEqual(ra, rb); !ok {
			t.Fatalf("block %d tx %d: ApplyBlock says %+v, Prepare+Apply says %+v", blk+1, i, ra[i], rb[i])
		}
		if !bytes.Equal(a.kv.Digest(), b.kv.Digest()) {
			t.Fatalf("block %d: app hashes differ: %X vs %X", blk+1, a.kv.Digest(), b.kv.Digest())
		}
	}
}

func TestApplyBlockEmpty(t *testing.T) {
	w := newWorld(t)
	before, writes := w.h.kv.Digest(), w.h.kv.writes
	rs := w.h.applyBlock(t)
	if len(rs) != 0 || w.h.kv.writes != writes || !bytes.Equal(before, w.h.kv.Digest()) {
		t.Errorf("empty block: %d results, %d writes, hash changed %v", len(rs), w.h.kv.writes-writes, !bytes.Equal(before, w.h.kv.Digest()))
	}
}

func TestApplyBlockInOrder(t *testing.T) {
	// A block's transactions see each other's writes in block order: the
	// unit registered second is under the sector registered first, the
	// same signer's nonces follow each other, a later duplicate fails, and
	// the refused duplicate still uses its nonce, so the next one applies.
	h, admin := newCity(t)
	n := admin.nextNonce(t)
	rs := h.applyBlock(t,
		admin.txNonce(t, n, KindRegisterSector, M{"id": "1561301001.36"}),
		admin.txNonce(t, n+1, KindRegisterUnit, M{"parent": "1561301001.36", "name": "Water company"}),
		admin.txNonce(t, n+2, KindRegisterSector, M{"id": "1561301001.36"}),
		admin.txNonce(t, n+3, KindRegister, M{"id": "1561301001.36.1/main-1", "values": []M{}}),
	)
	for i, want := range []string{"", "", CodeExists, ""} {
		got := ""
		if rs[i].Err != nil {
			got = rs[i].Err.Code
		}
		if got != want {
			t.Errorf("tx %d: %q (%v), want %q", i, got, rs[i].Err, want)
		}
	}
}

func TestDryRunLeavesStateUntouched(t *testing.T) {
	w := newWorld(t)
	h := w.h
	tx := w.unitAdmin.tx(t, KindRegister, M{"id": w.unit + "/dry", "values": []M{{"type": "TEXT", "data": "x"}}})
	p, perr := h.m.Prepare(tx)
	if perr != nil {
		t.Fatal(perr)
	}
	before, writes, nonce := h.kv.Digest(), h.kv.writes, h.nonce(t, w.unitAdmin.pub)
	if err := h.m.DryRun(h.kv, h.next(), p); err != nil {
		t.Fatalf("DryRun of a valid transaction: %v", err)
	}
	if err := h.m.DryRun(h.kv.st.Latest(), h.next(), p); err != nil {
		t.Fatalf("DryRun on the committed view: %v", err)
	}
	if !bytes.Equal(before, h.kv.Digest()) || h.kv.writes != writes || h.nonce(t, w.unitAdmin.pub) != nonce {
		t.Fatal("DryRun changed state")
	}
	if _, ok, _ := GetRecord(h.kv, w.unit+"/dry"); ok {
		t.Fatal("DryRun wrote the record")
	}
	// The same prepared transaction, already dry-run, applies as if fresh.
	r, err := h.m.Apply(h.kv, h.next(), p)
	if err != nil || r.Err != nil {
		t.Fatalf("Apply after DryRun: %v %v", err, r.Err)
	}
	if got := string(r.Data); got != `{"id":"1561301001.85.1/dry","version":1,"status":"active"}` {
		t.Errorf("outcome %s", got)
	}
	if err := h.m.DryRun(h.kv, h.next(), p); err == nil || err.Code != CodeNonceReplayed {
		t.Errorf("DryRun of an applied transaction: %v, want %s", err, CodeNonceReplayed)
	}
}

// TestVerifiedSkipsSignatureCheck shows what the verified callback of
// ApplyBlock does: a transaction it vouches for is not checked against its
// signature at all. That is why the chain's signature cache is keyed on the
// SHA-256 of the whole transaction (body, pub key and signature): a hit must
// mean "these exact bytes verified in CheckTx". Keyed on the body alone, a
// proposer could take a body signed once by anyone, put another pub key and
// any signature on it, and have it applied as that key's transaction.
func TestVerifiedSkipsSignatureCheck(t *testing.T) {
	w := newWorld(t)
	h := w.h
	good := w.cityAdmin.tx(t, KindRegisterSector, M{"id": "1561301001.86"})
	forged := tamper(t, good, func(e *Envelope) { e.Signature[0] ^= 0xff })
	run := func(verified func([]byte) bool, txs ...[]byte) []Result {
		t.Helper()
		var prepared Prepared
		if verified != nil {
			// What the chain's cache would hold for bytes CheckTx took:
			// the transaction prepared, its signature not checked again.
			prepared = func(tx []byte) *Tx {
				if !verified(tx) {
					return nil
				}
				p, err := h.m.prepare(tx, true)
				if err != nil {
					return nil
				}
				return p
			}
		}
		rs, err := h.m.ApplyBlock(h.kv, h.next(), txs, prepared)
		if err != nil {
			t.Fatal(err)
		}
		h.height++
		h.commit(t)
		return rs
	}
	t.Run("no callback: the signature is checked", func(t *testing.T) {
		if r := run(nil, forged); r[0].Err == nil || r[0].Err.Code != CodeBadSignature {
			t.Errorf("forged signature: %+v", r[0])
		}
	})
	t.Run("callback says no: the signature is checked", func(t *testing.T) {
		if r := run(func([]byte) bool { return false }, forged); r[0].Err == nil || r[0].Err.Code != CodeBadSignature {
			t.Errorf("forged signature: %+v", r[0])
		}
	})
	t.Run("callback vouches for other bytes: the signature is checked", func(t *testing.T) {
		if r := run(func(b []byte) bool { return bytes.Equal(b, good) }, forged); r[0].Err == nil || r[0].Err.Code != CodeBadSignature {
			t.Errorf("forged signature: %+v", r[0])
		}
	})
	t.Run("callback vouches for these bytes: applied unchecked", func(t *testing.T) {
		if r := run(func(b []byte) bool { return bytes.Equal(b, forged) }, forged); r[0].Err != nil {
			t.Errorf("vouched transaction rejected: %v", r[0].Err)
		}
		if _, ok, _ := GetRecord(h.kv, "1561301001.86"); !ok {
			t.Error("vouched transaction did not write its record")
		}
	})
	t.Run("a cache cannot hold what never prepared: shape and signature are checked", func(t *testing.T) {
		// No Prepare succeeds on these bytes, so no cache can vouch for
		// them, and ApplyBlock checks them in full.
		short := tamper(t, w.cityAdmin.tx(t, KindRegisterSector, M{"id": "1561301001.36"}), func(e *Envelope) { e.Signature = e.Signature[:10] })
		junk := tamper(t, short, func(e *Envelope) { e.Signature = make([]byte, 64); e.Body = []byte("{") })
		rs := run(func([]byte) bool { return true }, short, junk)
		if rs[0].Err == nil || rs[0].Err.Code != CodeBadSignature || rs[1].Err == nil || rs[1].Err.Code != CodeBadSignature {
			t.Errorf("results %+v %+v, want bad_signature for both", rs[0].Err, rs[1].Err)
		}
	})
	t.Run("callback is asked once per transaction, with its exact bytes", func(t *testing.T) {
		var mu sync.Mutex
		asked := map[string]int{}
		n := w.cityAdmin.nextNonce(t)
		txs := [][]byte{
			w.cityAdmin.txNonce(t, n, KindRegisterSector, M{"id": "1561301001.37"}),
			w.cityAdmin.txNonce(t, n+1, KindRegisterSector, M{"id": "1561301001.38"}),
			[]byte("not a transaction"),
			w.cityAdmin.txNonce(t, n+2, KindRegisterSector, M{"id": "1561301001.39"}),
		}
		rs := run(func(b []byte) bool {
			mu.Lock()
			defer mu.Unlock()
			asked[string(b)]++
			return false
		}, txs...)
		for i, tx := range txs {
			if asked[string(tx)] != 1 {
				t.Errorf("tx %d asked %d times", i, asked[string(tx)])
			}
		}
		if len(asked) != len(txs) {
			t.Errorf("callback saw %d distinct inputs for %d transactions", len(asked), len(txs))
		}
		if rs[0].Err != nil || rs[1].Err != nil || rs[2].Err == nil || rs[3].Err != nil {
			t.Errorf("results %+v", rs)
		}
	})
}

// failingKV fails reads or writes of keys with a prefix, as a damaged or
// full disk would.
type failingKV struct {
	KV
	failGet, failSet string
}

var errDisk = errors.New("disk on fire")

func (f *failingKV) Get(key []byte) ([]byte, error) {
	if f.failGet != "" && strings.HasPrefix(string(key), f.failGet) {
		return nil, errDisk
	}
	return f.KV.Get(key)
}

func (f *failingKV) Set(key, value []byte) error {
	if f.failSet != "" && strings.HasPrefix(string(key), f.failSet) {
		return errDisk
	}
	return f.KV.Set(key, value)
}

func TestStoreFailureStopsTheBlock(t *testing.T) {
	w := newWorld(t)
	h := w.h
	tx := w.cityAdmin.tx(t, KindRegisterSector, M{"id": "1561301001.86"})
	for _, tc := range []struct {
		name string
		kv   *failingKV
	}{
		{"account read fails", &failingKV{KV: h.kv, failGet: "acct/"}},
		{"record read fails", &failingKV{KV: h.kv, failGet: "id/"}},
		{"write fails", &failingKV{KV: h.kv, failSet: "id/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := h.m.ApplyBlock(tc.kv, h.next(), [][]byte{tx}, nil)
			if err == nil || rs != nil {
				t.Fatalf("ApplyBlock = %v, %v; want no results and an error", rs, err)
			}
			if !errors.Is(err, errDisk) && !strings.Contains(err.Error(), errDisk.Error()) {
				t.Errorf("error %q does not carry the store's error", err)
			}
			if !strings.Contains(err.Error(), "apply tx 0") || !strings.Contains(err.Error(), fmt.Sprint("at height ", h.next().Height)) {
				t.Errorf("error %q does not say which transaction and height", err)
			}
			if tc.kv.failGet != "" {
				p, _ := h.m.Prepare(tx)
				if e := h.m.DryRun(tc.kv, h.next(), p); e == nil || e.Code != CodeInternal {
					t.Errorf("DryRun = %v, want %s", e, CodeInternal)
				}
			}
			// Nothing was flushed: the tree is as it was.
			h.kv.st.Rollback()
		})
	}
	// And the store, healthy again, applies the same transaction.
	h.mustApply(t, tx)
}

func TestKindsAreTheWireNames(t *testing.T) {
	want := "apply_city approve_application reject_application register_sector register_unit register update deactivate reactivate " +
		"register_batch transfer grant_access revoke_access set_authority set_validator withdraw_vote set_city anchor_log set_upgrade"
	if got := strings.Join(Kinds(), " "); got != want {
		t.Errorf("Kinds() = %s, want %s", got, want)
	}
}

func TestPrepareCanonicalizes(t *testing.T) {
	s := newHarness(t, 1, 1).signer("x")
	tx := s.txNonce(t, 1, KindRegister, M{"id": "156110100x.85.1/Pump-A", "values": []M{{"type": "ALIAS", "data": "156110100x"}}})
	p, err := New(testChainID).Prepare(tx)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := p.Message().(*Register)
	if !ok {
		t.Fatalf("message %T", p.Message())
	}
	if m.ID != "156110100X.85.1/pump-a" || m.Values[0].Data != "156110100X" || m.Values[0].Index != 1 || m.Values[0].TTL != DefaultTTL ||
		len(m.Admins) != 1 || m.Admins[0] != s.pub {
		t.Errorf("canonical message %+v", m)
	}
}
