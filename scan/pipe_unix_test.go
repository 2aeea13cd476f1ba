//go:build linux || darwin || freebsd || netbsd || openbsd

package scan

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// TestCancelWhileBlockingPipeReadWaits: standard input as a shell hands it
// over, a blocking pipe that no deadline reaches. The scan reads it through
// a non-blocking duplicate, returns when cancelled with the lines read
// before, and leaves the descriptor blocking again for whoever shares it.
func TestCancelWhileBlockingPipeReadWaits(t *testing.T) {
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	r, w := os.NewFile(uintptr(fds[0]), "stdin"), os.NewFile(uintptr(fds[1]), "writer")
	defer r.Close()
	if r.SetReadDeadline(time.Now()) == nil {
		t.Skip("the pipe is pollable already: nothing to test")
	}
	scanCancelledWhileReading(t, r, w)
	raw, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	raw.Control(func(fd uintptr) {
		if nonblocking(t, int(fd)) {
			t.Error("standard input was left non-blocking")
		}
	})
}

func nonblocking(t *testing.T, fd int) bool {
	t.Helper()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	return flags&syscall.O_NONBLOCK != 0
}
