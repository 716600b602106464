package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

const goodSHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func goodDataset() M {
	return M{"uri": "https://node.sjz.example/datasets/water-quality-2025.csv", "sha256": goodSHA, "size": 48213, "media_type": "text/csv"}
}

// TestValueRejections registers an object with one bad value (or a bad set
// of values) per case; every case must be refused with its code, the message
// must name the value and what is wrong with it, and state must not change.
func TestValueRejections(t *testing.T) {
	w := newWorld(t)
	ua := w.unitAdmin
	reg := func(values ...M) func(t testing.TB) []byte {
		return func(t testing.TB) []byte {
			return ua.tx(t, KindRegister, M{"id": w.unit + "/v", "values": values})
		}
	}
	v := func(typ, data string) M { return M{"type": typ, "data": data} }
	ds := func(change func(M)) M {
		d := goodDataset()
		change(d)
		return M{"type": "DATA", "dataset": d}
	}
	many := func(n int) []M {
		out := make([]M, n)
		for i := range out {
			out[i] = v("TEXT", fmt.Sprint("value ", i+1))
		}
		return out
	}

	tests := []struct {
		name string
		tx   func(t testing.TB) []byte
		code string
		msg  []string
	}{
		{"URL without a scheme", reg(v("URL", "example.org/x")), CodeBadValue,
			[]string{`value 1 (URL): "example.org/x" is not an absolute URL`}},
		{"URL empty", reg(v("URL", "")), CodeBadValue, []string{"URL is empty"}},
		{"https URL without a host", reg(v("URL", "https:///path")), CodeBadValue, []string{`"https:///path" has no host`}},
		{"URL with a space", reg(v("URL", "https://a.example/a b")), CodeBadValue, []string{"space or control character"}},
		{"URL that does not parse", reg(v("URL", "https://a b.example/")), CodeBadValue, []string{"is not a URL"}},
		{"EMAIL with a display name", reg(v("EMAIL", "School <office@school.example>")), CodeBadValue,
			[]string{`value 1 (EMAIL): "School <office@school.example>" is not a bare e-mail address`}},
		{"EMAIL in angle brackets", reg(v("EMAIL", "<office@school.example>")), CodeBadValue, []string{"not a bare e-mail address"}},
		{"EMAIL without @", reg(v("EMAIL", "office")), CodeBadValue, []string{`"office" is not a bare e-mail address`}},
		{"GEO latitude 90.1", reg(v("GEO", "90.1,114.5")), CodeBadValue, []string{`value 1 (GEO): latitude "90.1": out of range ±90`}},
		{"GEO latitude -90.5", reg(v("GEO", "-90.5,114.5")), CodeBadValue, []string{`latitude "-90.5": out of range ±90`}},
		{"GEO longitude 180.0001", reg(v("GEO", "38.04,180.0001")), CodeBadValue, []string{`longitude "180.0001": out of range ±180`}},
		{"GEO longitude 181", reg(v("GEO", "0,181")), CodeBadValue, []string{`longitude "181": out of range ±180`}},
		{"GEO altitude 99999.5", reg(v("GEO", "0,0,99999.5")), CodeBadValue, []string{`altitude "99999.5": out of range ±99999`}},
		{"GEO words", reg(v("GEO", "north,east")), CodeBadValue, []string{`latitude "north": not a decimal number`}},
		{"GEO one number", reg(v("GEO", "38.04")), CodeBadValue, []string{`"38.04" is not lat,lon or lat,lon,alt`}},
		{"GEO four numbers", reg(v("GEO", "1,2,3,4")), CodeBadValue, []string{"is not lat,lon or lat,lon,alt"}},
		{"GEO with a space", reg(v("GEO", "38.04, 114.5")), CodeBadValue, []string{`longitude " 114.5": not a decimal number`}},
		{"GEO with a plus sign", reg(v("GEO", "+38.04,114.5")), CodeBadValue, []string{"not a decimal number"}},
		{"GEO with a bare point", reg(v("GEO", "38.,114.5")), CodeBadValue, []string{"not a decimal number"}},
		{"GEO with 13 decimals", reg(v("GEO", "38.0000000000001,114.5")), CodeBadValue, []string{"not a decimal number"}},
		{"GEO exponent", reg(v("GEO", "3.8e1,114.5")), CodeBadValue, []string{"not a decimal number"}},
		{"GEO empty", reg(v("GEO", "")), CodeBadValue, []string{"is not lat,lon"}},
		{"TEXT with a bell", reg(v("TEXT", "bell\x07")), CodeBadValue, []string{`value 1 (TEXT): byte 5: control character '\a'`}},
		{"TEXT with a carriage return", reg(v("TEXT", "line\r\n")), CodeBadValue, []string{`control character '\r'`}},
		{"TEXT with DEL", reg(v("TEXT", "x\x7f")), CodeBadValue, []string{"control character"}},
		{"TEXT with a C1 control", reg(v("TEXT", "x\u0085")), CodeBadValue, []string{"control character"}},
		{"DATA without a dataset", reg(M{"type": "DATA"}), CodeBadValue, []string{"a DATA value needs a dataset"}},
		{"DATA with data instead", reg(M{"type": "DATA", "data": "https://x.example/d.csv", "dataset": goodDataset()}), CodeBadValue,
			[]string{"a DATA value carries its dataset, not data"}},
		{"DATA sha256 in uppercase", reg(ds(func(d M) { d["sha256"] = strings.ToUpper(goodSHA) })), CodeBadValue,
			[]string{"dataset sha256", "is not 64 lowercase hex digits"}},
		{"DATA sha256 of 63 digits", reg(ds(func(d M) { d["sha256"] = goodSHA[:63] })), CodeBadValue,
			[]string{"is not 64 lowercase hex digits"}},
		{"DATA sha256 missing", reg(ds(func(d M) { delete(d, "sha256") })), CodeBadValue, []string{`dataset sha256 ""`}},
		{"DATA media type without subtype", reg(ds(func(d M) { d["media_type"] = "csv" })), CodeBadValue,
			[]string{`dataset media_type "csv" is not type/subtype`}},
		{"DATA media type with a space", reg(ds(func(d M) { d["media_type"] = "text/ csv" })), CodeBadValue,
			[]string{`dataset media_type "text/ csv"`}},
		{"DATA media type missing", reg(ds(func(d M) { delete(d, "media_type") })), CodeBadValue, []string{`media_type ""`}},
		{"DATA negative size", reg(ds(func(d M) { d["size"] = -1 })), CodeBadValue, []string{"dataset size -1 is negative"}},
		{"DATA uri without a scheme", reg(ds(func(d M) { d["uri"] = "node.sjz.example/d.csv" })), CodeBadValue,
			[]string{"dataset uri:", "not an absolute URL"}},
		{"DATA unknown dataset field", reg(ds(func(d M) { d["md5"] = "x" })), CodeMalformed, []string{`unknown field "md5"`}},
		{"dataset on a TEXT value", reg(M{"type": "TEXT", "data": "x", "dataset": goodDataset()}), CodeBadValue,
			[]string{"only a DATA value has a dataset"}},
		{"ALIAS with a bad check character", reg(v("ALIAS", "1561301002.85")), CodeBadValue,
			[]string{"value 1 (ALIAS)", "position 10", "bad_check_char"}},
		{"ALIAS empty", reg(v("ALIAS", "")), CodeBadValue, []string{"value 1 (ALIAS)"}},
		{"ALIAS to a URL", reg(v("ALIAS", "https://x.example/")), CodeBadValue, []string{"value 1 (ALIAS)", "position 1"}},
		{"ADMIN is reserved", reg(v("ADMIN", w.cityAdmin.pub)), CodeBadValue,
			[]string{"ADMIN is reserved: set a record's admins with its admins field"}},
		{"user type with a space", reg(v("bad type", "x")), CodeBadValue,
			[]string{`type "bad type" is neither a registry type`}},
		{"registry type in lowercase", reg(v("url", "https://x.example/")), CodeBadValue, []string{`type "url"`}},
		{"user type with an uppercase namespace", reg(v("Gov:meter", "x")), CodeBadValue, []string{`type "Gov:meter"`}},
		{"user type with an empty name", reg(v("gov:", "x")), CodeBadValue, []string{`type "gov:"`}},
		{"user type with an empty namespace", reg(v(":meter", "x")), CodeBadValue, []string{`type ":meter"`}},
		{"user type namespace starting with a hyphen", reg(v("-gov:meter", "x")), CodeBadValue, []string{`type "-gov:meter"`}},
		{"user type namespace ending with a dot", reg(v("gov.:meter", "x")), CodeBadValue, []string{`type "gov.:meter"`}},
		{"user type with a slash in the name", reg(v("gov:meter/id", "x")), CodeBadValue, []string{`type "gov:meter/id"`}},
		{"user type over MaxTypeBytes", reg(v("gov:"+strings.Repeat("m", MaxTypeBytes-3), "x")), CodeBadValue, []string{"is neither a registry type"}},
		{"user type with a control character in its data", reg(v("gov:meter", "a\x1bb")), CodeBadValue, []string{"control character"}},
		{"type missing", reg(M{"data": "x"}), CodeBadValue, []string{`type ""`}},
		{"ttl over MaxTTL", reg(M{"type": "TEXT", "data": "x", "ttl": MaxTTL + 1}), CodeBadValue,
			[]string{fmt.Sprintf("value 1: ttl %d is more than %d seconds", MaxTTL+1, MaxTTL)}},
		{"index over MaxValueIndex", reg(M{"type": "TEXT", "data": "x", "index": MaxValueIndex + 1}), CodeBadValue,
			[]string{fmt.Sprintf("value 1: index %d is more than %d", MaxValueIndex+1, MaxValueIndex)}},
		{"indexes given to some values only", reg(M{"type": "TEXT", "data": "a", "index": 1}, v("TEXT", "b")), CodeBadValue,
			[]string{"give an index to every value or to none"}},
		{"duplicate index", reg(M{"type": "TEXT", "data": "a", "index": 2}, M{"type": "URL", "data": "https://x.example/", "index": 2}),
			CodeBadValue, []string{"index 2 is used by two values"}},
		{"the message names the second value", reg(v("TEXT", "fine"), v("GEO", "91,0")), CodeBadValue,
			[]string{`value 2 (GEO): latitude "91"`}},
		{"more than MaxValues values", reg(many(MaxValues + 1)...), CodeTooLarge,
			[]string{fmt.Sprintf("%d values, more than the %d allowed", MaxValues+1, MaxValues)}},
		{"index as a string", reg(M{"type": "TEXT", "data": "x", "index": "1"}), CodeMalformed, []string{"register msg:"}},
		{"unknown value field", reg(M{"type": "TEXT", "data": "x", "lang": "zh"}), CodeMalformed, []string{`unknown field "lang"`}},
		{"update with a bad value", func(t testing.TB) []byte {
			return ua.tx(t, KindUpdate, M{"id": w.object, "version": 1, "values": []M{v("GEO", "0,180.0001")}})
		}, CodeBadValue, []string{`longitude "180.0001": out of range ±180`}},
		{"sector with a bad value", func(t testing.TB) []byte {
			return w.cityAdmin.tx(t, KindRegisterSector, M{"id": "1561301001.36", "values": []M{v("EMAIL", "x")}})
		}, CodeBadValue, []string{"value 1 (EMAIL)"}},
		{"unit with a bad value", func(t testing.TB) []byte {
			return w.cityAdmin.tx(t, KindRegisterUnit, M{"parent": w.sector, "name": "x", "values": []M{v("URL", "x")}})
		}, CodeBadValue, []string{"value 1 (URL)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.h.expectRejected(t, tc.tx(t), tc.code, tc.msg...)
		})
	}
}

