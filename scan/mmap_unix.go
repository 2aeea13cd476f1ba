//go:build linux || darwin || freebsd || netbsd || openbsd

package scan

import (
	"os"
	"syscall"
)

// mapSupported: regular files are read by mapping them (mapped.go).
const mapSupported = true

var pageSize = int64(os.Getpagesize())

// mapRange maps n bytes of f from off, read-only, and returns them with the
// function that unmaps them.
func mapRange(f *os.File, off, n int64) ([]byte, func(), error) {
	start := off &^ (pageSize - 1)
	m, err := syscall.Mmap(int(f.Fd()), start, int(off-start+n), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, &os.PathError{Op: "mmap", Path: f.Name(), Err: err}
	}
	return m[off-start:], func() { _ = syscall.Munmap(m) }, nil
}
