package registry

import (
	"strconv"
	"strings"
	"testing"
)

// A signed body has exactly one reading: repeated keys and keys that
// encoding/json would match only case-insensitively are refused.
func TestBodyKeysHaveOneReading(t *testing.T) {
	w := newWorld(t)
	nonce := w.cityAdmin.nextNonce(t)
	for _, c := range []struct {
		name, body, want string
	}{
		{"repeated nonce", `{"kind":"register","nonce":%d,"nonce":%d,"msg":{"id":"1561301001.85.1/a","values":[]}}`, `"nonce" appears twice`},
		{"upper-case key", `{"kind":"register","NONCE":%d,"msg":{"id":"1561301001.85.1/a","values":[]}}%.0d`, `keys are lowercase`},
		{"Kelvin sign folds to k", `{"\u212aind":"register","nonce":%d,"msg":{"id":"1561301001.85.1/a","values":[]}}%.0d`, `keys are lowercase`},
		{"repeated key in a value", `{"kind":"register","nonce":%d,"msg":{"id":"1561301001.85.1/a","values":[{"type":"TEXT","data":"a","data":"b"}]}}%.0d`, `"data" appears twice`},
		{"repeated id", `{"kind":"register","nonce":%d,"msg":{"id":"1561301001.85.1/a","id":"1561301001.85.1/b","values":[]}}%.0d`, `"id" appears twice`},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(strings.NewReplacer("%d", strconv.FormatUint(nonce, 10), "%.0d", "").Replace(c.body))
			tx := signBody(t, testChainID, body, w.cityAdmin.key)
			w.h.expectRejected(t, tx, CodeMalformed, c.want)
		})
	}
	// Keys inside string values are data, not keys.
	ok := w.cityAdmin.tx(t, KindRegister, M{"id": w.unit + "/quoted", "values": []M{{"type": "TEXT", "data": `{"a":1,"a":2,"B":3}`}}})
	w.h.mustApply(t, ok)
}

func TestNewRules(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		name string
		kind string
		msg  M
		code string
		want string
	}{
		{"javascript URL", KindRegister, M{"id": w.unit + "/js", "values": []M{{"type": "URL", "data": "javascript:alert(1)"}}}, CodeBadValue, `scheme "javascript"`},
		{"data URL", KindRegister, M{"id": w.unit + "/data", "values": []M{{"type": "URL", "data": "data:text/html,<b>x</b>"}}}, CodeBadValue, `scheme "data"`},
		{"bidi override in a name", KindRegisterUnit, M{"parent": w.sector, "name": "Water \u202eworks"}, CodeInvalid, "U+202E"},
		{"city number 000000", KindApplyCity, M{"country": "156", "city_number": "000000", "name": "nowhere"}, CodeInvalid, "reserved"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w.h.expectRejected(t, w.cityAdmin.tx(t, c.kind, c.msg), c.code, c.want)
		})
	}
}
