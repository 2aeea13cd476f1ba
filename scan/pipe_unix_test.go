//go:build linux || darwin || freebsd || netbsd || openbsd

package scan

import (
	"context"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestCancelWhileBlockingPipeReadWaits: standard input as a shell hands it
// over, a blocking pipe that no deadline reaches. The scan reads it through
// a non-blocking duplicate, returns when cancelled with the lines read
// before, and leaves the descriptor blocking again for whoever shares it.
func TestCancelWhileBlockingPipeReadWaits(t *testing.T) {
	rs := builtinRules(t)
	before := runtime.NumGoroutine()
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	r, w := os.NewFile(uintptr(fds[0]), "stdin"), os.NewFile(uintptr(fds[1]), "writer")
	defer r.Close()
	defer w.Close()
	if r.SetReadDeadline(time.Now()) == nil {
		t.Skip("the pipe is pollable already: nothing to test")
	}
	if _, err := w.WriteString(lines(noiseLine, execLine)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(100*time.Millisecond, cancel)
	res := scanAsync(t, ctx, []Input{{Name: Stdin}}, Options{Rules: rs, Stdin: r}, 5*time.Second)
	if !res.Interrupted {
		t.Error("Interrupted not set")
	}
	if st := res.Inputs[0]; st.Err != nil || st.Lines != 2 || len(res.Events) != 1 {
		t.Errorf("want both lines read before the cancellation scanned, the exec found: %+v, %d events", st, len(res.Events))
	}
	checkInvariants(t, res)
	raw, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	raw.Control(func(fd uintptr) {
		if nonblocking(t, int(fd)) {
			t.Error("standard input was left non-blocking")
		}
	})
	waitGoroutines(t, before)
}

func nonblocking(t *testing.T, fd int) bool {
	t.Helper()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	return flags&syscall.O_NONBLOCK != 0
}
