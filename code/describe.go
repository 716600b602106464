package code

// DefaultOIDArc is the OID arc used when genesis sets none: the X.667 arc
// 2.25 followed by the decimal value of the UUID
// cfed20b8-5080-43a8-b12f-f205db459813, generated once for CityID. Any
// UUID-based arc is globally unique without registration.
const DefaultOIDArc = "2.25.276381433122953422118134796889549543443"

// FormOptions are the network-wide settings that the forms other than the
// canonical text and the URN depend on. They are set at genesis.
type FormOptions struct {
	OIDArc       string // registry OID arc: <arc>.156.130100.85.3
	Zone         string // DNS zone: school-0042.3.85.1561301001.<zone>
	IAC          string // ISO/IEC 15459 issuing agency code: <IAC>.156.130100...
	ResolverBase string // resolver URL base for QR codes: <base>/r/<identifier>
}

// DefaultFormOptions returns the settings of a network that configured none,
// matching the defaults of DESIGN section 4 (zone and HTTP address).
func DefaultFormOptions() FormOptions {
	return FormOptions{
		OIDArc:       DefaultOIDArc,
		Zone:         "cityid.internal.",
		IAC:          "MA",
		ResolverBase: "http://127.0.0.1:8680",
	}
}

// Description is everything about an identifier that can be known without
// the registry: its parts, the table entries behind them and every form. It
// is what `cityid id parse TEXT` prints as JSON.
type Description struct {
	Canonical  string  `json:"canonical"`
	Kind       Kind    `json:"kind"`
	Country    Country `json:"country"`
	CityNumber string  `json:"city_number"`
	Check      string  `json:"check"`
	CityCode   string  `json:"city_code"`
	NodeCode   string  `json:"node_code"`
	Sector     *Sector `json:"sector,omitempty"` // nil for a city and its objects
	Unit       string  `json:"unit"`
	LocalID    string  `json:"local_id"`
	Forms      Forms   `json:"forms"`
}

// Forms are an identifier's other forms.
type Forms struct {
	URN         string     `json:"urn"`
	OID         string     `json:"oid,omitempty"` // nodes only
	DNS         string     `json:"dns"`
	Handle      HandleForm `json:"handle"`
	ISO15459    string     `json:"iso15459"`
	ResolverURL string     `json:"resolver_url"`
}

// HandleForm is a Handle prefix and suffix.
type HandleForm struct {
	Prefix string `json:"prefix"`
	Suffix string `json:"suffix"`
}

// Describe describes id with the forms of opts. id should be valid (from
// Parse or checked with Validate); for an invalid id the table entries hold
// only the codes and the OID is left out.
func Describe(id ID, opts FormOptions) Description {
	country, ok := LookupCountry(id.Country)
	if !ok {
		country = Country{Numeric: id.Country}
	}
	cc := id.CityCode()
	d := Description{
		Canonical:  id.String(),
		Kind:       id.Kind(),
		Country:    country,
		CityNumber: id.CityNumber,
		Check:      cc[len(cc)-1:],
		CityCode:   cc,
		NodeCode:   id.NodeCode(),
		Unit:       id.Unit,
		LocalID:    id.Local,
	}
	if id.Sector != "" {
		s, ok := LookupSector(id.Sector)
		if !ok {
			s = Sector{Division: id.Sector}
		}
		d.Sector = &s
	}
	prefix, suffix := id.Handle()
	d.Forms = Forms{
		URN:         id.URN(),
		DNS:         id.DNSName(opts.Zone),
		Handle:      HandleForm{Prefix: prefix, Suffix: suffix},
		ISO15459:    id.ISO15459(opts.IAC),
		ResolverURL: id.ResolverURL(opts.ResolverBase),
	}
	if id.IsNode() {
		if oid, err := id.OID(opts.OIDArc); err == nil {
			d.Forms.OID = oid
		}
	}
	return d
}
