package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// homeData is the search page's content: the network's status.
type homeData struct {
	Status     *wire.StatusAnswer
	Validators []registry.Validator
	Power      int64
	BlockTime  string
	Err        string
}

// query: the search box starts empty.
func (homeData) query() string { return "" }

// Home serves /: the search box and the network's status.
func (p *Portal) Home(w http.ResponseWriter, r *http.Request) {
	d := homeData{}
	ctx := r.Context()
	if st, err := p.src.Status(ctx); err != nil {
		prob, _ := problemOf(err)
		p.logErr(r, err)
		d.Err = prob.Detail
	} else {
		d.Status = &st
		if !st.BlockTime.IsZero() {
			d.BlockTime = st.BlockTime.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		if vals, err := p.src.Validators(ctx); err == nil {
			d.Validators = vals.Validators
			for _, v := range vals.Validators {
				d.Power += v.Power
			}
		} else {
			p.logErr(r, err)
		}
	}
	p.render(w, r, http.StatusOK, "home", "", d)
}

// logErr logs an error that is the node's, not a refusal.
func (p *Portal) logErr(r *http.Request, err error) {
	if _, refused := problemOf(err); !refused {
		p.log.Error("portal read", "path", r.URL.Path, "err", err)
	}
}

// Search serves /search?q=: an identifier in any form goes (303) to its
// page; one that does not parse is shown with where it went wrong.
func (p *Portal) Search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	id, err := parseAny(q, p.src.FormOptions())
	if err != nil {
		p.problem(w, r, idProblem(err), q)
		return
	}
	http.Redirect(w, r, "/ids/"+id.String(), http.StatusSeeOther)
}

// idProblem is the problem of an identifier that does not parse: the
// code package's reason and position, which the page points at.
func idProblem(err error) wire.Problem {
	p := wire.Problem{Code: registry.CodeInvalidID, Detail: err.Error()}
	var ce *code.Error
	if errors.As(err, &ce) {
		p.Reason, p.Position, p.Detail = ce.Code, ce.Pos, ce.Msg
	}
	return p
}

// recordData is a record page's content.
type recordData struct {
	ID       string
	Record   registry.Record
	Height   int64
	ChainID  string
	Name     string
	NameEn   string
	Values   []valueView
	Forms    code.Description
	Path     []crumb
	Parent   *crumb
	Children []wire.Child
	MoreKids bool
	// Grants of the record's dataset (when it has a DATA value), or to
	// it (when it is a node): the first recordGrants.
	Grants   []registry.Grant
	GrantsTo bool
	Timeline []versionView
	// Older: versions before the timeline's first are not shown.
	Older   bool
	Created string
	Updated string
}

// query: the search box holds the record's identifier.
func (d recordData) query() string { return d.ID }

// crumb is one step of the way from the country down to a record.
type crumb struct {
	ID, Label, Href string
}

// Record serves /ids/{id}: the record's page.
func (p *Portal) Record(w http.ResponseWriter, r *http.Request) {
	text := r.PathValue("id")
	id, err := code.Parse(text)
	if err != nil {
		p.problem(w, r, idProblem(err), text)
		return
	}
	ctx := r.Context()
	ans, err := p.src.Record(ctx, id)
	if err != nil {
		p.readFailed(w, r, err, id.String())
		return
	}
	rec := ans.Record
	d := recordData{ID: id.String(), Record: rec, Height: ans.Height, Name: visible(rec.Name),
		Forms: code.Describe(id, p.src.FormOptions()), Path: crumbs(id, "/ids/"),
		Created: stamp(rec.Created), Updated: stamp(rec.Updated)}
	if rec.City != nil {
		d.NameEn = visible(rec.City.NameEn)
	}
	if st, err := p.src.Status(ctx); err == nil {
		d.ChainID = st.ChainID
	}
	for _, v := range rec.Values {
		d.Values = append(d.Values, viewValue(v))
	}
	if parent, ok := id.Parent(); ok {
		d.Parent = &crumb{ID: parent.String(), Href: "/ids/" + parent.String()}
	}
	if id.IsNode() {
		if kids, err := p.src.Children(ctx, id, "", recordChildren); err == nil {
			d.Children, d.MoreKids = kids.Children, kids.Next != ""
			for i := range d.Children {
				d.Children[i].Name = visible(d.Children[i].Name)
			}
		} else {
			p.logErr(r, err)
		}
	}
	p.grants(r, &d, id, rec)
	d.Timeline, d.Older = p.timeline(ctx, r, id, rec)
	p.render(w, r, http.StatusOK, "record", id.String(), d)
}

// timeline reads the record's latest versions, and the one before them
// to say what the first shown changed.
func (p *Portal) timeline(ctx context.Context, r *http.Request, id code.ID, rec registry.Record) ([]versionView, bool) {
	after := uint64(0)
	if rec.Version > timelineVersions {
		after = rec.Version - timelineVersions - 1
	}
	h, err := p.src.History(ctx, id, after, timelineVersions+1)
	if err != nil {
		p.logErr(r, err)
		return nil, false
	}
	versions := make([]registry.Record, 0, len(h.Versions))
	for _, v := range h.Versions {
		versions = append(versions, v.Record)
	}
	var prev *registry.Record
	if after > 0 && len(versions) > 0 {
		prev, versions = &versions[0], versions[1:]
	}
	return timeline(prev, versions), after > 0
}

func stamp(s registry.Stamp) string {
	if s.Height == 0 {
		return ""
	}
	return s.Time.UTC().Format("2006-01-02 15:04 UTC")
}

