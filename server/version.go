package server

import (
	"runtime/debug"
)

// Version is berth's release version, stamped at build time by
// scripts/release: -ldflags "-X github.com/berth-registry/berth/server.Version=v1.2.3".
var Version = ""

// VersionString is Version ("dev" when unstamped) with the commit the
// binary was built from, as the Go toolchain records it (and "+changes"
// when the tree had uncommitted changes).
func VersionString() string {
	v := Version
	if v == "" {
		v = "dev"
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	rev, modified := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return v
	}
	if modified {
		rev += "+changes"
	}
	return v + " (commit " + rev + ")"
}
