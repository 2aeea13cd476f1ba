package scan

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/k8sexec/k8sexec/internal/inflate"
)

// Stdin is the input name that reads standard input.
const Stdin = "-"

// Input is one stream to scan: a file, or standard input.
type Input struct {
	// Name is the path as the user gave it (or found it under a folder), or
	// "-" for standard input. Findings cite it.
	Name string
}

// Compression of an input, detected from its first bytes.
const (
	CompressionNone = ""
	CompressionGzip = "gzip"
	CompressionZstd = "zstd"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// isZstd reports whether an input starting with head is zstd: a frame, or
// a skippable frame (magic 0x184D2A50 to 0x184D2A5F, little-endian), with
// which pzstd starts its output.
func isZstd(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	return string(head[:4]) == string(zstdMagic) ||
		head[0]&0xf0 == 0x50 && head[1] == 0x2a && head[2] == 0x4d && head[3] == 0x18
}

// stream is an opened input: decompressed bytes, and the count of raw bytes
// consumed so far (which locates damage in a compressed file).
type stream struct {
	io.Reader
	compression string
	encoding    string // EncodingUTF16LE or BE when decoded, else ""
	raw         *rawReader
	closers     []func()
	// file and size are set for a regular file: it may be read by
	// mapping (mapped.go) instead of through Reader.
	file *os.File
	size int64
}

// decodedOnly reports whether the stream is UTF-16 text decoded without
// decompression: its raw offsets are of the UTF-16 bytes.
func (s *stream) decodedOnly() bool { return s.encoding != "" && s.compression == "" }

func (s *stream) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// rawReader buffers the raw bytes of an input and knows how many of them
// were consumed.
type rawReader struct {
	*bufio.Reader
	src *countingSource
	// used, when set, is the decompressor's own count of the raw bytes
	// it has consumed (it buffers input beyond those).
	used func() int64
}

// n is the count of raw bytes consumed: read from the source, less those
// still in the buffer.
func (r *rawReader) n() int64 {
	if r.used != nil {
		return r.used()
	}
	return r.src.n - int64(r.Buffered())
}

// countingSource counts the bytes read from a file or stdin.
type countingSource struct {
	r io.Reader
	n int64
}

func (c *countingSource) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// rawBuffers holds the read buffers of inputs: a plain file is mapped,
// not read through its buffer, and a folder of thousands of small files
// allocated and cleared 256 KiB for each (1.3 GB for 100 MB in 5,284
// files).
var rawBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 256<<10) }}

// gzipReaders are reused the same way: each holds some 170 KiB of
// buffers and tables.
var gzipReaders = sync.Pool{New: func() any { return new(inflate.Reader) }}

// open opens an input and wraps it in a decompressor chosen by magic bytes,
// never by file name. Its buffer goes back to rawBuffers on close. Reads
// of anything but a regular file end when ctx is cancelled (interruptible).
func open(ctx context.Context, in Input, stdin io.Reader) (*stream, error) {
	var src io.Reader
	s := &stream{}
	if in.Name == Stdin {
		if stdin == nil {
			return nil, errors.New("no standard input")
		}
		src = stdin
		if f, ok := stdin.(*os.File); !ok || !isRegular(f) {
			src = s.interruptible(ctx, stdin)
		}
	} else {
		f, err := openFile(ctx, in.Name)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, func() { f.Close() })
		src = f
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			s.file, s.size = f, fi.Size()
		} else {
			// Not a file of known size: a pipe, a device, or a regular
			// file that says it is empty, as /proc and /sys files do while
			// holding text (/proc/kmsg waits for more, forever).
			src = s.interruptible(ctx, f)
		}
	}
	cs := &countingSource{r: src}
	br := rawBuffers.Get().(*bufio.Reader)
	br.Reset(cs)
	s.closers = append(s.closers, func() {
		br.Reset(nil)
		rawBuffers.Put(br)
	})
	s.raw = &rawReader{Reader: br, src: cs}
	head, err := br.Peek(4)
	if err != nil && err != io.EOF {
		s.close()
		return nil, err
	}
	switch {
	case len(head) >= 2 && head[0] == gzipMagic[0] && head[1] == gzipMagic[1]:
		zr := gzipReaders.Get().(*inflate.Reader)
		s.closers = append(s.closers, func() { gzipReaders.Put(zr) })
		if err := zr.Reset(br); err != nil {
			s.close()
			return nil, fmt.Errorf("gzip header: %w", err)
		}
		s.Reader, s.compression = zr, CompressionGzip
		// The decoder reads ahead into its own buffer: it knows how
		// much of the input it has used.
		s.raw.used = zr.InputOffset
	case isZstd(head):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			s.close()
			return nil, fmt.Errorf("zstd header: %w", err)
		}
		s.closers = append(s.closers, zr.Close)
		s.Reader, s.compression = zr, CompressionZstd
	default:
		s.Reader = br
	}
	return s, nil
}

// interruptible returns src, a pipe, FIFO, terminal or any other reader
// whose read may wait indefinitely, such that a cancelled scan need not
// wait for it. A file the runtime polls (a FIFO opened by path) gets a
// read deadline when ctx is done; a pipe on standard input is made one
// (pollablePipe); anything else is read by a goroutine (interruptible).
// The first two read as fast as the file itself.
func (s *stream) interruptible(ctx context.Context, src io.Reader) io.Reader {
	f, ok := src.(*os.File)
	if !ok {
		return newInterruptible(ctx, src)
	}
	if f.SetReadDeadline(noDeadline) != nil {
		p, restore := pollablePipe(f)
		if p == nil {
			return newInterruptible(ctx, src)
		}
		f = p
		s.closers = append(s.closers, restore)
	}
	stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Now()) })
	s.closers = append(s.closers, func() { stop() })
	return f
}

// openFile opens a path for reading. Opening a FIFO waits for a writer,
// in the kernel, where no signal the scan handles reaches: a FIFO is
// opened by a goroutine, and a cancelled scan returns without it (a writer
// that comes later gets a file that is closed at once).
func openFile(ctx context.Context, name string) (*os.File, error) {
	if fi, err := os.Stat(name); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return os.Open(name)
	}
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.Open(name)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		return o.f, o.err
	case <-ctx.Done():
		go func() {
			if o := <-done; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// noDeadline clears a read deadline.
var noDeadline time.Time

// isRegular reports whether f is a regular file with bytes in it, whose
// reads never wait (a /proc file says it is empty, and may wait).
func isRegular(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular() && fi.Size() > 0
}
