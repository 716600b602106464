package api

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	ics23 "github.com/cosmos/ics23/go"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// RecordAnswer is the answer to GET /v1/ids/{id}.
type RecordAnswer struct {
	// Height is the state version the record was read at.
	Height int64           `json:"height"`
	Record registry.Record `json:"record"`
	Proof  *Proof          `json:"proof,omitempty"`
}

// Proof proves what a key holds (or that it holds nothing) in the state
// whose root is AppHash, which the header of block HeaderHeight signs.
type Proof struct {
	// Type is CometBFT's proof op type: an ICS23 commitment proof over
	// the IAVL tree.
	Type string `json:"type"`
	Key  []byte `json:"key"`
	// Value is the exact bytes stored under Key, which Record decodes; a
	// verifier checks these, not a re-encoding of Record. Absent in a
	// proof of non-existence.
	Value []byte `json:"value,omitempty"`
	// Proof is the ICS23 CommitmentProof, protobuf-encoded.
	Proof        []byte `json:"proof"`
	Height       int64  `json:"height"`
	AppHash      string `json:"app_hash"`
	HeaderHeight int64  `json:"header_height"`
}

// getID serves /v1/ids/{id}, /v1/ids/{id}/history and
// /v1/ids/{id}/children. An identifier holds at most one '/', and the
// registry refuses "history" and "children" as local ids, so the suffix is
// never part of an identifier.
func (s *Server) getID(w http.ResponseWriter, r *http.Request) {
	text := r.PathValue("id")
	sub := ""
	if i := strings.LastIndexByte(text, '/'); i >= 0 {
		switch text[i+1:] {
		case "history", "children", "qr.png", "qr.svg":
			text, sub = text[:i], text[i+1:]
		}
	}
	id, err := code.Parse(text)
	if err != nil {
		writeProblem(w, idProblem(text, err))
		return
	}
	switch sub {
	case "history":
		s.getHistory(w, r, id)
	case "children":
		s.getChildren(w, r, id)
	case "qr.png", "qr.svg":
		s.getQR(w, r, id, strings.TrimPrefix(sub, "qr."))
	default:
		s.getRecord(w, r, id)
	}
}

func (s *Server) getRecord(w http.ResponseWriter, r *http.Request, id code.ID) {
	q := r.URL.Query()
	prove, ok := boolParam(w, q.Get("proof"), "proof")
	if !ok {
		return
	}
	view, ok := s.viewFor(w, r)
	if !ok {
		return
	}
	if prove && q.Get("height") == "" && view.Settled() < view.Version() {
		// The latest blocks changed nothing: the state is the one that
		// settled before them, whose hash the header after it already
		// signs, where the latest's next header waits for the next write.
		if settled, err := s.b.At(view.Settled()); err == nil {
			view = settled
		}
	}
	key := registry.RecordKey(id.String())
	var value []byte
	var proof *Proof
	var err error
	if prove {
		var p []byte
		var cp *ics23.CommitmentProof
		value, cp, err = view.Proof(key)
		if err == nil {
			p, err = cp.Marshal()
		}
		if err != nil {
			writeProblem(w, internalProblem(s.log, r, err))
			return
		}
		proof = &Proof{Type: chain.ProofOpType, Key: key, Value: value, Proof: p, Height: view.Version(),
			AppHash: strings.ToUpper(hex.EncodeToString(view.Hash())), HeaderHeight: view.Version() + 1}
	} else if value, err = view.Get(key); err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	if value == nil {
		p := Problem{Status: http.StatusNotFound, Code: CodeNotFound, Detail: id.String() + " is not registered", Height: view.Version(), Proof: proof}
		if proof != nil {
			proof.Value = nil
		}
		writeProblem(w, p)
		return
	}
	// The stored record is the JSON the answer holds (registry.Record as
	// encoding/json writes it; TestRecordGolden's "stored record is the
	// answer" pins that), so it is sent as it is rather than decoded and
	// encoded again: that was half of a resolve's time. writeJSON still
	// checks it is JSON.
	s.writeJSON(w, http.StatusOK, recordAnswerWire{Height: view.Version(), Record: value, Proof: proof})
}