// TestValuesAccepted registers values at their bounds and in shapes that
// must be put in canonical form, and reads back what was stored.
func TestValuesAccepted(t *testing.T) {
	w := newWorld(t)
	n := 0
	register := func(t *testing.T, values ...M) []Value {
		t.Helper()
		n++
		id := fmt.Sprintf("%s/ok-%d", w.unit, n)
		w.h.mustApply(t, w.unitAdmin.tx(t, KindRegister, M{"id": id, "values": values}))
		return w.h.record(t, id).Values
	}
	one := func(t *testing.T, value M, want Value) {
		t.Helper()
		got := register(t, value)
		if len(got) != 1 || !valueEqual(got[0], want) {
			t.Errorf("stored %+v, want %+v", got, want)
		}
	}
	v := func(typ, data string) M { return M{"type": typ, "data": data} }
	tests := []struct {
		name  string
		value M
		want  Value
	}{
		{"URL https", v("URL", "https://school.example/a?b=c#d"), Value{1, "URL", "https://school.example/a?b=c#d", nil, DefaultTTL}},
		{"URL of another scheme", v("URL", "mailto:office@school.example"), Value{1, "URL", "mailto:office@school.example", nil, DefaultTTL}},
		{"EMAIL bare", v("EMAIL", "office@school.example"), Value{1, "EMAIL", "office@school.example", nil, DefaultTTL}},
		{"GEO lat,lon", v("GEO", "38.0428,114.5149"), Value{1, "GEO", "38.0428,114.5149", nil, DefaultTTL}},
		{"GEO at the limits", v("GEO", "-90.000,180"), Value{1, "GEO", "-90.000,180", nil, DefaultTTL}},
		{"GEO with altitude", v("GEO", "38.0428,114.5149,-99999"), Value{1, "GEO", "38.0428,114.5149,-99999", nil, DefaultTTL}},
		{"GEO with 12 decimals", v("GEO", "38.042800000001,0"), Value{1, "GEO", "38.042800000001,0", nil, DefaultTTL}},
		{"TEXT with tab, newline and Chinese", v("TEXT", "第四十二中学\n\tNo. 42"), Value{1, "TEXT", "第四十二中学\n\tNo. 42", nil, DefaultTTL}},
		{"TEXT of exactly MaxValueBytes", v("TEXT", strings.Repeat("x", MaxValueBytes)), Value{1, "TEXT", strings.Repeat("x", MaxValueBytes), nil, DefaultTTL}},
		{"ALIAS put in canonical form", v("ALIAS", "1561301001.85.1/SCHOOL-0042"), Value{1, "ALIAS", "1561301001.85.1/school-0042", nil, DefaultTTL}},
		{"ALIAS check character x becomes X", v("ALIAS", "156110100x.86"), Value{1, "ALIAS", "156110100X.86", nil, DefaultTTL}},
		{"user type ns:name", v("ns:name", "42"), Value{1, "ns:name", "42", nil, DefaultTTL}},
		{"user type with dots and hyphens", v("gov.cn-x:Meter_ID.v-2", "A-17"), Value{1, "gov.cn-x:Meter_ID.v-2", "A-17", nil, DefaultTTL}},
		{"ttl of exactly MaxTTL", M{"type": "TEXT", "data": "x", "ttl": MaxTTL}, Value{1, "TEXT", "x", nil, MaxTTL}},
		{"index of exactly MaxValueIndex", M{"type": "TEXT", "data": "x", "index": MaxValueIndex}, Value{MaxValueIndex, "TEXT", "x", nil, DefaultTTL}},
		{"DATA with a dataset", M{"type": "DATA", "dataset": goodDataset()}, Value{1, "DATA", "", &Dataset{
			URI: "https://node.sjz.example/datasets/water-quality-2025.csv", SHA256: goodSHA, Size: 48213, MediaType: "text/csv"}, DefaultTTL}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { one(t, tc.value, tc.want) })
	}
	t.Run("indexes 1, 2, 3 when none is given", func(t *testing.T) {
		got := register(t, v("TEXT", "a"), v("TEXT", "b"), v("TEXT", "c"))
		for i, val := range got {
			if val.Index != uint32(i+1) || val.Data != string(rune('a'+i)) {
				t.Errorf("value %d: %+v", i, val)
			}
		}
	})
	t.Run("given indexes are kept and sorted", func(t *testing.T) {
		got := register(t, M{"type": "TEXT", "data": "five", "index": 5}, M{"type": "TEXT", "data": "two", "index": 2}, M{"type": "TEXT", "data": "hundred", "index": 200})
		want := []string{"2 two", "5 five", "200 hundred"}
		for i, val := range got {
			if s := fmt.Sprint(val.Index, " ", val.Data); i >= len(want) || s != want[i] {
				t.Errorf("value %d: %s, want %v", i, s, want)
			}
		}
	})
	t.Run("exactly MaxValues values", func(t *testing.T) {
		var vals []M
		for i := 0; i < MaxValues; i++ {
			vals = append(vals, v("TEXT", fmt.Sprint(i)))
		}
		if got := register(t, vals...); len(got) != MaxValues {
			t.Errorf("%d values stored", len(got))
		}
	})
	t.Run("no values", func(t *testing.T) {
		if got := register(t); got == nil || len(got) != 0 {
			t.Errorf("values %#v, want empty", got)
		}
	})
}

