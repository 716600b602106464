package web

import "net/http"

// The desks: pages where a person signs transactions with a key kept in
// this browser (static/keys.js) and sends them (static/sign.js); the
// page is a form the server renders and static/desk.js drives, since
// signing needs the browser's key. Without script each says so.

// emptyData is a desk's content: the page holds only its forms.
type emptyData struct{}

func (emptyData) query() string { return "" }

// Keys serves /keys: the keys in this browser, made, imported (a key
// file or a backup) and exported as a backup.
func (p *Portal) Keys(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "keys", p.words[chooseLang(w, r)]["KeysTitle"], emptyData{})
}

// Apply serves /apply: a city's application for its code.
func (p *Portal) Apply(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "apply", p.words[chooseLang(w, r)]["ApplyTitle"], emptyData{})
}

// Authority serves /authority: the registry authority's desk, pending
// applications and proposals with their votes, approved or rejected here.
func (p *Portal) Authority(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "authority", p.words[chooseLang(w, r)]["AuthorityTitle"], emptyData{})
}

// Desk serves /desk: a city's desk, registering sectors, units and
// identifiers, editing values, and uploading batch files.
func (p *Portal) Desk(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "desk", p.words[chooseLang(w, r)]["DeskTitle"], emptyData{})
}

// Verify serves /verify: a saved answer checked in the browser
// (static/verify-page.js), as the record page's badge checks its own.
func (p *Portal) Verify(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "verify", p.words[pickLang(r)]["VerifyTitle"], emptyData{})
}