// recordAnswerWire is RecordAnswer with the record as stored.
type recordAnswerWire struct {
	Height int64           `json:"height"`
	Record json.RawMessage `json:"record"`
	Proof  *Proof          `json:"proof,omitempty"`
}

// viewFor picks the state to answer from: ?height=H when given, else the
// latest. The app hash of height H is signed by the header of block H+1,
// which for a latest height that changed the state is a block away (the
// one CometBFT makes right after it); a verifier waits for it rather than
// be shown an answer older than a write it has just made. A proof of a
// latest height that changed nothing is read where it settled (getRecord).
func (s *Server) viewFor(w http.ResponseWriter, r *http.Request) (*store.View, bool) {
	hs := r.URL.Query().Get("height")
	if hs == "" {
		return s.view(w)
	}
	h, err := strconv.ParseInt(hs, 10, 64)
	if err != nil || h < 1 {
		writeProblem(w, Problem{Status: http.StatusBadRequest, Code: CodeBadRequest, Detail: "height " + quote(hs) + " is not a positive number"})
		return nil, false
	}
	v, err := s.b.At(h)
	var pruned *store.PrunedError
	if errors.As(err, &pruned) {
		writeProblem(w, prunedProblem(hs, pruned.Oldest))
		return nil, false
	}
	if errors.Is(err, store.ErrNoVersion) {
		latest := int64(0)
		if l := s.b.Latest(); l != nil {
			latest = l.Version()
		}
		writeProblem(w, Problem{Status: http.StatusNotFound, Code: CodeNotFound,
			Detail: "height " + hs + " is not in this node's state (latest " + strconv.FormatInt(latest, 10) + "; older heights may be pruned)"})
		return nil, false
	}
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return nil, false
	}
	return v, true
}

func boolParam(w http.ResponseWriter, v, name string) (bool, bool) {
	switch v {
	case "", "false", "0":
		return false, true
	case "true", "1":
		return true, true
	}
	writeProblem(w, Problem{Status: http.StatusBadRequest, Code: CodeBadRequest, Detail: name + " " + quote(v) + " is not true or false"})
	return false, false
}

// HistoryEntry is one version of a record.
type HistoryEntry struct {
	Version uint64          `json:"version"`
	Height  int64           `json:"height"`
	Time    string          `json:"time"`
	Tx      string          `json:"tx"`
	Status  string          `json:"status"`
	Record  registry.Record `json:"record"`
}

// History is a page of an identifier's versions, oldest first.
type History struct {
	ID       string         `json:"id"`
	Height   int64          `json:"height"`
	Versions []HistoryEntry `json:"versions"`
	Next     string         `json:"next,omitempty"`
}

