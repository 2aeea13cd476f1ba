//go:build linux || darwin || freebsd || netbsd || openbsd

package scan

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestCancelWhileBlockingPipeReadWaits: standard input as a shell hands it
// over, a blocking pipe that no deadline reaches. The scan reads it through
// a non-blocking duplicate, returns when cancelled with the lines read
// before, and leaves the descriptor blocking again for whoever shares it.
func TestCancelWhileBlockingPipeReadWaits(t *testing.T) {
	for name, pair := range map[string]func(fds []int) error{
		"pipe": syscall.Pipe,
		"socket": func(fds []int) error {
			p, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
			copy(fds, p[:])
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			fds := make([]int, 2)
			if err := pair(fds); err != nil {
				t.Fatal(err)
			}
			r, w := os.NewFile(uintptr(fds[0]), "stdin"), os.NewFile(uintptr(fds[1]), "writer")
			defer r.Close()
			if r.SetReadDeadline(time.Now()) == nil {
				t.Skip("pollable already: nothing to test")
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
		})
	}
}

func nonblocking(t *testing.T, fd int) bool {
	t.Helper()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	return flags&syscall.O_NONBLOCK != 0
}

// TestCancelWhileFIFOWaits: a FIFO with no writer yet holds its open in
// the kernel, and one whose writer sends nothing holds the first read;
// either way a cancelled scan returns, and the input is no damaged one.
func TestCancelWhileFIFOWaits(t *testing.T) {
	rs := builtinRules(t)
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, writer := range []bool{false, true} {
		if writer {
			w, err := os.OpenFile(fifo, os.O_RDWR, 0) // a writer that sends nothing (RDWR does not wait)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		res := scanAsync(t, ctx, []Input{{Name: fifo}}, Options{Rules: rs}, 5*time.Second)
		cancel()
		if st := res.Inputs[0]; !res.Interrupted || st.Err != nil || st.Lines != 0 {
			t.Errorf("writer %v: interrupted %v, %+v", writer, res.Interrupted, st)
		}
	}
}
