package qr

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zqr "github.com/makiuchi-d/gozxing/qrcode"
)

// decode reads a QR code back with gozxing, a port of ZXing.
func decode(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return res.GetText()
}

func TestPNGDecodes(t *testing.T) {
	for _, c := range []struct {
		text  string
		size  int
		level Level
	}{
		{"http://127.0.0.1:8680/r/1561301001.85.1/school-0042", 256, M},
		{"https://resolver.example.org/r/1561301001", 64, L},
		{"https://resolver.example.org/r/1561301001.36.12/" + strings.Repeat("m", 64), 512, H},
	} {
		b, err := PNG(c.text, c.size, c.level)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if got := img.Bounds().Dx(); got > c.size || got < c.size/2 {
			t.Errorf("%s: %d pixels for size %d", c.text, got, c.size)
		}
		if got := decode(t, img); got != c.text {
			t.Errorf("decoded %q, want %q", got, c.text)
		}
	}
}

func TestSVG(t *testing.T) {
	b, err := SVG("http://127.0.0.1:8680/r/1561301001?x=<&>", 300, Q)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.HasPrefix(s, `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300"`) || !strings.Contains(s, "&lt;&amp;&gt;") || !strings.Contains(s, `<path fill="#000" d="M`) {
		t.Fatalf("svg: %.300s", s)
	}
}

func TestBounds(t *testing.T) {
	if _, err := PNG("x", MinSize-1, M); err == nil {
		t.Error("size below the minimum accepted")
	}
	if _, err := SVG("x", MaxSize+1, M); err == nil {
		t.Error("size above the maximum accepted")
	}
	if _, err := PNG(strings.Repeat("x", 2000), MinSize, H); err == nil {
		t.Error("a symbol larger than the picture accepted")
	}
	if _, err := ParseLevel("Z"); err == nil {
		t.Error("level Z accepted")
	}
	if l, _ := ParseLevel("h"); l != H {
		t.Errorf("level h is %q", l)
	}
}