func (s *Server) getHistory(w http.ResponseWriter, r *http.Request, id code.ID) {
	limit, ok := listLimit(w, r)
	if !ok {
		return
	}
	var after uint64
	if a := r.URL.Query().Get("after"); a != "" {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			writeProblem(w, Problem{Status: http.StatusBadRequest, Code: CodeBadRequest, Detail: "after " + quote(a) + " is not a version number"})
			return
		}
		after = n
	}
	view, ok := s.view(w)
	if !ok {
		return
	}
	cur, found, err := registry.GetRecord(view, id.String())
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	if !found {
		writeProblem(w, Problem{Status: http.StatusNotFound, Code: CodeNotFound, Detail: id.String() + " is not registered"})
		return
	}
	out := History{ID: id.String(), Height: view.Version(), Versions: []HistoryEntry{}}
	if after >= cur.Version {
		// Nothing after the current version; this also keeps after+1 below
		// from wrapping to 0 for a cursor of 2^64-1.
		s.writeJSON(w, http.StatusOK, out)
		return
	}
	add := func(rec registry.Record) bool {
		if len(out.Versions) == limit {
			out.Next = strconv.FormatUint(out.Versions[len(out.Versions)-1].Version, 10)
			return false
		}
		out.Versions = append(out.Versions, HistoryEntry{
			Version: rec.Version, Height: rec.Updated.Height, Time: rec.Updated.Time.Format("2006-01-02T15:04:05.999999999Z07:00"),
			Tx: rec.Updated.Tx, Status: rec.Status, Record: rec,
		})
		return true
	}
	// The page starts at version after+1: the versions before it are
	// neither read nor decoded, so a late page costs what the first does.
	var derr error
	err = view.Iterate(registry.HistoryPrefix(id.String()), historyKey(id.String(), after+1), func(_, v []byte) bool {
		var rec registry.Record
		if derr = jsonUnmarshal(v, &rec); derr != nil {
			return false
		}
		return add(rec)
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	if out.Next == "" {
		add(cur)
	}
	s.writeJSON(w, http.StatusOK, out)
}

// historyKey is the state key of version v of id's history entries, in the
// registry's layout (internal/registry/keys.go: hist/<id>#<20-digit
// version>, zero-padded so that the tree's byte order is version order).
// TestHistorySeeks fails if the two part.
func historyKey(id string, v uint64) []byte {
	return fmt.Appendf(registry.HistoryPrefix(id), "%020d", v)
}

// Child is one child of a node.
type Child struct {
	ID     string    `json:"id"`
	Kind   code.Kind `json:"kind"`
	Name   string    `json:"name,omitempty"`
	Status string    `json:"status"`
}

// Children is a page of a node's children: its sectors or units first, then
// the objects registered directly under it, each in identifier order.
type Children struct {
	ID       string  `json:"id"`
	Height   int64   `json:"height"`
	Children []Child `json:"children"`
	Next     string  `json:"next,omitempty"`
}

func (s *Server) getChildren(w http.ResponseWriter, r *http.Request, id code.ID) {
	if !id.IsNode() {
		writeProblem(w, Problem{Status: http.StatusBadRequest, Code: registry.CodeInvalid, Detail: id.String() + " is an object: only cities, sectors and units have children"})
		return
	}
	limit, ok := listLimit(w, r)
	if !ok {
		return
	}
	view, ok := s.view(w)
	if !ok {
		return
	}
	node := id.String()
	if _, found, err := registry.GetRecord(view, node); err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	} else if !found {
		writeProblem(w, Problem{Status: http.StatusNotFound, Code: CodeNotFound, Detail: node + " is not registered"})
		return
	}
	after := r.URL.Query().Get("after")
	out := Children{ID: node, Height: view.Version(), Children: []Child{}}
	full := func() bool {
		if len(out.Children) == limit {
			out.Next = out.Children[len(out.Children)-1].ID
			return true
		}
		return false
	}
	var ierr error
	// Nodes (sectors, units) from the child index, unless the cursor is
	// already among the objects.
	if !strings.Contains(after, "/") {
		var start []byte
		if after != "" {
			start = append(registry.ChildPrefix(node), after+"\x00"...)
		}
		err := view.Iterate(registry.ChildPrefix(node), start, func(k, _ []byte) bool {
			if full() {
				return false
			}
			child := registry.ChildFromKey(k)
			rec, found, err := registry.GetRecord(view, child)
			if err != nil || !found {
				ierr = errors.Join(err, errors.New("child index names "+child+", which has no record"))
				return false
			}
			out.Children = append(out.Children, Child{ID: child, Kind: rec.Kind, Name: rec.Name, Status: rec.Status})
			return true
		})
		if ierr == nil {
			ierr = err
		}
		after = ""
	}
	if ierr == nil && out.Next == "" {
		prefix := registry.RecordKey(node + "/")
		var start []byte
		if after != "" {
			start = append(registry.RecordKey(after), 0)
		}
		err := view.Iterate(prefix, start, func(_, v []byte) bool {
			if full() {
				return false
			}
			var rec registry.Record
			if ierr = jsonUnmarshal(v, &rec); ierr != nil {
				return false
			}
			out.Children = append(out.Children, Child{ID: rec.ID, Kind: rec.Kind, Status: rec.Status})
			return true
		})
		if ierr == nil {
			ierr = err
		}
	}
	if ierr != nil {
		writeProblem(w, internalProblem(s.log, r, ierr))
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}
