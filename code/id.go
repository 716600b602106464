package code

// Kind says which level of the hierarchy an identifier names.
type Kind string

// The kinds of identifier, from the top.
const (
	KindCity   Kind = "city"   // 1561301001
	KindSector Kind = "sector" // 1561301001.85
	KindUnit   Kind = "unit"   // 1561301001.85.3
	KindObject Kind = "object" // anything with a local id: 1561301001.85.3/school-0042
)

// ID is an identifier split into its parts. The zero ID is not valid. IDs
// are comparable values: two IDs are the same identifier exactly when they
// are ==, since Parse and the With* methods store the canonical form.
//
// An ID built by hand should be checked with Validate; the methods below do
// not fail on an invalid ID, but what they return for one is unspecified.
type ID struct {
	Country    string // 3 digits, ISO 3166-1 numeric: "156"
	CityNumber string // 6 digits: "130100"
	Sector     string // "" or 2 digits, an ISIC Rev.4 division: "85"
	Unit       string // "" or 1-6 digits, no leading zero: "3"; needs a Sector
	Local      string // "" or a local id in canonical lowercase: "school-0042"
}

// String returns the canonical text form, 1561301001.85.3/school-0042, with
// the check character computed. Parse(id.String()) == id for every valid id.
// The zero ID gives "".
func (id ID) String() string {
	if id == (ID{}) {
		return ""
	}
	// Built in one buffer, one allocation: the registry makes the text
	// of several identifiers for every transaction it applies.
	var buf [64]byte
	return string(id.appendText(buf[:0]))
}

// AppendText appends the canonical text form (String) to b
// (encoding.TextAppender): for a caller that builds a key or a message
// around it without a string of its own. It never fails.
func (id ID) AppendText(b []byte) ([]byte, error) {
	if id == (ID{}) {
		return b, nil
	}
	return id.appendText(b), nil
}

func (id ID) appendText(b []byte) []byte {
	b = id.appendNodeCode(b)
	if id.Local != "" {
		b = append(b, '/')
		b = append(b, id.Local...)
	}
	return b
}

// CityCode returns the 10-character city code: country, city number and
// check character. For an ID whose country or city number are not digits of
// the right length the check character is '?'.
func (id ID) CityCode() string {
	var buf [16]byte
	return string(id.appendCityCode(buf[:0]))
}

func (id ID) appendCityCode(b []byte) []byte {
	start := len(b)
	b = append(b, id.Country...)
	b = append(b, id.CityNumber...)
	c := byte('?')
	if len(id.Country) == countryLen && len(id.CityNumber) == cityNumberLen && allDigits(id.Country) && allDigits(id.CityNumber) {
		c = mod112(string(b[start:]))
	}
	return append(b, c)
}

// NodeCode returns the identifier without its local part: 1561301001.85.3.
func (id ID) NodeCode() string {
	var buf [32]byte
	return string(id.appendNodeCode(buf[:0]))
}

func (id ID) appendNodeCode(b []byte) []byte {
	b = id.appendCityCode(b)
	if id.Sector != "" {
		b = append(b, '.')
		b = append(b, id.Sector...)
		if id.Unit != "" {
			b = append(b, '.')
			b = append(b, id.Unit...)
		}
	}
	return b
}

// Node returns the node that the identifier belongs to: id without Local.
func (id ID) Node() ID {
	id.Local = ""
	return id
}

// Parent returns the identifier one level up: an object's node, a unit's
// sector, a sector's city. A city has no parent and returns false.
func (id ID) Parent() (ID, bool) {
	switch id.Kind() {
	case KindObject:
		return id.Node(), true
	case KindUnit:
		return ID{Country: id.Country, CityNumber: id.CityNumber, Sector: id.Sector}, true
	case KindSector:
		return ID{Country: id.Country, CityNumber: id.CityNumber}, true
	}
	return ID{}, false
}

