//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package scan

import (
	"errors"
	"os"
)

// mapSupported: elsewhere every input is read with read(2)-style calls.
const mapSupported = false

func mapRange(*os.File, int64, int64) ([]byte, func(), error) {
	return nil, nil, errors.ErrUnsupported
}

// populate: nothing is mapped here.
func populate([]byte) {}
