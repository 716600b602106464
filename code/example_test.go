package code_test

import (
	"fmt"

	"github.com/cityid/cityid/code"
)

func ExampleParse() {
	id, err := code.Parse("1561301001.85.3/SCHOOL-0042")
	if err != nil {
		panic(err)
	}
	fmt.Println(id)
	fmt.Println(id.Kind(), id.Country, id.CityNumber, id.Sector, id.Unit, id.Local)
	parent, _ := id.Parent()
	fmt.Println(parent)

	_, err = code.Parse("1561301007.85.3")
	fmt.Println(err, code.ErrorCode(err))
	// Output:
	// 1561301001.85.3/school-0042
	// object 156 130100 85 3 school-0042
	// 1561301001.85.3
	// position 10: check character is 7, want 1 bad_check_char
}

func ExampleCityCode() {
	shijiazhuang, _ := code.CityCode("156", "130100")
	xiamen, _ := code.CityCode("156", "350200")
	fmt.Println(shijiazhuang, xiamen)

	_, err := code.CityCode("999", "130100")
	fmt.Println(err)
	// Output:
	// 1561301001 156350200X
	// position 1: country 999 is not an ISO 3166-1 numeric code
}

func ExampleID_DNSName() {
	id, _ := code.Parse("1561301001.85.3/school-0042")
	name := id.DNSName("cityid.internal")
	fmt.Println(name)

	back, _ := code.ParseDNSName("cityid.internal.", "SCHOOL-0042.3.85.1561301001.CityID.Internal")
	fmt.Println(back == id)

	_, err := code.ParseDNSName("cityid.internal.", "www.example.org.")
	fmt.Println(code.ErrorCode(err))
	// Output:
	// school-0042.3.85.1561301001.cityid.internal.
	// true
	// outside_zone
}

func ExampleCheckChar() {
	c, _ := code.CheckChar("000000021825009") // ORCID 0000-0002-1825-0097
	fmt.Printf("%c\n", c)
	// Output: 7
}

func ExampleDescribe() {
	id, _ := code.Parse("1561301001.85.3")
	d := code.Describe(id, code.DefaultFormOptions())
	fmt.Println(d.Country.NameEn, "/", d.Sector.Title)
	fmt.Println(d.Forms.URN)
	fmt.Println(d.Forms.ISO15459)
	fmt.Println(d.Forms.ResolverURL)
	// Output:
	// People's Republic of China / Education
	// urn:cityid:1561301001.85.3
	// MA.156.130100.85.3
	// http://127.0.0.1:8680/r/1561301001.85.3
}
