//go:build darwin || freebsd || netbsd || openbsd

package scan

// populate: these systems have no MADV_POPULATE_READ; pages fault in as
// they are read.
func populate([]byte) {}