// Kind returns the level of the identifier.
func (id ID) Kind() Kind {
	switch {
	case id.Local != "":
		return KindObject
	case id.Unit != "":
		return KindUnit
	case id.Sector != "":
		return KindSector
	}
	return KindCity
}

// IsNode reports whether the identifier is a node (city, sector or unit),
// that is, has no local id. Only nodes have an OID and a Handle prefix alone.
func (id ID) IsNode() bool { return id.Local == "" }

// Validate checks an ID built by hand against the grammar and the tables.
// Error positions count within the field that the message names; a unit
// without a sector has no position.
func (id ID) Validate() error {
	if err := id.validate(); err != nil {
		return err
	}
	return nil
}

func (id ID) validate() *Error {
	if f := checkCountry(id.Country); f != nil {
		return f.at(id.Country, 0)
	}
	if f := checkCityNumber(id.CityNumber); f != nil {
		return f.at(id.CityNumber, 0)
	}
	if id.Sector != "" {
		if f := checkSector(id.Sector); f != nil {
			return f.at(id.Sector, 0)
		}
	}
	if id.Unit != "" {
		if id.Sector == "" {
			return &Error{Code: ErrEmpty, Msg: "sector is empty but unit is set: a unit belongs to a sector"}
		}
		if f := checkUnit(id.Unit); f != nil {
			return f.at(id.Unit, 0)
		}
	}
	if id.Local != "" {
		if f := checkLocal(id.Local); f != nil {
			return f.at(id.Local, 0)
		}
		for i := 0; i < len(id.Local); i++ {
			if c := id.Local[i]; 'A' <= c && c <= 'Z' {
				return &Error{Code: ErrBadChar, Pos: i + 1,
					Msg: "local id has uppercase character " + quoteChar(id.Local, i) + ": the canonical form is lowercase (use ParseLocal)"}
			}
		}
	}
	return nil
}

// CityCode returns the 10-character city code of a country and a city number,
// with its check character: CityCode("156", "130100") is "1561301001".
// Errors are *Error with the codes of Parse; positions count within the
// argument that the message names.
func CityCode(country, cityNumber string) (string, error) {
	id, err := NewCity(country, cityNumber)
	if err != nil {
		return "", err
	}
	return id.CityCode(), nil
}

// NewCity returns the city identifier of a country and a city number.
func NewCity(country, cityNumber string) (ID, error) {
	id := ID{Country: country, CityNumber: cityNumber}
	if err := id.validate(); err != nil {
		return ID{}, err
	}
	return id, nil
}

// WithSector returns sector s of id's city; id's unit and local id are
// dropped. It fails if id is not valid or s is not an ISIC Rev.4 division.
func (id ID) WithSector(s string) (ID, error) {
	if err := id.validate(); err != nil {
		return ID{}, err
	}
	if f := checkSector(s); f != nil {
		return ID{}, f.at(s, 0)
	}
	return ID{Country: id.Country, CityNumber: id.CityNumber, Sector: s}, nil
}

// WithUnit returns unit u of id's sector; id's local id is dropped. It fails
// if id is not valid, has no sector, or u is not a unit number.
func (id ID) WithUnit(u string) (ID, error) {
	if err := id.validate(); err != nil {
		return ID{}, err
	}
	if id.Sector == "" {
		return ID{}, &Error{Code: ErrEmpty, Msg: "identifier " + id.String() + " has no sector: a unit belongs to a sector"}
	}
	if f := checkUnit(u); f != nil {
		return ID{}, f.at(u, 0)
	}
	return ID{Country: id.Country, CityNumber: id.CityNumber, Sector: id.Sector, Unit: u}, nil
}

// WithLocal returns the object with local id l under id's node (any local id
// of id is replaced). l may be in any case; the ID holds it in lowercase.
func (id ID) WithLocal(l string) (ID, error) {
	if err := id.validate(); err != nil {
		return ID{}, err
	}
	local, err := ParseLocal(l)
	if err != nil {
		return ID{}, err
	}
	id.Local = local
	return id, nil
}
