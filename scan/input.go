package scan

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Stdin is the input name that reads standard input.
const Stdin = "-"

// Input is one stream to scan: a file, or standard input.
type Input struct {
	// Name is the path as the user gave it (or found it under a folder), or
	// "-" for standard input. Findings cite it.
	Name string
}

// Expand turns command-line paths into inputs: files as they are, folders
// walked recursively in lexical order (regular files only), and "-" for
// standard input. Paths that cannot be read are returned as errors beside
// the inputs that can, so one bad path does not stop the scan.
func Expand(paths []string) ([]Input, []error) {
	var inputs []Input
	var errs []error
	for _, p := range paths {
		if p == Stdin {
			inputs = append(inputs, Input{Name: Stdin})
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !info.IsDir() {
			inputs = append(inputs, Input{Name: p})
			continue
		}
		var found []Input
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, err)
				if d != nil && d.IsDir() && path != p {
					return fs.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				found = append(found, Input{Name: path})
			} else if d.Type()&fs.ModeSymlink != 0 {
				// A symlink to a file is scanned; one to a folder is not
				// followed, which also rules out loops.
				if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
					found = append(found, Input{Name: path})
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
		if len(found) == 0 && err == nil {
			errs = append(errs, fmt.Errorf("%s: folder holds no files", p))
		}
		inputs = append(inputs, found...)
	}
	return inputs, errs
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

// stream is an opened input: decompressed bytes, and the count of raw bytes
// consumed so far (which locates damage in a compressed file).
type stream struct {
	io.Reader
	compression string
	raw         *countingReader
	closers     []func()
}

func (s *stream) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// countingReader counts bytes handed out. It is also an io.ByteReader, so
// the flate decoder reads through it byte by byte without buffering ahead,
// and the count is the exact compressed offset reached.
type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// open opens an input and wraps it in a decompressor chosen by magic bytes,
// never by file name.
func open(in Input, stdin io.Reader) (*stream, error) {
	var src io.Reader
	s := &stream{}
	if in.Name == Stdin {
		if stdin == nil {
			return nil, errors.New("no standard input")
		}
		src = stdin
	} else {
		f, err := os.Open(in.Name)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, func() { f.Close() })
		src = f
	}
	br := bufio.NewReaderSize(src, 256<<10)
	s.raw = &countingReader{r: br}
	head, err := br.Peek(4)
	if err != nil && err != io.EOF {
		s.close()
		return nil, err
	}
	switch {
	case len(head) >= 2 && head[0] == gzipMagic[0] && head[1] == gzipMagic[1]:
		zr, err := gzip.NewReader(s.raw)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("gzip header: %w", err)
		}
		s.closers = append(s.closers, func() { zr.Close() })
		s.Reader, s.compression = zr, CompressionGzip
	case len(head) == 4 && string(head) == string(zstdMagic):
		zr, err := zstd.NewReader(s.raw, zstd.WithDecoderConcurrency(1))
		if err != nil {
			s.close()
			return nil, fmt.Errorf("zstd header: %w", err)
		}
		s.closers = append(s.closers, zr.Close)
		s.Reader, s.compression = zr, CompressionZstd
	default:
		s.Reader = s.raw
	}
	return s, nil
}
