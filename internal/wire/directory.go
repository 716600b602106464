package wire

import "github.com/cityid/cityid/internal/registry"

// City is one entry of the city directory.
type City struct {
	CityCode string `json:"city_code"`
	Name     string `json:"name"`
}

// CityList is a page of the city directory.
type CityList struct {
	Height int64  `json:"height"`
	Cities []City `json:"cities"`
	// Next is the cursor of the next page (?after=...), empty on the last.
	Next string `json:"next,omitempty"`
}

// ApplicationView is an application as readers are shown it: as stored,
// its status as of the next block (expired past its last height), and its
// votes counted as a vote in the next block would count them, of current
// members within the vote term.
type ApplicationView struct {
	registry.Application
	Count registry.VoteCount `json:"count"`
}

// ApplicationList is a page of applications.
type ApplicationList struct {
	Height       int64             `json:"height"`
	Applications []ApplicationView `json:"applications"`
	Next         string            `json:"next,omitempty"`
}

// ApplicationAnswer is the answer to GET /v1/applications/{n}.
type ApplicationAnswer struct {
	Height      int64           `json:"height"`
	Application ApplicationView `json:"application"`
}

// GrantList is a page of grants, of one dataset or to one grantee.
type GrantList struct {
	Height int64            `json:"height"`
	Grants []registry.Grant `json:"grants"`
	Next   string           `json:"next,omitempty"`
}

// AnchorList is the answer to GET /v1/anchors/{id}: a page of a
// dataset's anchored access-log heads, ascending by their counts, and its
// latest anchor (nil when its log was never anchored). Next, when set, is
// the ?after= of the next page. With ?proof=true, Proof proves Latest (the
// bytes under registry.AnchorHeadKey), or its absence: a grantee checks
// the log it is shown against it.
type AnchorList struct {
	Height  int64             `json:"height"`
	Dataset string            `json:"dataset"`
	Anchors []registry.Anchor `json:"anchors"`
	Next    string            `json:"next,omitempty"`
	Latest  *registry.Anchor  `json:"latest,omitempty"`
	Proof   *Proof            `json:"proof,omitempty"`
}

// ValidatorList is the answer to GET /v1/validators.
type ValidatorList struct {
	Height     int64                `json:"height"`
	Validators []registry.Validator `json:"validators"`
}

// ProposalList is the answer to GET /v1/proposals.
type ProposalList struct {
	Height    int64               `json:"height"`
	Proposals []registry.Proposal `json:"proposals"`
}
