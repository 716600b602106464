package api

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// heightParam parses a block height path parameter; "latest" is 0.
func heightParam(w http.ResponseWriter, r *http.Request) (int64, bool) {
	hs := r.PathValue("h")
	if hs == "latest" {
		return 0, true
	}
	h, err := strconv.ParseInt(hs, 10, 64)
	if err != nil || h < 1 {
		writeProblem(w, Problem{Status: http.StatusBadRequest, Code: CodeBadRequest, Detail: "height " + quote(hs) + " is not a positive number or \"latest\""})
		return 0, false
	}
	return h, true
}

// chainProblem answers a CometBFT read that failed.
func (s *Server) chainProblem(w http.ResponseWriter, r *http.Request, err error) {
	var pruned *chain.PrunedError
	if errors.As(err, &pruned) {
		writeProblem(w, prunedProblem(strconv.FormatInt(pruned.Height, 10), pruned.Oldest))
		return
	}
	if errors.Is(err, chain.ErrNotFound) {
		writeProblem(w, Problem{Status: http.StatusNotFound, Code: CodeNotFound, Detail: err.Error()})
		return
	}
	writeProblem(w, internalProblem(s.log, r, err))
}

func (s *Server) getBlock(w http.ResponseWriter, r *http.Request) {
	h, ok := heightParam(w, r)
	if !ok {
		return
	}
	b, err := s.b.Block(r.Context(), h)
	if err != nil {
		s.chainProblem(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, b)
}

func (s *Server) getTx(w http.ResponseWriter, r *http.Request) {
	hash := r.PathValue("hash")
	hash = strings.TrimPrefix(strings.TrimPrefix(hash, "0x"), "0X")
	if len(hash) != 64 || strings.Trim(strings.ToLower(hash), "0123456789abcdef") != "" {
		writeProblem(w, Problem{Status: http.StatusBadRequest, Code: CodeBadRequest, Detail: "transaction hash " + quote(r.PathValue("hash")) + " is not 64 hex digits"})
		return
	}
	tx, err := s.b.Tx(r.Context(), hash)
	if err != nil {
		s.chainProblem(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, tx)
}

// getLightBlock serves what a light client needs to verify the header of
// a height: the signed header and the validator set, in CometBFT's JSON.
func (s *Server) getLightBlock(w http.ResponseWriter, r *http.Request) {
	h, ok := heightParam(w, r)
	if !ok {
		return
	}
	st, err := s.b.Status(r.Context())
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	if h == 0 {
		h = st.Height
	}
	if h > st.Height {
		// Not yet: a light client waits for a lagging witness on this
		// answer, where "not found" would make it give the witness up.
		writeProblem(w, Problem{Status: http.StatusNotFound, Code: CodeHeightTooHigh,
			Detail: "height " + strconv.FormatInt(h, 10) + " is above this node's latest, " + strconv.FormatInt(st.Height, 10)})
		return
	}
	b, err := s.b.LightBlock(r.Context(), h)
	if err != nil {
		s.chainProblem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// ApplicationList is a page of applications.
type ApplicationList struct {
	Height       int64             `json:"height"`
	Applications []ApplicationView `json:"applications"`
	Next         string            `json:"next,omitempty"`
}

func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) {
	limit, ok := listLimit(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	status := q.Get("status")
	switch status {
	case "", registry.AppPending, registry.AppApproved, registry.AppRejected, registry.AppExpired:
	default:
		writeProblem(w, Problem{Status: http.StatusBadRequest, Code: CodeBadRequest, Detail: "status " + quote(status) + " is not pending, approved, rejected or expired"})
		return
	}
	var start []byte
	var last bool
	if a := q.Get("after"); a != "" {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			writeProblem(w, Problem{Status: http.StatusBadRequest, Code: CodeBadRequest, Detail: "after " + quote(a) + " is not an application number"})
			return
		}
		// No application comes after the largest number: an empty page,
		// where n+1 would wrap to 0 and start over from the first.
		last = n == math.MaxUint64
		start = registry.ApplicationKey(n + 1)
	}
	view, ok := s.view(w)
	if !ok {
		return
	}
	out := ApplicationList{Height: view.Version(), Applications: []ApplicationView{}}
	counter, err := newVoteCounter(view)
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	if last {
		s.writeJSON(w, http.StatusOK, out)
		return
	}
	var derr error
	err = view.Iterate(registry.ApplicationPrefix(), start, func(_, v []byte) bool {
		var a registry.Application
		if derr = jsonUnmarshal(v, &a); derr != nil {
			return false
		}
		a.Status = shownStatus(a, view.Version())
		if status != "" && a.Status != status {
			return true
		}
		if len(out.Applications) == limit {
			out.Next = strconv.FormatUint(out.Applications[limit-1].ID, 10)
			return false
		}
		out.Applications = append(out.Applications, counter.view(a))
		return true
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// ApplicationView is an application as readers are shown it: as stored,
// its status as of the next block (expired past its last height), and its
// votes counted as a vote in the next block would count them, of current
// members within the vote term.
type ApplicationView struct {
	registry.Application
	Count registry.VoteCount `json:"count"`
}

// voteCounter shows applications against one state's authority.
type voteCounter struct {
	auth   registry.Authority
	params registry.Params
	next   int64
}

func newVoteCounter(view *store.View) (voteCounter, error) {
	auth, err := registry.GetAuthority(view)
	if err != nil {
		return voteCounter{}, err
	}
	params, err := registry.GetParams(view)
	if err != nil {
		return voteCounter{}, err
	}
	return voteCounter{auth: auth, params: params, next: view.Version() + 1}, nil
}

func (c voteCounter) view(a registry.Application) ApplicationView {
	a.Status = shownStatus(a, c.next-1)
	return ApplicationView{Application: a, Count: registry.CountVotes(a, c.auth, c.params, c.next)}
}

// shownStatus is an application's status as readers are told it at state
// version v: a pending application that no vote can reach any more (its
// last height is before the next block) has expired.
func shownStatus(a registry.Application, v int64) string { return a.StatusAt(v + 1) }

// GrantList is a page of grants, of one dataset or to one grantee.
type GrantList struct {
	Height int64            `json:"height"`
	Grants []registry.Grant `json:"grants"`
	Next   string           `json:"next,omitempty"`
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) {
	limit, ok := listLimit(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	dataset, grantee := q.Get("dataset"), q.Get("grantee")
	if (dataset == "") == (grantee == "") {
		writeProblem(w, Problem{Status: http.StatusBadRequest, Code: CodeBadRequest, Detail: "give one of dataset=<identifier> or grantee=<node>"})
		return
	}
	// Grants are kept under canonical identifiers: a case variant (an
	// upper-case local id) names the same dataset and must find its grants.
	if dataset != "" {
		if dataset, ok = canonicalID(w, dataset, false); !ok {
			return
		}
	} else if grantee, ok = canonicalID(w, grantee, true); !ok {
		return
	}
	after := q.Get("after")
	if after != "" {
		// The cursor is the other party of the previous page's last grant:
		// a node code for a dataset's grants, a dataset for a grantee's.
		if after, ok = canonicalID(w, after, dataset != ""); !ok {
			return
		}
	}
	view, ok := s.view(w)
	if !ok {
		return
	}
	out := GrantList{Height: view.Version(), Grants: []registry.Grant{}}
	var prefix []byte
	if dataset != "" {
		prefix = registry.GrantPrefix(dataset)
	} else {
		prefix = registry.GranteePrefix(grantee)
	}
	var start []byte
	if after != "" {
		start = append(append(prefix[:len(prefix):len(prefix)], after...), 0)
	}
	var ierr error
	err := view.Iterate(prefix, start, func(k, v []byte) bool {
		other := string(k[len(prefix):])
		if len(out.Grants) == limit {
			if dataset != "" {
				out.Next = out.Grants[limit-1].Grantee
			} else {
				out.Next = out.Grants[limit-1].Dataset
			}
			return false
		}
		var g registry.Grant
		if dataset != "" {
			ierr = jsonUnmarshal(v, &g)
		} else {
			var found bool
			g, found, ierr = registry.GetGrant(view, other, grantee)
			if ierr == nil && !found {
				ierr = errors.New("grantee index names a grant that does not exist: " + other)
			}
		}
		if ierr != nil {
			return false
		}
		out.Grants = append(out.Grants, g)
		return true
	})
	if err == nil {
		err = ierr
	}
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) getValidators(w http.ResponseWriter, r *http.Request) {
	view, ok := s.view(w)
	if !ok {
		return
	}
	vals, err := registry.Validators(view)
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	if vals == nil {
		vals = []registry.Validator{}
	}
	s.writeJSON(w, http.StatusOK, ValidatorList{Height: view.Version(), Validators: vals})
}

func (s *Server) listProposals(w http.ResponseWriter, r *http.Request) {
	view, ok := s.view(w)
	if !ok {
		return
	}
	out := []registry.Proposal{}
	var derr error
	err := view.Iterate(registry.ProposalPrefix(), nil, func(_, v []byte) bool {
		var p registry.Proposal
		if derr = jsonUnmarshal(v, &p); derr != nil {
			return false
		}
		out = append(out, p)
		return len(out) < maxListLimit
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	s.writeJSON(w, http.StatusOK, ProposalList{Height: view.Version(), Proposals: out})
}

// canonicalID parses an identifier given as a query parameter and returns
// its canonical text, answering 400 when it does not parse, or when node is
// set and it names an object.
func canonicalID(w http.ResponseWriter, text string, node bool) (string, bool) {
	id, err := code.Parse(text)
	if err != nil {
		writeProblem(w, idProblem(text, err))
		return "", false
	}
	if node && !id.IsNode() {
		writeProblem(w, Problem{Status: http.StatusBadRequest, Code: registry.CodeInvalid,
			Detail: id.String() + " is an object: grants are held by nodes (cities, sectors and units)"})
		return "", false
	}
	return id.String(), true
}
