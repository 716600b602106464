package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// explorerBlocks is how many of the latest blocks the explorer lists.
const explorerBlocks = 20

// explorerData is the explorer's first page.
type explorerData struct {
	Blocks       []wire.BlockInfo
	Applications []wire.ApplicationView
	MoreApps     string
	Proposals    []registry.Proposal
	Threshold    int
	Validators   []registry.Validator
	Status       string
}

func (explorerData) query() string { return "" }

// Explorer serves /explorer: the latest blocks, the applications (the
// pending first), the authority's open proposals and the validators.
func (p *Portal) Explorer(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := explorerData{Status: r.URL.Query().Get("status")}
	switch d.Status {
	case "", registry.AppPending, registry.AppApproved, registry.AppRejected, registry.AppExpired:
	default:
		p.problem(w, r, wire.Problem{Code: wire.CodeBadRequest, Detail: "status " + strconv.Quote(d.Status) + " is not pending, approved, rejected or expired"}, "")
		return
	}
	st, err := p.src.Status(ctx)
	if err != nil {
		p.readFailed(w, r, err, "")
		return
	}
	d.Threshold = st.Authority.Threshold
	for h := st.Height; h > 0 && h > st.Height-explorerBlocks; h-- {
		b, err := p.src.Block(ctx, h)
		if err != nil {
			// Pruned below here, or no block store to read: the rest of
			// the page is still worth showing.
			p.logErr(r, err)
			break
		}
		d.Blocks = append(d.Blocks, b)
	}
	var after uint64
	if a := r.URL.Query().Get("after"); a != "" {
		if after, err = strconv.ParseUint(a, 10, 64); err != nil {
			p.problem(w, r, wire.Problem{Code: wire.CodeBadRequest, Detail: "after " + strconv.Quote(a) + " is not an application number"}, "")
			return
		}
	}
	apps, err := p.src.Applications(ctx, d.Status, after, pageSize)
	if err != nil {
		p.readFailed(w, r, err, "")
		return
	}
	d.Applications, d.MoreApps = apps.Applications, apps.Next
	if props, err := p.src.Proposals(ctx); err == nil {
		d.Proposals = props.Proposals
	}
	if vals, err := p.src.Validators(ctx); err == nil {
		d.Validators = vals.Validators
	}
	p.render(w, r, http.StatusOK, "explorer", p.words[chooseLang(w, r)]["Explorer"], d)
}

// blockData is a block's page.
type blockData struct {
	Block wire.BlockInfo
	Txs   []txView
	// Prev is the height before, 0 at the first block.
	Prev int64
}

func (blockData) query() string { return "" }

// txView is a transaction as a page shows it.
type txView struct {
	Info wire.TxInfo
	// Msg is the message, indented for reading.
	Msg    string
	Result string
}

func viewTx(tx wire.TxInfo) txView {
	v := txView{Info: tx}
	if tx.Tx != nil {
		var buf bytes.Buffer
		if json.Indent(&buf, tx.Tx.Msg, "", "  ") == nil {
			v.Msg = visible(buf.String())
		}
	}
	if len(tx.Result) > 0 {
		var buf bytes.Buffer
		if json.Indent(&buf, tx.Result, "", "  ") == nil {
			v.Result = visible(buf.String())
		}
	}
	return v
}

// Block serves /blocks/{h}: a block and its transactions with their
// results.
func (p *Portal) Block(w http.ResponseWriter, r *http.Request) {
	text := r.PathValue("h")
	h, err := strconv.ParseInt(text, 10, 64)
	if err != nil || h < 1 {
		p.problem(w, r, wire.Problem{Code: wire.CodeBadRequest, Detail: "height " + strconv.Quote(text) + " is not a positive number"}, "")
		return
	}
	b, err := p.src.Block(r.Context(), h)
	if err != nil {
		p.readFailed(w, r, err, "")
		return
	}
	d := blockData{Block: b, Prev: b.Height - 1}
	for _, tx := range b.Txs {
		d.Txs = append(d.Txs, viewTx(tx))
	}
	p.render(w, r, http.StatusOK, "block", p.words[chooseLang(w, r)]["Block"]+" "+text, d)
}

// Tx serves /txs/{hash}: a transaction, decoded, with its result.
func (p *Portal) Tx(w http.ResponseWriter, r *http.Request) {
	hash := strings.ToUpper(strings.TrimPrefix(strings.TrimPrefix(r.PathValue("hash"), "0x"), "0X"))
	if len(hash) != 64 || strings.Trim(hash, "0123456789ABCDEF") != "" {
		p.problem(w, r, wire.Problem{Code: wire.CodeBadRequest, Detail: "transaction hash " + strconv.Quote(r.PathValue("hash")) + " is not 64 hex digits"}, "")
		return
	}
	tx, err := p.src.Tx(r.Context(), hash)
	if err != nil {
		p.readFailed(w, r, err, "")
		return
	}
	p.render(w, r, http.StatusOK, "tx", p.words[chooseLang(w, r)]["Transaction"], txPage{viewTx(tx)})
}

type txPage struct{ txView }

func (txPage) query() string { return "" }

// applicationData is an application's page.
type applicationData struct {
	App wire.ApplicationView
}

func (applicationData) query() string { return "" }

// Application serves /applications/{n}: an application, its votes and
// its progress.
func (p *Portal) Application(w http.ResponseWriter, r *http.Request) {
	text := r.PathValue("n")
	n, err := strconv.ParseUint(text, 10, 64)
	if err != nil || n == 0 {
		p.problem(w, r, wire.Problem{Code: wire.CodeBadRequest, Detail: "application " + strconv.Quote(text) + " is not a positive number"}, "")
		return
	}
	a, err := p.src.Application(r.Context(), n)
	if err != nil {
		p.readFailed(w, r, err, "")
		return
	}
	a.Application.Name, a.Application.NameEn = visible(a.Application.Name), visible(a.Application.NameEn)
	p.render(w, r, http.StatusOK, "application", p.words[chooseLang(w, r)]["Application"]+" "+text, applicationData{a.Application})
}
