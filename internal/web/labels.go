package web

import (
	"net/http"
	"strings"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/wire"
)

// maxLabels bounds one sheet: ten A4 pages of twelve labels, each label a
// record read and a QR code the browser fetches.
const maxLabels = 120

// label is one label of a sheet.
type label struct {
	ID, Name, City, Unit string
	// Missing: the identifier is not registered (its label says so, and
	// has no code to scan).
	Missing bool
}

// labelsData is a sheet's content.
type labelsData struct {
	Labels []label
	// Under is the node whose children fill the sheet, when asked so.
	Under string
	// Cut: more were asked than a sheet holds.
	Cut bool
}

func (labelsData) query() string { return "" }

// Labels serves /labels?id=ID (repeatable) and /labels?under=NODE (the
// node's children): a printable sheet of labels, twelve to an A4 page,
// each with the identifier's QR code, its text, and the names of its
// city and unit, for the things the identifiers are stuck on.
func (p *Portal) Labels(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ctx := r.Context()
	var ids []code.ID
	d := labelsData{}
	for _, text := range q["id"] {
		for _, one := range strings.FieldsFunc(text, func(c rune) bool { return c == ',' || c == '\n' || c == ' ' }) {
			id, err := code.Parse(one)
			if err != nil {
				p.problem(w, r, idProblem(err), one)
				return
			}
			ids = append(ids, id)
		}
	}
	if under := q.Get("under"); under != "" {
		node, err := code.Parse(under)
		if err != nil {
			p.problem(w, r, idProblem(err), under)
			return
		}
		d.Under = node.String()
		for after := ""; len(ids) <= maxLabels; {
			page, err := p.src.Children(ctx, node, after, pageSize)
			if err != nil {
				p.readFailed(w, r, err, node.String())
				return
			}
			for _, c := range page.Children {
				if id, err := code.Parse(c.ID); err == nil {
					ids = append(ids, id)
				}
			}
			if after = page.Next; after == "" {
				break
			}
		}
	}
	if len(ids) > maxLabels {
		ids, d.Cut = ids[:maxLabels], true
	}
	// The names of cities and units, read once a sheet.
	names := map[string]string{}
	nameOf := func(id code.ID) string {
		key := id.String()
		if n, ok := names[key]; ok {
			return n
		}
		n := ""
		if ans, err := p.src.Record(ctx, id); err == nil {
			n = visible(ans.Record.Name)
			if c := ans.Record.City; c != nil && c.NameEn != "" {
				n += " · " + visible(c.NameEn)
			}
		}
		names[key] = n
		return n
	}
	for _, id := range ids {
		l := label{ID: id.String()}
		ans, err := p.src.Record(ctx, id)
		if err != nil {
			if prob, refused := problemOf(err); !refused || prob.Code != wire.CodeNotFound {
				p.readFailed(w, r, err, id.String())
				return
			}
			l.Missing = true
		} else {
			l.Name = visible(ans.Record.Name)
		}
		if city, err := code.Parse(id.CityCode()); err == nil && city.String() != l.ID {
			l.City = nameOf(city)
		}
		if !id.IsNode() {
			if node := id.Node(); node.Kind() == code.KindUnit {
				l.Unit = nameOf(node)
			}
		}
		d.Labels = append(d.Labels, l)
	}
	p.render(w, r, http.StatusOK, "labels", p.words[chooseLang(w, r)]["LabelsTitle"], d)
}
