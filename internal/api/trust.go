package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cityid/cityid/internal/qr"
	"github.com/cityid/cityid/internal/wire"
)

// readTrust is the trust root at height h (0: the latest header), with
// the portal's address that pins it.
func (s *Server) readTrust(r *http.Request, h int64) (wire.TrustRoot, error) {
	st, err := s.b.Status(r.Context())
	if err != nil {
		return wire.TrustRoot{}, err
	}
	if h == 0 {
		h = st.Height
	}
	if h < 1 || h > st.Height {
		return wire.TrustRoot{}, refuse(wire.Problem{Code: wire.CodeHeightTooHigh,
			Detail: "height " + strconv.FormatInt(h, 10) + " is not between 1 and this node's latest, " + strconv.FormatInt(st.Height, 10)})
	}
	b, err := s.b.Block(r.Context(), h)
	if err != nil {
		return wire.TrustRoot{}, chainRefusal(err)
	}
	q := url.Values{"chain": {b.ChainID}, "height": {strconv.FormatInt(h, 10)}, "hash": {b.Hash}}
	return wire.TrustRoot{ChainID: b.ChainID, Height: h, Hash: b.Hash, Time: b.Time,
		URL: strings.TrimSuffix(s.opts.PublicURL, "/") + "/trust?" + q.Encode()}, nil
}

// getTrust serves GET /v1/trust and its QR code (/v1/trust/qr.svg,
// /v1/trust/qr.png).
func (s *Server) getTrust(w http.ResponseWriter, r *http.Request) {
	var h int64
	if v := r.URL.Query().Get("height"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: "height " + quote(v) + " is not a positive number"})
			return
		}
		h = n
	}
	root, err := s.readTrust(r, h)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	format := r.PathValue("format")
	if format == "" {
		s.writeJSON(w, http.StatusOK, root)
		return
	}
	var body []byte
	switch format {
	case "qr.svg":
		body, err = qr.SVG(root.URL, qr.DefaultSize, qr.M)
		w.Header().Set("Content-Type", "image/svg+xml")
	case "qr.png":
		body, err = qr.PNG(root.URL, qr.DefaultSize, qr.M)
		w.Header().Set("Content-Type", "image/png")
	default:
		writeProblem(w, wire.Problem{Code: wire.CodeNotFound, Detail: "no " + quote(format) + " of the trust root: qr.svg or qr.png"})
		return
	}
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	_, _ = w.Write(body)
}
