//go:build linux || darwin || freebsd || netbsd || openbsd

package scan

import (
	"os"
	"syscall"
)

// pollablePipe returns f's pipe as a file the runtime's poller serves, so
// that a read deadline can end a read that waits: standard input is a
// blocking descriptor, which no deadline or close can interrupt. The
// descriptor is duplicated and set non-blocking; since that flag belongs
// to the pipe's open file, which other processes may share (a shell group
// reading the same pipe), restore sets it back. It returns nil for
// anything but a pipe, FIFO or socket (standard input under some remote
// shells); a terminal's flags are the shell's too.
func pollablePipe(f *os.File) (p *os.File, restore func()) {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return nil, nil
	}
	raw, err := f.SyscallConn()
	if err != nil {
		return nil, nil
	}
	dup := -1
	if err := raw.Control(func(fd uintptr) {
		if d, err := syscall.Dup(int(fd)); err == nil {
			syscall.CloseOnExec(d)
			dup = d
		}
	}); err != nil || dup < 0 {
		return nil, nil
	}
	if err := syscall.SetNonblock(dup, true); err != nil {
		syscall.Close(dup)
		return nil, nil
	}
	p = os.NewFile(uintptr(dup), f.Name()) // non-blocking: pollable
	if p.SetReadDeadline(noDeadline) != nil {
		syscall.SetNonblock(dup, false)
		p.Close()
		return nil, nil
	}
	return p, func() {
		if raw, err := p.SyscallConn(); err == nil {
			raw.Control(func(fd uintptr) { syscall.SetNonblock(int(fd), false) })
		}
		p.Close()
	}
}
