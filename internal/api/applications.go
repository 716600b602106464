package api

import (
	"math"
	"net/http"
	"strconv"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/wire"
)

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
		writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: "status " + quote(status) + " is not pending, approved, rejected or expired"})
		return
	}
	var start []byte
	var last bool
	if a := q.Get("after"); a != "" {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: "after " + quote(a) + " is not an application number"})
			return
		}
		// No application comes after the largest number: an empty page,
		// where n+1 would wrap to 0 and start over from the first.
		last = n == math.MaxUint64
		start = registry.ApplicationKey(n + 1)
	}
	out, err := s.readApplications(status, start, last, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// readApplications is a page of applications of status ("" for any)
// from key start (nil: the first), none when last.
func (s *Server) readApplications(status string, start []byte, last bool, limit int) (wire.ApplicationList, error) {
	view, err := s.latest()
	if err != nil {
		return wire.ApplicationList{}, err
	}
	out := wire.ApplicationList{Height: view.Version(), Applications: []wire.ApplicationView{}}
	counter, err := newVoteCounter(view)
	if err != nil || last {
		return out, err
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
	return out, err
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

func (c voteCounter) view(a registry.Application) wire.ApplicationView {
	a.Status = shownStatus(a, c.next-1)
	return wire.ApplicationView{Application: a, Count: registry.CountVotes(a, c.auth, c.params, c.next)}
}

// shownStatus is an application's status as readers are told it at state
// version v: a pending application that no vote can reach any more (its
// last height is before the next block) has expired.
func shownStatus(a registry.Application, v int64) string { return a.StatusAt(v + 1) }

func (s *Server) getApplication(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseUint(r.PathValue("n"), 10, 64)
	if err != nil || n == 0 {
		writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: "application " + quote(r.PathValue("n")) + " is not a positive number"})
		return
	}
	out, err := s.readApplication(n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// readApplication is application n.
func (s *Server) readApplication(n uint64) (wire.ApplicationAnswer, error) {
	view, err := s.latest()
	if err != nil {
		return wire.ApplicationAnswer{}, err
	}
	app, found, err := registry.GetApplication(view, n)
	if err != nil {
		return wire.ApplicationAnswer{}, err
	}
	if !found {
		return wire.ApplicationAnswer{}, refuse(wire.Problem{Code: wire.CodeNotFound, Detail: "application " + strconv.FormatUint(n, 10) + " does not exist"})
	}
	counter, err := newVoteCounter(view)
	if err != nil {
		return wire.ApplicationAnswer{}, err
	}
	return wire.ApplicationAnswer{Height: view.Version(), Application: counter.view(app)}, nil
}
