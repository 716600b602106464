package datastore

import (
	"os"
	"syscall"
)

// fileStamp identifies a file's inode and its last change: any write,
// truncate or rename through the file system moves ctime, which no
// unprivileged call can set back.
func fileStamp(fi os.FileInfo) (stamp, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return stamp{}, false
	}
	return stamp{
		dev: uint64(st.Dev), ino: st.Ino, size: st.Size,
		mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano(),
	}, true
}
