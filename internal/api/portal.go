package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/web"
	"github.com/cityid/cityid/internal/wire"
)

// portalSource is what the portal (internal/web) reads: the API's own
// reads, the ones its JSON handlers answer with, so a page shows what
// /v1/... says and the portal has no path of its own to the state.
type portalSource struct{ s *Server }

var _ web.Source = portalSource{}

func (p portalSource) Status(ctx context.Context) (wire.StatusAnswer, error) {
	return p.s.readStatus(ctx)
}

func (p portalSource) Validators(context.Context) (wire.ValidatorList, error) {
	return p.s.readValidators()
}

func (p portalSource) Cities(_ context.Context, after string, limit int) (wire.CityList, error) {
	return p.s.readCities(after, min(limit, maxListLimit))
}

func (p portalSource) Record(_ context.Context, id code.ID) (wire.RecordAnswer, error) {
	return p.s.readRecord(id)
}

func (p portalSource) History(_ context.Context, id code.ID, after uint64, limit int) (wire.History, error) {
	return p.s.readHistory(id, after, min(limit, maxListLimit))
}

func (p portalSource) Children(_ context.Context, id code.ID, after string, limit int) (wire.Children, error) {
	return p.s.readChildren(id, after, min(limit, maxListLimit))
}

func (p portalSource) Block(ctx context.Context, h int64) (wire.BlockInfo, error) {
	b, err := p.s.b.Block(ctx, h)
	return b, chainRefusal(err)
}

func (p portalSource) Tx(ctx context.Context, hash string) (wire.TxInfo, error) {
	tx, err := p.s.b.Tx(ctx, hash)
	return tx, chainRefusal(err)
}

func (p portalSource) Applications(_ context.Context, status string, after uint64, limit int) (wire.ApplicationList, error) {
	var start []byte
	if after > 0 {
		if after == math.MaxUint64 {
			return p.s.readApplications(status, nil, true, 0)
		}
		start = registry.ApplicationKey(after + 1)
	}
	return p.s.readApplications(status, start, false, min(limit, maxListLimit))
}

func (p portalSource) Application(_ context.Context, n uint64) (wire.ApplicationAnswer, error) {
	return p.s.readApplication(n)
}

func (p portalSource) Grants(_ context.Context, dataset, grantee string, limit int) (wire.GrantList, error) {
	return p.s.readGrants(dataset, grantee, "", min(limit, maxListLimit))
}

func (p portalSource) Proposals(context.Context) (wire.ProposalList, error) {
	return p.s.readProposals()
}

// chainRefusal is a CometBFT read's error as the portal shows it: a
// height or transaction that is not there, or pruned, is a refusal.
func chainRefusal(err error) error {
	var pruned *wire.PrunedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pruned):
		return refuse(prunedProblem(strconv.FormatInt(pruned.Height, 10), pruned.Oldest))
	case errors.Is(err, wire.ErrNotFound):
		return refuse(wire.Problem{Code: wire.CodeNotFound, Detail: err.Error()})
	}
	return err
}

// FormOptions are the node's resolver base and DNS zone with the
// network's OID arc and agency code, as the record page shows them.
func (p portalSource) FormOptions() code.FormOptions {
	opts := code.DefaultFormOptions()
	opts.ResolverBase, opts.Zone = p.s.opts.PublicURL, p.s.opts.DNSZone
	if view := p.s.b.Latest(); view != nil {
		if params, err := registry.GetParams(view); err == nil {
			opts.OIDArc, opts.IAC = params.OIDArc, params.IAC
		}
	}
	return opts
}

// acceptsHTML reports whether the client is a browser asking for a page:
// it names text/html. API clients (curl's */*, application/json) get
// problem+json.
func acceptsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
