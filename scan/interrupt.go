package scan

import (
	"context"
	"io"
)

// interruptible reads an input whose read may wait indefinitely and that
// no deadline reaches (a terminal, a reader that is no file, a pipe where
// pollablePipe cannot serve) so that a cancelled scan need not wait for
// it: a goroutine does the reads, and Read returns ctx's error
// as soon as the scan is cancelled, even while that goroutine is still
// blocked in the read. (Closing the file does not end a blocked read of
// a pipe; the goroutine ends when the read returns, or with the process.)
//
// The goroutine reads into its own buffer and waits until Read has
// copied all of it before reading again, so no byte is written to memory
// the caller holds after an interrupted Read returns.
type interruptible struct {
	ctx     context.Context
	src     io.Reader
	buf     []byte
	started bool
	out     chan readResult
	more    chan struct{}
	pending []byte
	err     error
}

type readResult struct {
	n   int
	err error
}

func newInterruptible(ctx context.Context, src io.Reader) *interruptible {
	return &interruptible{ctx: ctx, src: src, buf: make([]byte, 256<<10), out: make(chan readResult), more: make(chan struct{})}
}

func (r *interruptible) Read(p []byte) (int, error) {
	if len(r.pending) == 0 && r.err == nil {
		if !r.started {
			r.started = true
			go r.loop()
		} else {
			select {
			case r.more <- struct{}{}:
			case <-r.ctx.Done():
				return 0, r.ctx.Err()
			}
		}
		select {
		case res := <-r.out:
			r.pending, r.err = r.buf[:res.n], res.err
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	if len(r.pending) == 0 && r.err != nil {
		return n, r.err
	}
	return n, nil
}

// loop reads src until an error, handing each read to Read.
func (r *interruptible) loop() {
	for {
		n, err := r.src.Read(r.buf)
		select {
		case r.out <- readResult{n, err}:
		case <-r.ctx.Done():
			return
		}
		if err != nil {
			return
		}
		select {
		case <-r.more:
		case <-r.ctx.Done():
			return
		}
	}
}
