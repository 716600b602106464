package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Static returns the portal's static files (verify.js), rooted at static/.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// fs.Sub fails only for an invalid path name; "static" is valid.
		panic(err)
	}
	return sub
}