// crumbs is the way from the country down to id, each step a link to
// its page under at ("/ids/" for records, "/dir/" in the directory).
func crumbs(id code.ID, at string) []crumb {
	var out []crumb
	for cur, ok := id, true; ok; cur, ok = cur.Parent() {
		out = append(out, crumb{ID: cur.String(), Label: cur.String(), Href: at + cur.String()})
	}
	out = append(out, crumb{ID: id.Country, Label: id.Country, Href: "/dir/" + id.Country})
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// dirData is a directory page's content.
type dirData struct {
	// Level is "countries", "cities" or "children".
	Level     string
	Country   *code.Country
	Node      string
	NodeName  string
	Path      []crumb
	Countries []countryRow
	Cities    []cityRow
	Children  []wire.Child
	Next      string
	Height    int64
	Truncated bool
}

// query: the search box starts empty.
func (dirData) query() string { return "" }

type countryRow struct {
	Country code.Country
	Cities  int
}

type cityRow struct {
	Code, Name, NameEn string
}

// Directory serves /dir (countries with their cities' counts),
// /dir/{country} (its cities) and /dir/{node} (a node's children), in
// pages of pageSize with ?after= cursors.
func (p *Portal) Directory(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	arg := r.PathValue("path")
	after := r.URL.Query().Get("after")
	switch {
	case arg == "":
		p.countries(w, r)
	case len(arg) == 3 && strings.Trim(arg, "0123456789") == "":
		c, ok := code.LookupCountry(arg)
		if !ok {
			p.problem(w, r, wire.Problem{Code: wire.CodeNotFound, Detail: arg + " is not an ISO 3166-1 country"}, "")
			return
		}
		start := arg
		if after != "" {
			start = after
		}
		list, err := p.src.Cities(ctx, start, pageSize)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		d := dirData{Level: "cities", Country: &c, Height: list.Height, Path: []crumb{{ID: arg, Label: arg, Href: "/dir/" + arg}}}
		for _, city := range list.Cities {
			if !strings.HasPrefix(city.CityCode, arg) {
				list.Next = ""
				break
			}
			row := cityRow{Code: city.CityCode, Name: visible(city.Name)}
			if id, err := code.Parse(city.CityCode); err == nil {
				if rec, err := p.src.Record(ctx, id); err == nil && rec.Record.City != nil {
					row.NameEn = visible(rec.Record.City.NameEn)
				}
			}
			d.Cities = append(d.Cities, row)
		}
		d.Next = list.Next
		p.render(w, r, http.StatusOK, "dir", c.NameEn, d)
	default:
		id, err := code.Parse(arg)
		if err == nil && !id.IsNode() {
			http.Redirect(w, r, "/ids/"+id.String(), http.StatusSeeOther)
			return
		}
		if err != nil {
			p.problem(w, r, idProblem(err), arg)
			return
		}
		kids, err := p.src.Children(ctx, id, after, pageSize)
		if err != nil {
			p.readFailed(w, r, err, id.String())
			return
		}
		d := dirData{Level: "children", Node: id.String(), Children: kids.Children, Next: kids.Next, Height: kids.Height, Path: crumbs(id, "/dir/")}
		for i := range d.Children {
			d.Children[i].Name = visible(d.Children[i].Name)
		}
		if rec, err := p.src.Record(ctx, id); err == nil {
			d.NodeName = visible(rec.Record.Name)
		}
		p.render(w, r, http.StatusOK, "dir", id.String(), d)
	}
}

// countries counts the cities of each country, reading the city
// directory in pages up to maxCountryScan cities.
func (p *Portal) countries(w http.ResponseWriter, r *http.Request) {
	d := dirData{Level: "countries"}
	after, read := "", 0
	for {
		list, err := p.src.Cities(r.Context(), after, 1000)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		d.Height = list.Height
		for _, c := range list.Cities {
			if len(c.CityCode) < 3 {
				continue
			}
			country := c.CityCode[:3]
			if n := len(d.Countries); n == 0 || d.Countries[n-1].Country.Numeric != country {
				row, ok := code.LookupCountry(country)
				if !ok {
					row = code.Country{Numeric: country}
				}
				d.Countries = append(d.Countries, countryRow{Country: row})
			}
			d.Countries[len(d.Countries)-1].Cities++
		}
		read += len(list.Cities)
		if list.Next == "" {
			break
		}
		if read >= maxCountryScan {
			d.Truncated = true
			break
		}
		after = list.Next
	}
	p.render(w, r, http.StatusOK, "dir", "", d)
}

// readFailed shows the error of reading identifier id as a page: one
// not registered says so.
func (p *Portal) readFailed(w http.ResponseWriter, r *http.Request, err error, id string) {
	p.logErr(r, err)
	prob, _ := problemOf(err)
	p.showProblem(w, r, prob, id, id == "")
}

// fail shows a read's error as a page.
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, err error) {
	p.logErr(r, err)
	prob, _ := problemOf(err)
	p.problem(w, r, prob, "")
}

// recordGrants is how many grants a record's page lists.
const recordGrants = 20

// grants reads into d the grants of the record's dataset, or to the
// record when it is a node; a read that fails leaves them out.
func (p *Portal) grants(r *http.Request, d *recordData, id code.ID, rec registry.Record) {
	dataset, grantee := "", ""
	for _, v := range rec.Values {
		if v.Dataset != nil {
			dataset = id.String()
		}
	}
	if dataset == "" && id.IsNode() {
		grantee = id.String()
	}
	if dataset == "" && grantee == "" {
		return
	}
	list, err := p.src.Grants(r.Context(), dataset, grantee, recordGrants)
	if err != nil {
		p.logErr(r, err)
		return
	}
	d.Grants, d.GrantsTo = list.Grants, grantee != ""
}
