package web

import (
	"context"
	"errors"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/wire"
)

// Source is what the portal reads: the HTTP API's own reads, answered in
// the API's wire types, so that a page shows what /v1/... answers and the
// portal has no way to the state of its own. internal/api implements it
// over its Backend.
type Source interface {
	// Status is the node's status with the network's parameters and
	// authority.
	Status(ctx context.Context) (wire.StatusAnswer, error)
	// Validators is the validator set.
	Validators(ctx context.Context) (wire.ValidatorList, error)
	// Cities is a page of the city directory after a city code.
	Cities(ctx context.Context, after string, limit int) (wire.CityList, error)
	// Record is a registered identifier's record.
	Record(ctx context.Context, id code.ID) (wire.RecordAnswer, error)
	// History is a page of an identifier's versions after a version,
	// oldest first.
	History(ctx context.Context, id code.ID, after uint64, limit int) (wire.History, error)
	// Children is a page of a node's children after a cursor.
	Children(ctx context.Context, id code.ID, after string, limit int) (wire.Children, error)
	// Block is the committed block at height h (0: the latest), with its
	// transactions decoded and their results.
	Block(ctx context.Context, h int64) (wire.BlockInfo, error)
	// Tx is a committed transaction by its hash, decoded, with its result.
	Tx(ctx context.Context, hash string) (wire.TxInfo, error)
	// Applications is a page of applications of a status ("" for all)
	// after a number.
	Applications(ctx context.Context, status string, after uint64, limit int) (wire.ApplicationList, error)
	// Application is one application with its votes counted.
	Application(ctx context.Context, n uint64) (wire.ApplicationAnswer, error)
	// Grants are the first grants of a dataset (an identifier with a DATA
	// value), or to a grantee (a node): one of the two canonical, the
	// other "".
	Grants(ctx context.Context, dataset, grantee string, limit int) (wire.GrantList, error)
	// Proposals are the open proposals of the authority.
	Proposals(ctx context.Context) (wire.ProposalList, error)
	// FormOptions are the network's settings of an identifier's forms
	// (resolver base, DNS zone, OID arc, issuing agency code).
	FormOptions() code.FormOptions
}

// Refusal is an error of a Source that is the client's affair (not
// registered, no block yet), carrying the problem the API answers with;
// the portal shows it as a page with the problem's HTTP status. Any other
// error is the node's, shown as "internal error".
type Refusal interface {
	error
	Problem() wire.Problem
}

// problemOf is the problem err tells the person: a refusal's own, or an
// internal error.
func problemOf(err error) (wire.Problem, bool) {
	var r Refusal
	if errors.As(err, &r) {
		return r.Problem(), true
	}
	return wire.Problem{Code: wire.CodeInternal, Detail: "internal error; the node's log has the details"}, false
}
