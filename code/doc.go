// Package code owns the CityID identifier: its grammar, its canonical text
// form, its other forms, and the two reference tables the grammar depends on.
//
// The grammar (DESIGN section 1):
//
//	identifier  = node-code [ "/" local-id ]
//	node-code   = city-code [ "." sector [ "." unit ] ]
//	city-code   = country city-number check   ; 10 characters: 1561301001
//	country     = 3DIGIT     ; ISO 3166-1 numeric, in the table
//	city-number = 6DIGIT     ; GB/T 2260 in China, else allocated by the registry
//	check       = DIGIT / "X" ; ISO/IEC 7064 MOD 11-2 over the 9 digits before it
//	sector      = 2DIGIT     ; an ISIC Rev.4 division, in the table
//	unit        = 1*6DIGIT   ; no leading zero
//	local-id    = 1*64( ALPHA / DIGIT / "-" / "_" ) ; case-insensitive
//
// Example: 1561301001.85.3/school-0042 is Shijiazhuang (156 China, 130100,
// check 1), education (ISIC 85), unit 3, object school-0042.
//
// Every identifier has one canonical text form (check character 'X' in
// uppercase, local id in lowercase), held by the comparable value ID.
// Parse(id.String()) == id for every valid id, and each other form converts
// both ways and round-trips to the same ID: URN, OID (nodes only), DNS name,
// Handle prefix and suffix, ISO/IEC 15459 and resolver URL. The forms that
// depend on the network's settings (OID arc, DNS zone, issuing agency code,
// resolver base) take them as arguments; see FormOptions.
//
// Every rejection is an *Error with a stable code (the Err* constants) and
// the 1-based character position of the problem, so that the CLI, the HTTP
// API and the DNS front end report it the same way.
//
// What this package must not do: any I/O (files, network, clock, environment),
// hold mutable global state, or panic on any input. It knows nothing about
// the registry: whether an identifier is issued, registered or deactivated is
// the registry's business, not the grammar's. Its tables are embedded copies
// of shared/data/iso3166-1.csv and isic-rev4-divisions.csv, parsed once on
// first use and only read afterwards, so every function is safe for
// concurrent use.
package code
