// Package qr draws QR codes of identifiers' resolver URLs as PNG and SVG.
// It owns the picture only: the encoding of the symbol is boombuler/barcode's,
// the text to encode is the caller's (code.ID.ResolverURL).
package qr

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"

	"github.com/boombuler/barcode"
	bqr "github.com/boombuler/barcode/qr"
)

// Level is the error correction level: how much of the symbol may be
// damaged (dirt on a water main's plate) and still read.
type Level string

// The four levels of ISO/IEC 18004.
const (
	L Level = "L" // about 7% recoverable
	M Level = "M" // about 15%
	Q Level = "Q" // about 25%
	H Level = "H" // about 30%
)

// Bounds of a picture.
const (
	DefaultSize = 256
	MinSize     = 64
	MaxSize     = 2048
	// quietZone is the margin ISO/IEC 18004 requires, in modules.
	quietZone = 4
)

// ParseLevel reads a level name (any case); "" is M.
func ParseLevel(s string) (Level, error) {
	switch l := Level(strings.ToUpper(s)); l {
	case "":
		return M, nil
	case L, M, Q, H:
		return l, nil
	}
	return "", fmt.Errorf("error-correction level %q is not L, M, Q or H", s)
}

func (l Level) boombuler() bqr.ErrorCorrectionLevel {
	switch l {
	case L:
		return bqr.L
	case Q:
		return bqr.Q
	case H:
		return bqr.H
	}
	return bqr.M
}

// modules checks a picture's size in pixels, encodes text and returns the
// symbol (its dark modules) and its width in modules.
func modules(text string, size int, level Level) (barcode.Barcode, int, error) {
	if size < MinSize || size > MaxSize {
		return nil, 0, fmt.Errorf("size %d is not between %d and %d pixels", size, MinSize, MaxSize)
	}
	code, err := bqr.Encode(text, level.boombuler(), bqr.Auto)
	if err != nil {
		return nil, 0, fmt.Errorf("qr of %q: %w", text, err)
	}
	return code, code.Bounds().Dx(), nil
}

// PNG draws text as a QR code of exactly size×size pixels, its quiet zone
// included. Every module is the same whole number of pixels, at least
// minPixelsPerModule, and the symbol is centred in the rest, which widens
// the quiet zone by less than a module. A size too small for that is
// refused (*SizeError) with the smallest size that is not: a module of one
// pixel, or of a pixel and a half, is what scanners read wrong.
func PNG(text string, size int, level Level) ([]byte, error) {
	img, err := Image(text, size, level)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return b.Bytes(), nil
}

// minPixelsPerModule is the least width of a module, in pixels.
const minPixelsPerModule = 2

// MinSizeFor is the smallest size, in pixels, at which text's code at
// level is drawn.
func MinSizeFor(text string, level Level) (int, error) {
	code, err := bqr.Encode(text, level.boombuler(), bqr.Auto)
	if err != nil {
		return 0, fmt.Errorf("qr of %q: %w", text, err)
	}
	return max(MinSize, (code.Bounds().Dx()+2*quietZone)*minPixelsPerModule), nil
}

// Image is the picture PNG encodes.
func Image(text string, size int, level Level) (*image.Paletted, error) {
	code, n, err := modules(text, size, level)
	if err != nil {
		return nil, err
	}
	total := n + 2*quietZone
	scale := size / total
	if scale < minPixelsPerModule {
		return nil, &SizeError{Size: size, Least: total * minPixelsPerModule, Modules: total}
	}
	off := (size - scale*total) / 2
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	for y := 0; y < n; y++ {
		y0 := off + (y+quietZone)*scale
		for x := 0; x < n; x++ {
			if !dark(code, x, y) {
				continue
			}
			x0 := off + (x+quietZone)*scale
			for py := y0; py < y0+scale; py++ {
				for px := x0; px < x0+scale; px++ {
					img.SetColorIndex(px, py, 1)
				}
			}
		}
	}
	return img, nil
}

// SizeError is a size too small for the code it would draw.
type SizeError struct {
	Size, Least, Modules int
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("size %d is too small for this code of %d modules (its quiet zone included): it would not scan; ask for at least %d pixels",
		e.Size, e.Modules, e.Least)
}

// SVG draws text as a QR code size×size pixels, with its quiet zone, as
// one path of unit squares in a viewBox of modules: it scales without loss.
func SVG(text string, size int, level Level) ([]byte, error) {
	code, n, err := modules(text, size, level)
	if err != nil {
		return nil, err
	}
	total := n + 2*quietZone
	if size < total*minPixelsPerModule {
		return nil, &SizeError{Size: size, Least: total * minPixelsPerModule, Modules: total}
	}
	var p strings.Builder
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if dark(code, x, y) {
				fmt.Fprintf(&p, "M%d %dh1v1h-1z", x+quietZone, y+quietZone)
			}
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, size, size, total, total)
	fmt.Fprintf(&b, `<title>%s</title>`, xmlEscape(text))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`, total, total, p.String())
	return b.Bytes(), nil
}

func dark(code barcode.Barcode, x, y int) bool {
	r, _, _, _ := code.At(x, y).RGBA()
	return r < 0x8000
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
