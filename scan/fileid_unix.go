//go:build linux || darwin || freebsd || netbsd || openbsd

package scan

import (
	"fmt"
	"os"
	"syscall"
)

// fileID names the file fi describes, whatever path reached it (hard
// links, /dev/stdin): its device and inode.
func fileID(fi os.FileInfo) (string, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("inode:%d:%d", st.Dev, st.Ino), true
}
