package qr

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"strconv"
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

// TestEverySizeScans: at every level, a PNG is exactly the size asked for
// and a real decoder (gozxing, a port of ZXing) reads it at every size
// from the least allowed for its code to twice that, at every fifth to
// 400 pixels, and at sizes spread over the rest up to MaxSize; below the least, the size is refused
// with that least in the error.
func TestEverySizeScans(t *testing.T) {
	texts := []string{
		"http://127.0.0.1:8680/r/1561301001.85.1/school-0042",
		"https://resolver.example.org/r/1561301001",
		"https://resolver.example.org/r/1561301001.36.12/" + strings.Repeat("m", 64),
	}
	for _, text := range texts {
		for _, level := range []Level{L, M, Q, H} {
			least, err := MinSizeFor(text, level)
			if err != nil {
				t.Fatal(err)
			}
			// Every size over the first two scales (where a module is 2
			// and 3 pixels), then every fifth up to 400.
			sizes := []int{}
			for size := least; size <= 400; size++ {
				if size < least*2 || size%5 == 0 {
					sizes = append(sizes, size)
				}
			}
			for size := 401; size <= MaxSize; size += 173 {
				sizes = append(sizes, size)
			}
			sizes = append(sizes, MaxSize)
			for _, size := range sizes {
				img, err := Image(text, size, level)
				if err != nil {
					t.Fatalf("%d chars, level %s, size %d: %v", len(text), level, size, err)
				}
				if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
					t.Fatalf("%d chars, level %s: %v for size %d", len(text), level, b, size)
				}
				if got := decode(t, img); got != text {
					t.Fatalf("%d chars, level %s, size %d: decoded %q", len(text), level, size, got)
				}
			}
			if least > MinSize {
				_, err := PNG(text, least-1, level)
				var se *SizeError
				if !errors.As(err, &se) || se.Least != least || !strings.Contains(err.Error(), "at least "+strconv.Itoa(least)) {
					t.Errorf("%d chars, level %s, size %d: %v, want a refusal naming %d", len(text), level, least-1, err, least)
				}
			}
		}
	}
	// PNG is Image encoded, and reads back as it.
	b, err := PNG(texts[0], 256, M)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 256 || decode(t, img) != texts[0] {
		t.Errorf("the PNG of 256 pixels is %v and reads %q", img.Bounds(), decode(t, img))
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
