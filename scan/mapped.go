package scan

import (
	"bytes"
	"context"
	"errors"
	"os"
	"runtime/debug"
	"sync/atomic"
)

// Regular files of NDJSON are not copied into buffers: chunks are cut from
// windows of the file mapped from the page cache, and a window is unmapped
// once the workers are done with its chunks. On a warm cache that saves
// the copy read(2) makes, which was a fifth of the scan's CPU time on raw
// audit logs, and memory stays at a few windows whatever the file's size.
//
// A file that shrinks while it is mapped (a log rotated by copytruncate)
// makes reads of its lost pages fault. The reader and the workers turn
// such a fault into an input error (errFileShrank) instead of a crash; the
// input's chunks from the damaged one on are left out, so what is reported
// stops where the file did.
//
// The page the file now ends in does not fault: past the new end it reads
// as zeros, under a worker that may have validated its line a moment
// before and reads it again trusting that (the adapter's document, the
// field walk of events inside a wrapper, a matched event's index). A worker whose chunk panics
// asks whether the file changed since it was opened (chunk.changed); if it
// did, that is the input's error too, and any other panic stays a crash.
// A worker that finished its chunk asks whether the file shrank meanwhile,
// and if so drops what it found there the same way.

// mapFiles turns mapping off for tests that compare both ways of reading.
var mapFiles = mapSupported

// mappedHook, when set (by tests), runs after each chunk is handed over.
var mappedHook func(f *os.File, end int64)

// errFileShrank is the error of an input whose mapped pages went away.
var errFileShrank = errors.New("the file shrank while it was read (rotated or truncated?)")

// errFileChanged is the error of an input rewritten while it was read.
var errFileChanged = errors.New("the file changed while it was read (rotated or rewritten?)")

// mappable reports whether the input can be read by mapping: a regular
// file, not compressed, of lines.
func mappable(s *stream, layout string) bool {
	return mapFiles && s.file != nil && s.size > 0 && s.compression == "" && layout == LayoutLines
}

// faultError returns errFileShrank when v, a recovered panic value, is a
// memory fault (which SetPanicOnFault makes of a fault on a mapped page),
// nil when v is nil, and panics again with anything else, unless changed
// (when set) reports that the file changed, which explains the panic: then
// it returns errFileChanged, or errFileShrank if the file is smaller.
func faultError(v any, changed func() (bool, bool)) error {
	if v == nil {
		return nil
	}
	if _, ok := v.(interface{ Addr() uintptr }); ok {
		return errFileShrank
	}
	if changed != nil {
		if yes, shrank := changed(); shrank {
			return errFileShrank
		} else if yes {
			return errFileChanged
		}
	}
	panic(v)
}

// changeCheck returns a function that reports whether the file f (at path
// name) changed since opened, the stat of it when opened, and whether it
// shrank.
func changeCheck(f *os.File, name string, opened os.FileInfo) func() (changed, shrank bool) {
	return func() (bool, bool) {
		fi, err := f.Stat()
		if err != nil { // closed by now: look at the path
			if fi, err = os.Stat(name); err != nil || !os.SameFile(fi, opened) {
				// Another file, or none, is at the path now: renaming or
				// removing ours changed none of its bytes.
				return false, false
			}
		}
		shrank := fi.Size() < opened.Size()
		return shrank || !fi.ModTime().Equal(opened.ModTime()), shrank
	}
}