func valueEqual(a, b Value) bool {
	if a.Index != b.Index || a.Type != b.Type || a.Data != b.Data || a.TTL != b.TTL || (a.Dataset == nil) != (b.Dataset == nil) {
		return false
	}
	return a.Dataset == nil || *a.Dataset == *b.Dataset
}

// TestRecordGolden pins the stored encoding of records: the bytes under
// id/<identifier> are consensus state (they make the app hash), so a change
// of field name, order or format must be deliberate.
func TestRecordGolden(t *testing.T) {
	w := newWorld(t)
	h := w.h
	id := w.unit + "/pump-7"
	h.mustApply(t, w.unitAdmin.tx(t, KindRegister, M{
		"id":     "1561301001.85.1/Pump-7",
		"admins": []string{w.unitAdmin.pub, w.stranger.pub},
		"values": []M{
			{"type": "URL", "data": "https://water.sjz.example/pumps/7"},
			{"type": "EMAIL", "data": "pumps@water.sjz.example"},
		},
	}))
	h.mustApply(t, w.unitAdmin.tx(t, KindUpdate, M{"id": id, "version": 1, "values": []M{
		{"index": 1, "type": "URL", "data": "https://water.sjz.example/pumps/7"},
		{"index": 2, "type": "EMAIL", "data": "pumps@water.sjz.example", "ttl": 3600},
		{"index": 3, "type": "TEXT", "data": "7号泵站\nNo. 7 pumping station"},
		{"index": 4, "type": "GEO", "data": "38.0428,114.5149,81"},
		{"index": 5, "type": "DATA", "dataset": goodDataset()},
		{"index": 6, "type": "ALIAS", "data": "1561301001.85.1/SCHOOL-0042"},
		{"index": 200, "type": "gov.cn:meter", "data": "M-0007", "ttl": MaxTTL},
	}}))
	h.mustApply(t, w.stranger.tx(t, KindDeactivate, M{"id": id, "version": 2, "reason": "under repair"}))

	t.Run("object record", func(t *testing.T) {
		goldenJSON(t, "record_object.json", h.rawRecord(t, id))
	})
	t.Run("city record", func(t *testing.T) {
		goldenJSON(t, "record_city.json", h.rawRecord(t, w.city))
	})
	t.Run("application", func(t *testing.T) {
		b, err := h.kv.Get(ApplicationKey(w.cityApp))
		if err != nil {
			t.Fatal(err)
		}
		goldenJSON(t, "application_approved.json", b)
	})
	// The HTTP API sends a stored record as it is, as the answer's record:
	// that holds only while the stored bytes are exactly what encoding/json
	// makes of the decoded Record.
	t.Run("stored record is the answer", func(t *testing.T) {
		for _, rid := range []string{id, w.unit, w.city} {
			stored := h.rawRecord(t, rid)
			again, err := json.Marshal(h.record(t, rid))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(stored, again) {
				t.Errorf("%s: stored\n%s\nre-encoded\n%s", rid, stored, again)
			}
		}
	})
	t.Run("state decoders agree", func(t *testing.T) {
		for _, rid := range []string{id, w.unit, w.sector, w.city} {
			checkStateDecoders[Record](t, h.rawRecord(t, rid))
		}
		b, err := h.kv.Get(ApplicationKey(w.cityApp))
		if err != nil {
			t.Fatal(err)
		}
		checkStateDecoders[Application](t, b)
	})
	t.Run("stamps come from the block header", func(t *testing.T) {
		rec := h.record(t, id)
		if rec.Created.Height != 7 || !rec.Created.Time.Equal(blockTime(7)) || rec.Updated.Height != 9 || !rec.Updated.Time.Equal(blockTime(9)) {
			t.Errorf("created %+v updated %+v, want heights 7 and 9 at their block times", rec.Created, rec.Updated)
		}
	})
}

