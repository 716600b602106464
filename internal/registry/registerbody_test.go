package registry

import (
	"reflect"
	"testing"
)

// registerBodySeeds are register bodies in and just outside the plain
// form parseRegisterBody reads.
var registerBodySeeds = []string{
	`{"kind":"register","nonce":1,"msg":{"id":"1561301001.85.1/obj-00000001","values":[{"index":0,"type":"URL","data":"https://sjz.example.org/s/00000001","ttl":0},{"index":0,"type":"TEXT","data":"School 00000001, Zhongshan","ttl":0}]}}`,
	`{"kind":"register","nonce":18446744073709551615,"valid_until_height":7,"msg":{"id":"1561301001.85.1","allocate":true,"values":[{"type":"TEXT","data":"多福巷社区居委会","index":4294967295,"ttl":86400}],"admins":["ab","cd"]}}`,
	`{"msg":{"values":[{"type":"TEXT"}],"allocate":false,"id":"x"},"nonce":2,"kind":"register"}`,
	`{"kind":"register","nonce":18446744073709551616,"msg":{"id":"x"}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","values":[{"index":4294967296}]}}`,
	`{"kind":"register","nonce":01,"msg":{"id":"x"}}`,
	`{"kind":"register","nonce":0,"msg":{"id":"x"}}`,
	`{"kind":"register","nonce":-1,"msg":{"id":"x"}}`,
	`{"kind":"register","nonce":1e2,"msg":{"id":"x"}}`,
	`{"kind":"register","nonce":1.0,"msg":{"id":"x"}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","values":[]}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","values":null}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","admins":[]}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","allocate":null}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","allocate":"true"}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","allocate":truex}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x\n"}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x\u0041"}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","values":[{"dataset":{"uri":"u"}}]}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","extra":1}}`,
	`{"kind":"register","nonce":1,"msg":{}}`,
	`{"kind":"register","nonce":1,"msg":null}`,
	`{"kind":"register","nonce":1}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x"}} `,
	`{"kind":"register","nonce":1,"msg":{"id":"x"}}{}`,
	`{"kind": "register","nonce":1,"msg":{"id":"x"}}`,
	`{"kind":"update","nonce":1,"msg":{"id":"x"}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","values":[{"type":"URL"},]}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x",}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x"`,
	`{"kind":"register","nonce":1,"nonce":2,"msg":{"id":"x"}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","id":"y"}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","values":[{"type":"URL","type":"TEXT"}]}}`,
	`{"kind":"register","nonce":1,"msg":{"id":"x","values":[{"index":1,"type":"URL","data":"d","ttl":1,"ttl":2}]}}`,
}

// TestRegisterBody runs FuzzRegisterBody's check on its seeds, and checks
// that the plain form is read.
func TestRegisterBody(t *testing.T) {
	read := 0
	for _, s := range registerBodySeeds {
		if checkRegisterBody(t, []byte(s)) {
			read++
		}
	}
	// The first three, and nonce 0, which decodeBody refuses after.
	if read != 4 {
		t.Errorf("parseRegisterBody read %d seeds, want 4", read)
	}
	if _, _, ok := parseRegisterBody([]byte(registerBodySeeds[0])); !ok {
		t.Error("parseRegisterBody does not read what NewBody writes")
	}
}

// FuzzRegisterBody: whatever parseRegisterBody reads, of a body that
// passed the check decodeBody makes first (text), passes checkObjectKeys,
// and the JSON decoders read to the same body and message; what it does
// not read they judge themselves.
func FuzzRegisterBody(f *testing.F) {
	for _, s := range registerBodySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkRegisterBody(t, b) })
}

func checkRegisterBody(t *testing.T, b []byte) (read bool) {
	t.Helper()
	if checkBodyText(b) != nil {
		return false
	}
	body, reg, ok := parseRegisterBody(b)
	if ok {
		if err := checkObjectKeys(b); err != nil {
			t.Fatalf("%s: read plainly, checkObjectKeys refuses it: %v", b, err)
		}
	}
	if !ok {
		if reg != nil || !reflect.DeepEqual(body, Body{}) {
			t.Fatalf("%s: refused, but read %+v %+v", b, body, reg)
		}
		return false
	}
	var want Body
	if err := decodeBodyJSON(b, &want); err != nil {
		t.Fatalf("%s: read plainly, the decoder refuses it: %v", b, err)
	}
	var wantMsg Register
	if err := decodeBodyJSON(want.Msg, &wantMsg); err != nil {
		t.Fatalf("%s: read plainly, the decoder refuses its msg: %v", b, err)
	}
	want.Msg = nil
	if !reflect.DeepEqual(body, want) || !reflect.DeepEqual(*reg, wantMsg) {
		t.Fatalf("%s: read plainly as\n%+v %+v\nthe decoders read\n%+v %+v", b, body, *reg, want, wantMsg)
	}
	return true
}
