package api_test

import (
	"bytes"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/cityid/cityid/internal/api"
)

// GET /v1/ids/{id}/qr.png and qr.svg: the QR code of the identifier's
// resolver URL under the node's public URL, at the size and error
// correction asked for; only for a registered identifier.
func TestQR(t *testing.T) {
	s := serveStory(t, api.Options{PublicURL: "https://sjz.example.org/"})
	r := s.get("/v1/ids/1561301001.85.1/SCHOOL-0042/qr.png?size=300&level=Q")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "image/png" ||
		r.header.Get("Content-Disposition") != `inline; filename="1561301001-85-1_school-0042.png"` {
		t.Fatalf("qr.png: %d %v", r.status, r.header)
	}
	img, err := png.Decode(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	// At most size×size, modules being whole pixels: at least 3/4 of it
	// for a code this small.
	if b := img.Bounds(); b.Dx() > 300 || b.Dx() < 225 || b.Dy() != b.Dx() {
		t.Errorf("qr.png is %v, want a square of at most 300 pixels and nearly that", b)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://sjz.example.org/r/1561301001.85.1/school-0042"; res.GetText() != want {
		t.Errorf("the QR code says %q, want %q", res.GetText(), want)
	}
	r = s.get("/v1/ids/1561301001.85.1/school-0042/qr.svg")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "image/svg+xml" || !bytes.HasPrefix(r.body, []byte("<svg")) {
		t.Errorf("qr.svg: %d %s %.40s", r.status, r.header.Get("Content-Type"), r.body)
	}
	s.problem("/v1/ids/1561301001.85.1/nobody/qr.png", http.StatusNotFound, CodeNotFound, "is not registered")
	s.problem("/v1/ids/1561301001.85.1/school-0042/qr.png?size=10", http.StatusBadRequest, CodeBadRequest, "")
	s.problem("/v1/ids/1561301001.85.1/school-0042/qr.png?size=big", http.StatusBadRequest, CodeBadRequest, `size "big" is not a number of pixels`)
	s.problem("/v1/ids/1561301001.85.1/school-0042/qr.svg?level=Z", http.StatusBadRequest, CodeBadRequest, "")
	if p := s.problem("/v1/ids/1561301001.85.1/school!/qr.png", http.StatusBadRequest, "invalid_id", "bad_char"); !strings.Contains(p.Detail, "school!") {
		t.Errorf("bad identifier: %q does not name it", p.Detail)
	}
}