func TestGenesis(t *testing.T) {
	keys := func(n int) []string {
		var ks []string
		for i := 1; i <= n; i++ {
			ks = append(ks, pubHex(testKey(fmt.Sprint("authority-", i))))
		}
		return ks
	}
	params := M{"oid_arc": "1.3.6.1.4.1.99999", "iac": "MA"}
	gen := func(members []string, threshold int, p M) M {
		return M{"authority": M{"members": members, "threshold": threshold}, "params": p}
	}
	t.Run("stored as given", func(t *testing.T) {
		h := newHarness(t, 3, 2)
		a, err := GetAuthority(h.kv)
		if err != nil || a.Threshold != 2 || strings.Join(a.Members, ",") != strings.Join(keys(3), ",") {
			t.Errorf("authority %+v, %v", a, err)
		}
		p, err := GetParams(h.kv)
		if err != nil || p != (Params{OIDArc: "1.3.6.1.4.1.99999", IAC: "MA"}) {
			t.Errorf("params %+v, %v", p, err)
		}
	})
	t.Run("empty state has no authority", func(t *testing.T) {
		if _, err := GetAuthority(newMemKV(t)); err == nil {
			t.Error("GetAuthority on empty state: no error")
		}
	})
	for _, tc := range []struct {
		name string
		gen  any
		msg  string
	}{
		{"no members", gen(nil, 1, params), "authority has no members"},
		{"threshold 0", gen(keys(3), 0, params), "threshold 0 is not between 1 and its 3 members"},
		{"threshold over the members", gen(keys(3), 4, params), "threshold 4 is not between 1 and its 3 members"},
		{"member twice", gen(append(keys(2), keys(1)...), 2, params), "listed twice"},
		{"member key in uppercase", gen([]string{strings.ToUpper(keys(1)[0])}, 1, params), "lowercase hex"},
		{"more than MaxAuthority members", gen(keys(MaxAuthority+1), 1, params), "more than the 64 allowed"},
		{"OID arc with a leading zero", gen(keys(1), 1, M{"oid_arc": "1.03.6", "iac": "MA"}), "arc 2 is not a number"},
		{"OID arc missing", gen(keys(1), 1, M{"iac": "MA"}), "oid_arc is required"},
		{"IAC in lowercase", gen(keys(1), 1, M{"oid_arc": "1.3", "iac": "ma"}), `iac "ma"`},
		{"IAC of four characters", gen(keys(1), 1, M{"oid_arc": "1.3", "iac": "ABCD"}), `iac "ABCD"`},
		{"unknown field", M{"authority": M{"members": keys(1), "threshold": 1}, "params": params, "validators": []string{}}, `unknown field "validators"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(tc.gen)
			kv := newMemKV(t)
			err := New(testChainID).InitGenesis(kv, b, nil)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("InitGenesis = %v, want an error containing %q", err, tc.msg)
			}
			if kv.writes != 0 {
				t.Errorf("a refused genesis wrote %d keys", kv.writes)
			}
		})
	}
}

// checkStateDecoders fails unless DecodeState reads stored bytes b to the
// very value encoding/json (v1, the encoder of state) reads.
func checkStateDecoders[T any](t testing.TB, b []byte) {
	t.Helper()
	var v1, v2 T
	if err := json.Unmarshal(b, &v1); err != nil {
		t.Fatalf("encoding/json: %v\n%s", err, b)
	}
	if err := DecodeState(b, &v2); err != nil {
		t.Fatalf("DecodeState: %v\n%s", err, b)
	}
	e1, err1 := json.Marshal(v1)
	e2, err2 := json.Marshal(v2)
	if err1 != nil || err2 != nil || !bytes.Equal(e1, e2) {
		t.Fatalf("decoders disagree on\n%s\nencoding/json read\n%s\nDecodeState read\n%s", b, e1, e2)
	}
}
