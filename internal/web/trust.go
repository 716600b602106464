package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cityid/cityid/internal/wire"
)

// trustData is the trust root's page.
type trustData struct {
	ChainID string
	Height  int64
	Hash    string
	Time    string
	// Link is the page's own address with the root in its query: what the
	// QR code holds, relative to this node.
	Link string
	// Pin: the root came in the query (a scanned trust QR code), and the
	// page offers to pin it.
	Pin bool
}

func (trustData) query() string { return "" }

// Trust serves /trust. Without a query it shows this node's latest header
// as a trust root, with the QR code the registry authority prints
// (/v1/trust/qr.svg); with chain, height and hash (what the code holds)
// it offers to pin that root in this browser, which static/trust.js does
// after checking that the header at that height has that hash and is
// signed by its validators.
func (p *Portal) Trust(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	title := p.words[pickLang(r)]["TrustTitle"]
	if q.Has("chain") || q.Has("height") || q.Has("hash") {
		d := trustData{ChainID: q.Get("chain"), Hash: strings.ToUpper(q.Get("hash")), Pin: true}
		h, err := strconv.ParseInt(q.Get("height"), 10, 64)
		switch {
		case d.ChainID == "" || len(d.ChainID) > 50:
			err = errBadRoot("chain ID " + strconv.Quote(d.ChainID) + " is not 1 to 50 characters")
		case err != nil || h < 1:
			err = errBadRoot("height " + strconv.Quote(q.Get("height")) + " is not a positive number")
		case len(d.Hash) != 64 || strings.Trim(d.Hash, "0123456789ABCDEF") != "":
			err = errBadRoot("hash " + strconv.Quote(q.Get("hash")) + " is not 64 hex digits")
		}
		if err != nil {
			p.problem(w, r, wire.Problem{Code: wire.CodeBadRequest, Detail: err.Error()}, "")
			return
		}
		d.Height = h
		p.render(w, r, http.StatusOK, "trust", title, d)
		return
	}
	st, err := p.src.Status(r.Context())
	if err != nil {
		p.readFailed(w, r, err, "")
		return
	}
	b, err := p.src.Block(r.Context(), st.Height)
	if err != nil {
		p.readFailed(w, r, err, "")
		return
	}
	d := trustData{ChainID: b.ChainID, Height: b.Height, Hash: b.Hash, Time: b.Time.UTC().Format("2006-01-02 15:04:05 UTC")}
	d.Link = "/trust?" + url.Values{"chain": {d.ChainID}, "height": {strconv.FormatInt(d.Height, 10)}, "hash": {d.Hash}}.Encode()
	p.render(w, r, http.StatusOK, "trust", title, d)
}

type errBadRoot string

func (e errBadRoot) Error() string { return string(e) }
