// Package buildinfo says what a cityid binary is: its version, the commit
// it was built from, and the versions of Go, CometBFT and IAVL in it, as
// `cityid version`, GET /v1/status and the cityid_build_info metric show
// them. It reads the build information the Go toolchain embeds; a release
// sets the version with -ldflags "-X github.com/cityid/cityid/internal/buildinfo.release=v1.2.3".
package buildinfo

import (
	"runtime/debug"
	"sync"

	"github.com/cityid/cityid/internal/wire"
)

// release is the release version a packager sets at link time; "" in a
// build from source, which then shows the module's version (or the
// protocol's, wire.Version, with the commit).
var release string

// Get is this binary's build information.
var Get = sync.OnceValue(read)

func read() wire.Build {
	b := wire.Build{Version: release, Protocol: wire.Version, Commit: "unknown", CometBFT: "unknown", IAVL: "unknown", Go: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if b.Version == "" {
			b.Version = wire.Version + "-dev"
		}
		return b
	}
	b.Go = info.GoVersion
	if b.Version == "" {
		b.Version = info.Main.Version
		if b.Version == "" || b.Version == "(devel)" {
			b.Version = wire.Version + "-dev"
		}
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.CommitTime = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	for _, d := range info.Deps {
		v := d.Version
		if d.Replace != nil {
			v = d.Replace.Version
		}
		switch d.Path {
		case "github.com/cometbft/cometbft":
			b.CometBFT = v
		case "github.com/cosmos/iavl":
			b.IAVL = v
		}
	}
	return b
}