// readMapped cuts a regular file into mapped chunks that end at a newline,
// as readChunks does with buffers: a line longer than a chunk widens the
// window up to MaxLineSize plus its newline; a longer line is sent as an
// overlong marker. The file is read up to the size it had when opened.
// It reports false when the scan was cancelled.
func readMapped(ctx context.Context, name string, input int, f *os.File, size int64, opts Options,
	send func(*chunk) bool, end *chunk) (ok bool) {
	var off int64
	var win *window // the mapping chunks are cut from, while the reader holds it
	drop := func() {
		if win != nil {
			win.release()
			win = nil
		}
	}
	// failed ends the input with err at off; the scan goes on.
	failed := func(err error) bool {
		end.err = &ReadError{Input: name, RawOffset: off, Offset: off, Err: err}
		return true
	}
	defer func() {
		if err := faultError(recover(), nil); err != nil {
			ok = failed(err)
		}
		drop()
		end.rawBytes = off
	}()
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	var changed func() (bool, bool)
	if fi, err := f.Stat(); err == nil {
		changed = changeCheck(f, name, fi)
	}

	want := int64(opts.ChunkSize)
	var padding int64 // NUL padding skipped before the next chunk (nulPadding)
	for off < size {
		if ctx.Err() != nil {
			return false
		}
		n := min(want, size-off)
		if win == nil || off+n > win.off+int64(len(win.data)) {
			drop()
			var err error
			if win, err = mapWindow(f, off, min(max(mapWindowMax, n), size-off)); err != nil {
				return failed(err)
			}
		}
		data := win.data[off-win.off:][:n]
		cut := int64(len(data))
		if n == want {
			// The chunk may end inside a line: keep whole lines.
			cut = int64(bytes.LastIndexByte(data, '\n') + 1)
		}
		if cut == 0 {
			// A line longer than the chunk: padding is skipped before it
			// can make the line overlong.
			if skip := int64(nulPadding(data)); skip > 0 {
				off += skip
				padding += skip
				want = int64(opts.ChunkSize)
				continue
			}
			if want > int64(opts.MaxLineSize) {
				drop()
				span, err := lineSpan(f, off, size, int64(opts.ChunkSize))
				if err != nil {
					return failed(err)
				}
				sent := send(&chunk{input: input, offset: off - padding, overlong: true, span: padding + span})
				off += span
				padding = 0
				if !sent {
					return false
				}
				want = int64(opts.ChunkSize)
				continue
			}
			// Doubling plus one reaches MaxLineSize+1, as in readChunks.
			want = min(2*want+1, int64(opts.MaxLineSize)+1)
			continue
		}
		win.refs.Add(1)
		c := &chunk{input: input, offset: off, data: data[:cut], release: win.release, rawPos: off + cut, span: padding + cut, padding: padding, changed: changed}
		sent := send(c)
		off += cut
		padding = 0
		if !sent { // the scan was cancelled
			return false
		}
		want = int64(opts.ChunkSize)
		if mappedHook != nil {
			mappedHook(f, off)
		}
	}
	return true
}

// mapWindowMax is how much of a file one mapping covers (more if a line
// is longer). Chunks are cut from a window, which is unmapped once the
// reader and every chunk are done with it. Each unmapping flushes the TLB
// of every core the scan runs on, and in a VM those interrupts cost more
// than the pages: with one mapping per 1 MiB chunk they were 7% of a raw
// audit scan's CPU time. Only the pages of the chunks being scanned are
// mapped in (populate), so a window costs no memory ahead of them.
const mapWindowMax = 8 << 20

// window is one mapping of a file, shared by the chunks cut from it.
type window struct {
	data  []byte
	off   int64 // the file offset data starts at
	unmap func()
	refs  atomic.Int32
}

// mapWindow maps n bytes of f from off, held once by the caller.
func mapWindow(f *os.File, off, n int64) (*window, error) {
	data, unmap, err := mapRange(f, off, n)
	if err != nil {
		return nil, err
	}
	w := &window{data: data, off: off, unmap: unmap}
	w.refs.Store(1)
	mappedWindows.Add(1)
	return w, nil
}

// mappedWindows counts the windows mapped and not yet unmapped, for tests
// that no path of the reader leaks one.
var mappedWindows atomic.Int64

// release drops one hold on w, unmapping it with the last.
func (w *window) release() {
	switch n := w.refs.Add(-1); {
	case n == 0:
		w.unmap()
		mappedWindows.Add(-1)
	case n < 0:
		panic("scan: a mapped window was released twice")
	}
}

// lineSpan returns the length of the line at off, its newline included,
// mapping step bytes at a time.
func lineSpan(f *os.File, off, size, step int64) (int64, error) {
	for pos := off; pos < size; {
		n := min(step, size-pos)
		data, release, err := mapRange(f, pos, n)
		if err != nil {
			return 0, err
		}
		i := bytes.IndexByte(data, '\n')
		release()
		if i >= 0 {
			return pos + int64(i) + 1 - off, nil
		}
		pos += n
	}
	return size - off, nil
}

// processMapped processes a mapped chunk, turning a fault on its pages, or
// a panic while the file changed, into a result that only carries the
// error. The worker's scratch state may be half-updated by then, so it
// starts afresh.
func (w *worker) processMapped(c *chunk) (r chunkResult) {
	defer func() {
		if err := faultError(recover(), c.changed); err != nil {
			*w = *newWorker(w.plan, w.parseFirst)
			r = chunkResult{c: c, fault: err}
		}
	}()
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	populate(c.data)
	r = w.process(c)
	if c.changed != nil {
		if _, shrank := c.changed(); shrank {
			// The file lost bytes while the chunk was read, without a
			// fault on its pages: what it holds may have been zeros.
			return chunkResult{c: c, fault: errFileShrank}
		}
	}
	return r
}
