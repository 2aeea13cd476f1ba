//go:build darwin || freebsd || netbsd || openbsd

package scan

// mapPopulate: these systems have no MAP_POPULATE; pages fault in as they
// are read.
const mapPopulate = 0
