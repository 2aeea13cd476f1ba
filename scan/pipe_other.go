//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package scan

import "os"

// pollablePipe: elsewhere, pipes are read through interruptible.
func pollablePipe(*os.File) (*os.File, func()) { return nil, nil }
