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

// PNG draws text as a QR code of at most size×size pixels, with its quiet
// zone. Modules are whole pixels, so the picture is as large as fits.
func PNG(text string, size int, level Level) ([]byte, error) {
	code, n, err := modules(text, size, level)
	if err != nil {
		return nil, err
	}
	total := n + 2*quietZone
	scale := size / total
	if scale < 1 {
		return nil, fmt.Errorf("qr of %d modules does not fit %d pixels; ask for at least %d", total, size, total)
	}
	side := total * scale
	img := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.White, color.Black})
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if dark(code, x, y) {
				for dy := 0; dy < scale; dy++ {
					for dx := 0; dx < scale; dx++ {
						img.SetColorIndex((x+quietZone)*scale+dx, (y+quietZone)*scale+dy, 1)
					}
				}
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return b.Bytes(), nil
}

// SVG draws text as a QR code size×size pixels, with its quiet zone, as
// one path of unit squares in a viewBox of modules: it scales without loss.
func SVG(text string, size int, level Level) ([]byte, error) {
	code, n, err := modules(text, size, level)
	if err != nil {
		return nil, err
	}
	total := n + 2*quietZone
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
